// App icons, served by the portal itself (its CSP allows images from its
// own origin only, and a LAN may have no Internet): a store's icon file,
// or its icon URL fetched once and cached on disk, or else a generated
// picture with the app's initials.

package portal

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"hash/fnv"
	"html"
	"io"
	"net/http"
	"os"
	"path"
	"path/filepath"
	"strings"
	"time"

	"github.com/gofiber/fiber/v2"

	"github.com/stackhub/stackhub/stores"
)

// maxIcon bounds an icon's size.
const maxIcon = 512 << 10

func iconPath(store, id string) string {
	if store == "" {
		store = "local"
	}
	return "/icons/" + store + "/" + id
}

func (p *Portal) icon(c *fiber.Ctx) error {
	store, id := c.Params("store"), c.Params("id")
	name := id
	if p.cfg.Platform != nil {
		app, err := p.plat().Catalog.Find(store + "/" + id)
		if err != nil && store == "local" {
			app, err = p.plat().Catalog.Find(id)
		}
		if err == nil {
			name = orDefault(app.Name, id)
			if b, ok := p.iconBytes(app); ok {
				c.Set(fiber.HeaderCacheControl, "private, max-age=86400")
				c.Set(fiber.HeaderContentType, iconType(b, app.Icon))
				return c.Send(b)
			}
		} else if st, err := p.plat().Apps.Status(c.Context(), id); err == nil {
			name = orDefault(st.Name, id)
		}
	}
	c.Set(fiber.HeaderCacheControl, "private, max-age=3600")
	c.Set(fiber.HeaderContentType, "image/svg+xml")
	return c.SendString(initialsIcon(name))
}

// iconBytes returns the app's own icon: a file of the app, or its URL's
// content (cached in <data>/portal/icons).
func (p *Portal) iconBytes(app stores.App) ([]byte, bool) {
	ref := strings.TrimSpace(app.Icon)
	if ref == "" {
		return nil, false
	}
	if !strings.HasPrefix(ref, "http://") && !strings.HasPrefix(ref, "https://") {
		b, ok := app.Files[path.Clean(strings.TrimPrefix(ref, "./"))]
		return b, ok && len(b) > 0 && len(b) <= maxIcon && isImage(b, ref)
	}
	sum := sha256.Sum256([]byte(ref))
	dir := filepath.Join(p.plat().Config.DataDir, "portal", "icons")
	file := filepath.Join(dir, hex.EncodeToString(sum[:16]))
	if b, err := os.ReadFile(file); err == nil {
		return b, len(b) > 0 // an empty file remembers a failed fetch
	}
	if _, err := os.Stat(file + ".failed"); err == nil {
		return nil, false
	}
	b, err := fetchIcon(p.storeOrigin(app.Store), ref) // iconguard.go
	os.MkdirAll(dir, 0o700)
	if err != nil || !isImage(b, ref) {
		p.cfg.Logf("portal: icon of %s/%s from %s: %v", app.Store, app.ID, ref, err)
		os.WriteFile(file+".failed", nil, 0o600) // try again after a restart of the cache only
		return nil, false
	}
	os.WriteFile(file, b, 0o600)
	return b, true
}

func fetchIcon(origin, u string) ([]byte, error) {
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, u, nil)
	if err != nil {
		return nil, err
	}
	resp, err := iconClient(origin).Do(req)
	if err != nil {
		return nil, err
	}
	defer resp.Body.Close()
	if resp.StatusCode != 200 {
		return nil, fmt.Errorf("HTTP %d", resp.StatusCode)
	}
	return io.ReadAll(io.LimitReader(resp.Body, maxIcon))
}

func isSVG(b []byte, name string) bool {
	head := strings.ToLower(string(b[:min(len(b), 512)]))
	return strings.HasSuffix(strings.ToLower(name), ".svg") && strings.Contains(head, "<svg") ||
		strings.HasPrefix(strings.TrimSpace(head), "<svg") || strings.HasPrefix(strings.TrimSpace(head), "<?xml") && strings.Contains(head, "<svg")
}

func isImage(b []byte, name string) bool {
	return strings.HasPrefix(http.DetectContentType(b), "image/") || isSVG(b, name)
}

func iconType(b []byte, name string) string {
	if isSVG(b, name) {
		return "image/svg+xml"
	}
	return http.DetectContentType(b)
}

// iconColors are the backgrounds of generated icons.
var iconColors = []string{"#2f6fed", "#7a5af8", "#12b76a", "#f79009", "#ee46bc", "#0ba5ec", "#f04438", "#6172f3", "#15b79e", "#875bf7"}

// initialsIcon is an SVG with the first letters of name on a colour that
// depends on the name.
func initialsIcon(name string) string {
	words := strings.FieldsFunc(name, func(r rune) bool { return r == ' ' || r == '-' || r == '_' || r == '.' })
	initials := ""
	for _, w := range words {
		if r := []rune(w); len(r) > 0 && len([]rune(initials)) < 2 {
			initials += strings.ToUpper(string(r[0]))
		}
	}
	if len(words) == 1 && len([]rune(words[0])) > 1 {
		r := []rune(words[0])
		initials = strings.ToUpper(string(r[0])) + strings.ToLower(string(r[1]))
	}
	if initials == "" {
		initials = "?"
	}
	h := fnv.New32a()
	h.Write([]byte(name))
	color := iconColors[h.Sum32()%uint32(len(iconColors))]
	return `<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 64 64" width="64" height="64">` +
		`<rect width="64" height="64" rx="14" fill="` + color + `"/>` +
		`<text x="32" y="41" text-anchor="middle" font-family="system-ui,-apple-system,Segoe UI,sans-serif" font-size="26" font-weight="600" fill="#fff">` +
		html.EscapeString(initials) + `</text></svg>`
}
