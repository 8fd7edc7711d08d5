package main

// Modes for the tests of updates, backups and restores:
//
//	MIGRATE=TEXT     at start, rewrite $DATA_DIR/data.txt as TEXT + its old
//	                 contents (a new version migrating its data)
//	FAIL_HEALTH=1    /health answers 503 (a new version that is broken)
//	testapp -dump F  print file F (a backup hook's dump command)
//	testapp -load F  write standard input to file F (its restore command)

import (
	"io"
	"os"
	"path/filepath"
)

// fileModes runs -dump or -load when given; it reports whether it did.
func fileModes(dump, load string) bool {
	switch {
	case dump != "":
		f, err := os.Open(dump)
		if err != nil {
			os.Stderr.WriteString(err.Error() + "\n")
			os.Exit(1)
		}
		io.Copy(os.Stdout, f)
		return true
	case load != "":
		b, err := io.ReadAll(os.Stdin)
		if err == nil {
			err = os.WriteFile(load, b, 0o644)
		}
		if err != nil {
			os.Stderr.WriteString(err.Error() + "\n")
			os.Exit(1)
		}
		return true
	}
	return false
}

// migrate applies MIGRATE to the data file.
func migrate(dataDir string) {
	text := os.Getenv("MIGRATE")
	if text == "" {
		return
	}
	p := filepath.Join(dataDir, "data.txt")
	old, _ := os.ReadFile(p)
	os.MkdirAll(dataDir, 0o755)
	os.WriteFile(p, append([]byte(text), old...), 0o644)
}

func healthFails() bool { return os.Getenv("FAIL_HEALTH") == "1" }
