package appctl

import (
	"context"
	"fmt"
	"math/rand/v2"
	"net"
	"net/netip"
	"slices"
	"strings"
	"sync"

	"github.com/compose-spec/compose-go/v2/types"
	"github.com/moby/moby/client"
	"gopkg.in/yaml.v3"
)

// StackHub assigns the subnets of the networks it creates itself, small and
// from a range of its own (Config.Subnets). Left to Docker, every network
// takes one of the engine's default address pools (a /16 or a /20: about 31
// in all on Docker 20.10), and installs fail after some 15 apps with "could
// not find an available, non-overlapping IPv4 address pool". Cut from
// 10.213.0.0/16, a /16 holds some 800 apps of one network each.
//
// The subnet is part of the recorded project (Record.Validated), so an app
// keeps it across restarts. The hazard check runs on the project as the app
// declared it, before this, so only subnets an app fixes itself are flagged.

// DefaultSubnets is the range app networks' subnets are cut from unless
// Config.Subnets says otherwise. 10.213.0.0/16 is private (RFC 1918) and
// clear of Docker's own default pools (172.17-31.0.0/16, 192.168.0.0/16),
// of the ranges home routers and VPNs hand out (192.168.x, 10.0.x, 10.1.x,
// 10.8.x OpenVPN, 10.6.x PiVPN, 100.64/10 Tailscale, 172.16.x) and of
// Kubernetes/k3s/Podman defaults (10.42-43, 10.88-89, 10.96, 10.244).
var DefaultSubnets = netip.MustParsePrefix("10.213.0.0/16")

// Sizes of the subnets StackHub assigns.
const (
	// proxySubnetBits: an app's network to the proxy holds its main service
	// and the gateway (the host); a /28 leaves room for the new container
	// Compose creates before it removes the old one on a recreate.
	proxySubnetBits = 28
	// appSubnetBits: an app's own networks hold all its services, and the
	// containers of apps that require it (deps.go); a /26 has 61 addresses.
	appSubnetBits = 26
)

// subnetMu serialises allocation in the process (every Manager: tests run
// several on one engine), so two installs at once never pick the same
// subnet; reserved holds what was assigned but may not be recorded yet, by
// instance and app.
var (
	subnetMu sync.Mutex
	reserved = map[string][]netip.Prefix{}
)

// assignSubnets gives every network StackHub creates for the app a subnet
// from the pool: the proxy network and the app's own bridge networks that
// declare no IPAM config of their own. A network that exists already (an
// update, a change of settings) keeps its subnet when it is in the pool.
func (m *Manager) assignSubnets(ctx context.Context, p *types.Project, appID string) error {
	subnetMu.Lock()
	defer subnetMu.Unlock()
	engine, err := m.engineSubnets(ctx)
	if err != nil {
		return fmt.Errorf("assign subnets: %w", err)
	}
	ownNames := map[string]bool{}
	for _, n := range p.Networks {
		if !bool(n.External) { // another's network: its subnet is used
			ownNames[n.Name] = true
		}
	}
	var used []netip.Prefix
	existing := map[string]netip.Prefix{} // this app's networks that exist, by name
	for name, subnets := range engine {
		for _, s := range subnets {
			if !ownNames[name] {
				used = append(used, s)
			} else if s.Addr().Is4() && m.cfg.Subnets.Contains(s.Addr()) {
				existing[name] = s
			}
		}
	}
	used = append(used, hostSubnets()...)
	used = append(used, m.recordedSubnets(appID)...)
	for key, ps := range reserved {
		if key != m.cfg.Instance+"/"+appID {
			used = append(used, ps...)
		}
	}
	var mine []netip.Prefix
	for _, key := range sortedNetworkKeys(p) {
		n := p.Networks[key]
		if !needsSubnet(n) {
			continue
		}
		subnet, ok := existing[n.Name]
		if !ok || overlapsAny(subnet, used) {
			bits := appSubnetBits
			if key == proxyNetworkKey {
				bits = proxySubnetBits
			}
			if subnet, ok = freeSubnet(m.cfg.Subnets, bits, used); !ok {
				return fmt.Errorf("%w: no free /%d left in %s for network %s: remove apps you do not use, or give StackHub a larger range (option `subnets` in the Caddyfile)", ErrInvalid, bits, m.cfg.Subnets, n.Name)
			}
		}
		n.Ipam = types.IPAMConfig{Driver: n.Ipam.Driver, Config: []*types.IPAMPool{{Subnet: subnet.String()}}}
		p.Networks[key] = n
		used = append(used, subnet)
		mine = append(mine, subnet)
	}
	reserved[m.cfg.Instance+"/"+appID] = mine
	return nil
}

// releaseSubnets forgets what assignSubnets reserved for an app that is
// gone (its record, if any, no longer holds them).
func (m *Manager) releaseSubnets(appID string) {
	subnetMu.Lock()
	delete(reserved, m.cfg.Instance+"/"+appID)
	subnetMu.Unlock()
}

// needsSubnet reports whether StackHub assigns n's subnet: a bridge network
// Compose creates whose IPAM config the app left to the engine.
func needsSubnet(n types.NetworkConfig) bool {
	if bool(n.External) || len(n.Ipam.Config) > 0 {
		return false
	}
	if n.Driver != "" && n.Driver != "bridge" {
		return false
	}
	return n.Ipam.Driver == "" || n.Ipam.Driver == "default"
}

