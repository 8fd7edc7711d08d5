package caddymodules

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"sort"
	"strings"
	"text/tabwriter"

	"github.com/caddyserver/caddy/v2"
	caddycmd "github.com/caddyserver/caddy/v2/cmd"
	"github.com/spf13/cobra"

	"github.com/stackhub/stackhub/appctl"
	"github.com/stackhub/stackhub/internal/adminapi"
	"github.com/stackhub/stackhub/internal/platform"
	"github.com/stackhub/stackhub/internal/registry"
	"github.com/stackhub/stackhub/stores"
)

func init() {
	registerCommand(caddycmd.Command{
		Name:      "apps",
		Short:     "Install and manage apps of a running StackHub",
		Long:      "Install, list, start, stop, restart, remove apps and read their logs, through the admin API of a running StackHub (`stackhub up` or `stackhub run`).",
		CobraFunc: appsCommand,
	})
	registerCommand(caddycmd.Command{
		Name:      "store",
		Short:     "Browse the app stores of a running StackHub",
		CobraFunc: storeCommand,
	})
}

// adminClient returns an API client for the admin endpoint named by the
// command's --address flag.
func adminClient(cmd *cobra.Command) adminapi.Client {
	addr, _ := cmd.Flags().GetString("address")
	return adminapi.Client{Do: func(method, uri string, body io.Reader) (*http.Response, error) {
		resp, err := adminRequest(addr, method, uri, body)
		if err != nil {
			return nil, fmt.Errorf("cannot reach StackHub's admin endpoint at %s: is StackHub running (`stackhub up`)? Pass --address if it listens elsewhere: %w", addr, err)
		}
		return resp, nil
	}}
}

// adminRequest sends one request to the admin endpoint at addr (TCP or a
// unix socket), as Caddy's own commands do, but hands back error answers
// too: the API's error bodies say what went wrong and what to do.
func adminRequest(addr, method, uri string, body io.Reader) (*http.Response, error) {
	parsed, err := caddy.ParseNetworkAddress(addr)
	if err != nil || parsed.PortRangeSize() > 1 {
		return nil, fmt.Errorf("invalid admin address %s: %v", addr, err)
	}
	origin := "http://" + parsed.JoinHostPort(0)
	if parsed.IsUnixNetwork() {
		origin = "http://127.0.0.1"                       // any host: the socket is the address
		parsed.Host, _, _ = strings.Cut(parsed.Host, "|") // drop socket permission bits
	}
	req, err := http.NewRequest(method, origin+uri, body)
	if err != nil {
		return nil, err
	}
	if !parsed.IsUnixNetwork() {
		req.Header.Set("Origin", origin)
	}
	if body != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	c := http.Client{Transport: &http.Transport{
		DialContext: func(ctx context.Context, _, _ string) (net.Conn, error) {
			var d net.Dialer
			return d.DialContext(ctx, parsed.Network, parsed.JoinHostPort(0))
		},
	}}
	return c.Do(req)
}

func addressFlag(c *cobra.Command) {
	c.PersistentFlags().String("address", caddy.DefaultAdminListen, "the admin endpoint of the running StackHub")
}

