package caddymodules

import (
	"fmt"
	"strings"
	"text/tabwriter"

	"github.com/spf13/cobra"

	"github.com/stackhub/stackhub/appctl"
	"github.com/stackhub/stackhub/internal/adminapi"
)

// domainCommand is `stackhub apps domain add|list|remove`.
func domainCommand() *cobra.Command {
	cmd := &cobra.Command{
		Use:   "domain",
		Short: "Serve an app at domains of your own too (photos.example.org)",
	}
	add := &cobra.Command{
		Use:   "add <app> <name> [--redirect] [--force]",
		Short: "Serve the app at name too (or redirect name to it), after checking DNS",
		Args:  cobra.ExactArgs(2),
		RunE: func(c *cobra.Command, args []string) error {
			redirect, _ := c.Flags().GetBool("redirect")
			force, _ := c.Flags().GetBool("force")
			ans, err := adminClient(c).AddDomain(args[0], adminapi.DomainRequest{Name: args[1], Redirect: redirect, Force: force})
			if err != nil {
				return err
			}
			w := c.OutOrStdout()
			if ans.Check != nil {
				fmt.Fprintln(w, ans.Check.Explain())
			}
			what := "serves " + args[0]
			if redirect {
				what = "redirects to " + args[0]
			}
			fmt.Fprintf(w, "%s now %s; its certificate is obtained on the first visit\n", strings.ToLower(args[1]), what)
			return nil
		},
	}
	add.Flags().Bool("redirect", false, "answer 308 to the app's main URL instead of serving the app")
	add.Flags().Bool("force", false, "skip the DNS check (split-horizon DNS, or a name not public yet)")
	list := &cobra.Command{
		Use:   "list <app>",
		Short: "List an app's custom domains",
		Args:  cobra.ExactArgs(1),
		RunE: func(c *cobra.Command, args []string) error {
			ds, err := adminClient(c).Domains(args[0])
			if err != nil {
				return err
			}
			return printDomains(c, ds)
		},
	}
	remove := &cobra.Command{
		Use:   "remove <app> <name>",
		Short: "Stop serving the app at name",
		Args:  cobra.ExactArgs(2),
		RunE: func(c *cobra.Command, args []string) error {
			ds, err := adminClient(c).RemoveDomain(args[0], args[1])
			if err != nil {
				return err
			}
			return printDomains(c, ds)
		},
	}
	cmd.AddCommand(add, list, remove)
	return cmd
}

func printDomains(c *cobra.Command, ds []appctl.Domain) error {
	tw := tabwriter.NewWriter(c.OutOrStdout(), 0, 4, 2, ' ', 0)
	fmt.Fprintln(tw, "DOMAIN\tMODE")
	for _, d := range ds {
		mode := "serves the app"
		if d.Redirect {
			mode = "redirects (308) to the app's URL"
		}
		fmt.Fprintf(tw, "%s\t%s\n", d.Name, mode)
	}
	return tw.Flush()
}

// declaredCommand is `stackhub apps declared`: the convergence to the apps
// declared in the config, as the admin API reports it.
func declaredCommand() *cobra.Command {
	return &cobra.Command{
		Use:   "declared",
		Short: "Show how the apps declared in the config are being applied",
		Args:  cobra.NoArgs,
		RunE: func(c *cobra.Command, args []string) error {
			st, err := adminClient(c).Declared()
			if err != nil {
				return err
			}
			w := c.OutOrStdout()
			state := "done"
			if st.Running {
				state = "converging"
			}
			fmt.Fprintf(w, "Config load %d: %s\n", st.Generation, state)
			tw := tabwriter.NewWriter(w, 0, 4, 2, ' ', 0)
			fmt.Fprintln(tw, "APP\tACTION\tSTATE\tDECLARED AT\tDETAIL")
			for _, s := range st.Steps {
				detail := s.Message
				if s.Error != "" {
					detail = s.Error
				}
				if len(s.Changes) > 0 {
					detail += " (changed: " + strings.Join(s.Changes, ", ") + ")"
				}
				fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%s\n", s.App, s.Action, s.State, s.Source, detail)
			}
			return tw.Flush()
		},
	}
}
