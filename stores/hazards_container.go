package stores

import (
	"fmt"
	"reflect"
	"strings"

	"github.com/compose-spec/compose-go/v2/types"
)

// The rules of the container settings: services, jobs and pre_start hooks
// share them (types.ContainerSpec); services and jobs add the workload
// settings (types.WorkloadSpec). Settings that only shape the container
// itself (its command, environment, limits, health check …) are safe;
// settings that reach the host, another container or StackHub are checked
// or flagged.

var containerFields = fields{
	"annotations":         flag("annotations", "passed to the container runtime, which may act on them outside the container"),
	"blkio_config":        safe,
	"cap_add":             capAdd,
	"cap_drop":            safe,
	"cgroup_parent":       flag("cgroup-parent", "runs in a cgroup of the host of its choice, outside the limits Docker sets"),
	"cgroup":              namespace,
	"cpu_count":           safe,
	"cpu_percent":         safe,
	"cpu_period":          safe,
	"cpu_quota":           safe,
	"cpu_rt_period":       safe,
	"cpu_rt_runtime":      safe,
	"cpus":                safe,
	"cpuset":              safe,
	"cpu_shares":          safe,
	"command":             safe,
	"configs":             safe, // references to top-level configs, checked there
	"credential_spec":     flag("credential-spec", "reads Windows credentials of the host"),
	"device_cgroup_rules": flag("device-rules", "lets the container use host devices (disks, terminals …) it creates or is given"),
	"devices":             devices,
	"dns":                 safe,
	"dns_opt":             safe,
	"dns_search":          safe,
	"domainname":          safe,
	"entrypoint":          safe,
	"environment":         safe,
	"env_file":            envFiles,
	"extra_hosts":         safe,
	"group_add":           safe,
	"gpus":                deviceRequests,
	"hostname":            safe,
	"image":               safe,
	"init":                safe,
	"ipc":                 namespace,
	"isolation":           isolation,
	"labels":              labels,
	"label_file":          flag("label-file", "reads labels from a file at install; labels steer StackHub and Docker Compose, and these cannot be checked beforehand"),
	"-CustomLabels":       safe, // set by the loader (the compose labels), not by the file
	"logging":             logging,
	"log_driver":          logDriver,
	"log_opt":             safe, // options of log_driver, which is checked
	"mem_limit":           safe,
	"mem_reservation":     safe,
	"memswap_limit":       safe,
	"mem_swappiness":      safe,
	"mac_address":         safe,
	"models":              flag("model", "runs an AI model on the host through Docker's model runner"),
	"network_mode":        namespace,
	"networks":            serviceNetworkRefs,
	"oom_kill_disable":    flag("oom-kill-disable", "the kernel may not stop it when memory runs out: it can make the host kill other programs instead"),
	"oom_score_adj":       oomScore,
	"pid":                 namespace,
	"pids_limit":          safe,
	"platform":            safe,
	"privileged":          flag("privileged", "full access to the host's devices and kernel: equivalent to root on the host"),
	"pull_policy":         safe,
	"pull_refresh_after":  safe,
	"read_only":           safe,
	"runtime":             runtime,
	"secrets":             safe, // references to top-level secrets, checked there
	"security_opt":        securityOpts,
	"shm_size":            safe,
	"stop_grace_period":   safe,
	"stop_signal":         safe,
	"storage_opt":         storageOpts,
	// Docker accepts only sysctls of the container's own namespaces (net.*
	// of its own network, kernel.shm* of its own IPC …); sharing the host's
	// namespaces is flagged by network_mode, ipc …
	"sysctls":        safe,
	"tmpfs":          safe,
	"ulimits":        safe, // resource limits of the container's processes
	"umask":          safe,
	"use_api_socket": flag("engine-socket", "gives the container the container engine's API socket: full control of the host (root)"),
	"user":           safe,
	"userns_mode":    namespace,
	"uts":            namespace,
	"volume_driver":  volumeDriver,
	"volumes":        serviceVolumes,
	"volumes_from":   volumesFrom,
	"working_dir":    safe,
}

