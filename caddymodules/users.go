package caddymodules

import (
	"bufio"
	"crypto/rand"
	"encoding/base64"
	"fmt"
	"net/http"
	"os"
	"strings"
	"text/tabwriter"

	"github.com/caddyserver/caddy/v2"
	caddycmd "github.com/caddyserver/caddy/v2/cmd"
	"github.com/spf13/cobra"

	"github.com/stackhub/stackhub/internal/adminapi"
	"github.com/stackhub/stackhub/internal/platform"
	"github.com/stackhub/stackhub/internal/registry"
	"github.com/stackhub/stackhub/portal"
)

func init() {
	caddy.RegisterModule(AccountsAPI{})
	registerCommand(caddycmd.Command{
		Name:  "user",
		Short: "Manage the users of a running StackHub",
		Long: `Add, list, change and remove users through the admin API of a running StackHub.
The first admin can be created here without the setup token: reaching the
admin endpoint already means access to the machine.`,
		CobraFunc: userCommand,
	})
	registerCommand(caddycmd.Command{
		Name:      "access",
		Short:     "Show or set who may open each app of a running StackHub",
		CobraFunc: accessCommand,
	})
}

// AccountsAPI serves the accounts part of StackHub's management API
// (/stackhub/users, /stackhub/routes, /stackhub/policy) on Caddy's admin
// endpoint, for `stackhub user …` and `stackhub access …`.
type AccountsAPI struct{}

// CaddyModule returns the Caddy module information.
func (AccountsAPI) CaddyModule() caddy.ModuleInfo {
	return caddy.ModuleInfo{ID: "admin.api.stackhub_accounts", New: func() caddy.Module { return new(AccountsAPI) }}
}

var accountsHandler = adminapi.AccountsHandler(func() *platform.Platform { return current.Load() })

// Routes returns the API's routes (more specific than admin.api.stackhub's).
func (AccountsAPI) Routes() []caddy.AdminRoute {
	h := caddy.AdminHandlerFunc(func(w http.ResponseWriter, r *http.Request) error {
		accountsHandler.ServeHTTP(w, r)
		return nil
	})
	return []caddy.AdminRoute{
		{Pattern: "/stackhub/users", Handler: h},
		{Pattern: "/stackhub/users/", Handler: h},
		{Pattern: "/stackhub/routes", Handler: h},
		{Pattern: "/stackhub/policy/", Handler: h},
		{Pattern: "/stackhub/settings/", Handler: h},
	}
}

// readPassword returns the password from --password or --password-file
// ("-" is standard input), or "" when neither is given.
func readPassword(c *cobra.Command) (string, error) {
	if pw, _ := c.Flags().GetString("password"); pw != "" {
		return pw, nil
	}
	file, _ := c.Flags().GetString("password-file")
	if file == "" {
		return "", nil
	}
	f := os.Stdin
	if file != "-" {
		var err error
		if f, err = os.Open(file); err != nil {
			return "", err
		}
		defer f.Close()
	}
	line, err := bufio.NewReader(f).ReadString('\n')
	if err != nil && line == "" {
		return "", fmt.Errorf("read password: %w", err)
	}
	return strings.TrimRight(line, "\r\n"), nil
}

func passwordFlags(c *cobra.Command) {
	c.Flags().String("password", "", "the password (visible in the process list: prefer --password-file)")
	c.Flags().String("password-file", "", "read the password from the first line of this file (- for standard input)")
}

