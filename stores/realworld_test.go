package stores

import (
	"context"
	"slices"
	"strings"
	"testing"
	"testing/fstest"
)

// Shapes met in the real stores beyond the shared samples (trimmed copies
// of real apps: long descriptions and translations left out).

func readOne(t *testing.T, fsys fstest.MapFS, format Format) App {
	t.Helper()
	apps, err := ReadStore(context.Background(), fsys, format)
	if err != nil {
		t.Fatal(err)
	}
	if len(apps) != 1 {
		t.Fatalf("%d apps", len(apps))
	}
	return apps[0]
}

func hazardSet(app App) map[string]bool {
	m := map[string]bool{}
	for _, h := range app.Hazards {
		m[h.Setting] = true
	}
	return m
}

func TestCasaOSRealShapes(t *testing.T) {
	t.Run("adguard: same port, two protocols; port_map on another target", func(t *testing.T) {
		app := readOne(t, fstest.MapFS{"Apps/AdGuardHome/docker-compose.yml": {Data: []byte(`name: adguard-home
services:
  adguard-home:
    image: adguard/adguardhome:v0.107.41
    network_mode: bridge
    ports:
      - {target: 53, published: "531", protocol: tcp}
      - {target: 53, published: "531", protocol: udp}
      - {target: 3000, published: "3001", protocol: tcp}
      - {target: 853, published: "853", protocol: tcp}
      - {target: 784, published: "784", protocol: udp}
    volumes:
      - {type: bind, source: /DATA/AppData/$AppID/opt/adguardhome/work, target: /opt/adguardhome/work}
    container_name: adguard-home
x-casaos:
  architectures: ["386", amd64, arm, arm64]
  main: adguard-home
  category: Network
  description: {en_us: "AdGuard Home blocks ads."}
  tagline: {en_us: Blocking ads}
  title: {en_us: AdGuard Home}
  port_map: "3001"
`)}}, FormatCasaOS)
		w := sampleWant{main: "adguard-home", port: 3000, name: "AdGuard Home", binds: map[string]string{"adguard-home:/opt/adguardhome/work": "opt/adguardhome/work"},
			ports: []Port{{Service: "adguard-home", Target: 53, Published: "531", Protocol: "tcp"}, {Service: "adguard-home", Target: 53, Published: "531", Protocol: "udp"},
				{Service: "adguard-home", Target: 853, Published: "853", Protocol: "tcp"}, {Service: "adguard-home", Target: 784, Published: "784", Protocol: "udp"}}, noHazards: true}
		checkApp(t, app, w)
	})
	t.Run("dify: port_map published by a proxy service, not x-casaos.main", func(t *testing.T) {
		app := readOne(t, fstest.MapFS{"Apps/Dify/docker-compose.yml": {Data: []byte(`name: dify
services:
  web:
    image: langgenius/dify-web:0.12.1
    container_name: dify-web
    networks: [dify]
  api:
    image: langgenius/dify-api:0.12.1
    container_name: dify-api
    volumes: ["/DATA/AppData/$AppID/data/app/api/storage:/app/api/storage"]
    networks: [ssrf_proxy_network, dify]
  nginx:
    image: nginx:1.27.0
    container_name: dify-nginx
    volumes: ["/DATA/AppData/$AppID/data/nginx:/etc/nginx"]
    depends_on: [api, web]
    ports: ["3701:80"]
    networks: [dify]
networks:
  ssrf_proxy_network: {driver: bridge, internal: true}
  dify: {name: dify}
x-casaos:
  main: web
  category: Chat
  description: {en_us: Dify is an LLM app platform.}
  title: {en_us: Dify}
  port_map: "3701"
`)}}, FormatCasaOS)
		p := checkApp(t, app, sampleWant{main: "nginx", port: 80, name: "Dify", binds: map[string]string{"api:/app/api/storage": "data/app/api/storage"}, noHazards: true})
		if p.Networks["dify"].Name != "stackhub-dify_dify" {
			t.Errorf("network dify keeps a fixed name: %q", p.Networks["dify"].Name)
		}
		if n := p.Services["api"].Networks["dify"]; n == nil || !slices.Contains(n.Aliases, "dify-api") {
			t.Errorf("api networks %+v", p.Services["api"].Networks)
		}
	})
	t.Run("cloudflared: host network, app data of another name", func(t *testing.T) {
		app := readOne(t, fstest.MapFS{"Apps/Cloudflared/docker-compose.yml": {Data: []byte(`name: cloudflared
services:
  cloudflared:
    image: wisdomsky/cloudflared-web:2025.2.1
    network_mode: host
    ports: [{target: 14333, published: "14333", protocol: tcp}]
    volumes: [{type: bind, source: /DATA/AppData/casaos-cloudflared/config, target: /config}]
x-casaos:
  main: cloudflared
  description: {en_US: Cloudflare Tunnel with a web UI.}
  title: {en_US: Cloudflared}
  port_map: "14333"
`)}}, FormatCasaOS)
		checkApp(t, app, sampleWant{main: "cloudflared", port: 14333, binds: map[string]string{"cloudflared:/config": "casaos-cloudflared/config"},
			hazards: []string{"network_mode: host"}})
	})
	t.Run("WEBUI_PORT and an env var from /etc/casaos/env", func(t *testing.T) {
		app := readOne(t, fstest.MapFS{"Apps/Memos/docker-compose.yml": {Data: []byte(`name: memos
services:
  memos:
    image: neosmemo/memos:0.24.0
    environment:
      OPENAI_API_KEY: $OPENAI_API_KEY
      PUBLIC_URL: http://localhost:${WEBUI_PORT}
    ports:
      - target: 5230
        published: ${WEBUI_PORT:-5230}
        protocol: tcp
    volumes: [{type: bind, source: "/DATA/AppData/${AppID}", target: /var/opt/memos}]
x-casaos:
  main: memos
  description: {en_us: Notes.}
  title: {en_us: Memos}
  port_map: ${WEBUI_PORT:-5230}
`)}}, FormatCasaOS)
		p := checkApp(t, app, sampleWant{main: "memos", port: 5230, binds: map[string]string{"memos:/var/opt/memos": ""}, fields: []string{"OPENAI_API_KEY"}, noHazards: true})
		if v := p.Services["memos"].Environment["PUBLIC_URL"]; v == nil || *v != "http://localhost:5230" {
			t.Errorf("PUBLIC_URL = %v", v)
		}
	})
	t.Run("nvidia: GPU reservation is flagged", func(t *testing.T) {
		app := readOne(t, fstest.MapFS{"Apps/Emby_Nvidia/docker-compose.yml": {Data: []byte(`name: emby-nvidia
services:
  emby:
    image: emby/embyserver:4.8.10.0
    runtime: nvidia
    deploy:
      resources:
        reservations:
          devices:
            - driver: nvidia
              count: all
              capabilities: [gpu]
    ports: ["8096:8096"]
    volumes: ["/DATA/AppData/$AppID/config:/config", "/DATA/Media:/media"]
x-casaos:
  main: emby
  description: {en_us: Emby with NVIDIA.}
  title: {en_us: Emby}
  port_map: "8096"
`)}}, FormatCasaOS)
		checkApp(t, app, sampleWant{main: "emby", port: 8096, binds: map[string]string{"emby:/config": "config", "emby:/media": "shared/Media"},
			hazards: []string{"deploy.resources.reservations.devices: gpu"}})
	})
}

