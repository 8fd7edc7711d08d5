package appctl

import (
	"sync"

	"github.com/stackhub/stackhub/internal/kv"
	"github.com/stackhub/stackhub/internal/registry"
)

// NewReadOnly returns a manager that only checks (CheckDesired) against the
// apps recorded in db: it has no Docker engine, so it must not install,
// start or stop anything. `stackhub validate` uses it.
func NewReadOnly(cfg Config, db *kv.DB, reg *registry.Registry) *Manager {
	cfg.setDefaults()
	return &Manager{cfg: cfg, db: db, reg: reg, log: cfg.Logger, locks: map[string]*sync.Mutex{}}
}