func appsCommand(cmd *cobra.Command) {
	addressFlag(cmd)
	printer := func(c *cobra.Command) func(appctl.Event) {
		p := &adminapi.ProgressPrinter{W: c.OutOrStdout()}
		return p.Print
	}

	install := &cobra.Command{
		Use:   "install <ID | STORE/ID | path> [--set KEY=VALUE …]",
		Short: "Install an app of the stores, or your own app folder or compose file",
		Long: `Install an app of the stores (ID, or STORE/ID when several stores have it:
umbrel/vaultwarden), or your own app folder or compose file. An argument is a
path when it exists or is written as one (./app, ../app, /srv/app, app.yaml).`,
		Args: cobra.ExactArgs(1),
		RunE: func(c *cobra.Command, args []string) error {
			sets, _ := c.Flags().GetStringArray("set")
			values := map[string]string{}
			for _, s := range sets {
				k, v, ok := strings.Cut(s, "=")
				if !ok || k == "" {
					return fmt.Errorf("--set %q: write KEY=VALUE", s)
				}
				values[k] = v
			}
			req := adminapi.InstallRequest{Values: values}
			req.Subdomain, _ = c.Flags().GetString("subdomain")
			req.ApproveHazards, _ = c.Flags().GetBool("approve-hazards")
			req.Approve, _ = c.Flags().GetStringSlice("approve")
			req.PublishPorts, _ = c.Flags().GetBool("publish-ports")
			req.Placement.Node, _ = c.Flags().GetString("node")
			req.Placement.Constraints, _ = c.Flags().GetStringArray("constraint")
			req.WithDeps, _ = c.Flags().GetBool("with-deps")
			if public, _ := c.Flags().GetBool("public"); public {
				req.Policy = &registry.Policy{Access: registry.Public}
			}
			from := "from the stores"
			if local, err := readLocalApp(args[0]); err != nil {
				return err
			} else if local != nil {
				req.Local = local
				from = "from disk"
			} else {
				req.Ref = args[0]
			}
			fmt.Fprintf(c.OutOrStdout(), "Installing %s %s …\n", args[0], from)
			final, err := adminClient(c).Install(req, printer(c))
			if err != nil {
				return err
			}
			if final.URL == "" { // a service app: no web UI
				fmt.Fprintln(c.OutOrStdout(), final.Message)
				return nil
			}
			fmt.Fprintf(c.OutOrStdout(), "Open it at %s\n", final.URL)
			return nil
		},
	}
	install.Flags().StringArray("set", nil, "a value the app asks for, KEY=VALUE (repeatable)")
	install.Flags().String("subdomain", "", "serve the app at this subdomain instead of its id")
	install.Flags().Bool("approve-hazards", false, "allow every setting that reaches beyond the app (privileged, host network, docker.sock …)")
	install.Flags().StringSlice("approve", nil, "allow the hazards of these names only (privileged,host-path …: the refusal lists them)")
	install.Flags().String("node", "", "on a Docker Swarm: run the app on this node (`stackhub nodes list`)")
	install.Flags().StringArray("constraint", nil, "on a Docker Swarm: place the app by a constraint, e.g. node.labels.media==true (repeatable)")
	install.Flags().Bool("publish-ports", false, "keep the app's non-web ports open to the LAN (default: bound to 127.0.0.1)")
	install.Flags().Bool("with-deps", false, "also install the apps this app needs (an install without it lists them)")
	install.Flags().Bool("public", false, "make the app reachable without signing in")

	list := &cobra.Command{
		Use:   "list",
		Short: "List installed apps",
		Args:  cobra.NoArgs,
		RunE: func(c *cobra.Command, args []string) error {
			l, err := adminClient(c).List()
			if err != nil {
				return err
			}
			tw := tabwriter.NewWriter(c.OutOrStdout(), 0, 4, 2, ' ', 0)
			fmt.Fprintln(tw, "APP\tSTATE\tHEALTH\tURL\tNOTE")
			for _, a := range l.Apps {
				note := listNote(a)
				if a.Managed != "" {
					note = strings.TrimSpace("managed by the config (" + a.Managed + ") " + note)
				}
				fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%s\n", a.ID, a.State, a.Health, a.Describe(a.URL), note)
			}
			tw.Flush()
			if len(l.Orphans) > 0 {
				fmt.Fprintf(c.OutOrStdout(), "\nCompose projects of this StackHub without an app record (left alone): %s\n", strings.Join(l.Orphans, ", "))
			}
			return nil
		},
	}

	info := &cobra.Command{
		Use:   "info <app>",
		Short: "Show an installed app: state, URL, containers, settings",
		Args:  cobra.ExactArgs(1),
		RunE: func(c *cobra.Command, args []string) error {
			a, err := adminClient(c).Info(args[0])
			if err != nil {
				return err
			}
			w := c.OutOrStdout()
			fmt.Fprintf(w, "App:      %s (%s)\nStore:    %s\nVersion:  %s\nURL:      %s\nState:    %s, %s\nAccess:   %s\nProject:  %s\n",
				a.ID, a.Name, a.Store, a.Version, a.URL, a.State, a.Health, accessOf(a.Policy), a.Project)
			if a.NoWebUI {
				fmt.Fprintf(w, "Kind:     service app (no web UI, not routed); connect at %s\n", strings.Join(a.Addresses, ", "))
			}
			if len(a.LANPorts) > 0 {
				fmt.Fprintf(w, "LAN:      ports open on the LAN, bypassing StackHub: %s\n", strings.Join(a.LANPorts, ", "))
			}
			if a.Managed != "" {
				fmt.Fprintf(w, "Managed:  by the config, declared at %s (change its settings there)\n", a.Managed)
			}
			for _, d := range a.Domains {
				fmt.Fprintf(w, "Domain:   %s%s\n", d.Name, map[bool]string{true: " (redirect)"}[d.Redirect])
			}
			if a.Note != "" {
				fmt.Fprintf(w, "Note:     %s\n", a.Note)
			}
			if a.Error != "" {
				fmt.Fprintf(w, "Error:    %s\n", a.Error)
			}
			keys := make([]string, 0, len(a.Values))
			for k := range a.Values {
				keys = append(keys, k)
			}
			sort.Strings(keys)
			for _, k := range keys {
				fmt.Fprintf(w, "Setting:  %s=%s\n", k, a.Values[k])
			}
			for _, ct := range a.Containers {
				fmt.Fprintf(w, "Service:  %s  %s  %s %s\n", ct.Service, ct.Image, ct.State, ct.Health)
			}
			return nil
		},
	}

	op := func(name, short string) *cobra.Command {
		return &cobra.Command{
			Use:   name + " <app>",
			Short: short,
			Args:  cobra.ExactArgs(1),
			RunE: func(c *cobra.Command, args []string) error {
				_, err := adminClient(c).Operate(args[0], name, printer(c))
				return err
			},
		}
	}

	logs := &cobra.Command{
		Use:   "logs <app> [-f]",
		Short: "Print an app's logs; -f follows them across restarts until Ctrl-C",
		Args:  cobra.ExactArgs(1),
		RunE: func(c *cobra.Command, args []string) error {
			follow, _ := c.Flags().GetBool("follow")
			tail, _ := c.Flags().GetString("tail")
			return adminClient(c).Logs(args[0], follow, tail, c.OutOrStdout())
		},
	}
	logs.Flags().BoolP("follow", "f", false, "keep printing new lines")
	logs.Flags().String("tail", "all", "how many lines from the end")

	remove := &cobra.Command{
		Use:   "remove <app> [--keep-data]",
		Short: "Remove an app, with its data unless --keep-data",
		Args:  cobra.ExactArgs(1),
		RunE: func(c *cobra.Command, args []string) error {
			keep, _ := c.Flags().GetBool("keep-data")
			_, err := adminClient(c).Remove(args[0], keep, printer(c))
			return err
		},
	}
	remove.Flags().Bool("keep-data", false, "keep the app's volumes and data folder, for a later install")

	cmd.AddCommand(install, list, info,
		op("start", "Start a stopped app"), op("stop", "Stop an app (its data and address stay)"),
		op("restart", "Restart an app's containers"), logs, remove)
	addAppBackupCommands(cmd, printer) // backup_commands.go
	cmd.AddCommand(domainCommand(), declaredCommand())
	cmd.AddCommand(appsMoveCommand(printer)) // nodes_commands.go
}

