package kv

import (
	"errors"
	"strings"
	"testing"
)

func TestPutGetSurvivesReopen(t *testing.T) {
	dir := t.TempDir()
	db, err := Open(dir)
	if err != nil {
		t.Fatal(err)
	}
	type rec struct{ Name string }
	if err := db.Put("app/a", rec{"alpha"}); err != nil {
		t.Fatal(err)
	}
	if err := db.Put("app/b", rec{"beta"}); err != nil {
		t.Fatal(err)
	}
	if err := db.Put("user/x", rec{"x"}); err != nil {
		t.Fatal(err)
	}
	if err := db.Close(); err != nil {
		t.Fatal(err)
	}
	db, err = Open(dir)
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	var got rec
	if err := db.Get("app/b", &got); err != nil || got.Name != "beta" {
		t.Fatalf("got %+v, %v", got, err)
	}
	keys, _ := db.Keys("app/")
	if len(keys) != 2 || keys[0] != "app/a" || keys[1] != "app/b" {
		t.Fatalf("keys = %v", keys)
	}
	if err := db.Delete("app/a"); err != nil {
		t.Fatal(err)
	}
	if err := db.Get("app/a", &got); !errors.Is(err, ErrNotFound) {
		t.Fatalf("deleted key: err = %v", err)
	}
}

func TestSecondOpenIsRefusedWithAdvice(t *testing.T) {
	dir := t.TempDir()
	db, err := Open(dir)
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	_, err = Open(dir)
	if err == nil {
		t.Fatal("second open of a locked folder succeeded")
	}
	if want := "another StackHub process"; !strings.Contains(err.Error(), want) {
		t.Fatalf("error %q does not say %q", err, want)
	}
}

func TestUpdateRollsBackOnError(t *testing.T) {
	db, err := Open(t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	boom := errors.New("boom")
	err = db.Update(func(tx *Txn) error {
		if err := tx.Put("k", 1); err != nil {
			return err
		}
		return boom
	})
	if !errors.Is(err, boom) {
		t.Fatalf("err = %v", err)
	}
	var v int
	if err := db.Get("k", &v); !errors.Is(err, ErrNotFound) {
		t.Fatalf("write of a failed transaction is visible: %v %v", v, err)
	}
}

// TestSmallMemtableHoldsLargeRecords: the memtable is sized for a small
// box (1 MB), yet an app record of megabytes (a compose file with its
// files) and a transaction of hundreds of records still commit and read
// back after a reopen.
func TestSmallMemtableHoldsLargeRecords(t *testing.T) {
	dir := t.TempDir()
	db, err := Open(dir)
	if err != nil {
		t.Fatal(err)
	}
	big := strings.Repeat("services: {}\n", 200_000) // 2.6 MB
	if err := db.Put("app/big", big); err != nil {
		t.Fatalf("a 2.6 MB record: %v", err)
	}
	err = db.Update(func(tx *Txn) error {
		for i := range 500 {
			if err := tx.Put("session/"+strings.Repeat("x", i%40)+string(rune('a'+i%26))+strings.Repeat("0", i/26), map[string]string{"user": "u", "pad": strings.Repeat("p", 100)}); err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil {
		t.Fatalf("a transaction of 500 records: %v", err)
	}
	db.Close()
	if db, err = Open(dir); err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	var got string
	if err := db.Get("app/big", &got); err != nil || got != big {
		t.Fatalf("the big record after reopen: %d bytes, %v", len(got), err)
	}
	if keys, _ := db.Keys("session/"); len(keys) != 500 {
		t.Fatalf("%d session records after reopen, want 500", len(keys))
	}
}
