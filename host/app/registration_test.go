package app_test

import (
	"fmt"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/shanghai-amr/portal/host/clock"
)

// An enterprise files its business suspension online; the Pudong
// registration reviewer finds the review in the workbench and approves it; the
// entity's status becomes 歇业 and the notice is issued, numbered and signed.
// A revoked enterprise, an overlapping period and an extension outside the
// window before expiry are refused with reasons; termination restores the
// prior status; another district sees nothing (issue 9, cluster D).
func TestSuspensionFilingOnline(t *testing.T) {
	if testing.Short() {
		t.Skip("builds the registration plugin")
	}
	p, _ := pluginPortal(t, "registration")
	const rp = "/api/plugins/registration"
	party := p.enterprise()
	day := func(d int) string { return time.Now().In(clock.Shanghai).AddDate(0, 0, d).Format("2006-01-02") }

	var me struct{ Name, Status string }
	if code, body := party("GET", rp+"/my/enterprise", nil, &me); code != 200 || me.Status != "存续" {
		t.Fatalf("my enterprise: %d %s", code, body)
	}
	filingBody := map[string]any{"reason": "经营场所装修", "start_date": day(1), "end_date": day(180), "service_address": "上海市浦东新区张江路100号"}
	var f struct {
		ID     int64
		Status string
		Number string
	}
	if code, body := party("POST", rp+"/my/suspensions", filingBody, &f); code != http.StatusCreated || f.Status != "submitted" {
		t.Fatalf("file: %d %s", code, body)
	}
	// An overlapping period, while the first is under review: refused.
	overlap := map[string]any{"reason": "再次申请", "start_date": day(30), "end_date": day(60), "service_address": "同上"}
	if code, body := party("POST", rp+"/my/suspensions", overlap, nil); code != http.StatusUnprocessableEntity || !strings.Contains(body, "重叠") {
		t.Fatalf("overlap: %d %s", code, body)
	}

	// The review is a to-do of the Pudong registration reviewer, not Huangpu's.
	var inbox struct {
		Items []struct {
			ID          int    `json:"id"`
			BusinessKey string `json:"business_key"`
			Title       string `json:"title"`
		}
	}
	p.ok("pd_reg", "GET", "/api/v1/workbench/boxes/todo?size=100", nil, &inbox)
	found := false
	for _, it := range inbox.Items {
		found = found || (it.BusinessKey == fmt.Sprint(f.ID) && strings.Contains(it.Title, "歇业备案审核"))
	}
	if !found {
		t.Fatalf("no review to-do for pd_reg: %+v", inbox.Items)
	}
	p.ok("hp_reg", "GET", "/api/v1/workbench/boxes/todo?size=100", nil, &inbox)
	for _, it := range inbox.Items {
		if it.BusinessKey == fmt.Sprint(f.ID) {
			t.Fatal("the Huangpu reviewer got a Pudong review")
		}
	}
	if code, _ := p.as("hp_reg", "POST", fmt.Sprintf("%s/suspensions/%d/approve", rp, f.ID), map[string]any{}, nil); code != http.StatusNotFound {
		t.Fatalf("Huangpu approves a Pudong filing: %d", code)
	}
	p.ok("pd_reg", "POST", fmt.Sprintf("%s/suspensions/%d/approve", rp, f.ID), map[string]any{"note": "材料齐全"}, &f)
	if f.Status != "approved" || !strings.HasPrefix(f.Number, "沪市监浦歇备〔") {
		t.Fatalf("approve: %+v", f)
	}
	party("GET", rp+"/my/enterprise", nil, &me)
	if me.Status != "歇业" {
		t.Fatalf("status after approval: %s", me.Status)
	}
	// The notice verifies as a signed document.
	var pub struct{ Number, Status string }
	var docs struct {
		Filings []struct {
			DocumentID string `json:"document_id"`
		}
	}
	party("GET", rp+"/my/enterprise", nil, &docs)
	var sm3 struct{ SM3 string }
	p.ok("pd_reg", "GET", "/api/v1/documents/"+docs.Filings[0].DocumentID, nil, &sm3)
	if code, _ := p.do("", "GET", fmt.Sprintf("/api/v1/verify/%s?h=%s", docs.Filings[0].DocumentID, sm3.SM3[:16]), nil, &pub); code != 200 || pub.Number != f.Number || pub.Status != "issued" {
		t.Fatalf("the notice: %d %+v", code, pub)
	}

	// An extension long before the 30 days before expiry: refused, naming the window.
	if code, body := party("POST", fmt.Sprintf("%s/my/suspensions/%d/extend", rp, f.ID), map[string]any{"end_date": day(300), "reason": "装修延期"}, nil); code != http.StatusUnprocessableEntity || !strings.Contains(body, "30日内") {
		t.Fatalf("extension outside the window: %d %s", code, body)
	}
	// Termination restores the prior status.
	var term struct{ Status string }
	if code, body := party("POST", fmt.Sprintf("%s/my/suspensions/%d/terminate", rp, f.ID), map[string]any{}, &term); code != 200 || term.Status != "存续" {
		t.Fatalf("terminate: %d %s", code, body)
	}
	party("GET", rp+"/my/enterprise", nil, &me)
	if me.Status != "存续" {
		t.Fatalf("status after termination: %s", me.Status)
	}
	var list struct{ Suspensions []struct{ ID int64 } }
	p.ok("hp_reg", "GET", rp+"/suspensions", nil, &list)
	if len(list.Suspensions) != 0 {
		t.Fatalf("Huangpu lists Pudong filings: %+v", list)
	}
	p.ok("pd_reg", "GET", rp+"/suspensions", nil, &list)
	if len(list.Suspensions) != 2 {
		t.Fatalf("Pudong filings: %+v", list)
	}
}
