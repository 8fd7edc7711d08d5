package stores

import "strings"

// Apps without a web UI (App.NoWebUI) are installed as service apps: no
// route, their ports published on 127.0.0.1 unless the admin publishes
// them on the LAN. A store says so (Runtipi no_gui) or names no web port;
// CasaOS databases name none but publish their database's port, which is
// recognised here.

// nonWebPorts are well-known ports of protocols that are not HTTP: an app
// whose main port is one of them, and whose store names no web UI port, is
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

// markServiceApp makes a converted app with a port but no web UI a service
// app: its main port stays published (nothing drops it), and MainPort is 0
// as for every app without a web UI.
func markServiceApp(app *App) {
	app.NoWebUI, app.MainPort = true, 0
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