var workloadFields = fields{
	"build":       nested(buildFields),
	"depends_on":  safe,
	"dockerfile":  flag("build", "builds an image on the host from a Dockerfile"),
	"expose":      safe,
	"healthcheck": safe,
	"ports":       safe, // listed with the app and bound to 127.0.0.1 unless the admin publishes them
	"stdin_open":  safe,
	"tty":         safe,
}

var serviceFields = merge(containerFields, workloadFields, fields{
	"name":           safe,
	"profiles":       safe,
	"deploy":         nested(deployFields),
	"develop":        safe, // only `docker compose watch` reads it; StackHub never runs it
	"restart":        safe,
	"scale":          safe,
	"attach":         safe,
	"container_name": safe,
	"provider":       flag("provider", "runs a program on the host (a Compose provider plugin) instead of a container"),
	"extends":        extends,
	"external_links": flag("link", "links to containers outside the app (another app's, or the host's)"),
	"links":          links,
	"net":            namespace,
	"pre_start":      hooks(preStartFields),
	"post_start":     hooks(hookFields),
	"pre_stop":       hooks(hookFields),
	"post_stop":      hooks(hookFields),
	"#extensions":    safe,
})

var jobFields = merge(containerFields, workloadFields, fields{
	"name":        safe,
	"profiles":    safe,
	"triggers":    safe,
	"#extensions": safe,
})

// A pre_start hook is a container of its own (it inherits its service's
// settings when loaded); post_start and pre_stop hooks run a command in the
// service's container.
var preStartFields = merge(containerFields, fields{
	"per_replica": safe,
	"#extensions": safe,
})

var hookFields = fields{
	"command":     safe,
	"user":        safe,
	"privileged":  flag("privileged", "runs a command with full access to the host's devices and kernel: equivalent to root on the host"),
	"working_dir": safe,
	"environment": safe,
	"#extensions": safe,
}

// container checks one service or job, then its hooks: a pre_start hook
// inherits its service's settings, and what it inherits is reported once,
// on the service.
func (c *checker) container(at place, v reflect.Value, t fields) {
	c.hooks = nil
	c.walk(at, v, t)
	c.builtImageName(at, v)
	for _, h := range c.hooks {
		h()
	}
	c.hooks = nil
}

// hooks walks a list of hooks, each with the rules t, after the service.
func hooks(t fields) rule {
	return func(c *checker, at place, key string, v reflect.Value) {
		for i := 0; i < v.Len(); i++ {
			hat, hv := at.sub(fmt.Sprintf("%s[%d].", key, i)), v.Index(i)
			c.hooks = append(c.hooks, func() { c.walk(hat, hv, t) })
		}
	}
}

// Capabilities Docker gives every container: adding one changes nothing.
var defaultCaps = map[string]bool{
	"CHOWN": true, "DAC_OVERRIDE": true, "FSETID": true, "FOWNER": true, "MKNOD": true,
	"NET_RAW": true, "SETGID": true, "SETUID": true, "SETFCAP": true, "SETPCAP": true,
	"NET_BIND_SERVICE": true, "SYS_CHROOT": true, "KILL": true, "AUDIT_WRITE": true,
}

func capAdd(c *checker, at place, key string, v reflect.Value) {
	for _, cp := range v.Interface().([]string) {
		name := strings.TrimPrefix(strings.ToUpper(strings.TrimSpace(cp)), "CAP_")
		if defaultCaps[name] {
			continue
		}
		reason := "extra kernel privileges beyond a normal container's"
		if name == "ALL" || name == "SYS_ADMIN" || name == "SYS_MODULE" || name == "SYS_RAWIO" || name == "SYS_PTRACE" || name == "DAC_READ_SEARCH" {
			reason = "kernel privileges close to root on the host"
		}
		c.add(at, "cap-add", key+": "+cp, reason)
	}
}

