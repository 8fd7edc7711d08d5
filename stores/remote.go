package stores

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"time"
)

// ArchiveSource is a store published as a zip or tar.gz archive over
// HTTP(S), such as a GitHub repository's
// https://github.com/OWNER/REPO/archive/refs/heads/main.zip.
//
// Each Load asks the server whether the archive changed (If-None-Match with
// the last ETag, If-Modified-Since with the last Last-Modified). A new
// archive is downloaded into the cache folder, checked and unpacked (see
// ExtractArchive) into a new tree, its apps are read, and only then does
// the cache's state file, replaced atomically, point at the new tree; the
// old tree is removed after. A refresh that fails (server down, bad
// archive, not a store) leaves the last good tree in place: Load returns
// its apps together with the error, and the catalog shows both.
type ArchiveSource struct {
	name   string
	url    string
	format Format
	cache  string

	// Client makes the requests (default: a client with a 2-minute timeout
	// that refuses loopback, link-local and foreign private addresses; see
	// fetchGuard).
	Client *http.Client
	// Limits bound the download and what it unpacks to.
	Limits Limits

	mu       sync.Mutex
	lastTree string
	lastApps []App
	apps     appCache // converted apps by folder digest: a new archive converts only what changed
}

// NewArchiveSource returns a store fetched from url (http or https) in the
// given format (FormatAuto detects it), cached in the folder cacheDir (one
// folder per store; it is created).
func NewArchiveSource(name, url string, format Format, cacheDir string) (*ArchiveSource, error) {
	if !strings.HasPrefix(url, "https://") && !strings.HasPrefix(url, "http://") {
		return nil, fmt.Errorf("store %s: %q is not an http(s) URL", name, url)
	}
	if cacheDir == "" {
		return nil, fmt.Errorf("store %s: no cache folder", name)
	}
	return &ArchiveSource{name: name, url: url, format: format, cache: cacheDir}, nil
}

// Name is the store's name.
func (s *ArchiveSource) Name() string { return s.name }

// Location is the archive's URL.
func (s *ArchiveSource) Location() string { return s.url }

// archiveState is the cache folder's state.json.
type archiveState struct {
	URL          string    `json:"url"`
	Tree         string    `json:"tree"` // folder name in the cache
	ETag         string    `json:"etag,omitempty"`
	LastModified string    `json:"last_modified,omitempty"`
	Fetched      time.Time `json:"fetched"`
	Skipped      []string  `json:"skipped,omitempty"`
}

const stateFile = "state.json"

func (s *ArchiveSource) readState() (archiveState, bool) {
	var st archiveState
	b, err := os.ReadFile(filepath.Join(s.cache, stateFile))
	if err != nil || json.Unmarshal(b, &st) != nil || st.Tree == "" || st.URL != s.url {
		return archiveState{}, false
	}
	if fi, err := os.Stat(filepath.Join(s.cache, st.Tree)); err != nil || !fi.IsDir() {
		return archiveState{}, false
	}
	return st, true
}

// writeState replaces state.json atomically (write, sync, rename).
func (s *ArchiveSource) writeState(st archiveState) error {
	b, err := json.MarshalIndent(st, "", "  ")
	if err != nil {
		return err
	}
	tmp, err := os.CreateTemp(s.cache, ".state-*.tmp")
	if err != nil {
		return err
	}
	defer os.Remove(tmp.Name())
	if _, err := tmp.Write(b); err != nil {
		tmp.Close()
		return err
	}
	if err := tmp.Sync(); err != nil {
		tmp.Close()
		return err
	}
	if err := tmp.Close(); err != nil {
		return err
	}
	if err := os.Rename(tmp.Name(), filepath.Join(s.cache, stateFile)); err != nil {
		return err
	}
	if d, err := os.Open(s.cache); err == nil {
		d.Sync()
		d.Close()
	}
	return nil
}

// Load refreshes the store if the archive changed and returns its apps.
func (s *ArchiveSource) Load(ctx context.Context) ([]App, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if err := os.MkdirAll(s.cache, 0o755); err != nil {
		return nil, fmt.Errorf("store %s: cache folder: %w", s.name, err)
	}
	st, have := s.readState()
	apps, err := s.fetch(ctx, st, have)
	if err == nil {
		return apps, nil
	}
	err = fmt.Errorf("store %s: %w", s.name, err)
	if !have {
		return nil, err
	}
	// Keep serving the last good copy.
	good, gerr := s.readTree(ctx, st.Tree)
	if gerr != nil {
		return nil, errors.Join(err, fmt.Errorf("last good copy: %w", gerr))
	}
	return good, err
}

// client is s.Client, or by default a client with a 2-minute timeout that
// connects only where the store URL allows (see fetchGuard).
func (s *ArchiveSource) client() (*http.Client, error) {
	if s.Client != nil {
		return s.Client, nil
	}
	g, err := newFetchGuard(s.url)
	if err != nil {
		return nil, err
	}
	return g.client(2 * time.Minute), nil
}

