package stores

import (
	"strconv"
	"strings"
)

// Kind is how users reach an app.
type Kind string

const (
	// KindWeb apps serve a web UI the platform routes at
	// https://<app>.<domain>. An empty Kind means KindWeb.
	KindWeb Kind = "web"
	// KindService apps have no web UI: a database, a game or mail server.
	// They get no route; users connect to their published ports, bound to
	// 127.0.0.1 unless the admin publishes them on the LAN. MainService and
	// MainPort name the service and container port users connect to.
	KindService Kind = "service"
)

// IsService reports whether the app has no web UI.
func (a App) IsService() bool { return a.Kind == KindService }

// nonWebPorts are well-known ports of protocols that are not HTTP: an app
// whose only port is one of them, and whose store names no web UI port, is
// a service app.
var nonWebPorts = map[int]string{
	21: "FTP", 22: "SSH", 25: "SMTP", 53: "DNS", 110: "POP3", 143: "IMAP",
	389: "LDAP", 465: "SMTPS", 587: "SMTP submission", 636: "LDAPS",
	993: "IMAPS", 995: "POP3S", 1433: "SQL Server", 1521: "Oracle",
	1883: "MQTT", 3306: "MySQL/MariaDB", 5432: "PostgreSQL", 5672: "AMQP",
	6379: "Redis", 8333: "Bitcoin P2P", 8883: "MQTT over TLS", 9042: "Cassandra",
	11211: "memcached", 25565: "Minecraft", 27015: "Source game server",
	27017: "MongoDB", 50001: "Electrum",
}

// NonWebPort reports whether port is the well-known port of a protocol
// other than HTTP, with the protocol's name.
func NonWebPort(port int) (string, bool) {
	p, ok := nonWebPorts[port]
	return p, ok
}

// markServiceApp makes a converted app a service app: its main service's
// port stays published (on hostPort, or the container port when hostPort
// is 0, when no publication of it exists yet), and nothing is routed.
func markServiceApp(doc map[string]any, app *App, hostPort int) {
	app.Kind = KindService
	svc := serviceMap(doc)[app.MainService]
	if svc == nil || app.MainPort == 0 {
		return
	}
	for _, p := range asList(svc["ports"]) {
		if e, ok := parsePort(p); ok && portNumber(e.Target) == app.MainPort {
			return
		}
	}
	if hostPort == 0 {
		hostPort = app.MainPort
	}
	svc["ports"] = append(asList(svc["ports"]), strconv.Itoa(hostPort)+":"+strconv.Itoa(app.MainPort))
}

// serviceMainPort picks the service and container port of an app without
// a web UI whose store names neither: the given service when it publishes a
// port, else the first service (by name) that does; with no port at all,
// the given service or the first one, and port 0.
func serviceMainPort(doc map[string]any, main string) (string, int) {
	services := serviceMap(doc)
	names := sortedKeys(services)
	if _, ok := services[main]; ok {
		names = append([]string{main}, names...)
	}
	for _, n := range names {
		for _, p := range asList(services[n]["ports"]) {
			if e, ok := parsePort(p); ok {
				if t := portNumber(e.Target); t > 0 {
					return n, t
				}
			}
		}
	}
	if _, ok := services[main]; ok {
		return main, 0
	}
	if len(names) > 0 {
		return names[0], 0 // an agent, a client: nothing to connect to
	}
	return "", 0
}

// looksLikeService reports whether an app whose store gives no web UI port
// (CasaOS without port_map) serves a protocol other than HTTP on port.
func looksLikeService(port int, categories []string) bool {
	if _, ok := NonWebPort(port); ok {
		return true
	}
	for _, c := range categories {
		if strings.EqualFold(c, "database") {
			return true
		}
	}
	return false
}
