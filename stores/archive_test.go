package stores

import (
	"archive/tar"
	"archive/zip"
	"bytes"
	"compress/gzip"
	"context"
	"errors"
	"fmt"
	"io/fs"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"sync"
	"testing"
	"time"
)

// entry is one entry of a hand-made archive.
type entry struct {
	name string
	body string
	link string // symlink target
	hard string // hard link target (tar only)
	dir  bool
	size int64 // declared size override (tar only)
}

func makeZip(t *testing.T, entries []entry) []byte {
	t.Helper()
	var buf bytes.Buffer
	w := zip.NewWriter(&buf)
	for _, e := range entries {
		h := &zip.FileHeader{Name: e.name, Method: zip.Deflate}
		switch {
		case e.link != "":
			h.SetMode(fs.ModeSymlink | 0o777)
		case e.dir:
			h.Name = strings.TrimSuffix(e.name, "/") + "/"
			h.SetMode(fs.ModeDir | 0o755)
		default:
			h.SetMode(0o644)
		}
		f, err := w.CreateHeader(h)
		if err != nil {
			t.Fatal(err)
		}
		body := e.body
		if e.link != "" {
			body = e.link
		}
		if !e.dir {
			f.Write([]byte(body))
		}
	}
	if err := w.Close(); err != nil {
		t.Fatal(err)
	}
	return buf.Bytes()
}

func makeTarGz(t *testing.T, entries []entry) []byte {
	t.Helper()
	var buf bytes.Buffer
	gz := gzip.NewWriter(&buf)
	w := tar.NewWriter(gz)
	// GitHub's archives start with a pax global header.
	w.WriteHeader(&tar.Header{Typeflag: tar.TypeXGlobalHeader, Name: "pax_global_header", PAXRecords: map[string]string{"comment": "abc"}})
	for _, e := range entries {
		h := &tar.Header{Name: e.name, Mode: 0o644, Size: int64(len(e.body)), Typeflag: tar.TypeReg, ModTime: time.Unix(0, 0)}
		switch {
		case e.link != "":
			h.Typeflag, h.Linkname, h.Size = tar.TypeSymlink, e.link, 0
		case e.hard != "":
			h.Typeflag, h.Linkname, h.Size = tar.TypeLink, e.hard, 0
		case e.dir:
			h.Typeflag, h.Mode, h.Size = tar.TypeDir, 0o755, 0
		}
		if e.size > 0 {
			h.Size = e.size
		}
		if err := w.WriteHeader(h); err != nil {
			t.Fatal(err)
		}
		if h.Typeflag == tar.TypeReg {
			if e.size > 0 {
				// A header that lies: the data is cut short.
				w.Write([]byte("short"))
				w.Flush()
				gz.Close()
				return buf.Bytes()
			}
			w.Write([]byte(e.body))
		}
	}
	if err := w.Close(); err != nil {
		t.Fatal(err)
	}
	gz.Close()
	return buf.Bytes()
}

// listTree lists every path below dir (relative, sorted).
func listTree(t *testing.T, dir string) []string {
	t.Helper()
	var out []string
	filepath.WalkDir(dir, func(p string, d fs.DirEntry, err error) error {
		if err == nil && p != dir {
			rel, _ := filepath.Rel(dir, p)
			out = append(out, rel)
		}
		return nil
	})
	sort.Strings(out)
	return out
}

