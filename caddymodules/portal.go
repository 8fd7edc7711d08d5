package caddymodules

import (
	"errors"
	"fmt"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"sync"
	"time"

	"github.com/caddyserver/caddy/v2"
	"github.com/caddyserver/caddy/v2/caddyconfig/caddyfile"
	"github.com/caddyserver/caddy/v2/caddyconfig/httpcaddyfile"
	"github.com/caddyserver/caddy/v2/modules/caddyhttp"
	"github.com/caddyserver/certmagic"
	"go.uber.org/zap"

	"github.com/stackhub/stackhub/internal/auth"
	"github.com/stackhub/stackhub/internal/platform"
	"github.com/stackhub/stackhub/portal"
)

func init() {
	caddy.RegisterModule(Portal{})
	httpcaddyfile.RegisterHandlerDirective("stackhub_portal", parsePortal)
	httpcaddyfile.RegisterDirectiveOrder("stackhub_portal", httpcaddyfile.Before, "reverse_proxy")
}

// Portal runs StackHub's portal (package portal, a fiber app) on a unix
// socket, and Caddy's own reverse proxy forwards the portal site to it. The
// handler itself only passes requests on: its job is to make sure the
// portal server runs, once per process and socket, shared across config
// reloads, for as long as a config uses it.
//
// Per request it sets X-Stackhub-Client-Ip to Caddy's resolved client
// address (trusted_proxies honoured) for the portal's rate limits.
//
// Why this shape: the portal is an ordinary HTTP server behind an ordinary
// `reverse_proxy`, so streaming answers (SSE, live logs) pass unbuffered,
// Caddy sets X-Forwarded-For from the connection (the portal's rate
// limits key on it), and the site block shows plainly where requests go.
// The socket is created with mode 0600 in the data folder (itself 0700), so
// only StackHub's user reaches the portal other than through Caddy.
//
// At start, while no admin exists, the portal prints the one-time setup
// token for the first-run page in the log.
//
// Caddyfile (the socket defaults to <data>/portal.sock; the reverse proxy
// must name the same path):
//
//	my.home.example.com {
//		stackhub_portal
//		reverse_proxy unix//var/lib/stackhub/portal.sock
//	}
//
//	my.home.example.com {
//		stackhub_portal {
//			socket /run/stackhub/portal.sock
//		}
//		reverse_proxy unix//run/stackhub/portal.sock
//	}
//
// (A bare path argument is not accepted: Caddy reads a first argument
// starting with "/" as a path matcher.)
type Portal struct {
	// Socket is the unix socket path; default <data>/portal.sock.
	Socket string `json:"socket,omitempty"`

	key  string
	hsts string
}

// portals shares one running portal per socket across config reloads.
var portals = caddy.NewUsagePool()

// setupTokens holds, per platform, the first-run setup token the portal
// created at start, for `stackhub up` to print in its banner.
var setupTokens sync.Map // *platform.Platform → string

type runningPortal struct {
	p  *portal.Portal
	ln net.Listener
}

func (r runningPortal) Destruct() error {
	err := r.p.Shutdown(5 * time.Second)
	r.ln.Close()
	return err
}

// CaddyModule returns the Caddy module information.
func (Portal) CaddyModule() caddy.ModuleInfo {
	return caddy.ModuleInfo{ID: "http.handlers.stackhub_portal", New: func() caddy.Module { return new(Portal) }}
}

// Provision starts the portal server on its socket, or takes the running one.
func (h *Portal) Provision(ctx caddy.Context) error {
	p, err := platformOf(ctx)
	if err != nil {
		return err
	}
	if h.Socket == "" {
		h.Socket = filepath.Join(p.Config.DataDir, "portal.sock")
	}
	if validating.Load() != nil {
		return nil // a validation run opens no socket (validate.go)
	}
	h.key = h.Socket
	if h.hsts, err = p.Config.HSTSHeader(); err != nil {
		return err
	}
	log := ctx.Logger()
	_, _, err = portals.LoadOrNew(h.key, func() (caddy.Destructor, error) {
		return startPortal(p, h.Socket, log, ctx.Storage())
	})
	return err
}