func TestRuntipiRealShapes(t *testing.T) {
	t.Run("adguard: DNS on tcp and udp, interface variable", func(t *testing.T) {
		app := readOne(t, fstest.MapFS{
			"apps/adguard/config.json": {Data: []byte(`{"$schema":"../app-info-schema.json","name":"Adguard","id":"adguard","available":true,"port":8104,"tipi_version":1,"categories":["network","security"],"description":"Ad blocking DNS.","short_desc":"DNS ad blocker","author":"AdguardTeam","source":"https://github.com/AdguardTeam/AdGuardHome","form_fields":[],"supported_architectures":["arm64","amd64"],"dynamic_config":true}`)},
			"apps/adguard/docker-compose.json": {Data: []byte(`{"$schema":"../dynamic-compose-schema.json","services":[{"name":"adguard","image":"adguard/adguardhome:v0.107.65",
 "volumes":[{"hostPath":"${APP_DATA_DIR}/data/work","containerPath":"/opt/adguardhome/work"},{"hostPath":"${APP_DATA_DIR}/data/conf","containerPath":"/opt/adguardhome/conf"}],
 "internalPort":80,"isMain":true,
 "addPorts":[{"hostPort":53,"containerPort":53,"tcp":true,"udp":true,"interface":"${NETWORK_INTERFACE:-0.0.0.0}"},{"hostPort":853,"containerPort":853,"tcp":true,"udp":true,"interface":"${NETWORK_INTERFACE:-0.0.0.0}"}]}]}`)},
		}, FormatRuntipi)
		p := checkApp(t, app, sampleWant{main: "adguard", port: 80, binds: map[string]string{"adguard:/opt/adguardhome/conf": "data/conf"},
			ports: []Port{{Service: "adguard", Target: 53, Published: "53", Protocol: "tcp"}, {Service: "adguard", Target: 53, Published: "53", Protocol: "udp"},
				{Service: "adguard", Target: 853, Published: "853", Protocol: "tcp"}, {Service: "adguard", Target: 853, Published: "853", Protocol: "udp"}}, noHazards: true})
		for _, pc := range p.Services["adguard"].Ports {
			if pc.HostIP != "0.0.0.0" {
				t.Errorf("host_ip = %q", pc.HostIP)
			}
		}
	})
	t.Run("homeassistant: host network, no internalPort", func(t *testing.T) {
		app := readOne(t, fstest.MapFS{
			"apps/homeassistant/config.json":                    {Data: []byte(`{"name":"Home Assistant","available":true,"port":8123,"tipi_version":1,"id":"homeassistant","categories":["automation"],"description":"Home automation.","short_desc":"Home automation","author":"ArneNaessens","source":"https://github.com/home-assistant/core","form_fields":[]}`)},
			"apps/homeassistant/docker-compose.json":            {Data: []byte(`{"schemaVersion":2,"services":[{"name":"homeassistant","image":"ghcr.io/home-assistant/home-assistant:2025.10.4","isMain":true,"networkMode":"host","volumes":[{"hostPath":"${APP_DATA_DIR}/config","containerPath":"/config"}],"privileged":true}]}`)},
			"apps/homeassistant/data/config/configuration.yaml": {Data: []byte("default_config:\n")},
		}, FormatRuntipi)
		checkApp(t, app, sampleWant{main: "homeassistant", port: 8123, binds: map[string]string{"homeassistant:/config": "config"},
			hazards: []string{"privileged", "network_mode: host"}})
		if string(app.Seed["data/config/configuration.yaml"]) != "default_config:\n" {
			t.Errorf("seed = %v", keysOf(app.Seed))
		}
	})
	t.Run("schema v1: environment map, depends_on conditions, healthcheck, udp port", func(t *testing.T) {
		app := readOne(t, fstest.MapFS{
			"apps/thing/config.json": {Data: []byte(`{"id":"thing","name":"Thing","port":"8200","available":true,"short_desc":"A thing","description":"d","version":2,"form_fields":[{"type":"random","label":"Key","env_variable":"THING_KEY","min":16,"encoding":"hex"},{"type":"boolean","label":"Debug","env_variable":"THING_DEBUG","default":false},{"type":"text","label":"Mode","env_variable":"THING_MODE","options":[{"label":"Fast","value":"fast"},{"label":"Slow","value":"slow"}]}]}`)},
			"apps/thing/docker-compose.json": {Data: []byte(`{"services":[
 {"name":"thing","image":"example/thing:1.2.3","isMain":true,"internalPort":"8080","environment":{"KEY":"${THING_KEY}","DEBUG":"${THING_DEBUG}","PORT":8080},
  "dependsOn":{"db":{"condition":"service_healthy"}},"addPorts":[{"hostPort":9999,"containerPort":9999,"udp":true}],"command":["serve","--fast"]},
 {"name":"db","image":"postgres:16.4-alpine","healthCheck":{"test":"pg_isready","interval":"10s","timeout":"5s","retries":5},"volumes":[{"hostPath":"${APP_DATA_DIR}/data/db","containerPath":"/var/lib/postgresql/data"}]}]}`)},
		}, FormatRuntipi)
		p := checkApp(t, app, sampleWant{main: "thing", port: 8080, binds: map[string]string{"db:/var/lib/postgresql/data": "data/db"},
			ports: []Port{{Service: "thing", Target: 9999, Published: "9999", Protocol: "udp"}}, fields: []string{"THING_KEY", "THING_DEBUG", "THING_MODE"}, noHazards: true})
		if d := p.Services["thing"].DependsOn["db"]; d.Condition != "service_healthy" {
			t.Errorf("depends_on = %+v", p.Services["thing"].DependsOn)
		}
		if hc := p.Services["db"].HealthCheck; hc == nil || hc.Retries == nil || *hc.Retries != 5 {
			t.Errorf("healthcheck = %+v", hc)
		}
		f := app.Fields
		if f[0].RandomLength != 16 || f[1].Type != FieldBool || f[1].Default != "false" || f[2].Type != FieldSelect || !slices.Equal(f[2].Options, []string{"fast", "slow"}) {
			t.Errorf("fields = %+v", f)
		}
		if app.Version != "2" {
			t.Errorf("version = %q", app.Version)
		}
	})
	t.Run("legacy compose only, web port from Traefik labels", func(t *testing.T) {
		app := readOne(t, fstest.MapFS{
			"apps/legacy/config.json": {Data: []byte(`{"id":"legacy","name":"Legacy","port":8300,"available":true,"short_desc":"s","description":"d"}`)},
			"apps/legacy/docker-compose.yml": {Data: []byte(`version: "3.7"
services:
  legacy:
    image: example/legacy:2.0.0
    container_name: legacy
    dns:
      - ${DNS_IP}
    volumes: ["${ROOT_FOLDER_HOST}/media/data/books:/books", "${APP_DATA_DIR}/data:/data"]
    networks: [tipi_main_network]
    labels:
      traefik.enable: true
      traefik.http.services.legacy.loadbalancer.server.port: 7000
      custom.label: kept
networks:
  tipi_main_network:
    name: runtipi_tipi_main_network
    external: true
`)},
		}, FormatRuntipi)
		p := checkApp(t, app, sampleWant{main: "legacy", port: 7000, binds: map[string]string{"legacy:/books": "shared/data/books", "legacy:/data": "data"}, noHazards: true})
		if l := p.Services["legacy"].Labels; len(l) != 1 || l["custom.label"] != "kept" {
			t.Errorf("labels = %v", l)
		}
		if d := p.Services["legacy"].DNS; len(d) != 1 || d[0] != "9.9.9.9" {
			t.Errorf("dns = %v", d)
		}
	})
	t.Run("no_gui app is a service app", func(t *testing.T) {
		apps, _ := ReadStore(context.Background(), fstest.MapFS{
			"apps/agent/config.json":         {Data: []byte(`{"id":"agent","name":"Agent","no_gui":true,"available":true}`)},
			"apps/agent/docker-compose.json": {Data: []byte(`{"services":[{"name":"agent","image":"example/agent:1.0.0"}]}`)},
		}, FormatRuntipi)
		if len(apps) != 1 || apps[0].Unavailable != "" || !apps[0].NoWebUI || apps[0].MainService != "agent" {
			t.Errorf("apps = %+v", apps)
		}
	})
}

