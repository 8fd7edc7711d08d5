package portal

import (
	"errors"
	"strconv"
	"time"

	"github.com/gofiber/fiber/v2"

	"github.com/stackhub/stackhub/internal/auth"
)

// refusalStatus is the status of a refused sign-in step: 429 with
// Retry-After (whole seconds, rounded up) while the attempt is rate
// limited (auth.ErrLocked) or every password-hash slot is busy
// (auth.ErrBusy), else 401.
func refusalStatus(c *fiber.Ctx, err error) int {
	if !errors.Is(err, auth.ErrLocked) && !errors.Is(err, auth.ErrBusy) {
		return fiber.StatusUnauthorized
	}
	if d, ok := auth.RetryAfter(err); ok {
		c.Set(fiber.HeaderRetryAfter, strconv.FormatInt(int64((d+time.Second-1)/time.Second), 10))
	}
	return fiber.StatusTooManyRequests
}