func userCommand(cmd *cobra.Command) {
	addressFlag(cmd)
	add := &cobra.Command{
		Use:   "add NAME [--admin] [--email E] [--groups G1,G2] [--password-file F]",
		Short: "Add a user (without a password option, a random one is generated and printed)",
		Args:  cobra.ExactArgs(1),
		RunE: func(c *cobra.Command, args []string) error {
			req := adminapi.UserRequest{Name: args[0], Role: "member"}
			if admin, _ := c.Flags().GetBool("admin"); admin {
				req.Role = "admin"
			}
			req.Email, _ = c.Flags().GetString("email")
			groups, _ := c.Flags().GetString("groups")
			req.Groups = portal.SplitList(groups)
			pw, err := readPassword(c)
			if err != nil {
				return err
			}
			generated := pw == ""
			if generated {
				b := make([]byte, 15)
				rand.Read(b)
				pw = base64.RawURLEncoding.EncodeToString(b)
			}
			req.Password = pw
			u, err := adminClient(c).AddUser(req)
			if err != nil {
				return err
			}
			fmt.Fprintf(c.OutOrStdout(), "Added %s (%s).\n", u.Name, u.Role)
			if generated {
				fmt.Fprintf(c.OutOrStdout(), "Password: %s   (shown once)\n", pw)
			}
			fmt.Fprintln(c.OutOrStdout(), "At the first sign-in at the portal (my.<domain>) the user sets up two-factor sign-in.")
			return nil
		},
	}
	add.Flags().Bool("admin", false, "make the user an admin")
	add.Flags().String("email", "", "e-mail address")
	add.Flags().String("groups", "", "groups, comma-separated")
	passwordFlags(add)

	list := &cobra.Command{
		Use:   "list",
		Short: "List users",
		Args:  cobra.NoArgs,
		RunE: func(c *cobra.Command, args []string) error {
			users, err := adminClient(c).Users()
			if err != nil {
				return err
			}
			tw := tabwriter.NewWriter(c.OutOrStdout(), 0, 4, 2, ' ', 0)
			fmt.Fprintln(tw, "USER\tROLE\tGROUPS\t2FA\tSTATE")
			for _, u := range users {
				tf, state := "off", "active"
				if u.TOTPEnabled {
					tf = fmt.Sprintf("on (%d recovery codes)", u.RecoveryCodesLeft)
				}
				if u.Disabled {
					state = "disabled"
				}
				fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%s\n", u.Name, u.Role, strings.Join(u.Groups, ","), tf, state)
			}
			return tw.Flush()
		},
	}

	set := &cobra.Command{
		Use:   "set NAME [--role admin|member] [--groups G1,G2] [--email E] [--disable|--enable]",
		Short: "Change a user; takes effect on the user's next request to any app",
		Args:  cobra.ExactArgs(1),
		RunE: func(c *cobra.Command, args []string) error {
			var ch adminapi.UserChange
			if c.Flags().Changed("role") {
				r, _ := c.Flags().GetString("role")
				ch.Role = &r
			}
			if c.Flags().Changed("groups") {
				g, _ := c.Flags().GetString("groups")
				gs := portal.SplitList(g)
				if gs == nil {
					gs = []string{}
				}
				ch.Groups = &gs
			}
			if c.Flags().Changed("email") {
				e, _ := c.Flags().GetString("email")
				ch.Email = &e
			}
			if d, _ := c.Flags().GetBool("disable"); d {
				ch.Disabled = &d
			}
			if e, _ := c.Flags().GetBool("enable"); e {
				f := false
				ch.Disabled = &f
			}
			u, err := adminClient(c).UpdateUser(args[0], ch)
			if err != nil {
				return err
			}
			fmt.Fprintf(c.OutOrStdout(), "%s: %s, groups %s, disabled %v\n", u.Name, u.Role, strings.Join(u.Groups, ","), u.Disabled)
			return nil
		},
	}
	set.Flags().String("role", "", "admin or member")
	set.Flags().String("groups", "", "groups, comma-separated (empty: none)")
	set.Flags().String("email", "", "e-mail address")
	set.Flags().Bool("disable", false, "disable the account (signs it out everywhere)")
	set.Flags().Bool("enable", false, "enable the account again")

	password := &cobra.Command{
		Use:   "password NAME [--password-file F]",
		Short: "Set a user's password (signs them out everywhere)",
		Args:  cobra.ExactArgs(1),
		RunE: func(c *cobra.Command, args []string) error {
			pw, err := readPassword(c)
			if err != nil {
				return err
			}
			if pw == "" {
				return fmt.Errorf("give the new password with --password-file FILE or --password-file - (standard input)")
			}
			return adminClient(c).UserOp(args[0], "password", map[string]string{"password": pw})
		},
	}
	passwordFlags(password)

	simple := func(use, op, short, done string) *cobra.Command {
		return &cobra.Command{
			Use:   use + " NAME",
			Short: short,
			Args:  cobra.ExactArgs(1),
			RunE: func(c *cobra.Command, args []string) error {
				var err error
				if op == "remove" {
					err = adminClient(c).RemoveUser(args[0])
				} else {
					err = adminClient(c).UserOp(args[0], op, nil)
				}
				if err == nil {
					fmt.Fprintf(c.OutOrStdout(), done+"\n", args[0])
				}
				return err
			},
		}
	}
	requireTOTP := &cobra.Command{
		Use:   "require-totp on|off",
		Short: "Require two-factor sign-in for every user (on, the default), or make it optional (off: shown as a warning in the portal and the log)",
		Args:  cobra.ExactArgs(1),
		RunE: func(c *cobra.Command, args []string) error {
			var on bool
			switch args[0] {
			case "on":
				on = true
			case "off":
			default:
				return fmt.Errorf("say on or off")
			}
			if err := adminClient(c).SetTOTPRequired(on); err != nil {
				return err
			}
			if on {
				fmt.Fprintln(c.OutOrStdout(), "Two-factor sign-in is required: users without it enrol at their next sign-in.")
			} else {
				fmt.Fprintln(c.OutOrStdout(), "WARNING: two-factor sign-in is now optional: users who have not enrolled sign in with a password alone.")
			}
			return nil
		},
	}
	requirePasskey := &cobra.Command{
		Use:   "require-passkey on|off",
		Short: "Make admins who have a passkey sign in with it (on), or allow password and code again (off); recovery codes always work",
		Args:  cobra.ExactArgs(1),
		RunE: func(c *cobra.Command, args []string) error {
			if args[0] != "on" && args[0] != "off" {
				return fmt.Errorf("say on or off")
			}
			if err := adminClient(c).SetPasskeysRequired(args[0] == "on"); err != nil {
				return err
			}
			if args[0] == "on" {
				fmt.Fprintln(c.OutOrStdout(), "Admins who have a passkey now sign in with it (a recovery code still works for a lost device).")
			} else {
				fmt.Fprintln(c.OutOrStdout(), "Admins may sign in with password and code again.")
			}
			return nil
		},
	}
	cmd.AddCommand(add, list, set, password, requireTOTP, requirePasskey,
		simple("remove", "remove", "Remove a user; their sessions end at once", "Removed %s."),
		simple("reset-totp", "reset-totp", "Remove a user's second factor (they enrol again at the next sign-in)", "Two-factor sign-in of %s reset."),
		simple("signout", "signout", "Sign a user out of the portal and every app, on every device", "Signed %s out everywhere."))
}

