package stores

import (
	"context"
	"reflect"
	"strings"
	"testing"

	"github.com/compose-spec/compose-go/v2/types"
)

// hazardCase is a compose file (services, volumes … below a service "web"
// with an image) and the one finding it must produce.
type hazardCase struct {
	name    string
	compose string
	kind    string // "" for a service
	object  string // the service, volume … named by the finding
	hazard  string // the hazard's short name
	setting string // the finding's Setting (exact)
	reason  string // a word the reason must contain
}

const webHead = "services:\n  web:\n    image: nginx:1.27.0\n"

func TestHazardClasses(t *testing.T) {
	cases := []hazardCase{
		// 1. Named volumes that mount the host.
		{"volume binds host root", webHead + "    volumes: [\"data:/data\"]\nvolumes:\n  data:\n    driver_opts: {type: none, o: bind, device: /}\n",
			"volume", "data", "host-path", "driver_opts: type=none o=bind device=/", "host"},
		{"volume bind without type", webHead + "    volumes: [\"data:/data\"]\nvolumes:\n  data:\n    driver_opts: {o: bind, device: /etc}\n",
			"volume", "data", "host-path", "driver_opts: type= o=bind device=/etc", "host"},
		{"volume rbind option", webHead + "    volumes: [\"data:/data\"]\nvolumes:\n  data:\n    driver_opts: {type: none, o: \"rbind,ro\", device: /home}\n",
			"volume", "data", "host-path", "driver_opts: type=none o=rbind,ro device=/home", "host"},
		{"volume mounts a disk", webHead + "    volumes: [\"data:/data\"]\nvolumes:\n  data:\n    driver_opts: {type: ext4, device: /dev/sda1}\n",
			"volume", "data", "host-path", "driver_opts: type=ext4 o= device=/dev/sda1", "host"},
		{"volume mounts an NFS share", webHead + "    volumes: [\"data:/data\"]\nvolumes:\n  data:\n    driver_opts: {type: nfs, o: \"addr=10.0.0.1,rw\", device: \":/export\"}\n",
			"volume", "data", "volume-mount", "driver_opts: type=nfs o=addr=10.0.0.1,rw device=:/export", "share"},
		{"volume mounts a CIFS share", webHead + "    volumes: [\"data:/data\"]\nvolumes:\n  data:\n    driver: local\n    driver_opts: {type: cifs, o: \"username=x\", device: \"//192.168.1.2/share\"}\n",
			"volume", "data", "volume-mount", "driver_opts: type=cifs o=username=x device=//192.168.1.2/share", "share"},
		{"volume with only a device", webHead + "    volumes: [\"data:/data\"]\nvolumes:\n  data:\n    driver_opts: {device: /var/lib/stackhub/apps/other/data}\n",
			"volume", "data", "host-path", "driver_opts: type= o= device=/var/lib/stackhub/apps/other/data", "host"},
		{"tmpfs volume naming a device", webHead + "    volumes: [\"data:/data\"]\nvolumes:\n  data:\n    driver_opts: {type: tmpfs, device: /dev/shm}\n",
			"volume", "data", "host-path", "driver_opts: type=tmpfs o= device=/dev/shm", "host"},
		{"volume driver plugin", webHead + "    volumes: [\"data:/data\"]\nvolumes:\n  data:\n    driver: rclone\n",
			"volume", "data", "volume-driver", "driver: rclone", "plugin"},
		{"external volume", webHead + "    volumes: [\"data:/data\"]\nvolumes:\n  data:\n    external: true\n    name: stackhub-vault_data\n",
			"volume", "data", "external-volume", "external: stackhub-vault_data", "another app"},
		{"volume with another app's name", webHead + "    volumes: [\"data:/data\"]\nvolumes:\n  data:\n    name: stackhub-vault_data\n",
			"volume", "data", "volume-name", "name: stackhub-vault_data", "another app"},

		// 2. Files of the host read for the app.
		{"secret file absolute", webHead + "    secrets: [s]\nsecrets:\n  s:\n    file: /etc/hostname\n",
			"secret", "s", "host-path", "file: /etc/hostname", "/etc/hostname"},
		{"secret file escapes with ..", webHead + "    secrets: [s]\nsecrets:\n  s:\n    file: ../../../../../../etc/shadow\n",
			"secret", "s", "host-path", "file: /etc/shadow", "outside the app's folder"},
		{"config file absolute", webHead + "    configs: [c]\nconfigs:\n  c:\n    file: /root/.ssh/id_rsa\n",
			"config", "c", "host-path", "file: /root/.ssh/id_rsa", "outside the app's folder"},
		{"config file via data dir ..", webHead + "    configs: [c]\nconfigs:\n  c:\n    file: ${APP_DATA_DIR}/../../other/data/db\n",
			"config", "c", "host-path", "file: /var/lib/stackhub/apps/other/data/db", "outside"},
		{"external secret", webHead + "    secrets: [s]\nsecrets:\n  s:\n    external: true\n",
			"secret", "s", "external-secret", "external: s", "does not own"},
		{"env_file absolute", webHead + "    env_file: /etc/environment\n",
			"", "web", "host-path", "env_file: /etc/environment", "environment file"},
		{"env_file escapes with ..", webHead + "    env_file: [{path: ../../../../../../etc/shadow, required: false}]\n",
			"", "web", "host-path", "env_file: /etc/shadow", "outside the app's folder"},

		// 3. Hook containers get the same rules.
		{"pre_start hook mounts /", webHead + "    pre_start:\n      - image: busybox\n        volumes: [\"/:/host\"]\n",
			"", "web", "host-path", "pre_start[0].volumes: /", "whole file system"},
		{"pre_start hook privileged", webHead + "    pre_start:\n      - image: busybox\n        privileged: true\n",
			"", "web", "privileged", "pre_start[0].privileged", "root"},
		{"second pre_start hook on host network", webHead + "    pre_start:\n      - image: busybox\n      - image: busybox\n        network_mode: host\n",
			"", "web", "host-network", "pre_start[1].network_mode: host", "host's network"},
		{"pre_start hook engine socket", webHead + "    pre_start:\n      - volumes: [\"/var/run/docker.sock:/s\"]\n",
			"", "web", "engine-socket", "pre_start[0].volumes: /var/run/docker.sock", "root"},
		{"pre_start hook cap_add", webHead + "    pre_start:\n      - cap_add: [SYS_ADMIN]\n",
			"", "web", "cap-add", "pre_start[0].cap_add: SYS_ADMIN", "root"},
		{"post_start hook privileged", webHead + "    post_start:\n      - command: id\n        privileged: true\n",
			"", "web", "privileged", "post_start[0].privileged", "root"},
		{"service finding kept when its hook inherits it", webHead + "    network_mode: container:foo\n    pre_start: [{command: id}]\n",
			"", "web", "join-container", "network_mode: container:foo", "outside the app"},
		{"pre_stop hook privileged", webHead + "    pre_stop:\n      - command: id\n        privileged: true\n",
			"", "web", "privileged", "pre_stop[0].privileged", "root"},
		{"job mounts /", "services:\n  web:\n    image: nginx:1.27.0\njobs:\n  backup:\n    image: busybox\n    triggers: {manual: true}\n    volumes: [\"/:/host\"]\n",
			"job", "backup", "host-path", "volumes: /", "whole file system"},

		// 4. Kernel and runtime settings.
		{"device_cgroup_rules", webHead + "    device_cgroup_rules: [\"c 1:3 mr\"]\n",
			"", "web", "device-rules", "device_cgroup_rules: c 1:3 mr", "devices"},
		{"devices", webHead + "    devices: [\"/dev/sda:/dev/sda\"]\n",
			"", "web", "device", "devices: /dev/sda", "/dev/sda"},
		{"seccomp profile file", webHead + "    security_opt: [\"seccomp=/srv/allow-all.json\"]\n",
			"", "web", "security-profile", "security_opt: seccomp=/srv/allow-all.json", "security profile"},
		{"seccomp profile named default (a file)", webHead + "    security_opt: [\"seccomp=default\"]\n",
			"", "web", "security-profile", "security_opt: seccomp=default", "security profile"},
		{"seccomp unconfined", webHead + "    security_opt: [\"seccomp:unconfined\"]\n",
			"", "web", "security-profile", "security_opt: seccomp:unconfined", "turns off"},
		{"apparmor profile", webHead + "    security_opt: [\"apparmor=my-loose-profile\"]\n",
			"", "web", "security-profile", "security_opt: apparmor=my-loose-profile", "security profile"},
		{"label disable", webHead + "    security_opt: [\"label=disable\"]\n",
			"", "web", "security-profile", "security_opt: label=disable", "turns off"},
		{"selinux type", webHead + "    security_opt: [\"label=type:spc_t\"]\n",
			"", "web", "security-profile", "security_opt: label=type:spc_t", "security profile"},
		{"userns_mode host", webHead + "    userns_mode: host\n", "", "web", "host-userns", "userns_mode: host", "user namespace"},
		{"cgroup host", webHead + "    cgroup: host\n", "", "web", "host-cgroup", "cgroup: host", "cgroup"},
		{"cgroup_parent", webHead + "    cgroup_parent: /system.slice\n", "", "web", "cgroup-parent", "cgroup_parent: /system.slice", "cgroup"},
		{"uts host", webHead + "    uts: host\n", "", "web", "host-uts", "uts: host", "host's name"},
		{"runtime", webHead + "    runtime: nvidia\n", "", "web", "runtime", "runtime: nvidia", "runtime"},
		{"gpus", webHead + "    gpus: all\n", "", "web", "gpu", "gpus: gpu", "GPU"},
		{"gpu reservation", webHead + "    deploy:\n      resources:\n        reservations:\n          devices: [{driver: nvidia, capabilities: [gpu]}]\n",
			"", "web", "gpu", "deploy.resources.reservations.devices: gpu", "GPU"},
		{"cap_add SYS_ADMIN", webHead + "    cap_add: [SYS_ADMIN]\n", "", "web", "cap-add", "cap_add: SYS_ADMIN", "root"},
		{"cap_add ALL", webHead + "    cap_add: [ALL]\n", "", "web", "cap-add", "cap_add: ALL", "root"},
		{"privileged", webHead + "    privileged: true\n", "", "web", "privileged", "privileged", "root"},
		{"stackhub label on service", webHead + "    labels: {dev.stackhub.app: vault}\n",
			"", "web", "reserved-label", "labels: dev.stackhub.app", "another app"},
		{"compose label on service", webHead + "    labels: [\"com.docker.compose.project=stackhub-vault\"]\n",
			"", "web", "reserved-label", "labels: com.docker.compose.project", "another app"},
		{"upper-case stackhub label", webHead + "    labels: {Dev.StackHub.Instance: x}\n",
			"", "web", "reserved-label", "labels: Dev.StackHub.Instance", "another app"},
		{"stackhub label on volume", webHead + "    volumes: [\"data:/data\"]\nvolumes:\n  data:\n    labels: {dev.stackhub.instance: x}\n",
			"volume", "data", "reserved-label", "labels: dev.stackhub.instance", "another app"},
		{"compose label on network", webHead + "    networks: [n]\nnetworks:\n  n:\n    labels: {com.docker.compose.network: x}\n",
			"network", "n", "reserved-label", "labels: com.docker.compose.network", "another app"},
		{"stackhub label on build", "services:\n  web:\n    build:\n      context: .\n      labels: {dev.stackhub.app: vault}\n",
			"", "web", "reserved-label", "build.labels: dev.stackhub.app", "another app"},
		{"stackhub label in deploy", webHead + "    deploy:\n      labels: {dev.stackhub.app: vault}\n",
			"", "web", "reserved-label", "deploy.labels: dev.stackhub.app", "another app"},
		{"label_file", webHead + "    label_file: ./labels\n", "", "web", "label-file", "label_file: /var/lib/stackhub/apps/example/source/labels", "labels"},
		{"isolation", webHead + "    isolation: hyperv\n", "", "web", "isolation", "isolation: hyperv", "isolated"},
		{"storage_opt", webHead + "    storage_opt: {dm.basesize: 20G}\n", "", "web", "storage-opt", "storage_opt: dm.basesize", "storage"},
		{"oom_kill_disable", webHead + "    oom_kill_disable: true\n", "", "web", "oom-kill-disable", "oom_kill_disable", "memory"},
		{"oom_score_adj negative", webHead + "    oom_score_adj: -1000\n", "", "web", "oom-priority", "oom_score_adj: -1000", "memory"},
		{"pid host", webHead + "    pid: host\n", "", "web", "host-pid", "pid: host", "process"},
		{"ipc host", webHead + "    ipc: host\n", "", "web", "host-ipc", "ipc: host", "shared memory"},
		{"use_api_socket", webHead + "    use_api_socket: true\n", "", "web", "engine-socket", "use_api_socket", "root"},
		{"annotations", webHead + "    annotations: {run.oci.keep_original_groups: \"1\"}\n", "", "web", "annotations", "annotations: run.oci.keep_original_groups", "runtime"},
		{"syslog log driver", webHead + "    logging: {driver: syslog, options: {syslog-address: \"tcp://127.0.0.1:2019\"}}\n",
			"", "web", "log-driver", "logging.driver: syslog", "host"},
		{"provider", "services:\n  web:\n    provider: {type: awesomecloud, options: {a: b}}\n", "", "web", "provider", "provider", "program on the host"},
		{"build context outside", "services:\n  web:\n    build: ../../../../\n", "", "web", "host-path", "build.context: /var/lib", "outside the app's folder"},
		{"build on host network", "services:\n  web:\n    build: {context: ., network: host}\n", "", "web", "host-network", "build.network: host", "host"},
		{"build under another app's image name", "services:\n  web:\n    image: vaultwarden/server:1.37.1\n    build: .\n",
			"", "web", "image-name", "build with image: vaultwarden/server:1.37.1", "another app"},
		{"build tagged with another app's image name", "services:\n  web:\n    build: {context: ., tags: [\"nginx:1.27.0\"]}\n",
			"", "web", "image-name", "build.tags: nginx:1.27.0", "another app"},
		{"build ssh", "services:\n  web:\n    build: {context: ., ssh: [default]}\n", "", "web", "build-ssh", "build.ssh", "SSH"},

		// 5. Joining another app or container.
		{"network_mode container", webHead + "    network_mode: container:stackhub-vault-web-1\n",
			"", "web", "join-container", "network_mode: container:stackhub-vault-web-1", "outside the app"},
		{"network_mode host", webHead + "    network_mode: host\n", "", "web", "host-network", "network_mode: host", "host's network"},
		{"network_mode other network", webHead + "    network_mode: stackhub-vault_default\n",
			"", "web", "join-network", "network_mode: stackhub-vault_default", "another app"},
		{"network_mode bridge", webHead + "    network_mode: bridge\n", "", "web", "default-bridge", "network_mode: bridge", "other containers"},
		{"pid container", webHead + "    pid: container:stackhub-vault-web-1\n", "", "web", "join-container", "pid: container:stackhub-vault-web-1", "processes"},
		{"ipc container", webHead + "    ipc: container:stackhub-vault-web-1\n", "", "web", "join-container", "ipc: container:stackhub-vault-web-1", "shared memory"},
		{"volumes_from container", webHead + "    volumes_from: [\"container:stackhub-vault-web-1:ro\"]\n",
			"", "web", "join-container", "volumes_from: container:stackhub-vault-web-1:ro", "another app"},
		{"external network", webHead + "    networks: [n]\nnetworks:\n  n:\n    external: true\n    name: stackhub-vault_default\n",
			"network", "n", "external-network", "external: stackhub-vault_default", "another app"},
		{"external network host", webHead + "    networks: [host]\nnetworks:\n  host:\n    external: true\n",
			"network", "host", "external-network", "external: host", "host"},
		{"network with another app's name", webHead + "    networks: [n]\nnetworks:\n  n:\n    name: stackhub-vault_default\n",
			"network", "n", "network-name", "name: stackhub-vault_default", "another app"},
		{"platform network key", webHead + "    networks: [stackhub-platform]\nnetworks:\n  stackhub-platform: {}\n",
			"network", "stackhub-platform", "reserved-network", "stackhub-platform", "proxy"},
		{"macvlan network", webHead + "    networks: [n]\nnetworks:\n  n:\n    driver: macvlan\n",
			"network", "n", "network-driver", "driver: macvlan", "LAN"},
		{"network on a host bridge", webHead + "    networks: [n]\nnetworks:\n  n:\n    driver_opts: {com.docker.network.bridge.name: docker0}\n",
			"network", "n", "network-driver-opts", "driver_opts: com.docker.network.bridge.name", "host bridge"},
		{"fixed subnet", webHead + "    networks: [n]\nnetworks:\n  n:\n    ipam: {config: [{subnet: 192.168.1.0/24}]}\n",
			"network", "n", "network-subnet", "ipam.config", "LAN"},
		{"external_links", webHead + "    external_links: [\"stackhub-vault-web-1:vault\"]\n",
			"", "web", "link", "external_links: stackhub-vault-web-1:vault", "outside the app"},

		// Bind mounts.
		{"bind /", webHead + "    volumes: [\"/:/host\"]\n", "", "web", "host-path", "volumes: /", "whole file system"},
		{"bind escapes with ..", webHead + "    volumes: [\"../../..:/x\"]\n", "", "web", "host-path", "volumes: /var/lib/stackhub", "system folder"},
		{"bind escapes the data folder", webHead + "    volumes: [\"${APP_DATA_DIR}/../../other:/x\"]\n",
			"", "web", "host-path", "volumes: /var/lib/stackhub/apps/other", "system folder"},
		{"bind of the app's folder", webHead + "    volumes: [\"${APP_DATA_DIR}/..:/app\"]\n",
			"", "web", "app-files", "volumes: /var/lib/stackhub/apps/example", "compose file"},
		{"bind of the source folder", webHead + "    volumes: [\"./:/src\"]\n",
			"", "web", "app-files", "volumes: /var/lib/stackhub/apps/example/source", "compose file"},
		{"bind of the source .env", webHead + "    volumes: [\"./.env:/x\"]\n",
			"", "web", "app-files", "volumes: /var/lib/stackhub/apps/example/source/.env", "compose file"},
		{"bind propagation", webHead + "    volumes: [{type: bind, source: ./mnt, target: /mnt, bind: {propagation: rshared}}]\n",
			"", "web", "mount-propagation", "volumes: /mnt propagation rshared", "host"},
		{"docker socket", webHead + "    volumes: [\"/run/docker.sock:/var/run/docker.sock\"]\n", "", "web", "engine-socket", "volumes: /run/docker.sock", "root"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			hz, err := Hazards([]byte(tc.compose))
			if err != nil {
				t.Fatal(err)
			}
			for _, h := range hz {
				if h.Kind == tc.kind && h.Service == tc.object && h.Name == tc.hazard && h.Setting == tc.setting {
					if !strings.Contains(h.Reason, tc.reason) {
						t.Errorf("reason %q does not say %q", h.Reason, tc.reason)
					}
					if s := h.String(); !strings.Contains(s, tc.object) || !strings.Contains(s, tc.setting) || !strings.Contains(s, "["+tc.hazard+"]") {
						t.Errorf("String() = %q", s)
					}
					return
				}
			}
			t.Errorf("no %s %q: %s [%s] among %v", tc.kind, tc.object, tc.setting, tc.hazard, hz)
		})
	}
}

