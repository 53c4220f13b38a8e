package i18n

import (
	"testing"

	"gopkg.in/yaml.v3"
)

func TestBundlesHaveSameKeys(t *testing.T) {
	keys := map[string]map[string]bool{}
	for _, f := range []string{"locales/zh-CN.yaml", "locales/en.yaml"} {
		b, err := locales.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		var m map[string]string
		if err := yaml.Unmarshal(b, &m); err != nil {
			t.Fatal(err)
		}
		keys[f] = map[string]bool{}
		for k := range m {
			keys[f][k] = true
		}
	}
	for k := range keys["locales/zh-CN.yaml"] {
		if !keys["locales/en.yaml"][k] {
			t.Errorf("%s missing in en.yaml", k)
		}
	}
	for k := range keys["locales/en.yaml"] {
		if !keys["locales/zh-CN.yaml"][k] {
			t.Errorf("%s missing in zh-CN.yaml", k)
		}
	}
}

func TestMatchPrefersUserThenHeaderThenChinese(t *testing.T) {
	tests := []struct{ pref, accept, want string }{
		{"", "", "zh-CN"},
		{"", "en-US,en;q=0.9", "en"},
		{"", "zh-TW,zh;q=0.9", "zh-CN"},
		{"", "fr-FR", "zh-CN"},
		{"en", "zh-CN", "en"},
		{"zh-CN", "en", "zh-CN"},
		{"xx-invalid-", "en", "en"},
	}
	for _, tt := range tests {
		if got := Match(tt.pref, tt.accept).String(); got != tt.want {
			t.Errorf("Match(%q, %q) = %s, want %s", tt.pref, tt.accept, got, tt.want)
		}
	}
}

func TestLocalizeRendersTemplateData(t *testing.T) {
	c, err := New()
	if err != nil {
		t.Fatal(err)
	}
	if got := c.Localizer(ZhCN).T("request.too_large", map[string]any{"Limit": "1 MiB"}); got != "请求体过大，最大允许 1 MiB。" {
		t.Fatalf("zh-CN: %q", got)
	}
	if got := c.Localizer(English).T("no.such.key", nil); got != "no.such.key" {
		t.Fatalf("unknown key: %q", got)
	}
}