func devices(c *checker, at place, key string, v reflect.Value) {
	for _, d := range v.Interface().([]types.DeviceMapping) {
		c.add(at, "device", key+": "+d.Source, "direct access to the host device "+d.Source)
	}
}

func envFiles(c *checker, at place, key string, v reflect.Value) {
	for _, f := range v.Interface().([]types.EnvFile) {
		c.hostFile(at, key, f.Path, "an environment file")
	}
}

// namespace checks the settings that choose a container's namespaces:
// network_mode (and its old name net), pid, ipc, uts, userns_mode, cgroup.
// Sharing the host's is a hazard; sharing another container's is one too,
// unless that container is a service of the same app ("service:NAME").
func namespace(c *checker, at place, key string, v reflect.Value) {
	val := v.String()
	setting := key + ": " + val
	what := map[string]string{
		"network_mode": "network", "net": "network", "pid": "processes", "ipc": "shared memory",
		"uts": "host name", "userns_mode": "user namespace", "cgroup": "cgroup namespace",
	}[key]
	if val == "host" {
		reasons := map[string]string{
			"network":          "shares the host's network: its ports are open to the LAN, it sees all host traffic and reaches services that listen on the host's loopback",
			"processes":        "sees and can signal every process of the host",
			"shared memory":    "shares the host's shared memory and IPC",
			"host name":        "can change the host's name",
			"user namespace":   "runs without user namespace isolation",
			"cgroup namespace": "shares the host's cgroup namespace",
		}
		name := map[string]string{"network": "host-network", "processes": "host-pid", "shared memory": "host-ipc",
			"host name": "host-uts", "user namespace": "host-userns", "cgroup namespace": "host-cgroup"}[what]
		c.add(at, name, setting, reasons[what])
		return
	}
	if svc, ok := strings.CutPrefix(val, "service:"); ok {
		if _, own := c.p.Services[svc]; own {
			return
		}
		c.add(at, "join-container", setting, "shares the "+what+" of "+svc+", which is not a service of this app")
		return
	}
	if ctr, ok := strings.CutPrefix(val, "container:"); ok {
		c.add(at, "join-container", setting, "shares the "+what+" of the container "+ctr+", outside the app (another app's, or the host's)")
		return
	}
	switch key {
	case "network_mode", "net":
		switch val {
		case "none":
			return
		case "bridge", "default":
			c.add(at, "default-bridge", setting, "joins Docker's default bridge network, shared with the host's other containers")
			return
		}
		c.add(at, "join-network", setting, "joins the Docker network "+val+", which is not the app's own (another app's, say)")
		return
	case "ipc":
		if val == "none" || val == "private" || val == "shareable" {
			return
		}
	case "cgroup":
		if val == "private" {
			return
		}
	}
	c.add(at, "unknown-value", setting, "a value StackHub does not know for "+key+", so it cannot tell which "+what+" the container gets")
}

func isolation(c *checker, at place, key string, v reflect.Value) {
	if v.String() != "default" {
		c.add(at, "isolation", key+": "+v.String(), "changes how the container is isolated from the host")
	}
}

func runtime(c *checker, at place, key string, v reflect.Value) {
	if v.String() != "runc" {
		c.add(at, "runtime", key+": "+v.String(), "runs the container with another runtime of the host, whose isolation StackHub cannot vouch for")
	}
}

func volumeDriver(c *checker, at place, key string, v reflect.Value) {
	if v.String() != "local" {
		c.add(at, "volume-driver", key+": "+v.String(), "stores its volumes with a plugin of the host that may mount anything")
	}
}

func oomScore(c *checker, at place, key string, v reflect.Value) {
	if v.Int() < 0 {
		c.add(at, "oom-priority", fmt.Sprintf("%s: %d", key, v.Int()), "when memory runs out, the host's other programs are stopped before it")
	}
}

func storageOpts(c *checker, at place, key string, v reflect.Value) {
	for k := range v.Interface().(map[string]string) {
		if k != "size" {
			c.add(at, "storage-opt", key+": "+k, "a storage driver option StackHub does not know")
		}
	}
}