// TestHazardFreeVariants holds what the check must let through: the safe
// variants of each class.
func TestHazardFreeVariants(t *testing.T) {
	for name, compose := range map[string]string{
		"tmpfs volume":         webHead + "    volumes: [\"data:/data\"]\nvolumes:\n  data:\n    driver_opts: {type: tmpfs, device: tmpfs, o: \"size=100m,uid=1000\"}\n",
		"local named volume":   webHead + "    volumes: [\"data:/data\"]\nvolumes:\n  data:\n    driver: local\n",
		"secret in app folder": webHead + "    secrets: [s, e]\nsecrets:\n  s:\n    file: ./secret.txt\n  e:\n    environment: APP_ID\n",
		"config in data":       webHead + "    configs: [c]\nconfigs:\n  c:\n    file: ${APP_DATA_DIR}/c.conf\n",
		"env_file in folder":   webHead + "    env_file: [./app.env, {path: \"${APP_DATA_DIR}/x.env\", required: false}]\n",
		"own namespaces": "services:\n  web:\n    image: nginx:1.27.0\n    network_mode: service:vpn\n    pid: service:vpn\n    ipc: service:vpn\n" +
			"  vpn:\n    image: gluetun:1\n    ipc: shareable\n    network_mode: none\n    cgroup: private\n",
		"own links and volumes_from": "services:\n  web:\n    image: nginx:1.27.0\n    links: [\"db:database\"]\n    volumes_from: [\"db:ro\"]\n  db:\n    image: postgres:16\n",
		"no-new-privileges":          webHead + "    security_opt: [\"no-new-privileges:true\", \"no-new-privileges\"]\n",
		"default capabilities":       webHead + "    cap_add: [CHOWN, SETUID, NET_BIND_SERVICE]\n    cap_drop: [ALL]\n",
		"container limits": webHead + "    sysctls: {net.core.somaxconn: 1024}\n    ulimits: {nofile: 65535}\n    mem_limit: 1g\n    cpus: 0.5\n    read_only: true\n" +
			"    tmpfs: [/tmp]\n    healthcheck: {test: [CMD, \"true\"]}\n    logging: {driver: json-file, options: {max-size: 10m}}\n    runtime: runc\n    labels: {org.example.x: y}\n",
		"own network":         webHead + "    networks: {n: {aliases: [www], ipv4_address: 172.30.0.5}}\nnetworks:\n  n:\n    internal: true\n    driver: bridge\n    driver_opts: {com.docker.network.driver.mtu: \"1400\"}\n",
		"build in app folder": "services:\n  web:\n    build: {context: ., dockerfile: Dockerfile, args: {A: b}}\n",
		"extensions":          webHead + "    x-casaos: {a: b}\nx-common: &c {a: b}\n",
		"hook commands":       webHead + "    post_start: [{command: id, user: root}]\n    pre_stop: [{command: [sh, -c, exit]}]\n    pre_start: [{command: [sh, -c, \"chown 1000 /data\"], volumes: [\"${APP_DATA_DIR}:/data\"]}]\n",
	} {
		t.Run(name, func(t *testing.T) {
			hz, err := Hazards([]byte(compose))
			if err != nil {
				t.Fatal(err)
			}
			if len(hz) > 0 {
				t.Errorf("hazards: %v", hz)
			}
		})
	}
}

