// Server-sent events: install and operation progress, live logs and live
// system figures. fasthttp streams a body written after the handler
// returns, so everything a stream needs is read from the request first.

package portal

import (
	"bufio"
	"encoding/json"
	"fmt"
	"time"

	"github.com/gofiber/fiber/v2"

	"github.com/stackhub/stackhub/internal/i18n"
)

// heartbeat is how often an idle stream sends a comment, which keeps
// proxies from closing it and tells us when the browser has gone.
const heartbeat = 15 * time.Second

// sendFunc writes one event (a comment when event is "") and flushes it; it
// fails once the client has gone.
type sendFunc func(event string, data any) error

// sse answers with an event stream that run writes.
func sse(c *fiber.Ctx, run func(send sendFunc)) error {
	c.Set(fiber.HeaderContentType, "text/event-stream; charset=utf-8")
	c.Set(fiber.HeaderCacheControl, "no-store")
	c.Set("X-Accel-Buffering", "no")
	c.Context().SetBodyStreamWriter(func(w *bufio.Writer) {
		send := func(event string, data any) error {
			if event == "" {
				fmt.Fprint(w, ": ping\n\n")
			} else {
				b, err := json.Marshal(data)
				if err != nil {
					return err
				}
				fmt.Fprintf(w, "event: %s\ndata: %s\n\n", event, b)
			}
			return w.Flush()
		}
		if send("", nil) != nil {
			return
		}
		run(send)
	})
	return nil
}

// followOp streams an operation's progress: every event so far, then each
// new one as a "progress" event, and at the end an "end" event with the
// operation's summary (its error, if it failed), in lc's language.
func followOp(op *operation, lc *i18n.Localizer, send sendFunc) {
	tick := time.NewTicker(heartbeat)
	defer tick.Stop()
	i := 0
	for {
		evs, next, done, wake := op.since(i)
		for _, e := range evs {
			if send("progress", localEvent(lc, e)) != nil {
				return
			}
		}
		i = next
		if done {
			// Events added between since and done were sent above only if
			// since saw them: read once more.
			evs, _, _, _ := op.since(i)
			for _, e := range evs {
				if send("progress", localEvent(lc, e)) != nil {
					return
				}
			}
			send("end", localOp(lc, op.view()))
			return
		}
		select {
		case <-wake:
		case <-tick.C:
			if send("", nil) != nil {
				return
			}
		}
	}
}
