package bench

import (
	"fmt"
	"io"
	"net/http"
	"net/http/cookiejar"
	"net/url"
	"regexp"
	"strconv"
	"strings"
	"time"

	"github.com/pquerna/otp/totp"
)

// browser is a cookie-keeping HTTPS client that signs in to the portal as
// a user would: password, TOTP enrolment, then the app's ticket redirect.
type browser struct {
	s *server
	c *http.Client
}

func newBrowser(s *server) *browser {
	c := s.httpsClient(30 * time.Second)
	c.Jar, _ = cookiejar.New(nil)
	return &browser{s: s, c: c}
}

type page struct {
	status   int
	location string
	body     string
}

func (b *browser) do(method, u string, form url.Values) (page, error) {
	var body io.Reader
	if form != nil {
		body = strings.NewReader(form.Encode())
	}
	req, err := http.NewRequest(method, u, body)
	if err != nil {
		return page{}, err
	}
	if form != nil {
		req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	}
	resp, err := b.c.Do(req)
	if err != nil {
		return page{}, fmt.Errorf("%s %s: %w", method, u, err)
	}
	defer resp.Body.Close()
	data, _ := io.ReadAll(resp.Body)
	return page{resp.StatusCode, resp.Header.Get("Location"), string(data)}, nil
}

func (b *browser) portal(path string) string {
	return "https://my.localhost:" + strconv.Itoa(b.s.httpsPort) + path
}

var (
	csrfField = regexp.MustCompile(`name="csrf" value="([^"]+)"`)
	manualKey = regexp.MustCompile(`id="manualkey">([A-Z2-7 ]+)<`)
	nextLink  = regexp.MustCompile(`href="([^"]+)" id="continue"`)
)

// signIn signs a new user in (password, then TOTP enrolment) and follows
// the redirects to target, which must answer 200.
func (b *browser) signIn(user, password, target string) error {
	login, err := b.do("GET", b.portal("/login?rd="+url.QueryEscape(target)), nil)
	if err != nil {
		return err
	}
	csrf := csrfField.FindStringSubmatch(login.body)
	if login.status != 200 || csrf == nil {
		return fmt.Errorf("login page: %d", login.status)
	}
	a, err := b.do("POST", b.portal("/login"), url.Values{"csrf": {csrf[1]}, "username": {user}, "password": {password}, "rd": {target}})
	if err != nil {
		return err
	}
	if a.status != 303 || !strings.HasPrefix(a.location, "/login/enrol") {
		return fmt.Errorf("password of %s: %d %s %s", user, a.status, a.location, a.body)
	}
	enrol, err := b.do("GET", b.portal(a.location), nil)
	if err != nil {
		return err
	}
	key, csrf := manualKey.FindStringSubmatch(enrol.body), csrfField.FindStringSubmatch(enrol.body)
	if key == nil || csrf == nil {
		return fmt.Errorf("enrolment page of %s: %d", user, enrol.status)
	}
	code, err := totp.GenerateCode(strings.ReplaceAll(key[1], " ", ""), time.Now())
	if err != nil {
		return err
	}
	a, err = b.do("POST", b.portal("/login/enrol"), url.Values{"csrf": {csrf[1]}, "code": {code}, "rd": {target}})
	if err != nil {
		return err
	}
	next := a.location
	if a.status == 200 { // the recovery codes, then on
		m := nextLink.FindStringSubmatch(a.body)
		if m == nil {
			return fmt.Errorf("enrolment of %s: no continue link", user)
		}
		next = strings.ReplaceAll(m[1], "&amp;", "&")
	} else if a.status/100 != 3 {
		return fmt.Errorf("enrolment of %s: %d %s", user, a.status, a.body)
	}
	u, _ := url.Parse(b.portal("/"))
	for range 10 {
		loc, err := u.Parse(next)
		if err != nil {
			return err
		}
		u = loc
		p, err := b.do("GET", u.String(), nil)
		if err != nil {
			return err
		}
		if p.status/100 != 3 {
			if p.status != 200 || u.String() != target {
				return fmt.Errorf("after sign-in of %s: %d at %s", user, p.status, u)
			}
			return nil
		}
		next = p.location
	}
	return fmt.Errorf("sign-in of %s: too many redirects", user)
}

// cookie returns "name=value" of the cookie the jar holds for u.
func (b *browser) cookie(u, name string) string {
	p, _ := url.Parse(u)
	for _, c := range b.c.Jar.Cookies(p) {
		if c.Name == name {
			return c.Name + "=" + c.Value
		}
	}
	return ""
}
