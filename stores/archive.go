package stores

import (
	"archive/tar"
	"archive/zip"
	"bufio"
	"bytes"
	"compress/gzip"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path"
	"path/filepath"
	"strings"
)

// Limits bound what a store archive may unpack to, so a hostile or broken
// archive cannot fill the disk or memory.
type Limits struct {
	// MaxDownload is the largest archive accepted, in bytes.
	MaxDownload int64
	// MaxTotal is the most bytes all files may unpack to.
	MaxTotal int64
	// MaxFile is the largest single file, in bytes.
	MaxFile int64
	// MaxFiles is the most entries (files and folders).
	MaxFiles int
}

// DefaultLimits fit the real stores (CasaOS, Runtipi and Umbrel archives,
// screenshots included, are 10–200 MiB) with room to spare.
var DefaultLimits = Limits{MaxDownload: 512 << 20, MaxTotal: 1 << 30, MaxFile: 64 << 20, MaxFiles: 100_000}

func (l Limits) orDefault() Limits {
	d := DefaultLimits
	if l.MaxDownload > 0 {
		d.MaxDownload = l.MaxDownload
	}
	if l.MaxTotal > 0 {
		d.MaxTotal = l.MaxTotal
	}
	if l.MaxFile > 0 {
		d.MaxFile = l.MaxFile
	}
	if l.MaxFiles > 0 {
		d.MaxFiles = l.MaxFiles
	}
	return d
}

// ErrUnsafeArchive is wrapped by the errors of archives refused for safety:
// an entry escaping the destination, a link pointing out of it, a device
// file, or a limit exceeded.
var ErrUnsafeArchive = errors.New("unsafe store archive")

func unsafe(format string, args ...any) error {
	return fmt.Errorf("%w: %s", ErrUnsafeArchive, fmt.Sprintf(format, args...))
}

// ExtractArchive unpacks a zip, tar.gz (or plain tar) archive read from r
// into the existing, empty folder dest. Nothing is ever written outside
// dest: entries with absolute paths or ".." that would escape it, and links
// pointing outside, make the whole archive refused; links inside are not
// created (a store needs none); device files are refused; files get mode
// 0644 and folders 0755 (no executable bits). It returns what it skipped.
// On error dest may hold part of the archive: the caller removes it.
func ExtractArchive(r io.ReaderAt, size int64, dest string, lim Limits) (skipped []string, err error) {
	lim = lim.orDefault()
	if size > lim.MaxDownload {
		return nil, unsafe("the archive is %d MiB, more than the limit of %d MiB", size>>20, lim.MaxDownload>>20)
	}
	root, err := os.OpenRoot(dest)
	if err != nil {
		return nil, err
	}
	defer root.Close()
	x := &extractor{root: root, lim: lim}
	head := make([]byte, 512)
	n, _ := r.ReadAt(head, 0)
	head = head[:n]
	switch {
	case bytes.HasPrefix(head, []byte("PK\x03\x04")) || bytes.HasPrefix(head, []byte("PK\x05\x06")):
		err = x.zip(r, size)
	case bytes.HasPrefix(head, []byte{0x1f, 0x8b}):
		gz, gerr := gzip.NewReader(io.NewSectionReader(r, 0, size))
		if gerr != nil {
			return nil, fmt.Errorf("read archive: %w", gerr)
		}
		err = x.tar(gz)
	case len(head) >= 262 && string(head[257:262]) == "ustar":
		err = x.tar(io.NewSectionReader(r, 0, size))
	default:
		return nil, errors.New("the download is not a zip or tar.gz archive")
	}
	return x.skipped, err
}

type extractor struct {
	root    *os.Root
	lim     Limits
	files   int
	total   int64
	skipped []string
}

// entryPath checks an archive entry's name and returns it as a clean
// relative path ("" for the root itself).
func entryPath(name string) (string, error) {
	if strings.ContainsRune(name, 0) {
		return "", unsafe("entry %q has a NUL byte in its name", name)
	}
	n := strings.ReplaceAll(name, "\\", "/")
	if strings.HasPrefix(n, "/") || (len(n) >= 2 && n[1] == ':') {
		return "", unsafe("entry %q has an absolute path", name)
	}
	for _, part := range strings.Split(n, "/") {
		if part == ".." {
			return "", unsafe("entry %q escapes the store folder", name)
		}
	}
	c := path.Clean(n)
	if c == "." {
		return "", nil
	}
	if !filepath.IsLocal(c) {
		return "", unsafe("entry %q is not a local path", name)
	}
	return c, nil
}

// linkTarget checks that a link entry at name pointing at target stays in
// the archive (relative links resolve from the link's folder).
func linkTarget(name, target string, relativeToArchive bool) error {
	t := strings.ReplaceAll(target, "\\", "/")
	if strings.HasPrefix(t, "/") || (len(t) >= 2 && t[1] == ':') {
		return unsafe("link %q points outside the store folder (%s)", name, target)
	}
	base := path.Dir(name)
	if relativeToArchive {
		base = "."
	}
	j := path.Join(base, t)
	if j == ".." || strings.HasPrefix(j, "../") {
		return unsafe("link %q points outside the store folder (%s)", name, target)
	}
	return nil
}

func (x *extractor) count(name string) error {
	x.files++
	if x.files > x.lim.MaxFiles {
		return unsafe("more than %d entries (at %q)", x.lim.MaxFiles, name)
	}
	return nil
}