// futureService is a ServiceConfig with a setting compose-go does not have
// yet, as a newer compose-go could add one.
type futureService struct {
	types.ServiceConfig `yaml:",inline"`
	Teleport            string `yaml:"teleport,omitempty"`
}

// An unknown setting is a hazard: the allow-list flags any set field that
// is not in its table, whatever compose-go adds.
func TestHazardUnknownSetting(t *testing.T) {
	c := &checker{p: &types.Project{Name: "stackhub-app"}, appDir: exampleAppDir, workDir: exampleSourceDir, seen: map[string]bool{}}
	svc := types.ServiceConfig{Name: "web", ContainerSpec: types.ContainerSpec{Image: "nginx:1.27.0"}}
	c.container(place{kind: "service", name: "web"}, reflect.ValueOf(futureService{ServiceConfig: svc, Teleport: "/"}), serviceFields)
	if len(c.hz) != 1 || c.hz[0].Name != "unknown-setting" || c.hz[0].Setting != "teleport" || c.hz[0].Service != "web" ||
		!strings.Contains(c.hz[0].Reason, "does not know") {
		t.Fatalf("hazards = %v", c.hz)
	}
	// The same for a real field missing from the table (as if the check
	// had never heard of stop_signal), in a hook too.
	saved := preStartFields["stop_signal"]
	delete(preStartFields, "stop_signal")
	t.Cleanup(func() { preStartFields["stop_signal"] = saved })
	hz, err := Hazards([]byte(webHead + "    pre_start: [{command: id, stop_signal: SIGTERM}]\n"))
	if err != nil {
		t.Fatal(err)
	}
	if len(hz) != 1 || hz[0].Name != "unknown-setting" || hz[0].Setting != "pre_start[0].stop_signal" {
		t.Fatalf("hazards = %v", hz)
	}
}

