package stores

import (
	"os"
	"regexp"
	"strings"
	"testing"
)

// TestUmbrelHookDoneByThePlatform: a pre-start hook that only makes a
// folder and a settings file with generated secrets is analysed, not run:
// the file becomes the app's seed, with a fresh secret per install.
func TestUmbrelHookDoneByThePlatform(t *testing.T) {
	app, err := ReadUmbrel(os.DirFS("testdata/umbrel-hooks"), "secret-notes")
	if err != nil {
		t.Fatal(err)
	}
	if app.Unavailable != "" {
		t.Fatalf("unavailable: %s", app.Unavailable)
	}
	seed := string(app.Seed["settings.env"])
	if !strings.Contains(seed, "STORAGE_DIR=/config\n") || !secretPattern.MatchString(seed) {
		t.Fatalf("settings.env seed = %q", seed)
	}
	first, second := FreshSecrets(app.Seed), FreshSecrets(app.Seed)
	re := regexp.MustCompile(`^SECRET_KEY=([0-9a-f]{64})\nDB_PASSWORD=([A-Za-z0-9+/=]{32})\nSTORAGE_DIR=/config\n$`)
	m1, m2 := re.FindStringSubmatch(string(first["settings.env"])), re.FindStringSubmatch(string(second["settings.env"]))
	if m1 == nil || m2 == nil {
		t.Fatalf("settings.env at install = %q", first["settings.env"])
	}
	if m1[1] == m2[1] || m1[2] == m2[2] {
		t.Error("two installs got the same secrets")
	}
	if secretPattern.Match(first["settings.env"]) {
		t.Error("a placeholder is left")
	}
	if w := strings.Join(app.Warnings, "\n"); !strings.Contains(w, "hooks/pre-start were analysed, not run") || strings.Contains(w, "did not do") {
		t.Errorf("warnings = %s", w)
	}
}

// TestUmbrelHookWithProgramsMakesTheAppUnavailable: lobe-chat's hook fills
// the env_file its compose file reads with python3; StackHub does not run
// it, so the app is listed unavailable, saying so, instead of failing at
// install.
func TestUmbrelHookWithProgramsMakesTheAppUnavailable(t *testing.T) {
	app, err := ReadUmbrel(os.DirFS("testdata/umbrel-hooks"), "lobe-chat")
	if err != nil {
		t.Fatal(err)
	}
	for _, w := range []string{"settings.env", "python3"} {
		if !strings.Contains(app.Unavailable, w) {
			t.Errorf("unavailable = %q, want it to name %s", app.Unavailable, w)
		}
	}
}

// TestUmbrelEnvFileNothingCreates: an env_file of the data folder that no
// hook or store file creates makes the app unavailable.
func TestUmbrelEnvFileNothingCreates(t *testing.T) {
	app := App{Compose: []byte("services:\n  web:\n    image: x\n    env_file: ${APP_DATA_DIR}/missing.env\n")}
	applyUmbrelHooks(&app, map[string][]byte{"hooks/pre-start": []byte("echo hi\n")}, []string{"hooks/pre-start"})
	if !strings.Contains(app.Unavailable, "missing.env") {
		t.Errorf("unavailable = %q", app.Unavailable)
	}
}

// TestSandboxChownOutsideTheApp: chown of a host path next to one of the
// app is refused, whatever the order.
func TestSandboxChownOutsideTheApp(t *testing.T) {
	sb := newShellSandbox(nil)
	if _, err := sb.run(t.Context(), "chown -R 1000:1000 /etc \"$APP_DATA_DIR/x\"\nchmod 755 \"$APP_DATA_DIR/y\"\n", "hook", sandboxEnv("a", nil)); err != nil {
		t.Fatal(err)
	}
	refused := sb.refused()
	if len(refused) != 1 || refused[0].Command != "chown" {
		t.Errorf("refused = %v", refused)
	}
}

// TestSandboxAnswersFileTestsItself: -r/-x/-O tests and `command -v` ask the
// sandbox, not the host, whose files exist for the test but not for the
// script.
func TestSandboxAnswersFileTestsItself(t *testing.T) {
	sb := newShellSandbox(map[string][]byte{"conf": []byte("x")})
	src := `[[ -r /etc/passwd ]] && export R=host
[ -x /bin/sh ] && export X=host
test -O /etc/hostname && export O=host
command -v sh && export C=host
[[ -r "$APP_DATA_DIR/conf" ]] && export OWN=seen
[[ -O "$APP_DATA_DIR/conf" ]] && export OWNER=ok
`
	vars, err := sb.run(t.Context(), src, "probe", sandboxEnv("a", nil))
	if err != nil {
		t.Fatal(err)
	}
	for _, k := range []string{"R", "X", "O", "C"} {
		if vars[k] != "" {
			t.Errorf("%s = %q: the script saw the host", k, vars[k])
		}
	}
	if vars["OWN"] != "seen" {
		t.Errorf("the app's own file is not readable: %v", vars)
	}
}