func TestUmbrelRealShapes(t *testing.T) {
	t.Run("home-assistant: no app_proxy, host network, devices", func(t *testing.T) {
		app := readOne(t, fstest.MapFS{
			"home-assistant/umbrel-app.yml": {Data: []byte("manifestVersion: 1\nid: home-assistant\nname: Home Assistant\ntagline: Home automation\ndescription: Home automation.\nport: 8123\ncategory: automation\n")},
			"home-assistant/docker-compose.yml": {Data: []byte(`version: "3.7"
services:
  server:
    image: homeassistant/home-assistant:2025.2.4
    network_mode: host
    privileged: true
    volumes:
      - ${APP_DATA_DIR}/data:/config
      - ${UMBREL_ROOT}/data/storage/downloads:/media
      - /dev:/dev
      - /run/dbus:/run/dbus:ro
`)},
		}, FormatUmbrel)
		checkApp(t, app, sampleWant{main: "server", port: 8123, binds: map[string]string{"server:/config": "data", "server:/media": "shared/downloads"},
			hazards: []string{"privileged", "network_mode: host", "volumes: /dev", "volumes: /run/dbus"}})
	})
	t.Run("bitcoin-like: APP_HOST is an address from exports.sh", func(t *testing.T) {
		app := readOne(t, fstest.MapFS{
			"bitcoin/umbrel-app.yml": {Data: []byte("id: bitcoin\nname: Bitcoin Node\ndescription: A node.\nport: 2100\n")},
			"bitcoin/exports.sh": {Data: []byte(`export APP_BITCOIN_IP="10.21.22.2"
export APP_BITCOIN_NODE_IP="10.21.21.8"
export APP_BITCOIN_DATA_DIR="${EXPORTS_APP_DIR}/data/bitcoin"
export APP_BITCOIN_RPC_PORT="8332"
if [[ -f x ]]; then
  export APP_BITCOIN_NETWORK="testnet"
fi
BIN_ARGS=()
BIN_ARGS+=( "-port=8333" )
BIN_ARGS+=( "-rpcbind=${APP_BITCOIN_NODE_IP}" )
export APP_BITCOIN_COMMAND=$(IFS=" "; echo "${BIN_ARGS[@]}")
export APP_BITCOIN_RPC_PASS=$(rpcauth.py umbrel | tail -1)
`)},
			"bitcoin/docker-compose.yml": {Data: []byte(`version: "3.7"
services:
  app_proxy:
    environment:
      APP_HOST: $APP_BITCOIN_IP
      APP_PORT: 3005
  server:
    image: getumbrel/umbrel-bitcoin:v0.4.1
    depends_on: [bitcoind]
    volumes:
      - ${APP_DATA_DIR}/data/app:/data
      - ${APP_BITCOIN_DATA_DIR}:/bitcoin/.bitcoin
    environment:
      BITCOIN_HOST: "${APP_BITCOIN_NODE_IP}"
      RPC_PORT: "${APP_BITCOIN_RPC_PORT}"
      NETWORK: "${APP_BITCOIN_NETWORK}"
    networks:
      default:
        ipv4_address: $APP_BITCOIN_IP
  bitcoind:
    image: lncm/bitcoind:v25.0
    command: "${APP_BITCOIN_COMMAND}"
    ports: ["${APP_BITCOIN_RPC_PORT}:${APP_BITCOIN_RPC_PORT}"]
    networks:
      default:
        ipv4_address: $APP_BITCOIN_NODE_IP
`)},
		}, FormatUmbrel)
		p := checkApp(t, app, sampleWant{main: "server", port: 3005, binds: map[string]string{"server:/data": "data/app", "server:/bitcoin/.bitcoin": "data/bitcoin"},
			ports: []Port{{Service: "bitcoind", Target: 8332, Published: "8332", Protocol: "tcp"}}, fields: []string{"APP_BITCOIN_NETWORK"}, noHazards: true})
		env := p.Services["server"].Environment
		if *env["BITCOIN_HOST"] != "bitcoind" || *env["RPC_PORT"] != "8332" {
			t.Errorf("environment = BITCOIN_HOST %q RPC_PORT %q", *env["BITCOIN_HOST"], *env["RPC_PORT"])
		}
		if n := p.Services["bitcoind"].Networks["default"]; n == nil || n.Ipv4Address != "" {
			t.Errorf("bitcoind networks = %+v", p.Services["bitcoind"].Networks)
		}
		// exports.sh is evaluated (issue 11): the command is computed, and
		// the line it could not evaluate is named.
		if c := p.Services["bitcoind"].Command; strings.Join(c, " ") != "-port=8333 -rpcbind=bitcoind" {
			t.Errorf("bitcoind command = %q", c)
		}
		if !strings.Contains(strings.Join(app.Warnings, "\n"), "line 12: rpcauth.py umbrel") {
			t.Errorf("warnings = %v", app.Warnings)
		}
	})
	t.Run("an app needing another app is unavailable", func(t *testing.T) {
		apps, _ := ReadStore(context.Background(), fstest.MapFS{
			"lightning/umbrel-app.yml":     {Data: []byte("id: lightning\nname: Lightning\nport: 2101\ndependencies: [bitcoin]\n")},
			"lightning/docker-compose.yml": {Data: []byte("services:\n  app_proxy:\n    environment: {APP_HOST: lightning_web_1, APP_PORT: 3006}\n  web:\n    image: getumbrel/umbrel-lightning:v0.5.0\n    environment: {BITCOIN: $APP_BITCOIN_NODE_IP}\n")},
		}, FormatUmbrel)
		if len(apps) != 1 || !strings.Contains(apps[0].Unavailable, "bitcoin") || apps[0].MainService != "web" {
			t.Errorf("apps = %+v", apps)
		}
	})
	t.Run("community store: APP_HOST is a service name, umbrel-app-store.yml", func(t *testing.T) {
		fsys := fstest.MapFS{
			"umbrel-app-store.yml":              {Data: []byte("id: sparkles\nname: Sparkles\n")},
			"sparkles-hello/umbrel-app.yml":     {Data: []byte("id: sparkles-hello\nname: Hello\ndescription: Hi.\nicon: https://example.com/icon.png\nport: 4000\n")},
			"sparkles-hello/docker-compose.yml": {Data: []byte("services:\n  app_proxy:\n    environment:\n      - APP_HOST=web\n      - APP_PORT=8080\n  web:\n    image: example/hello:1.0.0\n    container_name: sparkles-hello-web\n")},
		}
		f, _, err := DetectFormat(fsys)
		if err != nil || f != FormatUmbrel {
			t.Fatalf("DetectFormat = %q, %v", f, err)
		}
		apps, err := ReadStore(context.Background(), fsys, FormatAuto)
		if err != nil || len(apps) != 1 {
			t.Fatalf("apps = %+v, %v", apps, err)
		}
		checkApp(t, apps[0], sampleWant{main: "web", port: 8080, noHazards: true})
		if apps[0].Icon != "https://example.com/icon.png" {
			t.Errorf("icon = %q", apps[0].Icon)
		}
	})
}
