package caddymodules

import (
	"fmt"
	"os"
	"strings"
	"text/tabwriter"

	caddycmd "github.com/caddyserver/caddy/v2/cmd"
	"github.com/spf13/cobra"

	"github.com/stackhub/stackhub/appctl"
	"github.com/stackhub/stackhub/internal/adminapi"
)

func init() {
	caddycmd.RegisterCommand(caddycmd.Command{
		Name:  "backup",
		Short: "Back up the whole box (every app and the platform state), or set up the backup repository",
		Long: "`stackhub backup` backs up every app and the platform state (users, 2FA, groups, stores, settings). " +
			"Backups are restic snapshots (encrypted, deduplicated, incremental) in a repository: a folder, " +
			"sftp:user@host:/path, rest:URL or s3:URL. `stackhub backup init REPOSITORY` sets it up and shows its password once.",
		CobraFunc: backupCommand,
	})
	caddycmd.RegisterCommand(caddycmd.Command{
		Name:  "restore",
		Short: "Bring a whole box back from a backup repository (a new machine)",
		Long: "`stackhub restore --from REPOSITORY --password PASSWORD` on a running StackHub with a fresh data folder " +
			"brings back every app of the repository's latest whole-box backup, with its data, subdomain and access policy, " +
			"and all users with their 2FA.",
		CobraFunc: restoreCommand,
	})
}

func restoreCommand(cmd *cobra.Command) {
	addressFlag(cmd)
	cmd.Flags().String("from", "", "the repository: a folder, sftp:user@host:/path, rest:URL or s3:URL")
	cmd.Flags().String("password", "", "the repository's password (shown when it was set up)")
	cmd.Flags().String("sftp-command", "", "the ssh command for an sftp: repository")
	cmd.Flags().StringArray("env", nil, envFlagHelp)
	cmd.Args = cobra.NoArgs
	cmd.RunE = func(c *cobra.Command, args []string) error {
		req := adminapi.RepositoryRequest{}
		req.URL, _ = c.Flags().GetString("from")
		req.Password, _ = c.Flags().GetString("password")
		req.SFTPCommand, _ = c.Flags().GetString("sftp-command")
		env, err := envFlags(c)
		if err != nil {
			return err
		}
		req.Env = env
		if req.Password == "" {
			req.Password = os.Getenv("STACKHUB_BACKUP_PASSWORD")
		}
		if req.URL == "" || req.Password == "" {
			return fmt.Errorf("give the repository with --from and its password with --password (or STACKHUB_BACKUP_PASSWORD)")
		}
		p := &adminapi.ProgressPrinter{W: c.OutOrStdout()}
		_, err = adminClient(c).RestoreBox(req, p.Print)
		return err
	}
}

func backupCommand(cmd *cobra.Command) {
	addressFlag(cmd)
	initCmd := &cobra.Command{
		Use:   "init <repository> [--sftp-command CMD] [--env KEY[=VALUE] …] [--password PW]",
		Short: "Set up the backup repository (a new one gets a generated password, shown once)",
		Args:  cobra.ExactArgs(1),
		RunE: func(c *cobra.Command, args []string) error {
			req := adminapi.RepositoryRequest{URL: args[0]}
			req.SFTPCommand, _ = c.Flags().GetString("sftp-command")
			req.Password, _ = c.Flags().GetString("password")
			env, err := envFlags(c)
			if err != nil {
				return err
			}
			req.Env = env
			a, err := adminClient(c).SetRepository(req)
			if err != nil {
				return err
			}
			w := c.OutOrStdout()
			fmt.Fprintf(w, "Backups go to %s\n", a.URL)
			if a.Password != "" {
				fmt.Fprintf(w, "\nRepository password (shown only now):\n\n    %s\n\n"+
					"Write it down somewhere safe, away from this machine. It is the only way to open\n"+
					"the backups on another machine: if you lose it, the backups are lost.\n", a.Password)
			}
			return nil
		},
	}
	initCmd.Flags().String("sftp-command", "", "the ssh command for an sftp: repository, e.g. \"ssh -p 2222 -i KEY user@host -s sftp\"")
	initCmd.Flags().String("password", "", "the password of an existing repository (default: a new one is generated)")
	initCmd.Flags().StringArray("env", nil, envFlagHelp)
	show := &cobra.Command{
		Use:   "show",
		Short: "Show where backups go",
		Args:  cobra.NoArgs,
		RunE: func(c *cobra.Command, args []string) error {
			a, err := adminClient(c).Repository()
			if err != nil {
				return err
			}
			if !a.Configured {
				fmt.Fprintln(c.OutOrStdout(), "No backup repository yet: `stackhub backup init REPOSITORY` sets one up.")
				return nil
			}
			fmt.Fprintf(c.OutOrStdout(), "Repository: %s\n", a.URL)
			if len(a.Credentials) > 0 {
				fmt.Fprintf(c.OutOrStdout(), "Credentials (kept sealed): %s\n", strings.Join(a.Credentials, ", "))
			}
			return nil
		},
	}
	boxSched := &cobra.Command{
		Use:   "schedule [--daily HH:MM] [--keep-daily N …] | --off",
		Short: "Back the whole box up every day",
		Args:  cobra.NoArgs,
		RunE: func(c *cobra.Command, args []string) error {
			return runSchedule(c, appctl.BoxSchedule)
		},
	}
	scheduleFlags(boxSched, false)
	cmd.AddCommand(initCmd, show, boxSched)
	cmd.Args = cobra.NoArgs
	cmd.RunE = func(c *cobra.Command, args []string) error {
		p := &adminapi.ProgressPrinter{W: c.OutOrStdout()}
		_, err := adminClient(c).BackupBox(p.Print)
		return err
	}
}