// Hostile archives are refused with a clear error, and nothing is
// written outside the destination folder.
func TestHostileArchivesRefused(t *testing.T) {
	small := Limits{MaxDownload: 1 << 20, MaxTotal: 4096, MaxFile: 1024, MaxFiles: 10}
	many := []entry{}
	for i := 0; i < 20; i++ {
		many = append(many, entry{name: fmt.Sprintf("store/f%d.txt", i), body: "x"})
	}
	total := []entry{}
	for i := 0; i < 6; i++ {
		total = append(total, entry{name: fmt.Sprintf("store/f%d.bin", i), body: strings.Repeat("y", 1000)})
	}
	for _, tc := range []struct {
		name    string
		entries []entry
		tarOnly bool
		want    string
	}{
		{"traversal", []entry{{name: "store/ok.txt", body: "ok"}, {name: "store/../../evil.txt", body: "pwned"}}, false, "escapes the store folder"},
		{"traversal-backslash", []entry{{name: "..\\..\\evil.txt", body: "pwned"}}, false, "escapes the store folder"},
		{"absolute", []entry{{name: "/ABS/evil.txt", body: "pwned"}}, false, "absolute path"},
		{"symlink-out-absolute", []entry{{name: "store/link", link: "/etc/passwd"}}, false, "points outside"},
		{"symlink-out-relative", []entry{{name: "store/sub/link", link: "../../../outside"}}, false, "points outside"},
		{"symlink-then-write-through", []entry{{name: "store/link", link: "../.."}, {name: "store/link/evil.txt", body: "pwned"}}, false, "points outside"},
		{"hardlink-out", []entry{{name: "store/hard", hard: "../../etc/passwd"}}, true, "outside the store folder"},
		{"huge-file", []entry{{name: "store/big.bin", body: strings.Repeat("z", 5000)}}, false, "limit"},
		{"huge-declared", []entry{{name: "store/big.bin", size: 1 << 30}}, true, "limit"},
		{"too-many-files", many, false, "more than 10"},
		{"too-much-in-total", total, false, "more than 0 MiB"},
	} {
		for _, kind := range []string{"zip", "tar.gz"} {
			if tc.tarOnly && kind == "zip" {
				continue
			}
			t.Run(tc.name+"/"+kind, func(t *testing.T) {
				parent := t.TempDir()
				dest := filepath.Join(parent, "store")
				os.Mkdir(dest, 0o755)
				entries := tc.entries
				if tc.name == "absolute" {
					// An absolute path that would land next to dest.
					entries = []entry{{name: filepath.Join(parent, "abs-evil.txt"), body: "pwned"}}
				}
				var data []byte
				if kind == "zip" {
					data = makeZip(t, entries)
				} else {
					data = makeTarGz(t, entries)
				}
				_, err := ExtractArchive(bytes.NewReader(data), int64(len(data)), dest, small)
				if err == nil {
					t.Fatalf("archive accepted; tree: %v", listTree(t, dest))
				}
				if !errors.Is(err, ErrUnsafeArchive) || !strings.Contains(err.Error(), tc.want) {
					t.Errorf("error = %v, want an unsafe-archive error saying %q", err, tc.want)
				}
				if got := listTree(t, parent); len(got) == 0 || got[0] != "store" || strings.Contains(strings.Join(got, " "), "evil") || !allUnder(got, "store") {
					t.Errorf("parent folder holds %v, want only store/…", got)
				}
				for _, p := range listTree(t, dest) {
					fi, _ := os.Lstat(filepath.Join(dest, p))
					if fi.Mode()&fs.ModeSymlink != 0 {
						t.Errorf("a link was created: %s", p)
					}
				}
			})
		}
	}
}

func allUnder(paths []string, dir string) bool {
	for _, p := range paths {
		if p != dir && !strings.HasPrefix(p, dir+string(filepath.Separator)) {
			return false
		}
	}
	return true
}

func TestArchiveExtractsSafely(t *testing.T) {
	entries := []entry{
		{name: "repo-main/", dir: true},
		{name: "repo-main/app/compose.yaml", body: "services: {}\n"},
		{name: "repo-main/app/inner-link", link: "compose.yaml"},
		{name: "repo-main/app/run.sh", body: "#!/bin/sh\n"},
	}
	for _, kind := range []string{"zip", "tar.gz"} {
		dest := t.TempDir()
		data := makeZip(t, entries)
		if kind == "tar.gz" {
			data = makeTarGz(t, entries)
		}
		skipped, err := ExtractArchive(bytes.NewReader(data), int64(len(data)), dest, Limits{})
		if err != nil {
			t.Fatalf("%s: %v", kind, err)
		}
		got := listTree(t, dest)
		want := []string{"repo-main", "repo-main/app", "repo-main/app/compose.yaml", "repo-main/app/run.sh"}
		if strings.Join(got, ",") != strings.Join(want, ",") {
			t.Errorf("%s: tree = %v, want %v", kind, got, want)
		}
		if len(skipped) != 1 || !strings.Contains(skipped[0], "inner-link") {
			t.Errorf("%s: skipped = %v", kind, skipped)
		}
		fi, _ := os.Stat(filepath.Join(dest, "repo-main/app/run.sh"))
		if fi.Mode().Perm()&0o111 != 0 {
			t.Errorf("%s: run.sh is executable (%v)", kind, fi.Mode())
		}
	}
	if _, err := ExtractArchive(bytes.NewReader([]byte("not an archive")), 14, t.TempDir(), Limits{}); err == nil || !strings.Contains(err.Error(), "not a zip or tar.gz") {
		t.Errorf("plain text: %v", err)
	}
}