func accessOf(p registry.Policy) string {
	if p.Access == "" {
		return string(registry.Private)
	}
	return string(p.Access)
}

// readLocalApp reads arg as the user's own app when it is a path; it
// returns nil for a store reference (ID or STORE/ID). See localPath.
func readLocalApp(arg string) (*adminapi.LocalApp, error) {
	if !localPath(arg) {
		return nil, nil
	}
	if _, err := os.Stat(arg); err != nil {
		if errors.Is(err, os.ErrNotExist) {
			return nil, fmt.Errorf("no app folder or compose file at %s (for a store's app, write ID or STORE/ID, e.g. umbrel/vaultwarden)", arg)
		}
		return nil, err
	}
	app, err := stores.ReadPath(arg)
	if err != nil {
		return nil, err
	}
	return &adminapi.LocalApp{App: app, Compose: app.Compose, Files: app.Files}, nil
}

func storeCommand(cmd *cobra.Command) {
	addressFlag(cmd)
	search := &cobra.Command{
		Use:   "search [WORD]",
		Short: "Search the stores' apps by name, category and description",
		Args:  cobra.MaximumNArgs(1),
		RunE: func(c *cobra.Command, args []string) error {
			q := ""
			if len(args) == 1 {
				q = args[0]
			}
			category, _ := c.Flags().GetString("category")
			apps, err := adminClient(c).StoreApps(q, category)
			if err != nil {
				return err
			}
			tw := tabwriter.NewWriter(c.OutOrStdout(), 0, 4, 2, ' ', 0)
			fmt.Fprintln(tw, "APP\tSTORE\tVERSION\tDESCRIPTION")
			for _, a := range apps {
				desc := a.Tagline
				if a.Unavailable != "" {
					desc = "unavailable: " + a.Unavailable
				}
				fmt.Fprintf(tw, "%s\t%s\t%s\t%s\n", a.ID, a.Store, a.Version, desc)
			}
			return tw.Flush()
		},
	}
	search.Flags().String("category", "", "only apps of this category")
	info := &cobra.Command{
		Use:   "info <app | store/app>",
		Short: "Show a store app: description, version, links and the values it asks for",
		Args:  cobra.ExactArgs(1),
		RunE: func(c *cobra.Command, args []string) error {
			a, err := adminClient(c).StoreApp(args[0])
			if err != nil {
				return err
			}
			w := c.OutOrStdout()
			fmt.Fprintf(w, "%s (%s/%s) %s\n%s\n\n%s\n\nWebsite:  %s\nSource:   %s\nCategory: %s\nArch:     %s\n",
				a.Name, a.Store, a.ID, a.Version, a.Tagline, a.Description, a.Website, a.Source,
				strings.Join(a.Categories, ", "), strings.Join(a.Architectures, ", "))
			for _, f := range a.Fields {
				var flags []string
				if f.Required {
					flags = append(flags, "required")
				}
				if f.Secret {
					flags = append(flags, "secret")
				}
				if f.Random {
					flags = append(flags, "generated if empty")
				}
				fmt.Fprintf(w, "Field:    %s (%s, %s) default %q %s\n", f.Key, f.Label, f.Type, f.Default, strings.Join(flags, ", "))
			}
			for _, l := range a.InstallSummary() {
				fmt.Fprintln(w, l) // images, web UI, host ports, hazards
			}
			if a.Unavailable != "" {
				fmt.Fprintf(w, "Unavailable: %s\n", a.Unavailable)
			}
			return nil
		},
	}
	var printStores func(*cobra.Command, []stores.StoreStatus) error
	list := &cobra.Command{
		Use:   "list",
		Short: "List the stores: app count, last refresh, errors",
		Args:  cobra.NoArgs,
		RunE: func(c *cobra.Command, args []string) error {
			st, err := adminClient(c).Stores()
			if err != nil {
				return err
			}
			return printStores(c, st)
		},
	}
	printStores = func(c *cobra.Command, st []stores.StoreStatus) error {
		tw := tabwriter.NewWriter(c.OutOrStdout(), 0, 4, 2, ' ', 0)
		fmt.Fprintln(tw, "STORE\tAPPS\tUNAVAILABLE\tREFRESHED\tERROR")
		for _, s := range st {
			fmt.Fprintf(tw, "%s\t%d\t%d\t%s\t%s\n", s.Name, s.Apps, s.Unavailable, s.Refreshed.Format("2006-01-02 15:04:05"), s.Error)
		}
		return tw.Flush()
	}
	add := &cobra.Command{
		Use:   "add <name> <url | folder> [--format casaos|runtipi|umbrel|native]",
		Short: "Add a store: the http(s) URL of a zip or tar.gz archive, or a folder",
		Args:  cobra.ExactArgs(2),
		RunE: func(c *cobra.Command, args []string) error {
			format, _ := c.Flags().GetString("format")
			st, err := adminClient(c).AddStore(platform.StoreConfig{Name: args[0], Location: args[1], Format: format})
			if err != nil {
				return err
			}
			return printStores(c, []stores.StoreStatus{st})
		},
	}
	add.Flags().String("format", "", "the store's format (default: detected)")
	remove := &cobra.Command{
		Use:   "remove <name>",
		Short: "Remove a store added with `store add` (installed apps stay)",
		Args:  cobra.ExactArgs(1),
		RunE: func(c *cobra.Command, args []string) error {
			return adminClient(c).RemoveStore(args[0])
		},
	}
	refresh := &cobra.Command{
		Use:   "refresh",
		Short: "Fetch every store again now",
		Args:  cobra.NoArgs,
		RunE: func(c *cobra.Command, args []string) error {
			st, err := adminClient(c).RefreshStores()
			if err != nil {
				return err
			}
			return printStores(c, st)
		},
	}
	cmd.AddCommand(search, info, list, add, remove, refresh)
}