func (s *ArchiveSource) fetch(ctx context.Context, st archiveState, have bool) ([]App, error) {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, s.url, nil)
	if err != nil {
		return nil, err
	}
	req.Header.Set("User-Agent", "StackHub store refresh")
	if have {
		if st.ETag != "" {
			req.Header.Set("If-None-Match", st.ETag)
		}
		if st.LastModified != "" {
			req.Header.Set("If-Modified-Since", st.LastModified)
		}
	}
	c, err := s.client()
	if err != nil {
		return nil, err
	}
	resp, err := c.Do(req)
	if err != nil {
		return nil, fmt.Errorf("fetch %s: %w", s.url, err)
	}
	defer resp.Body.Close()
	switch {
	case resp.StatusCode == http.StatusNotModified && have:
		return s.readTree(ctx, st.Tree)
	case resp.StatusCode != http.StatusOK:
		return nil, fmt.Errorf("fetch %s: %s", s.url, resp.Status)
	}
	lim := s.Limits.orDefault()
	if resp.ContentLength > lim.MaxDownload {
		return nil, unsafe("the archive is %d MiB, more than the limit of %d MiB", resp.ContentLength>>20, lim.MaxDownload>>20)
	}
	dl, err := os.CreateTemp(s.cache, ".download-*.tmp")
	if err != nil {
		return nil, err
	}
	defer func() {
		dl.Close()
		os.Remove(dl.Name())
	}()
	n, err := io.Copy(dl, io.LimitReader(resp.Body, lim.MaxDownload+1))
	if err != nil {
		return nil, fmt.Errorf("download %s: %w", s.url, err)
	}
	if n > lim.MaxDownload {
		return nil, unsafe("the archive is larger than the limit of %d MiB", lim.MaxDownload>>20)
	}
	tree := "tree-" + randomHex(6)
	dir := filepath.Join(s.cache, tree)
	if err := os.Mkdir(dir, 0o755); err != nil {
		return nil, err
	}
	keep := false
	defer func() {
		if !keep {
			os.RemoveAll(dir)
		}
	}()
	skipped, err := ExtractArchive(dl, n, dir, lim)
	if err != nil {
		return nil, fmt.Errorf("unpack %s: %w", s.url, err)
	}
	apps, err := s.readTree(ctx, tree)
	if err != nil {
		return nil, err
	}
	next := archiveState{URL: s.url, Tree: tree, ETag: resp.Header.Get("ETag"),
		LastModified: resp.Header.Get("Last-Modified"), Fetched: time.Now().UTC(), Skipped: skipped}
	if err := s.writeState(next); err != nil {
		return nil, fmt.Errorf("cache: %w", err)
	}
	keep = true
	s.removeOldTrees(tree)
	return apps, nil
}

// removeOldTrees removes the cache's trees other than current (left by
// earlier refreshes, or by a crash before a swap).
func (s *ArchiveSource) removeOldTrees(current string) {
	entries, err := os.ReadDir(s.cache)
	if err != nil {
		return
	}
	for _, e := range entries {
		if e.Name() != current && (strings.HasPrefix(e.Name(), "tree-") || strings.HasPrefix(e.Name(), ".download-")) {
			os.RemoveAll(filepath.Join(s.cache, e.Name()))
		}
	}
}

// readTree reads the apps of an unpacked tree (cached in memory while the
// tree stays current).
func (s *ArchiveSource) readTree(ctx context.Context, tree string) ([]App, error) {
	if tree == s.lastTree && s.lastApps != nil {
		return s.lastApps, nil
	}
	root, err := os.OpenRoot(filepath.Join(s.cache, tree))
	if err != nil {
		return nil, err
	}
	defer root.Close()
	apps, err := readStore(ctx, root.FS(), s.format, &s.apps)
	if err != nil {
		return nil, err
	}
	s.lastTree, s.lastApps = tree, apps
	return apps, nil
}

func randomHex(n int) string {
	b := make([]byte, n)
	rand.Read(b)
	return hex.EncodeToString(b)
}

// NewSource makes the source of a store from where it lives: an http(s)
// URL of an archive (cached under cacheDir/<name>), or a local folder.
func NewSource(name, location string, format Format, cacheDir string) (Source, error) {
	if !ValidID(name) {
		return nil, fmt.Errorf("store name %q: use lower case letters, digits and '-'", name)
	}
	if strings.HasPrefix(location, "http://") || strings.HasPrefix(location, "https://") {
		return NewArchiveSource(name, location, format, filepath.Join(cacheDir, name))
	}
	fi, err := os.Stat(location)
	if err != nil {
		return nil, fmt.Errorf("store %s: %w", name, err)
	}
	if !fi.IsDir() {
		return nil, fmt.Errorf("store %s: %s is not a folder (a store is a folder, or the http(s) URL of an archive)", name, location)
	}
	return DirSource(name, location, format), nil
}