// storeServer serves a store archive with ETag and Last-Modified, answers
// conditional requests with 304, and records what it saw.
type storeServer struct {
	mu           sync.Mutex
	body         []byte
	etag         string
	modified     time.Time
	requests     int
	notModified  int
	ifNoneMatch  []string
	ifModifiedSn []string
}

func (s *storeServer) set(body []byte, etag string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.body, s.etag, s.modified = body, etag, time.Now().Add(-time.Hour).Truncate(time.Second)
}

func (s *storeServer) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.requests++
	s.ifNoneMatch = append(s.ifNoneMatch, r.Header.Get("If-None-Match"))
	s.ifModifiedSn = append(s.ifModifiedSn, r.Header.Get("If-Modified-Since"))
	if r.Header.Get("If-None-Match") == s.etag {
		s.notModified++
		w.WriteHeader(http.StatusNotModified)
		return
	}
	w.Header().Set("ETag", s.etag)
	w.Header().Set("Last-Modified", s.modified.UTC().Format(http.TimeFormat))
	w.Header().Set("Content-Type", "application/zip")
	w.Write(s.body)
}

func nativeApp(id, image string) string {
	return fmt.Sprintf("x-stackhub:\n  name: %s\n  main: {service: web, port: 80}\nservices:\n  web:\n    image: %s\n", id, image)
}

func TestArchiveSourceOverHTTP(t *testing.T) {
	srv := &storeServer{}
	v1 := makeZip(t, []entry{
		{name: "store-main/alpha/compose.yaml", body: nativeApp("Alpha", "nginx:1.27.0")},
		{name: "store-main/beta/compose.yaml", body: nativeApp("Beta", "nginx:1.27.0")},
	})
	srv.set(v1, `"v1"`)
	ts := httptest.NewServer(srv) // listens on 127.0.0.1
	defer ts.Close()
	if !strings.HasPrefix(ts.URL, "http://127.0.0.1:") {
		t.Fatalf("test server not on loopback: %s", ts.URL)
	}
	cache := filepath.Join(t.TempDir(), "cache")
	src, err := NewArchiveSource("mystore", ts.URL+"/main.zip", FormatAuto, cache)
	if err != nil {
		t.Fatal(err)
	}
	cat := NewCatalog(src)
	ctx := context.Background()

	// 1. First fetch.
	if err := cat.Refresh(ctx); err != nil {
		t.Fatal(err)
	}
	if ids := appIDs(cat.Apps()); ids != "alpha,beta" {
		t.Fatalf("apps = %s", ids)
	}
	if srv.ifNoneMatch[0] != "" {
		t.Errorf("first request sent If-None-Match %q", srv.ifNoneMatch[0])
	}
	st := cat.Status()[0]
	if st.Apps != 2 || st.Error != "" || st.Location != ts.URL+"/main.zip" || st.Updated.IsZero() {
		t.Errorf("status = %+v", st)
	}
	if a, err := cat.Find("mystore/alpha"); err != nil || a.Store != "mystore" || a.Name != "Alpha" {
		t.Errorf("Find = %+v, %v", a, err)
	}

	// 2. Refresh: the server sees If-None-Match and answers 304; the apps stay.
	if err := cat.Refresh(ctx); err != nil {
		t.Fatal(err)
	}
	if srv.requests != 2 || srv.notModified != 1 || srv.ifNoneMatch[1] != `"v1"` || srv.ifModifiedSn[1] == "" {
		t.Errorf("requests %d, 304s %d, If-None-Match %q, If-Modified-Since %q", srv.requests, srv.notModified, srv.ifNoneMatch[1], srv.ifModifiedSn[1])
	}
	if ids := appIDs(cat.Apps()); ids != "alpha,beta" {
		t.Errorf("apps after 304 = %s", ids)
	}
	trees1 := trees(t, cache)

	// 3. Changed content is swapped in; the old tree goes.
	v2 := makeTarGz(t, []entry{
		{name: "store-main/alpha/compose.yaml", body: nativeApp("Alpha 2", "nginx:1.27.1")},
		{name: "store-main/gamma/compose.yaml", body: nativeApp("Gamma", "nginx:1.27.0")},
		{name: "store-main/delta/compose.yaml", body: nativeApp("Delta", "nginx:1.27.0")},
	})
	srv.set(v2, `"v2"`)
	if err := cat.Refresh(ctx); err != nil {
		t.Fatal(err)
	}
	if ids := appIDs(cat.Apps()); ids != "alpha,delta,gamma" {
		t.Errorf("apps after change = %s", ids)
	}
	if a, _ := cat.Find("alpha"); a.Name != "Alpha 2" {
		t.Errorf("alpha not updated: %q", a.Name)
	}
	trees2 := trees(t, cache)
	if len(trees2) != 1 || trees2[0] == trees1[0] {
		t.Errorf("trees before %v, after %v: want one new tree", trees1, trees2)
	}

	// 4. A bad archive (a traversal) is refused: last good copy kept,
	// error reported, nothing left in the cache.
	srv.set(makeZip(t, []entry{{name: "../../escape.txt", body: "x"}}), `"bad"`)
	if err := cat.Refresh(ctx); err == nil || !strings.Contains(err.Error(), "escapes the store folder") {
		t.Errorf("refresh with a hostile archive: %v", err)
	}
	if ids := appIDs(cat.Apps()); ids != "alpha,delta,gamma" {
		t.Errorf("apps after a refused archive = %s", ids)
	}
	if got := trees(t, cache); len(got) != 1 || got[0] != trees2[0] {
		t.Errorf("trees after a refused archive: %v", got)
	}
	if _, err := os.Stat(filepath.Join(filepath.Dir(cache), "escape.txt")); err == nil {
		t.Error("escape.txt written outside the cache")
	}
	srv.set(v2, `"v2"`)

	// 5. Server down: the last good copy stays, the error is in Status.
	ts.Close()
	err = cat.Refresh(ctx)
	if err == nil {
		t.Fatal("refresh with the server down: no error")
	}
	st = cat.Status()[0]
	if st.Error == "" || st.Apps != 3 || !strings.Contains(st.Error, "mystore") {
		t.Errorf("status with server down = %+v", st)
	}
	if ids := appIDs(cat.Apps()); ids != "alpha,delta,gamma" {
		t.Errorf("apps with server down = %s", ids)
	}

	// 6. After a restart (a new source and catalog on the same cache), the
	// cached copy is served even though the server is down.
	src2, _ := NewArchiveSource("mystore", ts.URL+"/main.zip", FormatAuto, cache)
	cat2 := NewCatalog(src2)
	if err := cat2.Refresh(ctx); err == nil {
		t.Error("no error with the server down")
	}
	if ids := appIDs(cat2.Apps()); ids != "alpha,delta,gamma" {
		t.Errorf("apps from the cache after restart = %s", ids)
	}
	if st := cat2.Status()[0]; st.Error == "" || st.Apps != 3 {
		t.Errorf("status after restart = %+v", st)
	}
}

