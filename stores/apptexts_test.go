package stores

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// A CasaOS app's Chinese description is kept and chosen for zh-CN; other
// languages get English.
func TestCasaOSTextsByLanguage(t *testing.T) {
	a := App{Tagline: "Git with a cup of tea", Description: "Gitea is a painless self-hosted Git service.",
		Texts: languageTexts(map[string]any{"en_US": "Git with a cup of tea", "zh_CN": "一杯茶的 Git"},
			map[string]any{"en_us": "Gitea is a painless self-hosted Git service.", "zh_cn": "Gitea 是一个轻松自托管的 Git 服务。"})}
	if tg, d := a.Text("zh-CN"); tg != "一杯茶的 Git" || d != "Gitea 是一个轻松自托管的 Git 服务。" {
		t.Errorf("zh-CN: %q %q", tg, d)
	}
	if tg, d := a.Text("en"); tg != a.Tagline || d != a.Description {
		t.Errorf("en: %q %q", tg, d)
	}
	if tg, _ := a.Text("fr"); tg != a.Tagline {
		t.Errorf("fr: %q", tg)
	}
	if _, ok := a.Texts["en-US"]; ok {
		t.Error("English kept as a translation")
	}
}

// The sample CasaOS store's Gitea has its zh_CN description read.
func TestCasaOSSampleHasChinese(t *testing.T) {
	dir := os.Getenv("STACKHUB_STORE_SAMPLES")
	if dir == "" {
		t.Skip("STACKHUB_STORE_SAMPLES not set")
	}
	b, err := os.ReadFile(filepath.Join(dir, "casaos", "Gitea", "docker-compose.yml"))
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(string(b), "zh_CN") {
		t.Skip("the sample has no zh_CN text")
	}
	a, err := ReadCasaOS(os.DirFS(filepath.Join(dir, "casaos")), "Gitea")
	if err != nil {
		t.Fatal(err)
	}
	if _, d := a.Text("zh-CN"); !strings.Contains(d, "Gitea 是") {
		t.Errorf("Gitea in zh-CN: %q", d)
	}
	if _, d := a.Text("en"); strings.Contains(d, "Gitea 是") {
		t.Errorf("Gitea in English: %q", d)
	}
}
