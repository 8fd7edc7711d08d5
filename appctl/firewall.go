package appctl

import (
	"fmt"
	"os"
	"os/exec"
	"strings"

	"go.uber.org/zap"
)

// Apps are isolated from each other by Docker's isolation between bridge
// networks (network.go). Docker 20.10 keeps that isolation in the filter
// table's FORWARD chain and, every time any network is created on the
// engine, deletes and re-inserts the jump to it: for those moments every
// bridge's "accept what leaves me" rule lets a container reach containers of
// every other network. On a busy engine a container that keeps trying gets
// through (the isolation test saw it every time while networks were being
// created). So StackHub adds the same isolation where Docker never touches
// it, in the mangle table, which is traversed before filter:
//
//	-t mangle -I FORWARD -j STACKHUB-ISOLATION
//	-A STACKHUB-ISOLATION -m physdev --physdev-is-bridged -j RETURN   (same network)
//	-A STACKHUB-ISOLATION -i br-+ -o br-+ -m conntrack ! --ctstate DNAT -j DROP
//	(and the same between br-+ and docker0, both ways)
//
// It drops only what Docker itself means to drop: traffic routed from one
// bridge network to a container address on another. Traffic within a
// network, to published ports (DNAT), to the host and to the outside is not
// affected. It is best effort: without a local engine, root or iptables,
// StackHub logs why and relies on Docker's rules alone.

const isolationChain = "STACKHUB-ISOLATION"

var isolationRules = [][]string{
	// First, so that a host without physdev gets no DROP rule at all (they
	// would cut traffic within a network when bridged traffic is filtered).
	{"-m", "physdev", "--physdev-is-bridged", "-j", "RETURN"},
	{"-i", "br-+", "-o", "br-+", "-m", "conntrack", "!", "--ctstate", "DNAT", "-j", "DROP"},
	{"-i", "br-+", "-o", "docker0", "-m", "conntrack", "!", "--ctstate", "DNAT", "-j", "DROP"},
	{"-i", "docker0", "-o", "br-+", "-m", "conntrack", "!", "--ctstate", "DNAT", "-j", "DROP"},
}

// guardBridges installs the isolation rules when the engine runs on this
// host and StackHub may change its firewall.
func (m *Manager) guardBridges() {
	host := m.cfg.DockerHost
	if host == "" {
		host = os.Getenv("DOCKER_HOST")
	}
	if host != "" && !strings.HasPrefix(host, "unix://") {
		m.log.Info("the Docker Engine is not on this host: isolation between app networks rests on its own rules", zap.String("docker_host", host))
		return
	}
	if os.Geteuid() != 0 {
		m.log.Info("not root: isolation between app networks rests on Docker's own rules, which Docker 20.10 lifts for a moment whenever it creates a network")
		return
	}
	if err := ensureIsolationRules(); err != nil {
		m.log.Warn("could not add StackHub's isolation between app networks; it rests on Docker's own rules, which Docker 20.10 lifts for a moment whenever it creates a network", zap.Error(err))
	}
}

func ensureIsolationRules() error {
	if _, err := exec.LookPath("iptables"); err != nil {
		return err
	}
	if iptables("-S", isolationChain) != nil {
		if err := iptables("-N", isolationChain); err != nil {
			return err
		}
	}
	for _, rule := range isolationRules {
		if iptables(append([]string{"-C", isolationChain}, rule...)...) == nil {
			continue
		}
		if err := iptables(append([]string{"-A", isolationChain}, rule...)...); err != nil {
			return err
		}
	}
	if iptables("-C", "FORWARD", "-j", isolationChain) == nil {
		return nil
	}
	return iptables("-I", "FORWARD", "-j", isolationChain)
}

// iptables runs iptables on the mangle table, waiting for the lock.
func iptables(args ...string) error {
	out, err := exec.Command("iptables", append([]string{"-w", "-t", "mangle"}, args...)...).CombinedOutput()
	if err != nil {
		return fmt.Errorf("iptables -t mangle %s: %w: %s", strings.Join(args, " "), err, strings.TrimSpace(string(out)))
	}
	return nil
}
