package caddymodules

import (
	"fmt"
	"text/tabwriter"

	caddycmd "github.com/caddyserver/caddy/v2/cmd"
	"github.com/spf13/cobra"
)

func init() {
	registerCommand(caddycmd.Command{
		Name:      "dns",
		Short:     "Inspect the DNS zone of a running StackHub",
		Long:      "Inspect the DNS zone StackHub serves (the `dns` block of the stackhub options), through the admin API of a running StackHub.",
		CobraFunc: dnsCommand,
	})
}

func dnsCommand(cmd *cobra.Command) {
	addressFlag(cmd)
	records := &cobra.Command{
		Use:   "records",
		Short: "List what the zone answers right now: SOA, NS, the apex, my., every app host and pending ACME challenges",
		Args:  cobra.NoArgs,
		RunE: func(c *cobra.Command, args []string) error {
			recs, err := adminClient(c).DNSRecords()
			if err != nil {
				return err
			}
			tw := tabwriter.NewWriter(c.OutOrStdout(), 0, 4, 2, ' ', 0)
			fmt.Fprintln(tw, "NAME\tTTL\tTYPE\tVALUE")
			for _, r := range recs {
				fmt.Fprintf(tw, "%s\t%d\t%s\t%s\n", r.Name, r.TTL, r.Type, r.Value)
			}
			return tw.Flush()
		},
	}
	cmd.AddCommand(records)
}
