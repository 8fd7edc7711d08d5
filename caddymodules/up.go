package caddymodules

import (
	"bytes"
	_ "embed"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"text/template"

	"github.com/caddyserver/caddy/v2"
	"github.com/caddyserver/caddy/v2/caddyconfig"
	caddycmd "github.com/caddyserver/caddy/v2/cmd"
	"github.com/spf13/cobra"

	"github.com/stackhub/stackhub/internal/platform"
)

func init() {
	registerCommand(caddycmd.Command{
		Name:  "up",
		Short: "Run StackHub with a built-in configuration (no Caddyfile needed)",
		Long: `Runs StackHub with its built-in configuration: apps at https://<app>.<domain>
with certificates from StackHub's own local CA, state in the data folder.
Without flags: domain localhost, ports 80/443 as root and 8080/8443 otherwise.

Several instances can run side by side with different --data, ports and --admin.`,
		CobraFunc: upCommand,
	})
}

//go:embed up.Caddyfile
var upCaddyfile string

var upTemplate = template.Must(template.New("up").Parse(upCaddyfile))

// UpConfig is the built-in configuration's settings.
type UpConfig struct {
	Domain    string
	Data      string
	HTTPPort  int
	HTTPSPort int
	Admin     string
	Bind      string // listen address of the HTTP(S) servers; empty: all
	HSTS      string // the stackhub block's hsts option
}

// Caddyfile renders the built-in configuration.
func (u UpConfig) Caddyfile() ([]byte, error) {
	var b bytes.Buffer
	err := upTemplate.Execute(&b, u)
	return b.Bytes(), err
}

func upCommand(cmd *cobra.Command) {
	httpPort, httpsPort := 80, 443
	if os.Geteuid() != 0 {
		httpPort, httpsPort = 8080, 8443
	}
	cmd.Flags().String("domain", "localhost", "base domain: apps are served at <app>.<domain>")
	cmd.Flags().String("data", platform.DefaultDataDir(), "data folder (state, app data, certificates)")
	cmd.Flags().Int("http-port", httpPort, "HTTP port (redirects to HTTPS, ACME challenges)")
	cmd.Flags().Int("https-port", httpsPort, "HTTPS port")
	cmd.Flags().String("admin", caddy.DefaultAdminListen, "admin endpoint address (the CLI's --address): loopback or unix//path only")
	cmd.Flags().String("bind", "", "listen only on this address (e.g. 127.0.0.1); default: all addresses")
	cmd.Flags().String("hsts", "off", "Strict-Transport-Security: off, on or a max-age such as 720h (off by default: the built-in configuration's certificates come from a local CA, and HSTS would stop browsers that do not trust it from clicking through)")
	cmd.Flags().Bool("print-config", false, "print the configuration and exit")
	cmd.RunE = func(c *cobra.Command, args []string) error {
		u := UpConfig{}
		u.Domain, _ = c.Flags().GetString("domain")
		u.Data, _ = c.Flags().GetString("data")
		u.HTTPPort, _ = c.Flags().GetInt("http-port")
		u.HTTPSPort, _ = c.Flags().GetInt("https-port")
		u.Admin, _ = c.Flags().GetString("admin")
		u.Bind, _ = c.Flags().GetString("bind")
		if err := checkAdminAddress(u.Admin); err != nil {
			return err
		}
		u.HSTS, _ = c.Flags().GetString("hsts")
		if _, err := (platform.Config{HSTS: u.HSTS}).HSTSHeader(); err != nil {
			return fmt.Errorf("--hsts: %v", err)
		}
		abs, err := filepath.Abs(u.Data)
		if err != nil {
			return err
		}
		u.Data = abs
		if strings.ContainsAny(u.Domain, " {}\n") || strings.ContainsAny(u.Data, "{}\n\"") {
			return fmt.Errorf("--domain and --data must not contain spaces or braces")
		}
		cf, err := u.Caddyfile()
		if err != nil {
			return err
		}
		if p, _ := c.Flags().GetBool("print-config"); p {
			_, err := c.OutOrStdout().Write(cf)
			return err
		}
		if err := os.MkdirAll(u.Data, 0o700); err != nil {
			return fmt.Errorf("create data folder: %w", err)
		}
		adapter := caddyconfig.GetAdapter("caddyfile")
		cfgJSON, warnings, err := adapter.Adapt(cf, map[string]any{"filename": "stackhub-up"})
		if err != nil {
			return fmt.Errorf("built-in configuration: %w", err)
		}
		for _, w := range warnings {
			fmt.Fprintln(os.Stderr, "warning:", w.String())
		}
		applyMemoryDefaults()
		caddy.TrapSignals()
		if err := caddy.Load(cfgJSON, true); err != nil {
			return fmt.Errorf("start StackHub: %w", err)
		}
		fmt.Fprint(c.OutOrStdout(), u.Banner(commandName(), firstRunToken()))
		select {}
	}
}
