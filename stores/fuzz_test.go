package stores

import (
	"bytes"
	"context"
	"testing"
)

// The fuzz targets feed arbitrary store files to each reader. A reader may
// refuse its input, but never panic, and what it accepts must be a
// consistent app: a valid id, a real main service and port, and a compose
// file that reads back as the same native app. Seeds are in
// testdata/fuzz/<target>/ (made from the shared samples).

// checkConverted is the invariant of every reader's output.
func checkConverted(t *testing.T, app App) {
	t.Helper()
	if !ValidID(app.ID) {
		t.Fatalf("invalid id %q", app.ID)
	}
	if app.Unavailable != "" {
		return
	}
	if app.MainPort <= 0 || app.MainPort > 65535 || app.MainService == "" {
		t.Fatalf("main %q:%d", app.MainService, app.MainPort)
	}
	back, err := parseNative(app.Compose, "x")
	if err != nil {
		t.Fatalf("converted compose file does not read back: %v\n%s", err, app.Compose)
	}
	if back.ID != app.ID || back.MainService != app.MainService || back.MainPort != app.MainPort || len(back.Fields) != len(app.Fields) {
		t.Fatalf("read back as %s %s:%d (%d fields), converted %s %s:%d (%d fields)",
			back.ID, back.MainService, back.MainPort, len(back.Fields), app.ID, app.MainService, app.MainPort, len(app.Fields))
	}
	seen := map[string]bool{}
	for _, f := range app.Fields {
		if !validVarName(f.Key) || isInstallVariable(f.Key) || seen[f.Key] {
			t.Fatalf("bad or duplicate field key %q", f.Key)
		}
		seen[f.Key] = true
	}
}

func FuzzCasaOS(f *testing.F) {
	f.Add([]byte("name: a\nservices:\n  web:\n    image: nginx:1.27.0\n    ports: [\"8080:80\"]\nx-casaos:\n  main: web\n  port_map: \"8080\"\n"), "A")
	f.Fuzz(func(t *testing.T, compose []byte, folder string) {
		if len(compose) > 64<<10 {
			return
		}
		app, err := convertCasaOS(context.Background(), compose, folder)
		if err == nil {
			checkConverted(t, app)
		}
	})
}

func FuzzRuntipi(f *testing.F) {
	f.Add([]byte(`{"id":"a","name":"A","port":8000}`), []byte(`{"services":[{"name":"a","image":"nginx:1.27.0","isMain":true,"internalPort":80}]}`), []byte(nil))
	f.Add([]byte(`{"id":"a","name":"A","port":8000}`), []byte(nil), []byte("services:\n  a:\n    image: nginx:1.27.0\n    ports: [\"${APP_PORT}:80\"]\n"))
	f.Fuzz(func(t *testing.T, config, dyn, legacy []byte) {
		if len(config)+len(dyn)+len(legacy) > 64<<10 {
			return
		}
		app, err := convertRuntipi(context.Background(), config, dyn, legacy, nil, "folder")
		if err == nil {
			checkConverted(t, app)
		}
	})
}

func FuzzUmbrel(f *testing.F) {
	f.Add([]byte("id: a\nname: A\nport: 8000\n"),
		[]byte("services:\n  app_proxy:\n    environment:\n      APP_HOST: a_web_1\n      APP_PORT: $APP_A_PORT\n  web:\n    image: nginx:1.27.0\n"),
		[]byte("export APP_A_PORT=\"80\"\n"))
	f.Fuzz(func(t *testing.T, manifest, compose, exports []byte) {
		if len(manifest)+len(compose)+len(exports) > 64<<10 {
			return
		}
		app, err := convertUmbrel(context.Background(), manifest, compose, exports, "folder")
		if err == nil {
			checkConverted(t, app)
		}
	})
}

func FuzzNative(f *testing.F) {
	f.Add([]byte("x-stackhub:\n  main: {service: web, port: 80}\nservices:\n  web:\n    image: nginx:1.27.0\n"))
	f.Fuzz(func(t *testing.T, compose []byte) {
		if len(compose) > 64<<10 {
			return
		}
		app, err := parseNative(compose, "fuzz")
		if err != nil {
			return
		}
		if !ValidID(app.ID) || app.MainPort <= 0 || app.MainPort > 65535 {
			t.Fatalf("accepted %s %s:%d", app.ID, app.MainService, app.MainPort)
		}
		// Hazards never fail on what parseNative accepted, and they are
		// stable.
		if h1, err := Hazards(compose); err == nil {
			h2, _ := Hazards(compose)
			if len(h1) != len(h2) {
				t.Fatalf("hazards differ: %v, %v", h1, h2)
			}
		}
	})
}

// FuzzRewriteVars checks that rewriting variables never panics and that
// a rewrite that keeps everything is the identity.
func FuzzRewriteVars(f *testing.F) {
	for _, s := range []string{"$A", "${A:-x}", "$$", "${", "${A:-${B:+c}}", "a$1b", "/DATA/AppData/$AppID/x"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		keep := rewriteVars(s, func(string) (varRewrite, bool) { return varRewrite{}, false })
		if keep != s && !bytes.Contains([]byte(s), []byte("$$")) {
			// "$$" is written back as "$$": the only normalization allowed
			// is none.
			t.Fatalf("identity rewrite changed %q into %q", s, keep)
		}
		rewriteVars(s, func(n string) (varRewrite, bool) { return literalVar("$" + n), true })
		rewriteVars(s, func(n string) (varRewrite, bool) { return renameVar("X_" + n), true })
	})
}