// Every field of the compose-go structs the check walks is in a table:
// when compose-go grows a field, this test names it, so it gets a rule
// (until then installs that use it are flagged).
func TestHazardTablesCoverComposeGo(t *testing.T) {
	for _, tc := range []struct {
		typ reflect.Type
		t   fields
	}{
		{reflect.TypeOf(types.Project{}), projectFields},
		{reflect.TypeOf(types.ServiceConfig{}), serviceFields},
		{reflect.TypeOf(types.JobConfig{}), jobFields},
		{reflect.TypeOf(types.PreStartHook{}), preStartFields},
		{reflect.TypeOf(types.ServiceHook{}), hookFields},
		{reflect.TypeOf(types.VolumeConfig{}), volumeFields},
		{reflect.TypeOf(types.NetworkConfig{}), networkFields},
		{reflect.TypeOf(types.FileObjectConfig{}), merge(fileObjectFields, fields{"driver": safe, "driver_opts": safe, "template_driver": safe})},
		{reflect.TypeOf(types.BuildConfig{}), buildFields},
		{reflect.TypeOf(types.ServiceVolumeConfig{}), serviceVolumeFields},
		{reflect.TypeOf(types.ServiceNetworkConfig{}), serviceNetworkFields},
		{reflect.TypeOf(types.DeployConfig{}), deployFields},
		{reflect.TypeOf(types.Resource{}), resourceFields},
	} {
		for _, k := range structKeys(tc.typ) {
			if _, ok := tc.t[k]; !ok {
				t.Errorf("%s: field %q has no rule", tc.typ.Name(), k)
			}
		}
	}
}

