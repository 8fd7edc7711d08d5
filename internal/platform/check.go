package platform

import (
	"context"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"strings"

	"go.uber.org/zap"

	"github.com/stackhub/stackhub/appctl"
	"github.com/stackhub/stackhub/declare"
	"github.com/stackhub/stackhub/dns"
	"github.com/stackhub/stackhub/internal/kv"
	"github.com/stackhub/stackhub/internal/registry"
	"github.com/stackhub/stackhub/stores"
)

// CheckDeclared resolves the declared apps against the platform's catalog
// and checks them against its installed apps; each error names the
// declaration's file and line. It changes nothing.
func (p *Platform) CheckDeclared(apps []declare.App, expand func(string) (string, error)) ([]appctl.Desired, error) {
	desired, err := declare.Desired(apps, declare.Lookup{
		Find: p.Catalog.Find, ReadPath: stores.ReadPath, Expand: expand,
	})
	if err != nil {
		return nil, err
	}
	if err := declare.Check(apps, desired, p.Config.Domain, p.Apps); err != nil {
		return nil, err
	}
	return desired, nil
}

// OpenForCheck opens a platform that can only be checked against, for a
// validation run (`stackhub validate`): it starts nothing, connects to no
// Docker engine and writes nothing. With readState, the state is read
// read-only (badger takes a shared lock until CloseCheck; when a StackHub
// holds the folder, or there is no state yet, the state is empty);
// without, it is empty and the data folder is not touched (a running
// StackHub checks the declarations itself then: the admin API's
// /stackhub/declared/check). Stores are served from their last good
// index; folder stores and the built-in one are read from disk; no store
// is fetched. CloseCheck releases it.
func OpenForCheck(cfg Config, readState bool, log *zap.Logger) (*Platform, error) {
	if err := cfg.Normalize(); err != nil {
		return nil, err
	}
	if log == nil {
		log = zap.NewNop()
	}
	var db *kv.DB
	var err error
	if readState {
		db, err = openStateForCheck(filepath.Join(cfg.DataDir, "state"), log)
	} else {
		db, err = kv.OpenMemory()
	}
	if err != nil {
		return nil, err
	}
	p := &Platform{Config: cfg, DB: db, Registry: registry.New(), ACME: dns.NewACMEStore(), Log: log}
	p.Catalog = stores.NewCatalog(stores.Builtin())
	for _, sc := range cfg.Stores {
		if err := p.addSource(sc); err != nil {
			db.Close()
			return nil, fmt.Errorf("stackhub: %w", err)
		}
	}
	local := map[string]bool{"builtin": true}
	for _, sc := range append(cfg.Stores, p.runtimeStores()...) {
		if !strings.HasPrefix(sc.Location, "http://") && !strings.HasPrefix(sc.Location, "https://") {
			local[sc.Name] = true
		}
	}
	for _, sc := range p.runtimeStores() {
		_ = p.addSource(sc) // a store added at run time that cannot be used shows in `stackhub store list`
	}
	for _, name := range p.Catalog.UseIndex(readOnlyIndex{kvIndex{db}}) {
		if local[name] {
			if err := p.Catalog.RefreshStore(context.Background(), name); err != nil {
				log.Warn("read store", zap.String("store", name), zap.Error(err))
			}
		}
	}
	p.Apps = appctl.NewReadOnly(appctl.Config{
		DataDir: cfg.DataDir, Domain: cfg.Domain, HTTPSPort: cfg.HTTPSPort,
		Instance: cfg.Instance, ProjectPrefix: cfg.ProjectPrefix, Network: cfg.Network,
		Logger: log.Named("apps"),
	}, db, p.Registry)
	return p, nil
}

// openStateForCheck opens the state read-only, or an empty state when
// there is none yet or a StackHub holds it.
func openStateForCheck(dir string, log *zap.Logger) (*kv.DB, error) {
	if _, err := os.Stat(dir); errors.Is(err, fs.ErrNotExist) {
		return kv.OpenMemory()
	}
	db, err := kv.OpenReadOnly(dir)
	if err == nil {
		return db, nil
	}
	log.Warn("the state cannot be read: declared apps are checked against no installed app and the built-in and folder stores only", zap.Error(err))
	return kv.OpenMemory()
}

// readOnlyIndex serves the stores' last good indexes and keeps none.
type readOnlyIndex struct{ kvIndex }

func (readOnlyIndex) SaveIndex(string, []byte) error { return nil }

// CloseCheck releases a platform from OpenForCheck.
func (p *Platform) CloseCheck() error { return p.DB.Close() }
