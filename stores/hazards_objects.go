package stores

import (
	"reflect"
	"strings"

	"github.com/compose-spec/compose-go/v2/types"
)

// The rules of the project's top level and of its volumes, networks,
// secrets, configs and image builds.

// ReservedNetworkKey is the key under which StackHub adds its own network
// to an app's project (appctl's rewrite); an app may not declare it.
const ReservedNetworkKey = "stackhub-platform"

// Label prefixes StackHub and Docker Compose use to know whose a
// container, network or volume is.
var reservedLabelPrefixes = []string{"dev.stackhub.", "com.docker.compose.", "com.docker.stack."}

var projectFields = fields{
	"name":              safe,
	"-WorkingDir":       safe,
	"services":          handled,
	"jobs":              handled,
	"networks":          handled,
	"volumes":           handled,
	"secrets":           handled,
	"configs":           handled,
	"models":            flag("model", "runs an AI model on the host through Docker's model runner"),
	"#extensions":       safe, // inert: the Compose SDK reads no x- extension
	"-ComposeFiles":     safe,
	"-Environment":      safe,
	"-DisabledServices": safe, // in a profile StackHub does not enable: never run
	"-DisabledJobs":     safe,
	"-Profiles":         safe,
}

// labels flags labels that imitate StackHub's or Docker Compose's.
func labels(c *checker, at place, key string, v reflect.Value) {
	for _, k := range v.MapKeys() {
		l := strings.ToLower(k.String())
		for _, prefix := range reservedLabelPrefixes {
			if strings.HasPrefix(l, prefix) {
				c.add(at, "reserved-label", key+": "+k.String(), "imitates the labels StackHub and Docker Compose use to know whose a container, network or volume is: it could pass as another app's or escape clean-up")
				break
			}
		}
	}
}

// volume checks a named volume: StackHub allows local volumes under the
// app's own name, and tmpfs options; anything that mounts something else
// (a host folder, a disk, a network share) or names another volume is a
// hazard.
func (c *checker) volume(key string, v types.VolumeConfig) {
	at := place{kind: "volume", name: key}
	if v.External {
		c.add(at, "external-volume", "external: "+v.Name, "uses the existing volume "+v.Name+", which the app does not own (another app's data, say)")
	} else if v.Name != c.p.Name+"_"+key {
		c.add(at, "volume-name", "name: "+v.Name, "uses the fixed volume name "+v.Name+" instead of one of its own: it may be another app's data")
	}
	if v.Driver != "" && v.Driver != "local" {
		c.add(at, "volume-driver", "driver: "+v.Driver, "stores the volume with a plugin of the host that may mount anything")
	}
	c.volumeDriverOpts(at, v.DriverOpts)
	c.walk(at, reflect.ValueOf(v), volumeFields)
}

var volumeFields = fields{
	"name":          handled,
	"driver":        handled,
	"driver_opts":   handled,
	"external":      handled,
	"labels":        labels,
	"-CustomLabels": safe,
	"#extensions":   safe,
}

// volumeDriverOpts allows the options of a tmpfs volume (memory, not a
// host path); any other option set mounts what it names, as root on the
// host: a host folder (type none, o bind, device /), a disk, a share.
func (c *checker) volumeDriverOpts(at place, opts map[string]string) {
	if len(opts) == 0 {
		return
	}
	typ, dev, o := opts["type"], opts["device"], opts["o"]
	tmpfs := typ == "tmpfs" && (dev == "" || dev == "tmpfs") && !strings.Contains(o, "bind")
	for k := range opts {
		switch k {
		case "type", "device", "o":
		default:
			tmpfs = false
		}
	}
	if tmpfs {
		return
	}
	setting := "driver_opts: type=" + typ + " o=" + o + " device=" + dev
	hostPath := strings.HasPrefix(dev, "/") && !strings.HasPrefix(dev, "//") // "//server/share" is CIFS
	if strings.Contains(o, "bind") || hostPath || typ == "none" {
		c.add(at, "host-path", setting, "mounts "+dev+" from the host into the app's volume: the app reads and writes the host's files")
		return
	}
	c.add(at, "volume-mount", setting, "mounts a disk or network share of its choice, as root on the host")
}