const envFlagHelp = "a credential restic needs, KEY=VALUE, or KEY alone to take its value from your environment " +
	"(kept off the command line): AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY for s3:, RESTIC_REST_USERNAME and " +
	"RESTIC_REST_PASSWORD for a rest: server's basic auth; repeatable"

// envFlags reads the --env flags: KEY=VALUE, or KEY whose value is taken
// from this command's own environment, so that a secret need not be typed
// on a command line.
func envFlags(c *cobra.Command) (map[string]string, error) {
	envs, _ := c.Flags().GetStringArray("env")
	var out map[string]string
	for _, e := range envs {
		k, v, ok := strings.Cut(e, "=")
		if !ok {
			if v, ok = os.LookupEnv(k); !ok {
				return nil, fmt.Errorf("--env %s: it is not set in your environment; write KEY=VALUE or export %s first", k, k)
			}
		}
		if k == "" {
			return nil, fmt.Errorf("--env %q: write KEY=VALUE or KEY", e)
		}
		if out == nil {
			out = map[string]string{}
		}
		out[k] = v
	}
	return out, nil
}

// addAppBackupCommands adds backup, backups, restore, clone and update to
// `stackhub apps`.
func addAppBackupCommands(cmd *cobra.Command, printer func(*cobra.Command) func(appctl.Event)) {
	bk := &cobra.Command{
		Use:   "backup <app>",
		Short: "Back an app up now (its data, volumes, project and settings)",
		Args:  cobra.ExactArgs(1),
		RunE: func(c *cobra.Command, args []string) error {
			_, err := adminClient(c).Backup(args[0], printer(c))
			return err
		},
	}
	list := &cobra.Command{
		Use:   "backups <app>",
		Short: "List an app's backups",
		Args:  cobra.ExactArgs(1),
		RunE: func(c *cobra.Command, args []string) error {
			snaps, err := adminClient(c).Backups(args[0])
			if err != nil {
				return err
			}
			tw := tabwriter.NewWriter(c.OutOrStdout(), 0, 4, 2, ' ', 0)
			fmt.Fprintln(tw, "SNAPSHOT\tTIME\tVERSION\tREASON")
			for _, s := range snaps {
				fmt.Fprintf(tw, "%s\t%s\t%s\t%s\n", s.ShortID, s.Time.Local().Format("2006-01-02 15:04:05"), s.Version, s.Reason)
			}
			return tw.Flush()
		},
	}
	restore := &cobra.Command{
		Use:   "restore <app> [snapshot]",
		Short: "Restore an app from a backup (the latest by default); it stays as it is unless the restored app is healthy",
		Args:  cobra.RangeArgs(1, 2),
		RunE: func(c *cobra.Command, args []string) error {
			snap := ""
			if len(args) == 2 {
				snap = args[1]
			}
			_, err := adminClient(c).Restore(args[0], snap, printer(c))
			return err
		},
	}
	clone := &cobra.Command{
		Use:   "clone <app> <new-id> [--from SNAPSHOT]",
		Short: "Bring up an independent copy of an app at another subdomain (from a new backup, or --from one)",
		Args:  cobra.ExactArgs(2),
		RunE: func(c *cobra.Command, args []string) error {
			req := adminapi.CloneRequest{NewID: args[1]}
			req.Snapshot, _ = c.Flags().GetString("from")
			req.Subdomain, _ = c.Flags().GetString("subdomain")
			final, err := adminClient(c).Clone(args[0], req, printer(c))
			if err == nil && final.URL != "" {
				fmt.Fprintf(c.OutOrStdout(), "Open it at %s\n", final.URL)
			}
			return err
		},
	}
	clone.Flags().String("from", "", "the snapshot to copy (default: a backup taken now)")
	clone.Flags().String("subdomain", "", "serve the copy at this subdomain instead of its id")
	update := &cobra.Command{
		Use:   "update <app> [--to VERSION | --from PATH]",
		Short: "Update an app: backup, new images, new containers; rolls back by itself if the new version fails",
		Args:  cobra.ExactArgs(1),
		RunE: func(c *cobra.Command, args []string) error {
			req := adminapi.UpdateRequest{}
			req.To, _ = c.Flags().GetString("to")
			if from, _ := c.Flags().GetString("from"); from != "" {
				local, err := readLocalApp(from)
				if err != nil {
					return err
				}
				if local == nil {
					return fmt.Errorf("--from %s: no app folder or compose file there", from)
				}
				req.Local = local
			}
			_, err := adminClient(c).Update(args[0], req, printer(c))
			return err
		},
	}
	update.Flags().String("to", "", "the version to update to (the store's current version by default)")
	update.Flags().String("from", "", "update your own app from this folder or compose file")
	sched := &cobra.Command{
		Use:   "schedule <app> [--daily HH:MM] [--keep-daily N …] [--auto-update --window HH:MM-HH:MM] | --off",
		Short: "Back an app up every day (opt-in), keep a number of snapshots, and update it by itself if asked",
		Args:  cobra.ExactArgs(1),
		RunE: func(c *cobra.Command, args []string) error {
			return runSchedule(c, args[0])
		},
	}
	scheduleFlags(sched, true)
	cmd.AddCommand(bk, list, restore, clone, update, sched)
}