func structKeys(typ reflect.Type) []string {
	var keys []string
	for i := 0; i < typ.NumField(); i++ {
		f := typ.Field(i)
		if !f.IsExported() {
			continue
		}
		k, inline := fieldKey(f)
		if inline {
			keys = append(keys, structKeys(f.Type)...)
			continue
		}
		keys = append(keys, k)
	}
	return keys
}

// ${X} cannot hide a path: the check runs on the interpolated project, with
// the install's values (here a field's default).
func TestHazardsAfterInterpolation(t *testing.T) {
	compose := `x-stackhub:
  name: Sneaky
  main: {service: web, port: 80}
  fields:
    - {key: WHERE, label: Where, default: /}
services:
  web:
    image: nginx:1.27.0
    volumes: ["data:/data", "${WHERE}:/host"]
    env_file: ["${WHERE}etc/shadow"]
volumes:
  data:
    driver_opts: {type: none, o: bind, device: "${WHERE}"}
`
	hz, err := Hazards([]byte(compose))
	if err != nil {
		t.Fatal(err)
	}
	got := map[string]bool{}
	for _, h := range hz {
		got[h.Setting] = true
	}
	for _, w := range []string{"volumes: /", "env_file: /etc/shadow", "driver_opts: type=none o=bind device=/"} {
		if !got[w] {
			t.Errorf("%q not flagged: %v", w, hz)
		}
	}
	// With the install's value as appctl loads it.
	app, err := parseNative([]byte(compose), "sneaky")
	if err != nil {
		t.Fatal(err)
	}
	env := ExampleEnv(app)
	env["WHERE"] = "/srv/"
	p, err := LoadProject(context.Background(), app, env)
	if err != nil {
		t.Fatal(err)
	}
	got = map[string]bool{}
	for _, h := range ProjectHazards(p, exampleAppDir) {
		got[h.Setting] = true
	}
	if !got["volumes: /srv"] || !got["env_file: /srv/etc/shadow"] {
		t.Errorf("with WHERE=/srv/: %v", got)
	}
}

// A check that panics (a rule meeting a value it did not expect) reports a
// hazard instead of passing the app or taking the catalog down.
func TestHazardCheckFailureIsAHazard(t *testing.T) {
	saved := serviceFields["image"]
	serviceFields["image"] = func(*checker, place, string, reflect.Value) { panic("unexpected value") }
	t.Cleanup(func() { serviceFields["image"] = saved })
	hz, err := Hazards([]byte(webHead))
	if err != nil {
		t.Fatal(err)
	}
	if len(hz) != 1 || hz[0].Name != "check-failed" || !strings.Contains(hz[0].Reason, "unexpected value") {
		t.Fatalf("hazards = %v", hz)
	}
}
