// API: live figures of the machine (gopsutil: CPU, memory, the data
// folder's disk, network) and of each app the user may open (the engine's
// stats), as a server-sent event stream.

package portal

import (
	"context"
	"sync"
	"time"

	"github.com/gofiber/fiber/v2"
	"github.com/shirou/gopsutil/v4/cpu"
	"github.com/shirou/gopsutil/v4/disk"
	"github.com/shirou/gopsutil/v4/mem"
	psnet "github.com/shirou/gopsutil/v4/net"

	"github.com/stackhub/stackhub/appctl"
)

// statsEvery is the interval of the live figures.
const statsEvery = 3 * time.Second

// SystemStats is one sample of the machine's and the apps' figures.
type SystemStats struct {
	Time       time.Time `json:"time"`
	CPUPercent float64   `json:"cpu_percent"` // of the whole machine
	Cores      int       `json:"cores"`
	MemUsed    uint64    `json:"mem_used"`
	MemTotal   uint64    `json:"mem_total"`
	DiskUsed   uint64    `json:"disk_used"`
	DiskTotal  uint64    `json:"disk_total"`
	DiskPath   string    `json:"disk_path"`
	NetRx      uint64    `json:"net_rx_bytes"` // since boot
	NetTx      uint64    `json:"net_tx_bytes"`
	// NetRxRate and NetTxRate are bytes per second since the previous
	// sample of the stream (0 in the first).
	NetRxRate float64           `json:"net_rx_rate"`
	NetTxRate float64           `json:"net_tx_rate"`
	Apps      []appctl.AppStats `json:"apps"`
}

func (p *Portal) sampleSystem(ctx context.Context, apps []string, prev *SystemStats) SystemStats {
	s := SystemStats{Time: time.Now().UTC(), DiskPath: p.plat().Config.DataDir, Apps: []appctl.AppStats{}}
	if pc, err := cpu.PercentWithContext(ctx, 0, false); err == nil && len(pc) == 1 {
		s.CPUPercent = pc[0]
	}
	s.Cores, _ = cpu.CountsWithContext(ctx, true)
	if vm, err := mem.VirtualMemoryWithContext(ctx); err == nil {
		s.MemUsed, s.MemTotal = vm.Used, vm.Total
	}
	if du, err := disk.UsageWithContext(ctx, s.DiskPath); err == nil {
		s.DiskUsed, s.DiskTotal = du.Used, du.Total
	}
	if io, err := psnet.IOCountersWithContext(ctx, false); err == nil && len(io) == 1 {
		s.NetRx, s.NetTx = io[0].BytesRecv, io[0].BytesSent
	}
	if prev != nil {
		if dt := s.Time.Sub(prev.Time).Seconds(); dt > 0 && s.NetRx >= prev.NetRx && s.NetTx >= prev.NetTx {
			s.NetRxRate, s.NetTxRate = float64(s.NetRx-prev.NetRx)/dt, float64(s.NetTx-prev.NetTx)/dt
		}
	}
	var mu sync.Mutex
	var wg sync.WaitGroup
	for _, id := range apps {
		wg.Add(1)
		go func() {
			defer wg.Done()
			if st, err := p.plat().Apps.Stats(ctx, id); err == nil {
				mu.Lock()
				s.Apps = append(s.Apps, st)
				mu.Unlock()
			}
		}()
	}
	wg.Wait()
	return s
}

// apiSystemStats streams a "stats" event every few seconds; with ?once=true
// it answers one sample as JSON.
func (p *Portal) apiSystemStats(c *fiber.Ctx) error {
	_, id, _ := sessionOf(c)
	cards, err := p.cards(c.Context(), id)
	if err != nil {
		return err
	}
	var apps []string
	for _, card := range cards {
		if card.Status != "installing" {
			apps = append(apps, card.ID)
		}
	}
	if c.QueryBool("once") {
		return c.JSON(p.sampleSystem(c.Context(), apps, nil))
	}
	return sse(c, func(send sendFunc) {
		var prev *SystemStats
		for {
			ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
			s := p.sampleSystem(ctx, apps, prev)
			cancel()
			if send("stats", s) != nil {
				return
			}
			prev = &s
			time.Sleep(statsEvery)
		}
	})
}