func (x *extractor) mkdir(p string) error {
	if p == "" {
		return nil
	}
	if err := x.root.MkdirAll(p, 0o755); err != nil {
		return fmt.Errorf("create %s: %w", p, err)
	}
	return nil
}

func (x *extractor) write(p string, declared int64, r io.Reader) error {
	if declared > x.lim.MaxFile {
		return unsafe("file %q is %d MiB, more than the limit of %d MiB", p, declared>>20, x.lim.MaxFile>>20)
	}
	if declared > 0 && x.total+declared > x.lim.MaxTotal {
		return unsafe("the archive unpacks to more than %d MiB (at %q)", x.lim.MaxTotal>>20, p)
	}
	if err := x.mkdir(path.Dir(p)); err != nil && path.Dir(p) != "." {
		return err
	}
	f, err := x.root.OpenFile(p, os.O_WRONLY|os.O_CREATE|os.O_TRUNC, 0o644)
	if err != nil {
		return fmt.Errorf("create %s: %w", p, err)
	}
	// Count what is really written: declared sizes can lie (zip bombs).
	limit := min(x.lim.MaxFile, x.lim.MaxTotal-x.total)
	n, err := io.Copy(f, io.LimitReader(r, limit+1))
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	if err != nil {
		return fmt.Errorf("write %s: %w", p, err)
	}
	if n > x.lim.MaxFile {
		return unsafe("file %q is larger than the limit of %d MiB", p, x.lim.MaxFile>>20)
	}
	if n > limit {
		return unsafe("the archive unpacks to more than %d MiB (at %q)", x.lim.MaxTotal>>20, p)
	}
	x.total += n
	return nil
}

func (x *extractor) zip(r io.ReaderAt, size int64) error {
	zr, err := zip.NewReader(r, size)
	if err != nil {
		return fmt.Errorf("read zip archive: %w", err)
	}
	if len(zr.File) > x.lim.MaxFiles {
		return unsafe("more than %d entries (%d)", x.lim.MaxFiles, len(zr.File))
	}
	for _, zf := range zr.File {
		p, err := entryPath(zf.Name)
		if err != nil {
			return err
		}
		if err := x.count(zf.Name); err != nil {
			return err
		}
		mode := zf.Mode()
		switch {
		case mode&fs.ModeSymlink != 0:
			rc, err := zf.Open()
			if err != nil {
				return fmt.Errorf("read %s: %w", zf.Name, err)
			}
			target, err := io.ReadAll(io.LimitReader(rc, 4096))
			rc.Close()
			if err != nil {
				return fmt.Errorf("read %s: %w", zf.Name, err)
			}
			if err := linkTarget(p, string(target), false); err != nil {
				return err
			}
			x.skipped = append(x.skipped, p+" (symbolic link, not created)")
		case mode.IsDir() || strings.HasSuffix(zf.Name, "/"):
			if err := x.mkdir(p); err != nil {
				return err
			}
		case mode&(fs.ModeDevice|fs.ModeCharDevice|fs.ModeNamedPipe|fs.ModeSocket) != 0:
			return unsafe("entry %q is a device, pipe or socket", zf.Name)
		default:
			if p == "" {
				continue
			}
			if zf.UncompressedSize64 > uint64(x.lim.MaxFile) {
				return unsafe("file %q is %d MiB, more than the limit of %d MiB", p, zf.UncompressedSize64>>20, x.lim.MaxFile>>20)
			}
			rc, err := zf.Open()
			if err != nil {
				return fmt.Errorf("read %s: %w", zf.Name, err)
			}
			err = x.write(p, int64(zf.UncompressedSize64), rc)
			rc.Close()
			if err != nil {
				return err
			}
		}
	}
	return nil
}

func (x *extractor) tar(r io.Reader) error {
	tr := tar.NewReader(bufio.NewReader(r))
	for {
		h, err := tr.Next()
		if err == io.EOF {
			return nil
		}
		if err != nil {
			return fmt.Errorf("read tar archive: %w", err)
		}
		switch h.Typeflag {
		case tar.TypeXGlobalHeader, tar.TypeXHeader, tar.TypeGNULongName, tar.TypeGNULongLink:
			continue // metadata (GitHub's pax_global_header)
		}
		p, err := entryPath(h.Name)
		if err != nil {
			return err
		}
		if err := x.count(h.Name); err != nil {
			return err
		}
		switch h.Typeflag {
		case tar.TypeDir:
			if err := x.mkdir(p); err != nil {
				return err
			}
		case tar.TypeReg, tar.TypeRegA, tar.TypeGNUSparse:
			if p == "" {
				continue
			}
			if err := x.write(p, h.Size, tr); err != nil {
				return err
			}
		case tar.TypeSymlink:
			if err := linkTarget(p, h.Linkname, false); err != nil {
				return err
			}
			x.skipped = append(x.skipped, p+" (symbolic link, not created)")
		case tar.TypeLink:
			if _, err := entryPath(h.Linkname); err != nil {
				return unsafe("hard link %q points outside the store folder (%s)", h.Name, h.Linkname)
			}
			x.skipped = append(x.skipped, p+" (hard link, not created)")
		case tar.TypeChar, tar.TypeBlock, tar.TypeFifo:
			return unsafe("entry %q is a device or pipe", h.Name)
		default:
			x.skipped = append(x.skipped, fmt.Sprintf("%s (entry type %q)", p, h.Typeflag))
		}
	}
}
