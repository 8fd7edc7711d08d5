package kv

import (
	"os"
	"testing"
)

// TestReadOnlyReadsAndLeavesTheFolderFree: a read-only open sees what was
// written, is refused while a StackHub holds the folder, changes no file,
// and leaves the folder free for the next opener.
func TestReadOnlyReadsAndLeavesTheFolderFree(t *testing.T) {
	dir := t.TempDir()
	db, err := Open(dir)
	if err != nil {
		t.Fatal(err)
	}
	if err := db.Put("apps/alpha", "installed"); err != nil {
		t.Fatal(err)
	}
	if _, err := OpenReadOnly(dir); err == nil {
		t.Fatal("a read-only open succeeded while the folder is held")
	}
	db.Close()
	before, _ := os.ReadDir(dir)

	ro, err := OpenReadOnly(dir)
	if err != nil {
		t.Fatal(err)
	}
	var got string
	if err := ro.Get("apps/alpha", &got); err != nil || got != "installed" {
		t.Fatalf("read-only get: %q, %v", got, err)
	}
	if err := ro.Close(); err != nil {
		t.Fatal(err)
	}
	after, _ := os.ReadDir(dir)
	if len(after) != len(before) {
		t.Errorf("a read-only open changed the folder: %v, then %v", before, after)
	}
	db, err = Open(dir)
	if err != nil {
		t.Fatalf("open after a read-only open: %v", err)
	}
	db.Close()
}

func TestMemoryStartsEmpty(t *testing.T) {
	db, err := OpenMemory()
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	if keys, err := db.Keys(""); err != nil || len(keys) != 0 {
		t.Fatalf("keys of an empty state: %v, %v", keys, err)
	}
	if err := db.Put("a", 1); err != nil {
		t.Fatal(err)
	}
}
