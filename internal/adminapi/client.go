package adminapi

import (
	"bufio"
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strconv"

	"github.com/stackhub/stackhub/appctl"
	"github.com/stackhub/stackhub/internal/platform"
	"github.com/stackhub/stackhub/stores"
)

// Client calls the API. Do sends one request to the admin endpoint (the
// CLI passes Caddy's own admin request function, which knows unix sockets
// and the admin's origin rules).
type Client struct {
	Do func(method, uri string, body io.Reader) (*http.Response, error)
}

// OperationError is an operation that ended with an error event.
type OperationError struct {
	Status  int
	Message string
}

func (e *OperationError) Error() string { return e.Message }

func (c Client) call(method, uri string, body any, out any) error {
	var rd io.Reader
	if body != nil {
		b, err := json.Marshal(body)
		if err != nil {
			return err
		}
		rd = bytes.NewReader(b)
	}
	resp, err := c.Do(method, uri, rd)
	if err != nil {
		return err
	}
	defer resp.Body.Close()
	if resp.StatusCode/100 != 2 {
		return readError(resp)
	}
	if out == nil {
		return nil
	}
	return json.NewDecoder(resp.Body).Decode(out)
}

func readError(resp *http.Response) error {
	b, _ := io.ReadAll(io.LimitReader(resp.Body, 1<<20))
	var e APIError
	if json.Unmarshal(b, &e) == nil && e.Error != "" {
		return &OperationError{Status: resp.StatusCode, Message: e.Error}
	}
	return &OperationError{Status: resp.StatusCode, Message: fmt.Sprintf("%s: %s", resp.Status, bytes.TrimSpace(b))}
}

// events sends a request whose answer is a progress stream, passing each
// event to on; it returns the operation's error, or the final event.
func (c Client) events(method, uri string, body any, on func(appctl.Event)) (appctl.Event, error) {
	var rd io.Reader
	if body != nil {
		b, err := json.Marshal(body)
		if err != nil {
			return appctl.Event{}, err
		}
		rd = bytes.NewReader(b)
	}
	resp, err := c.Do(method, uri, rd)
	if err != nil {
		return appctl.Event{}, err
	}
	defer resp.Body.Close()
	if resp.StatusCode/100 != 2 {
		return appctl.Event{}, readError(resp)
	}
	sc := bufio.NewScanner(resp.Body)
	sc.Buffer(make([]byte, 64<<10), 4<<20)
	var last appctl.Event
	for sc.Scan() {
		var e appctl.Event
		if err := json.Unmarshal(sc.Bytes(), &e); err != nil {
			return last, fmt.Errorf("read progress: %w", err)
		}
		if e.Phase == appctl.PhaseError && e.Code != 0 {
			return e, &OperationError{Status: e.Code, Message: e.Message}
		}
		last = e
		if on != nil {
			on(e)
		}
	}
	if err := sc.Err(); err != nil {
		return last, fmt.Errorf("read progress: %w", err)
	}
	if last.Phase != appctl.PhaseDone {
		return last, errors.New("the connection to StackHub closed before the operation ended: `stackhub apps list` shows where it stands")
	}
	return last, nil
}

// Install installs an app and reports progress; it returns the final event
// (its URL is the app's).
func (c Client) Install(req InstallRequest, on func(appctl.Event)) (appctl.Event, error) {
	return c.events(http.MethodPost, "/stackhub/apps", req, on)
}

// List returns the installed apps.
func (c Client) List() (AppList, error) {
	var l AppList
	return l, c.call(http.MethodGet, "/stackhub/apps", nil, &l)
}

// Info returns one installed app.
func (c Client) Info(id string) (appctl.AppStatus, error) {
	var st appctl.AppStatus
	return st, c.call(http.MethodGet, "/stackhub/apps/"+url.PathEscape(id), nil, &st)
}

// Operate runs start, stop or restart on an app.
func (c Client) Operate(id, op string, on func(appctl.Event)) (appctl.Event, error) {
	return c.events(http.MethodPost, "/stackhub/apps/"+url.PathEscape(id)+"/"+op, nil, on)
}

// Remove removes an app, keeping its data when keepData.
func (c Client) Remove(id string, keepData bool, on func(appctl.Event)) (appctl.Event, error) {
	return c.events(http.MethodDelete, "/stackhub/apps/"+url.PathEscape(id)+"?keep_data="+strconv.FormatBool(keepData), nil, on)
}

// Logs copies an app's logs to w until they end (or forever with follow).
func (c Client) Logs(id string, follow bool, tail string, w io.Writer) error {
	q := url.Values{"follow": {strconv.FormatBool(follow)}}
	if tail != "" {
		q.Set("tail", tail)
	}
	resp, err := c.Do(http.MethodGet, "/stackhub/apps/"+url.PathEscape(id)+"/logs?"+q.Encode(), nil)
	if err != nil {
		return err
	}
	defer resp.Body.Close()
	if resp.StatusCode/100 != 2 {
		return readError(resp)
	}
	_, err = io.Copy(w, resp.Body)
	return err
}

// StoreApps searches the catalog by words and, optionally, category.
func (c Client) StoreApps(query, category string) ([]stores.App, error) {
	var apps []stores.App
	q := url.Values{"q": {query}, "category": {category}}
	return apps, c.call(http.MethodGet, "/stackhub/store/apps?"+q.Encode(), nil, &apps)
}

// StoreApp returns one catalog app.
func (c Client) StoreApp(ref string) (stores.App, error) {
	var app stores.App
	return app, c.call(http.MethodGet, "/stackhub/store/apps/"+ref, nil, &app)
}

// AddStore adds a store at run time.
func (c Client) AddStore(sc platform.StoreConfig) (stores.StoreStatus, error) {
	var st stores.StoreStatus
	return st, c.call(http.MethodPost, "/stackhub/stores", sc, &st)
}

// RemoveStore removes a store added at run time.
func (c Client) RemoveStore(name string) error {
	return c.call(http.MethodDelete, "/stackhub/stores/"+url.PathEscape(name), nil, nil)
}

// RefreshStores refreshes every store now.
func (c Client) RefreshStores() ([]stores.StoreStatus, error) {
	var st []stores.StoreStatus
	return st, c.call(http.MethodPost, "/stackhub/stores/refresh", nil, &st)
}

// Stores lists the stores.
func (c Client) Stores() ([]stores.StoreStatus, error) {
	var st []stores.StoreStatus
	return st, c.call(http.MethodGet, "/stackhub/stores", nil, &st)
}