func startPortal(p *platform.Platform, socket string, log *zap.Logger, storage certmagic.Storage) (runningPortal, error) {
	// A socket file left by a previous process (crash, kill -9) would make
	// Listen fail; nothing else of ours can be listening on it, as this pool
	// is the only opener in the process and badger's lock keeps a second
	// StackHub off this data folder.
	if fi, err := os.Lstat(socket); err == nil && fi.Mode()&os.ModeSocket != 0 {
		os.Remove(socket)
	}
	ln, err := net.Listen("unix", socket)
	if err != nil {
		return runningPortal{}, fmt.Errorf("portal socket: %w", err)
	}
	if err := os.Chmod(socket, 0o600); err != nil {
		ln.Close()
		return runningPortal{}, fmt.Errorf("portal socket: %w", err)
	}
	sugar := log.Sugar()
	pt := portal.New(portal.Config{
		Auth: p.Auth, Registry: p.Registry, Policies: p.Apps, Starter: p.Apps, Domain: p.Config.Domain, HTTPSPort: p.Config.HTTPSPort,
		Platform: p, Certificates: certificatesIn(storage), DNSRecords: portalDNSRecords,
		Logf: sugar.Infof,
	})
	if p.OIDC != nil {
		pt.MountOIDC(p.OIDC) // issue 13: OpenID Connect provider at my.<domain>
	}
	if p.Passkeys != nil {
		pt.MountPasskeys(p.Passkeys) // issue 13: passkeys
	}
	go func() {
		if err := pt.Serve(ln); err != nil && !errors.Is(err, net.ErrClosed) {
			log.Error("portal stopped", zap.Error(err))
		}
	}()
	portalURL := "https://my." + p.Config.Domain
	if p.Config.HTTPSPort != 0 && p.Config.HTTPSPort != 443 {
		portalURL += fmt.Sprintf(":%d", p.Config.HTTPSPort)
	}
	if st, err := p.Auth.Settings(); err == nil && !st.TOTPRequired {
		log.Warn("two-factor sign-in is OPTIONAL on this StackHub (an admin relaxed it): users without TOTP sign in with a password alone; turn it back on with `stackhub user require-totp on`")
	}
	if need, err := p.Auth.NeedsSetup(); err == nil && need {
		if tok, err := p.Auth.SetupToken(); err == nil {
			setupTokens.Store(p, tok)
			log.Warn("first run: no admin yet. Open "+portalURL+"/setup and enter this setup token (valid until the next start), or run `stackhub user add NAME --admin`",
				zap.String("setup_token", tok))
		}
	}
	log.Info("portal listening", zap.String("socket", socket), zap.String("url", portalURL))
	return runningPortal{p: pt, ln: ln}, nil
}

// ServeHTTP hands the portal Caddy's resolved client address (which
// honours the server's trusted_proxies and client_ip_headers) in the
// X-Stackhub-Client-Ip header, replacing anything the client sent, and
// passes the request on (to `reverse_proxy unix/<socket>`).
func (h Portal) ServeHTTP(w http.ResponseWriter, r *http.Request, next caddyhttp.Handler) error {
	for k := range r.Header {
		if auth.SameHeaderName(k, "x-stackhub-client-ip") {
			delete(r.Header, k)
		}
	}
	if ip, ok := caddyhttp.GetVar(r.Context(), caddyhttp.ClientIPVarKey).(string); ok && ip != "" {
		r.Header.Set(portal.ClientIPHeader, ip)
	}
	setHSTS(w, r, h.hsts)
	return next.ServeHTTP(w, r)
}

// Cleanup releases this config's hold on the portal server.
func (h *Portal) Cleanup() error {
	if h.key == "" {
		return nil
	}
	_, err := portals.Delete(h.key)
	return err
}

// UnmarshalCaddyfile reads `stackhub_portal [{ socket <path> }]`.
func (h *Portal) UnmarshalCaddyfile(d *caddyfile.Dispenser) error {
	d.Next()
	if d.NextArg() {
		return d.ArgErr()
	}
	for d.NextBlock(0) {
		switch d.Val() {
		case "socket":
			if !d.NextArg() {
				return d.ArgErr()
			}
			h.Socket = d.Val()
			if d.NextArg() {
				return d.ArgErr()
			}
		default:
			return d.Errf("unknown stackhub_portal option %q (known: socket)", d.Val())
		}
	}
	return nil
}

func parsePortal(h httpcaddyfile.Helper) (caddyhttp.MiddlewareHandler, error) {
	p := new(Portal)
	err := p.UnmarshalCaddyfile(h.Dispenser)
	return p, err
}

// Interface guards
var (
	_ caddy.Provisioner           = (*Portal)(nil)
	_ caddy.CleanerUpper          = (*Portal)(nil)
	_ caddyhttp.MiddlewareHandler = (*Portal)(nil)
	_ caddyfile.Unmarshaler       = (*Portal)(nil)
)
