// An app's recent events (installed, started, crashed, recovered, backups
// …), recorded by appctl, for the app page and GET /api/v1/apps/{id}/events.

package portal

import (
	"github.com/gofiber/fiber/v2"

	"github.com/stackhub/stackhub/appctl"
)

// appEvents returns id's recent events, newest first; none when they cannot
// be read (the page still shows the app).
func (p *Portal) appEvents(id string) []appctl.AppEvent {
	evs, err := p.plat().Apps.Events(id)
	if err != nil {
		p.cfg.Logf("portal: events of %s: %v", id, err)
	}
	if evs == nil {
		evs = []appctl.AppEvent{}
	}
	return evs
}

func (p *Portal) apiEvents(c *fiber.Ctx) error {
	st, err := p.status(c) // 404 for an app that is not installed
	if err != nil {
		return err
	}
	return c.JSON(localAppEvents(p.localizer(c), p.appEvents(st.ID)))
}
