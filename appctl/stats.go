package appctl

import (
	"context"
	"encoding/json"
	"fmt"
	"sort"
	"sync"

	"github.com/moby/moby/client"
)

// AppStats is an app's resource use now, summed over its running
// containers, as the engine reports it.
type AppStats struct {
	App string `json:"app"`
	// CPUPercent is the share of one core over the engine's last sample
	// (200 is two full cores).
	CPUPercent float64 `json:"cpu_percent"`
	// MemoryBytes is the memory in use, the page cache left out (as
	// `docker stats` shows it).
	MemoryBytes uint64         `json:"memory_bytes"`
	Services    []ServiceStats `json:"services,omitempty"`
}

// ServiceStats is one container's share of AppStats.
type ServiceStats struct {
	Service     string  `json:"service"`
	CPUPercent  float64 `json:"cpu_percent"`
	MemoryBytes uint64  `json:"memory_bytes"`
}

// containerStats is the part of the engine's stats answer we read.
type containerStats struct {
	CPU struct {
		Usage struct {
			Total uint64 `json:"total_usage"`
		} `json:"cpu_usage"`
		System uint64 `json:"system_cpu_usage"`
		Online uint32 `json:"online_cpus"`
	} `json:"cpu_stats"`
	PreCPU struct {
		Usage struct {
			Total uint64 `json:"total_usage"`
		} `json:"cpu_usage"`
		System uint64 `json:"system_cpu_usage"`
	} `json:"precpu_stats"`
	Memory struct {
		Usage uint64            `json:"usage"`
		Stats map[string]uint64 `json:"stats"`
	} `json:"memory_stats"`
}

func (s containerStats) cpuPercent() float64 {
	cpu := float64(s.CPU.Usage.Total) - float64(s.PreCPU.Usage.Total)
	sys := float64(s.CPU.System) - float64(s.PreCPU.System)
	if cpu <= 0 || sys <= 0 || s.PreCPU.System == 0 {
		return 0
	}
	n := float64(s.CPU.Online)
	if n == 0 {
		n = 1
	}
	return cpu / sys * n * 100
}

func (s containerStats) memory() uint64 {
	cache := s.Memory.Stats["inactive_file"]                // cgroup v2
	if c, ok := s.Memory.Stats["total_inactive_file"]; ok { // cgroup v1
		cache = c
	}
	if cache > s.Memory.Usage {
		return s.Memory.Usage
	}
	return s.Memory.Usage - cache
}

// Stats samples the app's running containers once (the engine takes about
// a second per sample to measure CPU use; containers are sampled together).
func (m *Manager) Stats(ctx context.Context, id string) (AppStats, error) {
	rec, err := m.get(id)
	if err != nil {
		return AppStats{}, fmt.Errorf("stats %s: %w", id, err)
	}
	cs, err := m.engine.Ps(ctx, rec.Project)
	if err != nil {
		return AppStats{}, fmt.Errorf("stats %s: %w", id, err)
	}
	out := AppStats{App: id}
	var mu sync.Mutex
	var wg sync.WaitGroup
	for _, c := range cs {
		if c.State != "running" {
			continue
		}
		wg.Add(1)
		go func(service, container string) {
			defer wg.Done()
			res, err := m.engine.Docker().ContainerStats(ctx, container, client.ContainerStatsOptions{IncludePreviousSample: true})
			if err != nil {
				return // stopped meanwhile: it uses nothing
			}
			defer res.Body.Close()
			var s containerStats
			if json.NewDecoder(res.Body).Decode(&s) != nil {
				return
			}
			mu.Lock()
			out.Services = append(out.Services, ServiceStats{Service: service, CPUPercent: s.cpuPercent(), MemoryBytes: s.memory()})
			mu.Unlock()
		}(c.Service, c.ID)
	}
	wg.Wait()
	sort.Slice(out.Services, func(i, j int) bool { return out.Services[i].Service < out.Services[j].Service })
	for _, s := range out.Services {
		out.CPUPercent += s.CPUPercent
		out.MemoryBytes += s.MemoryBytes
	}
	return out, nil
}