// network checks a top-level network: the app's own bridge networks are
// fine; external ones, fixed names and other drivers reach beyond the app.
func (c *checker) network(key string, n types.NetworkConfig) {
	at := place{kind: "network", name: key}
	if key == ReservedNetworkKey {
		c.add(at, "reserved-network", key, "StackHub's own network key: a service on it could reach the proxy's network")
	}
	if n.External {
		c.add(at, "external-network", "external: "+n.Name, "joins the existing network "+n.Name+", which the app does not own (another app's, or the host's)")
	} else if n.Name != c.p.Name+"_"+key {
		c.add(at, "network-name", "name: "+n.Name, "uses the fixed network name "+n.Name+" instead of one of its own: it may be another app's network")
	}
	if n.Driver != "" && n.Driver != "bridge" {
		c.add(at, "network-driver", "driver: "+n.Driver, "a network driver other than bridge ("+n.Driver+") can put the app on the host's LAN or network directly")
	}
	for k := range n.DriverOpts {
		if k != "com.docker.network.driver.mtu" {
			c.add(at, "network-driver-opts", "driver_opts: "+k, "an option of the host's network driver that StackHub does not know (it may name a host bridge or change how ports are published)")
		}
	}
	if n.Ipam.Driver != "" && n.Ipam.Driver != "default" {
		c.add(at, "network-driver", "ipam.driver: "+n.Ipam.Driver, "addresses the network with a plugin of the host")
	}
	if len(n.Ipam.Config) > 0 || len(n.Ipam.Options) > 0 {
		c.add(at, "network-subnet", "ipam.config", "chooses its own subnet, which can shadow the LAN's addresses on the host and capture traffic meant for them")
	}
	c.walk(at, reflect.ValueOf(n), networkFields)
}

var networkFields = fields{
	"name":          handled,
	"driver":        handled,
	"driver_opts":   handled,
	"ipam":          nested(fields{"driver": handled, "config": handled, "options": handled, "#extensions": safe}),
	"external":      handled,
	"internal":      safe,
	"attachable":    safe,
	"labels":        labels,
	"-CustomLabels": safe,
	"enable_ipv4":   safe,
	"enable_ipv6":   safe,
	"#extensions":   safe,
}

// fileObject checks a secret or config: its content comes from the app's
// folder, a variable or the file itself; a file elsewhere on the host, or
// an external one, is a hazard.
func (c *checker) fileObject(at place, f types.FileObjectConfig) {
	c.hostFile(at, "file", f.File, "a "+at.kind+" file")
	if f.External {
		c.add(at, "external-"+at.kind, "external: "+f.Name, "uses the existing "+at.kind+" "+f.Name+", which the app does not own")
	}
	c.walk(at, reflect.ValueOf(f), fileObjectFields)
}

var fileObjectFields = fields{
	"name":        safe,
	"file":        handled,
	"environment": safe, // a variable of the install, never the host's
	"content":     safe,
	"external":    handled,
	"labels":      labels,
	// driver, driver_opts and template_driver are Swarm's: not in the
	// table, so flagged.
	"#extensions": safe,
}

// buildFields allow a build from the app's own files; the build must not
// read host files, use the host's network or SSH agent, or run privileged.
var buildFields = fields{
	"context":             buildPath,
	"dockerfile":          buildPath,
	"dockerfile_inline":   safe,
	"entitlements":        flag("build-privileges", "the build runs with extra privileges on the host (host network, insecure mode)"),
	"args":                safe,
	"provenance":          safe,
	"sbom":                safe,
	"ssh":                 flag("build-ssh", "the build uses the host's SSH agent or keys"),
	"labels":              labels,
	"cache_from":          buildCache,
	"cache_to":            buildCache,
	"no_cache":            safe,
	"no_cache_filter":     safe,
	"additional_contexts": buildContexts,
	"pull":                safe,
	"extra_hosts":         safe,
	"isolation":           isolation,
	"network":             buildNetwork,
	"target":              safe,
	"secrets":             safe, // references to top-level secrets, checked there
	"shm_size":            safe,
	"tags":                handled, // builtImageName
	"ulimits":             safe,
	"platforms":           safe,
	"privileged":          flag("privileged", "the build runs with full access to the host's devices and kernel"),
	"#extensions":         safe,
}

// isRemote reports whether a build context is fetched (git, https, an
// image, another service's build) rather than read from the host.
func isRemote(ctx string) bool {
	return strings.Contains(ctx, "://") || strings.HasPrefix(ctx, "git@") || strings.HasPrefix(ctx, "service:") || strings.HasPrefix(ctx, "target:")
}

func buildPath(c *checker, at place, key string, v reflect.Value) {
	if !isRemote(v.String()) {
		c.hostFile(at, key, v.String(), "a build "+key)
	}
}

func buildContexts(c *checker, at place, key string, v reflect.Value) {
	m := v.Interface().(types.Mapping)
	for _, name := range sortedKeys(m) {
		if !isRemote(m[name]) {
			c.hostFile(at, key+"."+name, m[name], "a build context")
		}
	}
}

func buildCache(c *checker, at place, key string, v reflect.Value) {
	for _, s := range v.Interface().(types.StringList) {
		if strings.Contains(s, "type=local") {
			c.add(at, "host-path", key+": "+s, "the build reads or writes its cache in a folder of the host")
		}
	}
}

func buildNetwork(c *checker, at place, key string, v reflect.Value) {
	switch v.String() {
	case "default", "none":
	case "host":
		c.add(at, "host-network", key+": host", "the build uses the host's network and reaches services that listen on the host's loopback")
	default:
		c.add(at, "join-network", key+": "+v.String(), "the build joins a Docker network that is not the app's own")
	}
}
