package main

import (
	"os/exec"
	"regexp"
	"strings"
	"testing"
)

// TestHelpSaysStackHub reads the help a new user reads: the binary calls
// itself stackhub, and StackHub's commands come before Caddy's.
func TestHelpSaysStackHub(t *testing.T) {
	help := func(args ...string) string {
		t.Helper()
		out, err := exec.Command(binary(t, "stackhub"), args...).CombinedOutput()
		if err != nil {
			t.Fatalf("stackhub %s: %v\n%s", strings.Join(args, " "), err, out)
		}
		return string(out)
	}
	for _, args := range [][]string{{"help"}, {"--help"}, {}} {
		out := help(args...)
		if !strings.Contains(out, "Usage:\n  stackhub [command]") || strings.Contains(out, "$ caddy") || strings.Contains(out, "help for caddy") {
			t.Errorf("stackhub %v does not call itself stackhub:\n%s", args, out)
		}
		ours := strings.Index(out, "StackHub commands:")
		theirs := strings.Index(out, "Caddy commands")
		if ours < 0 || theirs < ours {
			t.Fatalf("stackhub %v: StackHub's commands are not listed before Caddy's:\n%s", args, out)
		}
		for _, c := range []string{"up", "apps", "store", "user", "access", "dns"} {
			if i := regexp.MustCompile(`(?m)^  ` + c + ` `).FindStringIndex(out); i == nil || i[0] > theirs {
				t.Errorf("stackhub %v: %s is not among StackHub's commands:\n%s", args, c, out)
			}
		}
		for _, c := range []string{"run", "reload", "adapt", "list-modules"} {
			if i := regexp.MustCompile(`(?m)^  ` + c + ` `).FindStringIndex(out); i == nil || i[0] < theirs {
				t.Errorf("stackhub %v: %s is not among Caddy's commands:\n%s", args, c, out)
			}
		}
	}
	for _, c := range []string{"apps", "store", "user", "access", "dns", "up"} {
		out := help(c, "--help")
		if !strings.Contains(out, "stackhub "+c) || regexp.MustCompile(`(?m)^  caddy `).MatchString(out) || strings.Contains(out, "help for caddy") {
			t.Errorf("stackhub %s --help does not say stackhub:\n%s", c, out)
		}
	}
	if out := help("help", "apps"); !strings.Contains(out, "stackhub apps [command]") {
		t.Errorf("stackhub help apps:\n%s", out)
	}
}
