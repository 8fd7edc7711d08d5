// Package kv is StackHub's durable state: a thin wrapper over badger that
// stores JSON values under string keys.
//
// Writes are synced to disk before Update returns (SyncWrites), because the
// desired state of an app is written before the platform acts on it and must
// survive a crash at any later point (DESIGN.md invariant 5).
package kv

import (
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"strings"

	badger "github.com/dgraph-io/badger/v4"
	badgeroptions "github.com/dgraph-io/badger/v4/options"
)

// ErrNotFound is returned when a key has no value.
var ErrNotFound = errors.New("not found")

// DB is an open state database. It is safe for concurrent use.
type DB struct {
	db *badger.DB
}

// Open opens (creating if needed) the database in dir. Badger holds an
// exclusive lock on dir, so one process may open it at a time.
func Open(dir string) (*DB, error) {
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return nil, fmt.Errorf("create state folder %s: %w", dir, err)
	}
	db, err := badger.Open(options(dir))
	if err != nil {
		if strings.Contains(err.Error(), "Cannot acquire directory lock") {
			return nil, fmt.Errorf("open state %s: another StackHub process is using this data folder; stop it or choose another --data folder: %w", dir, err)
		}
		return nil, fmt.Errorf("open state %s: %w", dir, err)
	}
	return &DB{db: db}, nil
}

// options are the database's options.
func options(dir string) badger.Options {
	return badger.DefaultOptions(dir).
		WithSyncWrites(true).
		WithLogger(nil).
		WithNumVersionsToKeep(1).
		// Sized for a small box (docs/BENCHMARKS.md, footprint): StackHub's
		// state is kilobytes, and badger's defaults reserve hundreds of MB.
		// The memtable's arena is allocated whole at open (1 MB still holds
		// a transaction of ~150 KB; values over 64 KB go to the value log).
		// Blocks are not compressed, so no block cache is needed: tables
		// are mmapped and the page cache serves them; table indexes stay
		// in memory (a handful of small tables). Tables written compressed
		// by older versions still read: the manifest records each table's
		// compression.
		WithMemTableSize(1 << 20).
		WithBaseTableSize(1 << 20).
		WithValueThreshold(64 << 10).
		WithValueLogFileSize(4 << 20).
		WithNumMemtables(2).
		WithNumLevelZeroTables(2).
		WithNumLevelZeroTablesStall(4).
		WithNumCompactors(2).
		WithCompression(badgeroptions.None).
		WithBlockCacheSize(0).
		WithIndexCacheSize(0).
		WithMetricsEnabled(false)
}

// Close flushes and closes the database.
func (d *DB) Close() error { return d.db.Close() }

// Txn is one read-write or read-only transaction.
type Txn struct {
	txn *badger.Txn
}

// Get decodes the JSON value of key into v. It returns ErrNotFound when the
// key is absent.
func (t *Txn) Get(key string, v any) error {
	item, err := t.txn.Get([]byte(key))
	if errors.Is(err, badger.ErrKeyNotFound) {
		return ErrNotFound
	}
	if err != nil {
		return fmt.Errorf("read %s: %w", key, err)
	}
	return item.Value(func(b []byte) error {
		if err := json.Unmarshal(b, v); err != nil {
			return fmt.Errorf("decode %s: %w", key, err)
		}
		return nil
	})
}

// Put stores v as JSON under key.
func (t *Txn) Put(key string, v any) error {
	b, err := json.Marshal(v)
	if err != nil {
		return fmt.Errorf("encode %s: %w", key, err)
	}
	return t.txn.Set([]byte(key), b)
}

// Delete removes key; deleting an absent key is not an error.
func (t *Txn) Delete(key string) error { return t.txn.Delete([]byte(key)) }

// Keys lists the keys that start with prefix, in order.
func (t *Txn) Keys(prefix string) []string {
	opts := badger.DefaultIteratorOptions
	opts.PrefetchValues = false
	opts.Prefix = []byte(prefix)
	it := t.txn.NewIterator(opts)
	defer it.Close()
	var keys []string
	for it.Rewind(); it.Valid(); it.Next() {
		keys = append(keys, string(it.Item().KeyCopy(nil)))
	}
	return keys
}

// Update runs fn in a read-write transaction and commits it when fn returns
// nil. A conflicting concurrent transaction is retried a few times, so fn
// must not have side effects outside the transaction.
func (d *DB) Update(fn func(*Txn) error) error {
	var err error
	for range 5 {
		err = d.db.Update(func(txn *badger.Txn) error { return fn(&Txn{txn: txn}) })
		if !errors.Is(err, badger.ErrConflict) {
			return err
		}
	}
	return err
}

// View runs fn in a read-only transaction.
func (d *DB) View(fn func(*Txn) error) error {
	return d.db.View(func(txn *badger.Txn) error { return fn(&Txn{txn: txn}) })
}

// Get is View + Txn.Get.
func (d *DB) Get(key string, v any) error {
	return d.View(func(t *Txn) error { return t.Get(key, v) })
}

// Put is Update + Txn.Put.
func (d *DB) Put(key string, v any) error {
	return d.Update(func(t *Txn) error { return t.Put(key, v) })
}

// Delete is Update + Txn.Delete.
func (d *DB) Delete(key string) error {
	return d.Update(func(t *Txn) error { return t.Delete(key) })
}

// Keys is View + Txn.Keys.
func (d *DB) Keys(prefix string) ([]string, error) {
	var keys []string
	err := d.View(func(t *Txn) error { keys = t.Keys(prefix); return nil })
	return keys, err
}

// OpenReadOnly opens the database in dir for reading only, as `stackhub
// validate` does when no StackHub runs on the folder. Badger takes a
// shared lock for it, released by Close; it fails while a StackHub holds
// the folder.
func OpenReadOnly(dir string) (*DB, error) {
	db, err := badger.Open(options(dir).WithReadOnly(true))
	if err != nil {
		return nil, fmt.Errorf("open state %s read-only: %w", dir, err)
	}
	return &DB{db: db}, nil
}

// OpenMemory opens an empty database in memory, for a data folder that
// holds no state yet.
func OpenMemory() (*DB, error) {
	db, err := badger.Open(options("").WithInMemory(true).WithSyncWrites(false))
	if err != nil {
		return nil, fmt.Errorf("open empty state: %w", err)
	}
	return &DB{db: db}, nil
}
