package appctl

import (
	"context"
	"crypto/rand"
	"fmt"
	mrand "math/rand/v2"
	"os"
	"os/exec"
	"path/filepath"
	"sort"
	"strings"
	"testing"
	"time"

	"github.com/stackhub/stackhub/backup"
)

// TestBenchBackup is `make bench-backup`, not a test: with
// STACKHUB_BENCH_BACKUP=1 it measures, in one run on the same folder,
// StackHub's backup of an app with 1 GB of mixed files (first and
// incremental, the app stopped and started again as for a real backup)
// against the plain `restic backup` CLI, and the downtime of updates of the
// two-service test app. BENCH_BACKUP_MB changes the size (default 1024).
func TestBenchBackup(t *testing.T) {
	if os.Getenv("STACKHUB_BENCH_BACKUP") == "" {
		t.Skip("a benchmark: run it with `make bench-backup`")
	}
	needRestic(t)
	h := newHarness(t)
	ctx := context.Background()
	size := 1024
	fmt.Sscan(os.Getenv("BENCH_BACKUP_MB"), &size)
	repos := t.TempDir()
	h.configureRepo(t, filepath.Join(repos, "stackhub"))
	h.installKeep(t, "bench", keepApp(h.keepImage(t), "1", ""))
	data := filepath.Join(h.m.appDir("bench"), "data")

	files := mixedFiles(t, filepath.Join(data, "files"), size<<20)
	plain := backup.Repo{URL: filepath.Join(repos, "plain"), Password: "bench", CacheDir: filepath.Join(repos, "plain-cache")}
	if err := plain.Init(ctx); err != nil {
		t.Fatal(err)
	}
	run := func(label string) {
		start := time.Now()
		res, err := h.m.Backup(ctx, "bench", "bench", nil)
		if err != nil {
			t.Fatal(err)
		}
		ours := time.Since(start)
		start = time.Now()
		out, err := exec.Command("restic", "--repo", plain.URL, "--cache-dir", plain.CacheDir, "backup", "--quiet", data).CombinedOutput()
		if err != nil {
			t.Fatalf("plain restic: %v\n%s", err, out)
		}
		theirs := time.Since(start)
		fmt.Printf("bench-backup %-11s stackhub %6.2fs (app down %5.2fs, %d files, %s added)  plain restic %6.2fs  ratio %.2f\n",
			label, ours.Seconds(), res.Downtime.Seconds(), res.Summary.TotalFilesProcessed, mb(res.Summary.DataAdded), theirs.Seconds(), ours.Seconds()/theirs.Seconds())
	}
	os.Setenv("RESTIC_PASSWORD", "bench")
	run("first")
	// About 1% of the files change.
	for i, f := range files {
		if i%100 == 0 {
			os.WriteFile(f, randomBytes(4<<10), 0o644)
		}
	}
	run("incremental")

	// Downtime of updates of the two-service app (web depends on a healthy db).
	counter := counterApp(t)
	if _, err := h.m.Install(ctx, counter, InstallOptions{}, nil); err != nil {
		t.Fatal(err)
	}
	var downs []time.Duration
	for i := range 3 {
		next := counter
		next.Version = fmt.Sprintf("bench-%d", i)
		next.Compose = []byte(strings.Replace(string(counter.Compose), "NAME: web", fmt.Sprintf("NAME: web-%d", i), 1))
		res, err := h.m.Update(ctx, next, nil)
		if err != nil {
			t.Fatal(err)
		}
		downs = append(downs, res.Downtime)
	}
	sort.Slice(downs, func(i, j int) bool { return downs[i] < downs[j] })
	fmt.Printf("bench-backup update-downtime two-service app: median %.2fs (min %.2fs, max %.2fs, 3 updates, backup before each not counted)\n",
		downs[1].Seconds(), downs[0].Seconds(), downs[2].Seconds())
}

// mixedFiles writes about total bytes: a tenth in 2,000 small text-like
// files (compressible, many), the rest in random 8 MB files (photos,
// videos: incompressible).
func mixedFiles(t *testing.T, dir string, total int) []string {
	t.Helper()
	var out []string
	write := func(name string, b []byte) {
		p := filepath.Join(dir, name)
		os.MkdirAll(filepath.Dir(p), 0o755)
		if err := os.WriteFile(p, b, 0o644); err != nil {
			t.Fatal(err)
		}
		out = append(out, p)
	}
	small := total / 10
	for i := 0; small > 0; i++ {
		n := 2<<10 + mrand.IntN(100<<10)
		line := []byte(fmt.Sprintf("line %d of a text file, with some words that repeat\n", i))
		b := make([]byte, 0, n)
		for len(b) < n {
			b = append(b, line...)
		}
		write(fmt.Sprintf("docs/%03d/%05d.txt", i%100, i), b)
		small -= len(b)
	}
	for i, rest := 0, total-total/10; rest > 0; i++ {
		n := min(8<<20, rest)
		write(fmt.Sprintf("media/%04d.bin", i), randomBytes(n))
		rest -= n
	}
	return out
}

func randomBytes(n int) []byte {
	b := make([]byte, n)
	rand.Read(b)
	return b
}

func mb(n int64) string { return fmt.Sprintf("%.1f MB", float64(n)/(1<<20)) }