// A store whose archive holds one malformed app lists it unavailable and
// serves the others.
func TestArchiveWithMalformedApp(t *testing.T) {
	srv := &storeServer{}
	srv.set(makeZip(t, []entry{
		{name: "CasaOS-AppStore-main/Apps/Good/docker-compose.yml", body: "name: good\nservices:\n  web:\n    image: nginx:1.27.0\n    ports: [\"8080:80\"]\nx-casaos:\n  main: web\n  port_map: \"8080\"\n  title: {en_us: Good}\n"},
		{name: "CasaOS-AppStore-main/Apps/Broken/docker-compose.yml", body: "services:\n  web:\n    image: [\n"},
	}), `"1"`)
	ts := httptest.NewServer(srv)
	defer ts.Close()
	src, _ := NewArchiveSource("casaos", ts.URL+"/main.zip", FormatCasaOS, t.TempDir())
	cat := NewCatalog(src)
	if err := cat.Refresh(context.Background()); err != nil {
		t.Fatal(err)
	}
	st := cat.Status()[0]
	if st.Apps != 2 || st.Unavailable != 1 {
		t.Errorf("status = %+v", st)
	}
	b, err := cat.Find("casaos/broken")
	if err != nil || !strings.Contains(b.Unavailable, "invalid YAML") {
		t.Errorf("broken app = %+v, %v", b, err)
	}
	if g, _ := cat.Find("good"); g.Unavailable != "" || g.MainPort != 80 {
		t.Errorf("good app = %+v", g)
	}
}

