package backup

import (
	"bytes"
	"context"
	"crypto/rand"
	"os"
	"path/filepath"
	"testing"
)

// randomTree writes a tree with an incompressible file of n bytes, an empty
// file and a nested one, and returns the random file's content.
func randomTree(t *testing.T, dir string, n int) []byte {
	t.Helper()
	big := make([]byte, n)
	rand.Read(big)
	writeTree(t, dir, map[string]string{"empty": "", "deep/er/note.txt": "hello\n"})
	if err := os.WriteFile(filepath.Join(dir, "big.bin"), big, 0o600); err != nil {
		t.Fatal(err)
	}
	return big
}

// sameBytes restores snapshot id and compares it with what was backed up.
func sameBytes(t *testing.T, repo Repo, id string, big []byte) {
	t.Helper()
	out := t.TempDir()
	if err := repo.Restore(context.Background(), id, out); err != nil {
		t.Fatal(err)
	}
	got, err := os.ReadFile(filepath.Join(out, "big.bin"))
	if err != nil || !bytes.Equal(got, big) {
		t.Fatalf("restored big.bin differs: %d bytes, want %d (%v)", len(got), len(big), err)
	}
	if b, err := os.ReadFile(filepath.Join(out, "empty")); err != nil || len(b) != 0 {
		t.Errorf("restored empty file: %q %v", b, err)
	}
	if b, _ := os.ReadFile(filepath.Join(out, "deep/er/note.txt")); string(b) != "hello\n" {
		t.Errorf("restored deep/er/note.txt = %q", b)
	}
}
