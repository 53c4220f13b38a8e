package main

import (
	"encoding/json"
	"net/http"
	"strings"
	"testing"

	"github.com/shanghai-amr/portal/sdk/plugintest"
)

func TestStaffPublishesAndPublicReads(t *testing.T) {
	h := plugintest.Start(t, Plugin())
	zhang := plugintest.Staff("zhang", "310115")

	res := h.Do(t, "POST", "/notices", `{"title":"关于春节期间办公安排的通知","body":"2月16日至22日休息。"}`, zhang)
	if res.Code != http.StatusCreated {
		t.Fatalf("create = %d %s", res.Code, res.Body)
	}
	if a := h.Audit(); len(a) != 1 || a[0].Action != "notice.create" {
		t.Fatalf("audit = %v", a)
	}
	res = h.Do(t, "GET", "/public/notices", "", plugintest.Anonymous())
	var out struct{ Notices []map[string]any }
	if err := json.Unmarshal(res.Body.Bytes(), &out); err != nil || len(out.Notices) != 1 {
		t.Fatalf("public list = %s", res.Body)
	}
	if _, ok := out.Notices[0]["created_by"]; ok {
		t.Fatal("public list shows who wrote the notice")
	}
	// Staff lists go through the host's filter (plugintest's allows all; the
	// jurisdiction matrix is tested against the real host in host/plugins).
	res = h.Do(t, "GET", "/notices", "", plugintest.Staff("li", "310101"))
	if !strings.Contains(res.Body.String(), "春节") {
		t.Fatalf("staff list: %s", res.Body)
	}
}

func TestBadInputIsRefusedWithACode(t *testing.T) {
	h := plugintest.Start(t, Plugin())
	for _, body := range []string{`{`, `{"title":"","body":"x"}`, `{"title":"` + strings.Repeat("长", 101) + `","body":"x"}`} {
		res := h.Do(t, "POST", "/notices", body, plugintest.Staff("zhang", "310115"))
		if res.Code != http.StatusBadRequest || !strings.Contains(res.Body.String(), `"code":"notice.`) {
			t.Errorf("%s → %d %s", body, res.Code, res.Body)
		}
	}
	if len(h.Audit()) != 0 {
		t.Fatal("refused input was audited as a change")
	}
	if res := h.Do(t, "GET", "/notices/999", "", plugintest.Staff("zhang", "310115")); res.Code != http.StatusNotFound {
		t.Fatalf("missing notice = %d", res.Code)
	}
}