func accessCommand(cmd *cobra.Command) {
	addressFlag(cmd)
	show := &cobra.Command{
		Use:   "list",
		Short: "Show each app's access policy",
		Args:  cobra.NoArgs,
		RunE: func(c *cobra.Command, args []string) error {
			routes, err := adminClient(c).Routes()
			if err != nil {
				return err
			}
			tw := tabwriter.NewWriter(c.OutOrStdout(), 0, 4, 2, ' ', 0)
			fmt.Fprintln(tw, "APP\tHOST\tACCESS\tUSERS\tGROUPS\tPUBLIC PATHS")
			for _, e := range routes {
				fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%s\t%s\n", e.App, e.Host, accessOf(e.Policy),
					strings.Join(e.Policy.Users, ","), strings.Join(e.Policy.Groups, ","), strings.Join(e.Policy.PublicPaths, ","))
			}
			return tw.Flush()
		},
	}
	set := &cobra.Command{
		Use:   "set APP --access private|restricted|public [--users U1,U2] [--groups G1,G2] [--public-paths /api/*,/health]",
		Short: "Set an app's access policy; the gate applies it from the next request",
		Long: `Set an app's access policy; the gate applies it from the next request.
It is saved with the app, so restarts of the app and of StackHub keep it.`,
		Args: cobra.ExactArgs(1),
		RunE: func(c *cobra.Command, args []string) error {
			var pol registry.Policy
			a, _ := c.Flags().GetString("access")
			pol.Access = registry.Access(a)
			u, _ := c.Flags().GetString("users")
			g, _ := c.Flags().GetString("groups")
			pp, _ := c.Flags().GetString("public-paths")
			pol.Users, pol.Groups, pol.PublicPaths = portal.SplitList(u), portal.SplitList(g), portal.SplitList(pp)
			return adminClient(c).SetPolicy(args[0], pol)
		},
	}
	set.Flags().String("access", "private", "private (any signed-in user), restricted (listed users and groups) or public")
	set.Flags().String("users", "", "users allowed to a restricted app, comma-separated")
	set.Flags().String("groups", "", "groups allowed to a restricted app, comma-separated")
	set.Flags().String("public-paths", "", "paths open without sign-in, comma-separated (e.g. /api/*)")
	cmd.AddCommand(show, set)
}

// Interface guards
var _ caddy.AdminRouter = (*AccountsAPI)(nil)
