package appctl

import (
	"slices"
	"testing"

	"github.com/compose-spec/compose-go/v2/types"
)

func service(name, networkMode string, ports ...types.ServicePortConfig) types.ServiceConfig {
	s := types.ServiceConfig{Name: name}
	s.NetworkMode = networkMode
	s.Ports = ports
	return s
}

// TestExposureOfHostNetworkAndServiceApps: what the record says about an
// app's reachability, from the project StackHub runs (no engine needed).
func TestExposureOfHostNetworkAndServiceApps(t *testing.T) {
	host := &types.Project{Services: types.Services{
		"plex": service("plex", "host", types.ServicePortConfig{Target: 32400, Published: "32400", Protocol: "tcp"},
			types.ServicePortConfig{Target: 1900, Published: "1900", Protocol: "udp"}),
		"db": service("db", ""),
	}}
	e := exposure(host, &Record{MainSvc: "plex", MainPort: 32400})
	if !e.HostNetwork || !slices.Equal(e.LANPorts, []string{"32400/tcp", "1900/udp"}) || len(e.Addresses) != 0 {
		t.Errorf("host network app: %+v", e)
	}
	if got := e.Describe("https://plex.example.com/"); got != "https://plex.example.com/ (host network: port 32400/tcp open on the LAN)" {
		t.Errorf("describe: %q", got)
	}

	svc := &types.Project{Services: types.Services{
		"adminer": service("adminer", "", types.ServicePortConfig{Target: 8080, Published: "8081", HostIP: "127.0.0.1"}),
		"db": service("db", "", types.ServicePortConfig{Target: 5432, Published: "5432", HostIP: "127.0.0.1"},
			types.ServicePortConfig{Target: 5433, Published: "5433"}),
	}}
	e = exposure(svc, &Record{MainSvc: "db", Exposure: Exposure{NoWebUI: true}})
	if !slices.Equal(e.Addresses, []string{"127.0.0.1:5432", "0.0.0.0:5433", "127.0.0.1:8081"}) {
		t.Errorf("service app addresses: %v", e.Addresses)
	}
	if !slices.Equal(e.LANPorts, []string{"5433/tcp"}) {
		t.Errorf("service app LAN ports: %v", e.LANPorts)
	}
	if got := e.Describe(""); got != "service app at 127.0.0.1:5432" {
		t.Errorf("describe: %q", got)
	}
}
