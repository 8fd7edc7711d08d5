package caddymodules

import (
	"fmt"
	"sort"
	"strings"
	"text/tabwriter"

	caddycmd "github.com/caddyserver/caddy/v2/cmd"
	"github.com/spf13/cobra"

	"github.com/stackhub/stackhub/appctl"
	"github.com/stackhub/stackhub/swarm"
)

func init() {
	registerCommand(caddycmd.Command{
		Name:      "nodes",
		Short:     "List and manage the Docker Swarm nodes apps run on",
		Long:      "List the nodes of the Docker Swarm StackHub runs on, print the command that joins a new machine, label and drain nodes (docs/SWARM.md), through the admin API of a running StackHub. On a Docker Engine that is not in a swarm, `docker swarm init` makes it one.",
		CobraFunc: nodesCommand,
	})
}

func nodesCommand(cmd *cobra.Command) {
	addressFlag(cmd)
	list := &cobra.Command{
		Use:   "list",
		Short: "Each node with its role, state, resources, labels and the apps running on it",
		Args:  cobra.NoArgs,
		RunE: func(c *cobra.Command, args []string) error {
			out, err := adminClient(c).Nodes()
			if err != nil {
				return err
			}
			if out.Mode != swarm.Manager {
				fmt.Fprintln(c.OutOrStdout(), "This Docker Engine is not in a swarm: apps run on this machine. `docker swarm init` makes it a swarm manager, then `stackhub nodes join-token` tells how to add machines.")
				return nil
			}
			tw := tabwriter.NewWriter(c.OutOrStdout(), 0, 4, 2, ' ', 0)
			fmt.Fprintln(tw, "NAME\tROLE\tSTATE\tAVAILABILITY\tCPUS\tMEMORY\tLABELS\tAPPS")
			for _, n := range out.Nodes {
				role := n.Role
				if n.Leader {
					role += " (leader)"
				}
				fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%g\t%.1f GiB\t%s\t%s\n", n.Name, role, n.State, n.Availability,
					n.CPUs, float64(n.MemoryBytes)/(1<<30), labelList(n.Labels), dash(strings.Join(n.Apps, ", ")))
			}
			return tw.Flush()
		},
	}
	join := &cobra.Command{
		Use:   "join-token [worker|manager]",
		Short: "Print the command that joins a new machine to the swarm",
		Args:  cobra.MaximumNArgs(1),
		RunE: func(c *cobra.Command, args []string) error {
			role := "worker"
			if len(args) == 1 {
				role = args[0]
			}
			line, err := adminClient(c).JoinCommand(role)
			if err != nil {
				return err
			}
			fmt.Fprintf(c.OutOrStdout(), "Run this on the new machine (Docker installed; ports 2377/tcp, 7946/tcp+udp and 4789/udp open to this one):\n\n    %s\n", line)
			return nil
		},
	}
	label := &cobra.Command{
		Use:   "label NODE KEY=VALUE",
		Short: "Set a node label (KEY= removes it); apps follow it with --constraint node.labels.KEY==VALUE",
		Args:  cobra.ExactArgs(2),
		RunE: func(c *cobra.Command, args []string) error {
			k, v, ok := strings.Cut(args[1], "=")
			if !ok || k == "" {
				return fmt.Errorf("%q: write KEY=VALUE (KEY= removes the label)", args[1])
			}
			if err := adminClient(c).LabelNode(args[0], k, v); err != nil {
				return err
			}
			if v == "" {
				fmt.Fprintf(c.OutOrStdout(), "Removed label %s of node %s.\n", k, args[0])
			} else {
				fmt.Fprintf(c.OutOrStdout(), "Node %s: %s=%s. Place apps there with --constraint node.labels.%s==%s.\n", args[0], k, v, k, v)
			}
			return nil
		},
	}
	drain := &cobra.Command{
		Use:   "drain NODE",
		Short: "Stop scheduling apps on a node; Swarm moves its apps elsewhere",
		Args:  cobra.ExactArgs(1),
		RunE: func(c *cobra.Command, args []string) error {
			pinned, err := adminClient(c).DrainNode(args[0])
			if err != nil {
				return err
			}
			fmt.Fprintf(c.OutOrStdout(), "Node %s is drained: Swarm moves its apps to other nodes.\n", args[0])
			if len(pinned) > 0 {
				fmt.Fprintf(c.OutOrStdout(), "Pinned to %s, these apps stop until the node is active again (`docker node update --availability active %s`) or they are moved: %s\n", args[0], args[0], strings.Join(pinned, ", "))
			}
			return nil
		},
	}
	cmd.AddCommand(list, join, label, drain)
}

// appsMoveCommand is `stackhub apps move APP --node NAME | --constraint …`.
func appsMoveCommand(printer func(*cobra.Command) func(appctl.Event)) *cobra.Command {
	move := &cobra.Command{
		Use:   "move <app> --node NAME | --constraint EXPR",
		Short: "On a Docker Swarm, move an app to another node with its data (its route follows)",
		Long:  "On a Docker Swarm, move an app to another node. An app with data (named volumes, files in its data folder) is stopped, backed up with restic on its node, restored on the target node, started there and checked; the old node's copy is deleted only then, and on failure the app runs again where it was with its data untouched. It needs a backup repository (`stackhub backup init`) that every node involved can reach (REST or S3 when another node than this one is involved). docs/SWARM.md describes it.",
		Args:  cobra.ExactArgs(1),
		RunE: func(c *cobra.Command, args []string) error {
			var to swarm.Placement
			to.Node, _ = c.Flags().GetString("node")
			to.Constraints, _ = c.Flags().GetStringArray("constraint")
			if to.Node == "" && len(to.Constraints) == 0 {
				return fmt.Errorf("say where to: --node NAME (`stackhub nodes list`) or --constraint node.labels.KEY==VALUE")
			}
			_, err := adminClient(c).Move(args[0], to, printer(c))
			return err
		},
	}
	move.Flags().String("node", "", "the node to run the app on")
	move.Flags().StringArray("constraint", nil, "a placement constraint, e.g. node.labels.media==true (repeatable)")
	return move
}

func labelList(m map[string]string) string {
	var out []string
	for k, v := range m {
		out = append(out, k+"="+v)
	}
	sort.Strings(out)
	return dash(strings.Join(out, ","))
}

func dash(s string) string {
	if s == "" {
		return "-"
	}
	return s
}
