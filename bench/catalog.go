package bench

import (
	"bytes"
	"context"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"runtime"
	"time"

	"github.com/stackhub/stackhub/stores"
)

// catalogSet is the three stores of one folder (casaos/, runtipi/,
// umbrel/): our fixtures, or the real samples.
type catalogSet struct {
	key, name, dir string
}

// catalogRow: row 7, loading the three stores into a catalog (time, and
// heap it keeps) and searching it, against reading the same files (time,
// bytes) and scanning their bytes for the word.
func (h *harness) catalogRow() {
	h.logf("row 7 catalog")
	sets := []catalogSet{{"fixtures", "our fixtures (stores/testdata/stores)", filepath.Join(h.root, "stores", "testdata", "stores")}}
	if h.cfg.Samples != "" {
		sets = append(sets, catalogSet{"samples", "STACKHUB_STORE_SAMPLES (" + filepath.Base(h.cfg.Samples) + ")", h.cfg.Samples})
	}
	for _, set := range sets {
		var loadMS, readMS, heapMB, fileMB, searchUS, scanUS []float64
		apps := 0
		for r := range h.cfg.Rounds + 1 { // the first round warms the file cache
			files, read := readAll(set.dir)
			cat, took, heap, n := loadCatalog(set.dir)
			s := searchTime(func(q string) int { return len(cat.Search(q, "")) })
			scan := searchTime(func(q string) int { return scanFiles(files, q) })
			runtime.KeepAlive(cat)
			if r == 0 {
				continue
			}
			apps = n
			readMS, loadMS = append(readMS, ms(read)), append(loadMS, ms(took))
			heapMB, fileMB = append(heapMB, heap/(1<<20)), append(fileMB, float64(size(files))/(1<<20))
			searchUS, scanUS = append(searchUS, s), append(scanUS, scan)
		}
		what := fmt.Sprintf("%s, %d apps", set.name, apps)
		o, b := statOf(loadMS), statOf(readMS)
		h.res.add(Measure{Row: 7, Key: "catalog." + set.key + ".load", Name: "load the three stores: " + what, Unit: "ms", Decimals: 1,
			Ours: o, BaselineName: "reading their files", Baseline: ptr(b), Comparison: times(o.Median, b.Median)})
		o, b = statOf(heapMB), statOf(fileMB)
		h.res.add(Measure{Row: 7, Key: "catalog." + set.key + ".heap", Name: "heap the loaded catalog keeps: " + what, Unit: "MB", Decimals: 2,
			Ours: o, BaselineName: "size of their files", Baseline: ptr(b), Comparison: times(o.Median, b.Median)})
		o, b = statOf(searchUS), statOf(scanUS)
		h.res.add(Measure{Row: 7, Key: "catalog." + set.key + ".search", Name: "search (median of 5 queries): " + what, Unit: "µs", Decimals: 0,
			Ours: o, BaselineName: "scanning the files' bytes", Baseline: ptr(b), Comparison: times(o.Median, b.Median)})
	}
	h.res.note(7, "In the harness's process: stores.NewCatalog over DirSource of casaos/, runtipi/ and umbrel/, Refresh (read, parse, load every compose file); heap = HeapAlloc after GC with the catalog held minus before. Search = Catalog.Search of 5 words (\"media\", \"photo\", \"password\", \"home\", \"zzz\"); baseline = a case-insensitive bytes.Contains over every file held in memory.")
	h.res.command(7, "go test ./bench (in-process: stores.NewCatalog(DirSource…).Refresh, Catalog.Search)")
}

var searchWords = []string{"media", "photo", "password", "home", "zzz"}

// searchTime is the median time of one search of each word, in µs.
func searchTime(search func(string) int) float64 {
	var t []float64
	for _, w := range searchWords {
		t0 := time.Now()
		search(w)
		t = append(t, float64(time.Since(t0).Nanoseconds())/1000)
	}
	return statOf(t).Median
}

func loadCatalog(dir string) (*stores.Catalog, time.Duration, float64, int) {
	var before, after runtime.MemStats
	runtime.GC()
	runtime.ReadMemStats(&before)
	t0 := time.Now()
	var sources []stores.Source
	for _, f := range []struct {
		dir    string
		format stores.Format
	}{{"casaos", stores.FormatCasaOS}, {"runtipi", stores.FormatRuntipi}, {"umbrel", stores.FormatUmbrel}} {
		if _, err := os.Stat(filepath.Join(dir, f.dir)); err == nil {
			sources = append(sources, stores.DirSource(f.dir, filepath.Join(dir, f.dir), f.format))
		}
	}
	cat := stores.NewCatalog(sources...)
	cat.Refresh(context.Background())
	took := time.Since(t0)
	runtime.GC()
	runtime.ReadMemStats(&after)
	n := len(cat.Apps())
	return cat, took, float64(after.HeapAlloc) - float64(before.HeapAlloc), n
}

// readAll reads every regular file under dir.
func readAll(dir string) ([][]byte, time.Duration) {
	t0 := time.Now()
	var files [][]byte
	filepath.WalkDir(dir, func(p string, d fs.DirEntry, err error) error {
		if err == nil && d.Type().IsRegular() {
			if b, err := os.ReadFile(p); err == nil {
				files = append(files, b)
			}
		}
		return nil
	})
	return files, time.Since(t0)
}

func size(files [][]byte) int {
	n := 0
	for _, f := range files {
		n += len(f)
	}
	return n
}

func scanFiles(files [][]byte, word string) int {
	w := bytes.ToLower([]byte(word))
	n := 0
	for _, f := range files {
		if bytes.Contains(bytes.ToLower(f), w) {
			n++
		}
	}
	return n
}
