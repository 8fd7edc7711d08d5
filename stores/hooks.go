package stores

import (
	"bytes"
	"context"
	"crypto/rand"
	"encoding/base64"
	"encoding/hex"
	"fmt"
	"path"
	"regexp"
	"sort"
	"strconv"
	"strings"
)

// Umbrel runs an app's hooks/ scripts around its lifecycle (pre-install,
// pre-start …). StackHub never runs them: it runs the hooks that prepare
// an install (pre-install, post-install, pre-start) in the shell sandbox
// (shellsandbox.go) and does itself what they did there, which is what the
// platform can do anyway:
//
//   - a folder made with mkdir: bind mounts create their folders;
//   - a file made with touch, echo/printf > file, cat: created in the data
//     folder at install (App.Seed), never overwritten;
//   - a secret from `openssl rand -hex|-base64 N`: generated anew for each
//     install, where the hook wrote it;
//   - chown/chmod in the app's folder: the data folder is the app user's;
//   - sleep, waiting for a service: the platform waits for health.
//
// Everything else is refused: programs (python3, jq, docker, the Umbrel
// CLI …) and files outside the app. When a refused line would have written
// a file the compose file reads (env_file, a bind-mounted file), or the
// compose file reads a file of the data folder that nothing creates, the
// app is unavailable, saying which line; other refused lines are warnings.

// preparingHooks are the hooks whose effect an install needs, in the order
// Umbrel runs them.
var preparingHooks = []string{"hooks/pre-install", "hooks/post-install", "hooks/pre-start"}

// secretPattern matches the placeholders the sandbox writes for secrets
// ("stackhub-secret:hex:32:1:"); FreshSecrets replaces them at install.
var secretPattern = regexp.MustCompile(`stackhub-secret:(hex|base64):([0-9]+):([0-9]+):`)

// applyUmbrelHooks runs the preparing hooks of an Umbrel app in the
// sandbox and records their effect on app; files are the app folder's
// files (hooks included) by relative path.
func applyUmbrelHooks(app *App, files map[string][]byte, hooks []string) {
	sort.Strings(hooks)
	if len(hooks) == 0 {
		return
	}
	sb := newShellSandbox(files)
	sb.secretPlaceholders = true
	var ran, notRun []string
	for _, h := range preparingHooks {
		src, ok := files[h]
		if !ok {
			continue
		}
		if _, err := sb.run(context.Background(), string(src), h, sandboxEnv(app.ID, nil)); err != nil {
			app.Warnings = append(app.Warnings, fmt.Sprintf("Umbrel hook %s could not be analysed: %v", h, err))
			continue
		}
		ran = append(ran, h)
	}
	for _, h := range hooks {
		if !contains(ran, h) && !contains(preparingHooks, h) {
			notRun = append(notRun, h)
		}
	}
	// What the hooks created becomes the app's seed.
	for p, b := range sb.files {
		rel := strings.TrimPrefix(p, sandboxAppDir+"/")
		if _, orig := files[rel]; orig && bytes.Equal(files[rel], b) {
			continue
		}
		if app.Seed == nil {
			app.Seed = map[string][]byte{}
		}
		app.Seed[rel] = b
	}
	var refusedNotes []string
	for _, a := range sb.refused() {
		refusedNotes = append(refusedNotes, a.String())
	}
	// Files the compose file reads from the data folder must exist.
	for _, f := range composeReadFiles(app.Compose) {
		if _, ok := app.Seed[f]; !ok {
			app.Unavailable = fmt.Sprintf("needs the file %s in its data folder, which nothing creates (Umbrel's hooks would, with programs StackHub does not run)", f)
			break
		}
		for _, a := range sb.refused() {
			for _, arg := range a.Args {
				if arg == path.Join(sandboxAppDir, f) {
					app.Unavailable = fmt.Sprintf("its Umbrel hook fills %s with a program StackHub does not run (%s)", f, a)
				}
			}
		}
		if app.Unavailable != "" {
			break
		}
	}
	if len(ran) > 0 {
		msg := "Umbrel hooks " + strings.Join(ran, ", ") + " were analysed, not run: StackHub did what they do in the app's folder"
		if len(refusedNotes) > 0 {
			msg += "; it did not do " + strings.Join(refusedNotes, "; ")
		}
		app.Warnings = append(app.Warnings, msg)
	}
	if len(notRun) > 0 {
		app.Warnings = append(app.Warnings, "Umbrel hooks are not run: "+strings.Join(notRun, ", "))
	}
}

func contains(list []string, s string) bool {
	for _, x := range list {
		if x == s {
			return true
		}
	}
	return false
}

// composeReadFiles lists the files of the data folder a converted compose
// file reads as files: its env_file entries under ${APP_DATA_DIR}.
func composeReadFiles(compose []byte) []string {
	doc, err := decodeYAML(compose)
	if err != nil {
		return nil
	}
	var out []string
	add := func(p string) {
		for _, prefix := range []string{"${APP_DATA_DIR}/", "$APP_DATA_DIR/"} {
			if rel, ok := strings.CutPrefix(p, prefix); ok && !contains(out, path.Clean(rel)) {
				out = append(out, path.Clean(rel))
			}
		}
	}
	for _, svc := range serviceMap(doc) {
		switch v := svc["env_file"].(type) {
		case string:
			add(v)
		case []any:
			for _, e := range v {
				if m := asMap(e); m != nil {
					if r, ok := m["required"].(bool); ok && !r {
						continue
					}
					add(scalarString(m["path"]))
				} else {
					add(scalarString(e))
				}
			}
		}
	}
	sort.Strings(out)
	return out
}

// FreshSecrets returns seed with every secret placeholder a hook's
// `openssl rand` left replaced by a new random value (the same placeholder
// by the same value). appctl calls it once per install.
func FreshSecrets(seed map[string][]byte) map[string][]byte {
	values := map[string]string{}
	out := make(map[string][]byte, len(seed))
	for name, b := range seed {
		out[name] = secretPattern.ReplaceAllFunc(b, func(m []byte) []byte {
			key := string(m)
			if v, ok := values[key]; ok {
				return []byte(v)
			}
			sm := secretPattern.FindSubmatch(m)
			n, _ := strconv.Atoi(string(sm[2]))
			raw := make([]byte, n)
			rand.Read(raw)
			v := hex.EncodeToString(raw)
			if string(sm[1]) == "base64" {
				v = base64.StdEncoding.EncodeToString(raw)
			}
			values[key] = v
			return []byte(v)
		})
	}
	return out
}
