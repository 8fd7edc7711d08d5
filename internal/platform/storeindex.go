package platform

import (
	"context"
	"time"

	"go.uber.org/zap"

	"github.com/stackhub/stackhub/internal/kv"
)

// kvIndex keeps each store's last good index (stores.Index) in the state
// database, under "storeindex/<store>".
type kvIndex struct{ db *kv.DB }

func storeIndexKey(store string) string { return "storeindex/" + store }

func (k kvIndex) LoadIndex(store string) ([]byte, bool) {
	var b []byte
	if err := k.db.Get(storeIndexKey(store), &b); err != nil || len(b) == 0 {
		return nil, false
	}
	return b, true
}

func (k kvIndex) SaveIndex(store string, data []byte) error {
	return k.db.Put(storeIndexKey(store), data)
}

// storeLoadWait bounds how long start-up waits for stores that have no
// last good index yet (a first start); the load goes on in the background.
const storeLoadWait = 30 * time.Second

// loadStores serves every store's last good index at once and loads the
// stores in the background, with a context that Close cancels. Start-up
// waits (up to storeLoadWait) only for stores without an index.
func (p *Platform) loadStores() {
	missing := p.Catalog.UseIndex(kvIndex{p.DB})
	ctx, cancel := context.WithCancel(context.Background())
	p.storesCancel = cancel
	done := make(chan struct{})
	go func() {
		defer close(done)
		if err := p.Catalog.Refresh(ctx); err != nil && ctx.Err() == nil {
			p.Log.Warn("refresh stores", zap.Error(err))
		}
	}()
	p.storesDone = done
	if len(missing) == 0 {
		p.Log.Info("stores served from their last good index; loading them in the background")
		return
	}
	select {
	case <-done:
	case <-time.After(storeLoadWait):
		p.Log.Warn("stores still loading in the background", zap.Strings("stores", missing))
	}
}

// stopLoadingStores cancels a background store load and waits for it, so
// nothing writes to the state database after Close.
func (p *Platform) stopLoadingStores() {
	if p.storesCancel != nil {
		p.storesCancel()
		<-p.storesDone
	}
}
