package portal

import (
	"fmt"
	"net/http/httptest"
	"testing"
	"time"

	"github.com/gofiber/fiber/v2"

	"github.com/stackhub/stackhub/internal/auth"
)

func TestRefusedSignInStatus(t *testing.T) {
	for _, c := range []struct {
		err    error
		status int
		retry  string
	}{
		{fmt.Errorf("sign in as %q: %w", "ann", &auth.BusyError{RetryAfter: 3 * time.Second}), 429, "3"},
		{fmt.Errorf("sign in as %q: %w", "ann", &auth.LockedError{RetryAfter: 90*time.Second + time.Millisecond}), 429, "91"},
		{fmt.Errorf("sign in as %q: %w", "ann", auth.ErrInvalidCredentials), 401, ""},
	} {
		app := fiber.New()
		err := c.err
		app.Get("/", func(c *fiber.Ctx) error { return c.SendStatus(refusalStatus(c, err)) })
		resp, e := app.Test(httptest.NewRequest("GET", "/", nil))
		if e != nil {
			t.Fatal(e)
		}
		if resp.StatusCode != c.status || resp.Header.Get("Retry-After") != c.retry {
			t.Errorf("%v: %d Retry-After %q, want %d %q", c.err, resp.StatusCode, resp.Header.Get("Retry-After"), c.status, c.retry)
		}
	}
}
