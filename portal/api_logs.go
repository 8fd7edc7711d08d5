// API: an app's logs as a server-sent event stream, whole or followed.

package portal

import (
	"context"
	"regexp"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/gofiber/fiber/v2"

	"github.com/stackhub/stackhub/appctl"
)

// LogLine is one line of an app's logs.
type LogLine struct {
	Service string `json:"service"`
	Line    string `json:"line"`
}

var replicaSuffix = regexp.MustCompile(`-[0-9]+$`)

var tailPattern = regexp.MustCompile(`^(all|[0-9]{1,6})$`)

func (p *Portal) apiLogs(c *fiber.Ctx) error {
	st, err := p.status(c)
	if err != nil {
		return err
	}
	opts := appctl.LogOptions{Tail: c.Query("tail", "200")}
	if !tailPattern.MatchString(opts.Tail) {
		return fiber.NewError(fiber.StatusBadRequest, "tail must be a number of lines or all")
	}
	if v := c.Query("follow"); v != "" {
		if opts.Follow, err = strconv.ParseBool(v); err != nil {
			return fiber.NewError(fiber.StatusBadRequest, "follow must be true or false")
		}
	}
	if svc := c.Query("service"); svc != "" {
		known := false
		for _, ct := range st.Containers {
			known = known || ct.Service == svc
		}
		if !known {
			return msgError(fiber.StatusBadRequest, "app {{.App}} has no service {{.Service}}", "App", st.ID, "Service", svc)
		}
		opts.Services = []string{svc}
	}
	services := map[string]string{}
	for _, ct := range st.Containers {
		services[ct.Name] = ct.Service
	}
	apps, id := p.plat().Apps, st.ID
	return sse(c, func(send sendFunc) {
		ctx, cancel := context.WithCancel(context.Background())
		defer cancel()
		var mu sync.Mutex
		safeSend := func(event string, data any) error {
			mu.Lock()
			defer mu.Unlock()
			err := send(event, data)
			if err != nil {
				cancel()
			}
			return err
		}
		done := make(chan error, 1)
		go func() {
			done <- apps.Logs(ctx, id, opts, &logLines{services: services, send: safeSend})
		}()
		tick := time.NewTicker(heartbeat)
		defer tick.Stop()
		for {
			select {
			case err := <-done:
				end := fiber.Map{"done": true}
				if err != nil && ctx.Err() == nil {
					end["error"] = err.Error()
				}
				safeSend("end", end)
				return
			case <-tick.C:
				if safeSend("", nil) != nil {
					<-done
					return
				}
			}
		}
	})
}

// logLines turns the engine's "container | line" output into log events.
type logLines struct {
	services map[string]string
	send     sendFunc
	partial  string
}

func (l *logLines) Write(b []byte) (int, error) {
	text := l.partial + string(b)
	lines := strings.Split(text, "\n")
	l.partial = lines[len(lines)-1]
	for _, ln := range lines[:len(lines)-1] {
		name, msg, ok := strings.Cut(ln, " | ")
		if !ok {
			name, msg = "", ln
		}
		svc := l.services[name]
		if svc == "" { // Compose names the container by service and number: web-1
			svc = replicaSuffix.ReplaceAllString(name, "")
		}
		if err := l.send("log", LogLine{Service: svc, Line: msg}); err != nil {
			return 0, err
		}
	}
	return len(b), nil
}
