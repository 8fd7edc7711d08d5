package caddymodules

import (
	"os"
	"strings"
)

// localPath reports whether an `apps install` argument names the user's
// own app on disk rather than a store's app (ID or STORE/ID): it does when
// it is written as a path (./x, ../x, /x, ~/x, a .yml or .yaml file) or
// when it exists. So umbrel/vaultwarden is a store's app unless a folder
// of that name is right here; ./umbrel/vaultwarden is always the folder.
func localPath(arg string) bool {
	switch {
	case arg == "." || arg == "..",
		strings.HasPrefix(arg, "./"), strings.HasPrefix(arg, "../"),
		strings.HasPrefix(arg, "/"), strings.HasPrefix(arg, "~"),
		strings.HasSuffix(arg, ".yml"), strings.HasSuffix(arg, ".yaml"):
		return true
	}
	_, err := os.Stat(arg)
	return err == nil
}