// securityOpts allows only no-new-privileges and the default profiles: any
// other seccomp, AppArmor or SELinux setting loosens (or, for a profile
// file, chooses) the container's confinement; a seccomp profile file is
// also read from the host at install.
func securityOpts(c *checker, at place, key string, v reflect.Value) {
	for _, so := range v.Interface().([]string) {
		l := strings.ToLower(strings.TrimSpace(so))
		switch strings.NewReplacer("=", ":").Replace(l) {
		case "no-new-privileges", "no-new-privileges:true", "no-new-privileges:false",
			"apparmor:docker-default", "seccomp:builtin":
			continue
		}
		reason := "changes the kernel security profile that confines the container"
		if strings.Contains(l, "unconfined") || strings.Contains(l, "disable") {
			reason = "turns off a kernel security profile that confines the container"
		}
		c.add(at, "security-profile", key+": "+so, reason)
	}
}

// Log drivers that write the app's logs on the host in Docker's own files
// or the journal; others make the engine send them elsewhere, from the
// host, to an address the app chooses.
var safeLogDrivers = map[string]bool{"": true, "json-file": true, "local": true, "none": true, "journald": true}

func logging(c *checker, at place, key string, v reflect.Value) {
	lc := v.Interface().(*types.LoggingConfig)
	logDriver(c, at, key+".driver", reflect.ValueOf(lc.Driver))
}

func logDriver(c *checker, at place, key string, v reflect.Value) {
	if !safeLogDrivers[v.String()] {
		c.add(at, "log-driver", key+": "+v.String(), "the engine sends the app's logs from the host to where the app chooses (it can reach the host's own services)")
	}
}

func extends(c *checker, at place, key string, v reflect.Value) {
	// The loader merges the extended service in; what it brought is
	// checked with the rest. Only a file outside the app's folder is a
	// hazard (it is read at install).
	if e := v.Interface().(*types.ExtendsConfig); e != nil && e.File != "" {
		c.hostFile(at, key+".file", e.File, "a compose file")
	}
}

// links to services of the app are fine; others name outside containers.
func links(c *checker, at place, key string, v reflect.Value) {
	for _, l := range v.Interface().([]string) {
		svc, _, _ := strings.Cut(l, ":")
		if _, ok := c.p.Services[svc]; !ok {
			c.add(at, "link", key+": "+l, "links to "+svc+", a container outside the app (another app's, or the host's)")
		}
	}
}

// volumesFrom: "svc[:mode]", "service:svc[:mode]" of the app are fine;
// "container:name[:mode]" takes another container's volumes.
func volumesFrom(c *checker, at place, key string, v reflect.Value) {
	for _, vf := range v.Interface().([]string) {
		ref := strings.TrimPrefix(vf, "service:")
		name, _, _ := strings.Cut(ref, ":")
		if _, ok := c.p.Services[name]; ok && !strings.HasPrefix(vf, "container:") {
			continue
		}
		c.add(at, "join-container", key+": "+vf, "mounts the volumes of a container outside the app (another app's data, or the host's)")
	}
}

func serviceNetworkRefs(c *checker, at place, key string, v reflect.Value) {
	nets := v.Interface().(map[string]*types.ServiceNetworkConfig)
	for _, name := range sortedKeys(nets) {
		if nets[name] != nil {
			c.walk(at.sub(key+"."+name+"."), reflect.ValueOf(nets[name]), serviceNetworkFields)
		}
	}
}

var serviceNetworkFields = fields{
	"aliases":                safe,
	"driver_opts":            flag("network-driver-opts", "options for the network driver of the host, which StackHub does not know"),
	"gw_priority":            safe,
	"interface_name":         safe,
	"ipv4_address":           safe,
	"ipv6_address":           safe,
	"link_local_ips":         safe,
	"mac_address":            safe,
	"priority":               safe,
	"use_service_name_alias": safe,
	"#extensions":            safe,
}