// recordedSubnets are the subnets in the recorded projects of this
// StackHub's apps other than appID: a stopped app's networks may not exist
// on the engine, and it gets them back with the same subnets.
func (m *Manager) recordedSubnets(appID string) []netip.Prefix {
	recs, err := m.records()
	if err != nil {
		return nil
	}
	var out []netip.Prefix
	for _, r := range recs {
		if r.ID == appID || len(r.Validated) == 0 {
			continue
		}
		var doc struct {
			Networks map[string]struct {
				Ipam struct {
					Config []struct {
						Subnet string `yaml:"subnet"`
					} `yaml:"config"`
				} `yaml:"ipam"`
			} `yaml:"networks"`
		}
		if yaml.Unmarshal(r.Validated, &doc) != nil {
			continue
		}
		for _, n := range doc.Networks {
			for _, c := range n.Ipam.Config {
				if s, err := netip.ParsePrefix(c.Subnet); err == nil {
					out = append(out, s)
				}
			}
		}
	}
	return out
}

// hostSubnets are the networks of the host's own interfaces (the LAN, a
// VPN): a Docker network overlapping one would hide those hosts from the
// host itself. Docker's bridges are left out: the engine's networks are
// counted from its own list.
func hostSubnets() []netip.Prefix {
	ifaces, err := net.Interfaces()
	if err != nil {
		return nil
	}
	var addrs []net.Addr
	for _, ifc := range ifaces {
		if strings.HasPrefix(ifc.Name, "br-") || strings.HasPrefix(ifc.Name, "docker") || strings.HasPrefix(ifc.Name, "veth") {
			continue
		}
		if a, err := ifc.Addrs(); err == nil {
			addrs = append(addrs, a...)
		}
	}
	var out []netip.Prefix
	for _, a := range addrs {
		ipn, ok := a.(*net.IPNet)
		if !ok || ipn.IP.IsLoopback() {
			continue
		}
		addr, ok := netip.AddrFromSlice(ipn.IP)
		if !ok {
			continue
		}
		ones, _ := ipn.Mask.Size()
		out = append(out, netip.PrefixFrom(addr.Unmap(), ones).Masked())
	}
	return out
}

// freeSubnet picks a /bits in pool that overlaps none of used. It starts
// at a random place, so that StackHubs in other processes on the same engine
// (tests, a second instance) allocating at the same moment rarely collide.
func freeSubnet(pool netip.Prefix, bits int, used []netip.Prefix) (netip.Prefix, bool) {
	if !pool.Addr().Is4() || bits < pool.Bits() || bits > 30 {
		return netip.Prefix{}, false
	}
	count := uint32(1) << (bits - pool.Bits())
	base := pool.Masked().Addr().As4()
	start := uint32(base[0])<<24 | uint32(base[1])<<16 | uint32(base[2])<<8 | uint32(base[3])
	step := uint32(1) << (32 - bits)
	first := rand.Uint32N(count)
	for i := range count {
		v := start + ((first+i)%count)*step
		cand := netip.PrefixFrom(netip.AddrFrom4([4]byte{byte(v >> 24), byte(v >> 16), byte(v >> 8), byte(v)}), bits)
		if !overlapsAny(cand, used) {
			return cand, true
		}
	}
	return netip.Prefix{}, false
}

func overlapsAny(p netip.Prefix, list []netip.Prefix) bool {
	for _, q := range list {
		if p.Overlaps(q) {
			return true
		}
	}
	return false
}

func sortedNetworkKeys(p *types.Project) []string {
	keys := make([]string, 0, len(p.Networks))
	for k := range p.Networks {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	return keys
}

// subnetTaken reports the first network of p that StackHub gave a subnet,
// does not exist on the engine and would not be created because another
// network took that subnet meanwhile (e.g. a network made by hand while the
// app was down). startProject then checks and records the app's project
// again, which assigns a free subnet.
func (m *Manager) subnetTaken(ctx context.Context, p *types.Project) (string, bool) {
	subnetMu.Lock()
	defer subnetMu.Unlock()
	engine, err := m.engineSubnets(ctx)
	if err != nil {
		return "", false // Compose says what is wrong
	}
	var used []netip.Prefix
	for _, subnets := range engine {
		used = append(used, subnets...)
	}
	for _, key := range sortedNetworkKeys(p) {
		n := p.Networks[key]
		if _, exists := engine[n.Name]; bool(n.External) || exists {
			continue
		}
		for _, c := range n.Ipam.Config {
			s, err := netip.ParsePrefix(c.Subnet)
			if err == nil && m.cfg.Subnets.Contains(s.Addr()) && overlapsAny(s, used) {
				return fmt.Sprintf("network %s: subnet %s is taken", n.Name, s), true
			}
		}
	}
	return "", false
}

// engineSubnets lists the engine's networks with their subnets, by name.
func (m *Manager) engineSubnets(ctx context.Context) (map[string][]netip.Prefix, error) {
	list, err := m.engine.Docker().NetworkList(ctx, client.NetworkListOptions{})
	if err != nil {
		return nil, fmt.Errorf("list the engine's networks: %w", err)
	}
	out := make(map[string][]netip.Prefix, len(list.Items))
	for _, n := range list.Items {
		out[n.Name] = nil
		for _, c := range n.IPAM.Config {
			if c.Subnet.IsValid() {
				out[n.Name] = append(out[n.Name], c.Subnet)
			}
		}
	}
	return out, nil
}