func scheduleFlags(c *cobra.Command, app bool) {
	c.Flags().String("daily", "03:00", "the local time of the daily backup")
	c.Flags().Int("keep-daily", 7, "daily snapshots kept")
	c.Flags().Int("keep-weekly", 4, "weekly snapshots kept")
	c.Flags().Int("keep-monthly", 6, "monthly snapshots kept")
	c.Flags().Bool("off", false, "remove the schedule")
	if app {
		c.Flags().Bool("auto-update", false, "update the app by itself when its store has a newer version (after a backup)")
		c.Flags().String("window", "02:00-05:00", "when automatic updates may run, local time")
	}
}

func runSchedule(c *cobra.Command, id string) error {
	client := adminClient(c)
	if off, _ := c.Flags().GetBool("off"); off {
		_, err := client.SetSchedule(id, nil)
		if err == nil {
			fmt.Fprintln(c.OutOrStdout(), "Schedule removed.")
		}
		return err
	}
	s := &appctl.Schedule{}
	s.Daily, _ = c.Flags().GetString("daily")
	s.Retention.Daily, _ = c.Flags().GetInt("keep-daily")
	s.Retention.Weekly, _ = c.Flags().GetInt("keep-weekly")
	s.Retention.Monthly, _ = c.Flags().GetInt("keep-monthly")
	if c.Flags().Lookup("auto-update") != nil {
		s.AutoUpdate, _ = c.Flags().GetBool("auto-update")
		s.Window, _ = c.Flags().GetString("window")
	}
	out, err := client.SetSchedule(id, s)
	if err != nil {
		return err
	}
	fmt.Fprintf(c.OutOrStdout(), "Backed up daily at %s; kept: %d daily, %d weekly, %d monthly.\n", out.Daily, out.Retention.Daily, out.Retention.Weekly, out.Retention.Monthly)
	if out.AutoUpdate {
		fmt.Fprintf(c.OutOrStdout(), "Updates by itself between %s when its store has a newer version (never without a backup).\n", out.Window)
	}
	return nil
}

// listNote is the NOTE column of `apps list`: recovery's note, a failed
// last backup (loudly), an available update.
func listNote(a appctl.AppStatus) string {
	var parts []string
	if a.LastBackup != nil && a.LastBackup.Error != "" {
		parts = append(parts, "LAST BACKUP FAILED "+a.LastBackup.Time.Local().Format("2006-01-02 15:04")+": "+firstLineOf(a.LastBackup.Error))
	} else if a.LastBackup != nil {
		parts = append(parts, "backed up "+a.LastBackup.Time.Local().Format("2006-01-02 15:04"))
	}
	if a.Update != nil {
		u := fmt.Sprintf("update available: %s → %s", a.Update.From, a.Update.To)
		if a.Update.Changelog != "" {
			u += " (" + a.Update.Changelog + ")"
		}
		parts = append(parts, u)
	}
	if a.Note != "" {
		parts = append(parts, a.Note)
	}
	return strings.Join(parts, "; ")
}

func firstLineOf(s string) string {
	l, _, _ := strings.Cut(s, "\n")
	return l
}
