// Resource use over the last hour: the portal samples each running app's
// CPU and memory once a minute and keeps the last 60 samples in memory, for
// the app page's chart. (They start again empty when StackHub restarts.)

package portal

import (
	"context"
	"sync"
	"time"

	"github.com/gofiber/fiber/v2"

	"github.com/stackhub/stackhub/appctl"
)

const (
	historyEvery = time.Minute
	historyKeep  = 60
)

// UsagePoint is one sample of an app's resource use.
type UsagePoint struct {
	Time        time.Time `json:"time"`
	CPUPercent  float64   `json:"cpu_percent"`
	MemoryBytes uint64    `json:"memory_bytes"`
}

type usageHistory struct {
	mu     sync.Mutex
	points map[string][]UsagePoint
}

func (h *usageHistory) add(app string, p UsagePoint) {
	h.mu.Lock()
	defer h.mu.Unlock()
	if h.points == nil {
		h.points = map[string][]UsagePoint{}
	}
	list := append(h.points[app], p)
	if len(list) > historyKeep {
		list = append(list[:0:0], list[len(list)-historyKeep:]...)
	}
	h.points[app] = list
}

func (h *usageHistory) get(app string) []UsagePoint {
	h.mu.Lock()
	defer h.mu.Unlock()
	return append([]UsagePoint{}, h.points[app]...)
}

// sampleUsage records one sample of every running app.
func (p *Portal) sampleUsage(ctx context.Context) {
	list, err := p.plat().Apps.List(ctx)
	if err != nil {
		return
	}
	var wg sync.WaitGroup
	for _, st := range list {
		if st.State != appctl.StateInstalled || !st.Running {
			continue
		}
		wg.Add(1)
		go func(id string) {
			defer wg.Done()
			if s, err := p.plat().Apps.Stats(ctx, id); err == nil {
				p.history.add(id, UsagePoint{Time: time.Now().UTC(), CPUPercent: s.CPUPercent, MemoryBytes: s.MemoryBytes})
			}
		}(st.ID)
	}
	wg.Wait()
}

// recordUsage samples every minute until ctx ends.
func (p *Portal) recordUsage(ctx context.Context) {
	t := time.NewTicker(historyEvery)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-t.C:
			sctx, cancel := context.WithTimeout(ctx, 30*time.Second)
			p.sampleUsage(sctx)
			cancel()
		}
	}
}

func (p *Portal) apiHistory(c *fiber.Ctx) error {
	st, err := p.status(c)
	if err != nil {
		return err
	}
	return c.JSON(p.history.get(st.ID))
}