// An archive over the download limit is refused before it is unpacked.
func TestArchiveDownloadLimit(t *testing.T) {
	srv := &storeServer{}
	srv.set(bytes.Repeat([]byte("PK\x03\x04"), 1024), `"big"`)
	ts := httptest.NewServer(srv)
	defer ts.Close()
	src, _ := NewArchiveSource("big", ts.URL+"/main.zip", FormatAuto, t.TempDir())
	src.Limits = Limits{MaxDownload: 1000}
	_, err := src.Load(context.Background())
	if !errors.Is(err, ErrUnsafeArchive) {
		t.Errorf("err = %v", err)
	}
}

func appIDs(apps []App) string {
	var ids []string
	for _, a := range apps {
		ids = append(ids, a.ID)
	}
	sort.Strings(ids)
	return strings.Join(ids, ",")
}

func trees(t *testing.T, cache string) []string {
	t.Helper()
	entries, _ := os.ReadDir(cache)
	var out []string
	for _, e := range entries {
		if strings.HasPrefix(e.Name(), "tree-") {
			out = append(out, e.Name())
		}
		if strings.HasPrefix(e.Name(), ".download-") {
			t.Errorf("download left in the cache: %s", e.Name())
		}
	}
	return out
}

func TestRefreshEvery(t *testing.T) {
	n := 0
	var mu sync.Mutex
	src := funcSource{name: "counting", load: func() ([]App, error) {
		mu.Lock()
		defer mu.Unlock()
		n++
		return []App{{ID: fmt.Sprintf("app-%d", n), Name: "x"}}, nil
	}}
	cat := NewCatalog(src)
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() { cat.RefreshEvery(ctx, 10*time.Millisecond); close(done) }()
	deadline := time.Now().Add(5 * time.Second)
	for {
		mu.Lock()
		c := n
		mu.Unlock()
		if c >= 3 || time.Now().After(deadline) {
			break
		}
		time.Sleep(5 * time.Millisecond)
	}
	cancel()
	<-done
	if n < 3 {
		t.Errorf("%d refreshes", n)
	}
}

type funcSource struct {
	name string
	load func() ([]App, error)
}

func (f funcSource) Name() string                        { return f.name }
func (f funcSource) Load(context.Context) ([]App, error) { return f.load() }

// A local folder store: read anew at each refresh; a symbolic link
// pointing out of the folder is not followed.
func TestDirSource(t *testing.T) {
	parent := t.TempDir()
	secret := filepath.Join(parent, "secret.yaml")
	os.WriteFile(secret, []byte(nativeApp("Secret", "nginx:1.27.0")), 0o644)
	dir := filepath.Join(parent, "store")
	os.MkdirAll(filepath.Join(dir, "good"), 0o755)
	os.MkdirAll(filepath.Join(dir, "linked"), 0o755)
	os.WriteFile(filepath.Join(dir, "good", "compose.yaml"), []byte(nativeApp("Good", "nginx:1.27.0")), 0o644)
	if err := os.Symlink(secret, filepath.Join(dir, "linked", "compose.yaml")); err != nil {
		t.Skip("no symlinks here:", err)
	}
	src, err := NewSource("local", dir, FormatAuto, t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	cat := NewCatalog(src)
	if err := cat.Refresh(context.Background()); err != nil {
		t.Fatal(err)
	}
	good, err := cat.Find("local/good")
	if err != nil || good.Unavailable != "" || good.Name != "Good" {
		t.Errorf("good = %+v, %v", good, err)
	}
	if linked, err := cat.Find("local/linked"); err == nil && (linked.Unavailable == "" || linked.Name == "Secret") {
		t.Errorf("the link out of the store was followed: %+v", linked)
	}
	for _, a := range cat.Apps() {
		if a.Name == "Secret" {
			t.Errorf("the link out of the store was followed: %+v", a)
		}
	}
	if st := cat.Status()[0]; st.Location != dir || st.Apps != 1 || st.Error != "" {
		t.Errorf("status = %+v", st)
	}
	// A new app appears at the next refresh.
	os.MkdirAll(filepath.Join(dir, "new"), 0o755)
	os.WriteFile(filepath.Join(dir, "new", "compose.yaml"), []byte(nativeApp("New", "nginx:1.27.0")), 0o644)
	cat.Refresh(context.Background())
	if _, err := cat.Find("local/new"); err != nil {
		t.Error(err)
	}
	if _, err := NewSource("Bad Name", dir, FormatAuto, ""); err == nil {
		t.Error("invalid store name accepted")
	}
	if _, err := NewSource("x", filepath.Join(dir, "missing"), FormatAuto, ""); err == nil {
		t.Error("missing folder accepted")
	}
}
