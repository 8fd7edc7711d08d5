package portal

import (
	"strings"
	"testing"

	"github.com/stackhub/stackhub/appctl"
)

// While a manual backup or a restore runs, the app's pill says so — not
// "updating" — in each language, on the dashboard card and the app page.
func TestStatusPillNamesBackupAndRestore(t *testing.T) {
	rec := appctl.Record{ID: "keep", Name: "Keep", Store: "test", Version: "1.0", Host: "keep." + domain, URL: "https://keep." + domain + "/"}
	for _, c := range []struct {
		kind, word, zh string
	}{
		{"backup", "backing up", "备份中"},
		{"restore", "restoring", "恢复中"},
		{"update", "updating", "更新中"},
		{"settings", "updating", "更新中"},
	} {
		d := appDetailFor(rec, nil)
		d.Card = (&Portal{}).card(d.AppStatus, []OperationView{{App: "keep", Kind: c.kind}})
		if d.Card.Status != c.word {
			t.Errorf("while a %s runs, the status is %q, want %q", c.kind, d.Card.Status, c.word)
			continue
		}
		for lang, text := range map[string]string{"en": c.word, "zh-CN": c.zh} {
			page := renderPage(t, "app", lang, view{App: d})
			if want := `data-status="` + c.word + `">` + text + `</span>`; !strings.Contains(page, want) {
				t.Errorf("%s app page during a %s lacks the pill %q", lang, c.kind, want)
			}
		}
	}
	// Once the operation is done, the pill says what the app is again.
	done := (&Portal{}).card(appDetailFor(rec, nil).AppStatus, []OperationView{{App: "keep", Kind: "backup", Done: true}})
	if done.Status != "running" {
		t.Errorf("after the backup, the status is %q, want running", done.Status)
	}
	// The scripts refresh the pill with the same words: they are theirs to
	// translate.
	zh := scriptMessages("zh-CN")
	if zh["backing up"] != "备份中" || zh["restoring"] != "恢复中" {
		t.Errorf("the scripts' Chinese lacks the new statuses: %q, %q", zh["backing up"], zh["restoring"])
	}
}