func serviceVolumes(c *checker, at place, key string, v reflect.Value) {
	for i, vol := range v.Interface().([]types.ServiceVolumeConfig) {
		switch vol.Type {
		case types.VolumeTypeBind:
			if name, reason := c.bindHazard(vol.Source, vol.ReadOnly); name != "" {
				c.add(at, name, key+": "+c.resolve(vol.Source), reason)
			}
		case types.VolumeTypeVolume, types.VolumeTypeTmpfs, types.VolumeTypeImage:
			// Named volumes are checked where they are declared.
		default:
			c.add(at, "volume-type", key+": "+vol.Type+" "+vol.Source, "a kind of mount StackHub does not check")
		}
		if vol.Bind != nil {
			switch vol.Bind.Propagation {
			case "", types.PropagationPrivate, types.PropagationRPrivate:
			default:
				c.add(at, "mount-propagation", key+": "+vol.Target+" propagation "+vol.Bind.Propagation, "mounts made inside the container appear on the host (or the other way round)")
			}
		}
		c.walk(at.sub(fmt.Sprintf("%s[%d].", key, i)), reflect.ValueOf(vol), serviceVolumeFields)
	}
}

var serviceVolumeFields = fields{
	"type":        handled,
	"source":      handled,
	"target":      safe,
	"read_only":   safe,
	"consistency": safe,
	"bind": nested(fields{
		"selinux":          safe, // relabels the source, which must be the app's own
		"propagation":      handled,
		"create_host_path": safe,
		"recursive":        safe,
		"#extensions":      safe,
	}),
	"volume": nested(fields{
		"labels":      labels,
		"nocopy":      safe,
		"subpath":     safe, // the engine keeps it inside the volume
		"#extensions": safe,
	}),
	"tmpfs":       nested(fields{"size": safe, "mode": safe, "#extensions": safe}),
	"image":       nested(fields{"subpath": safe, "#extensions": safe}),
	"#extensions": safe,
}

var deployFields = fields{
	"mode":            safe,
	"replicas":        safe,
	"labels":          labels,
	"update_config":   safe,
	"rollback_config": safe,
	"resources": nested(fields{
		"limits":       nested(resourceFields),
		"reservations": nested(resourceFields),
		"#extensions":  safe,
	}),
	"restart_policy": safe,
	"placement":      safe,
	"endpoint_mode":  safe,
	"#extensions":    safe,
}

var resourceFields = fields{
	"cpus":              safe,
	"memory":            safe,
	"pids":              safe,
	"devices":           deviceRequests,
	"generic_resources": safe,
	"#extensions":       safe,
}

// deviceRequests flags GPU (and other device) requests, by capability.
func deviceRequests(c *checker, at place, key string, v reflect.Value) {
	for _, d := range v.Interface().([]types.DeviceRequest) {
		what := strings.Join(d.Capabilities, ",")
		if what == "" {
			what = d.Driver
		}
		if what == "" {
			what = "gpu"
		}
		c.add(at, "gpu", key+": "+what, "direct access to host devices (GPUs)")
	}
}

// builtImageName flags a build whose image takes a name of its choice.
// Image names are shared by every app on the host: a build tagged
// "vaultwarden/server:1.37.1" would replace the image another app runs.
// Without image: (and tags), Compose names the built image after the
// app's project, which is the app's own.
func (c *checker) builtImageName(at place, v reflect.Value) {
	for v.Kind() == reflect.Pointer {
		v = v.Elem()
	}
	build, ok := v.FieldByName("Build").Interface().(*types.BuildConfig)
	if !ok || build == nil {
		return
	}
	if image := v.FieldByName("Image").String(); image != "" {
		c.add(at, "image-name", "build with image: "+image, "builds an image under the name "+image+", which every app on the host shares: it could replace the image another app runs")
	}
	for _, tag := range build.Tags {
		c.add(at, "image-name", "build.tags: "+tag, "tags the built image "+tag+", a name every app on the host shares: it could replace the image another app runs")
	}
}
