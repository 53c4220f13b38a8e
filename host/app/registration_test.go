package app_test

import (
	"encoding/json"
	"fmt"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/shanghai-amr/portal/host/clock"
)

// An enterprise files its business suspension online (cluster D, modules
// 40–70): the Pudong registration reviewer pre-reviews it from the workbench,
// returns it once with a comment on one material, passes the corrected one
// naming the agent and the legal representative as signers; each signs in
// the portal as themselves (a stranger cannot), the enterprise applies its
// e-seal and submits; the reviewer approves: the entity becomes 歇业, the
// notice is issued and signed, the chosen departments get the filing and
// answer, and the application is archived into the electronic dossier. A
// revoked enterprise, an overlapping period and an extension outside the
// window are refused with reasons; termination restores the prior status;
// an offline application goes through the window to a paper archive; another
// district sees nothing.
func TestSuspensionFilingOnline(t *testing.T) {
	if testing.Short() {
		t.Skip("builds the registration plugin")
	}
	p, _ := pluginPortal(t, "registration")
	const rp = "/api/plugins/registration"
	party := p.enterprise()
	day := func(d int) string { return time.Now().In(clock.Shanghai).AddDate(0, 0, d).Format("2006-01-02") }
	at := func(id int64, action string) string { return fmt.Sprintf("%s/suspensions/%d/%s", rp, id, action) }
	mine := func(id int64, action string) string { return fmt.Sprintf("%s/my/suspensions/%d/%s", rp, id, action) }

	var me struct{ Name, Status string }
	if code, body := party("GET", rp+"/my/enterprise", nil, &me); code != 200 || me.Status != "存续" {
		t.Fatalf("my enterprise: %d %s", code, body)
	}
	application := func(mode, start, end string) map[string]any {
		return map[string]any{"mode": mode, "reason": "经营场所装修", "start_date": start, "end_date": end, "service_address": "上海市浦东新区张江路100号",
			"agent":   map[string]any{"name": "李娜", "id_number": "310115199202050035", "mobile": "13812345678"},
			"persons": []map[string]any{{"role": "legal_rep", "name": "张明", "id_number": "310115198503120012"}},
			"departments": map[string]any{
				"tax":             map[string]any{"tax_authority": "国家税务总局上海市浦东新区税务局", "invoices_cleared": "是"},
				"social_security": map[string]any{"ss_account": "31011500012345", "ss_insured": "12"},
			}}
	}
	type filing struct {
		ID       int64
		Status   string
		Number   string
		Digest   string
		Archive  string
		Opinions []struct {
			Decision, Note string
			Materials      map[string]string
		}
		Persons []struct {
			Role     string
			IDNumber string `json:"id_number"`
			Required bool
			SignedAt int64 `json:"signed_at"`
		}
		Departments []struct{ Code, Status, Result string }
		Missing     []string `json:"missing_signatures"`
	}
	var f filing
	// Bad input first: a department form missing a field, named.
	bad := application("online", day(1), day(180))
	bad["departments"] = map[string]any{"tax": map[string]any{"tax_authority": "浦东税务局"}}
	if code, body := party("POST", rp+"/my/suspensions", bad, nil); code != http.StatusBadRequest || !strings.Contains(body, "发票已缴销必须填写") {
		t.Fatalf("a department form without a required field: %d %s", code, body)
	}
	if code, body := party("POST", rp+"/my/suspensions", application("online", day(1), day(180)), &f); code != http.StatusCreated || f.Status != "pending_prereview" {
		t.Fatalf("file: %d %s", code, body)
	}
	if strings.Contains(fmt.Sprint(f), "310115199202050035") || f.Persons[0].IDNumber != "310115********0035" {
		t.Fatalf("an identity number was kept or shown unmasked: %+v", f.Persons)
	}
	// An overlapping period, while the first is in handling: refused.
	if code, body := party("POST", rp+"/my/suspensions", application("online", day(30), day(60)), nil); code != http.StatusUnprocessableEntity || !strings.Contains(body, "重叠") {
		t.Fatalf("overlap: %d %s", code, body)
	}

	// Pre-review is a to-do of the Pudong registration reviewer, not Huangpu's.
	todo := func(user string, id int64, title string) bool {
		var inbox struct {
			Items []struct {
				BusinessKey string `json:"business_key"`
				Title       string `json:"title"`
			}
		}
		p.ok(user, "GET", "/api/v1/workbench/boxes/todo?size=100", nil, &inbox)
		for _, it := range inbox.Items {
			if it.BusinessKey == fmt.Sprint(id) && strings.Contains(it.Title, title) {
				return true
			}
		}
		return false
	}
	if !todo("pd_reg", f.ID, "歇业备案预审（全程电子化登记）") || todo("hp_reg", f.ID, "歇业") {
		t.Fatal("the pre-review to-do is not Pudong's alone")
	}
	if code, _ := p.as("hp_reg", "POST", at(f.ID, "prereview"), map[string]any{"decision": "pass", "signers": []string{"agent"}}, nil); code != http.StatusNotFound {
		t.Fatalf("Huangpu pre-reviews a Pudong filing: %d", code)
	}
	// Returned with a comment on the commitment (module 64); corrected and resubmitted (55).
	p.ok("pd_reg", "POST", at(f.ID, "prereview"), map[string]any{"decision": "return", "note": "请补充社保信息",
		"materials": map[string]string{"social_security": "参保人数与申报不符"}}, &f)
	if f.Status != "returned" || f.Opinions[0].Materials["social_security"] == "" {
		t.Fatalf("returned: %+v", f)
	}
	fixed := application("online", day(1), day(180))
	fixed["departments"].(map[string]any)["social_security"] = map[string]any{"ss_account": "31011500012345", "ss_insured": "10"}
	if code, body := party("POST", mine(f.ID, "resubmit"), fixed, &f); code != 200 || f.Status != "pending_prereview" {
		t.Fatalf("resubmit: %d %s", code, body)
	}
	if code, body := p.as("pd_reg", "POST", at(f.ID, "prereview"), map[string]any{"decision": "pass", "signers": []string{"director"}}, nil); code != http.StatusBadRequest || !strings.Contains(body, "董事") {
		t.Fatalf("a signer role the application lacks: %d %s", code, body)
	}
	p.ok("pd_reg", "POST", at(f.ID, "prereview"), map[string]any{"decision": "pass", "signers": []string{"agent", "legal_rep"}}, &f)
	if f.Status != "pending_signatures" || len(f.Missing) != 3 {
		t.Fatalf("passed: %+v", f)
	}
	if code, body := party("POST", mine(f.ID, "submit"), map[string]any{}, nil); code != http.StatusConflict || !strings.Contains(body, "张明") {
		t.Fatalf("submitted unsigned: %d %s", code, body)
	}

	// Each signer signs as themselves (module 53); a stranger finds nothing to sign.
	var sigs struct {
		Signatures []struct {
			Filing struct {
				ID     int64
				Digest string
			}
			Roles     []string
			Signed    bool
			Materials []struct{ Title string }
		}
	}
	stranger := p.signIn("suishenban", "person-demo")
	stranger("GET", rp+"/signatures", nil, &sigs)
	if len(sigs.Signatures) != 0 {
		t.Fatalf("a stranger has signatures to give: %+v", sigs)
	}
	if code, _ := stranger("POST", fmt.Sprintf("%s/signatures/%d/sign", rp, f.ID), map[string]any{"digest": f.Digest}, nil); code != http.StatusNotFound {
		t.Fatalf("a stranger signs: %d", code)
	}
	for _, persona := range []string{"person-legalrep", "person-agent"} {
		signer := p.signIn("suishenban", persona)
		signer("GET", rp+"/signatures", nil, &sigs)
		if len(sigs.Signatures) != 1 || sigs.Signatures[0].Filing.ID != f.ID || sigs.Signatures[0].Signed || len(sigs.Signatures[0].Materials) < 3 {
			t.Fatalf("%s's signatures: %+v", persona, sigs)
		}
		if code, body := signer("POST", fmt.Sprintf("%s/signatures/%d/sign", rp, f.ID), map[string]any{"digest": "0000"}, nil); code != http.StatusConflict || !strings.Contains(body, "已变更") {
			t.Fatalf("signing other materials: %d %s", code, body)
		}
		if code, body := signer("POST", fmt.Sprintf("%s/signatures/%d/sign", rp, f.ID), map[string]any{"digest": sigs.Signatures[0].Filing.Digest}, nil); code != 200 {
			t.Fatalf("%s signs: %d %s", persona, code, body)
		}
	}
	party("POST", mine(f.ID, "seal"), map[string]any{"digest": f.Digest}, &f)
	if code, body := party("POST", mine(f.ID, "submit"), map[string]any{}, &f); code != 200 || f.Status != "pending_review" {
		t.Fatalf("submit for review: %d %s", code, body)
	}
	if !todo("pd_reg", f.ID, "歇业备案审核") {
		t.Fatal("no review to-do for pd_reg")
	}
	if code, _ := p.as("hp_reg", "POST", at(f.ID, "approve"), map[string]any{}, nil); code != http.StatusNotFound {
		t.Fatalf("Huangpu approves a Pudong filing: %d", code)
	}
	p.ok("pd_reg", "POST", at(f.ID, "approve"), map[string]any{"note": "材料齐全"}, &f)
	if f.Status != "approved" || !strings.HasPrefix(f.Number, "沪市监浦歇备〔") {
		t.Fatalf("approve: %+v", f)
	}
	party("GET", rp+"/my/enterprise", nil, &me)
	if me.Status != "歇业" {
		t.Fatalf("status after approval: %s", me.Status)
	}
	// The departments got it and answered (modules 67, 69, 62).
	if len(f.Departments) != 2 || f.Departments[0].Status != "done" || !strings.Contains(f.Departments[0].Result, "已接收歇业备案信息") {
		t.Fatalf("departments: %+v", f.Departments)
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
	// Archived into the electronic dossier, which passes the archive checks (module 66).
	if code, body := p.as("pd_reg", "POST", at(f.ID, "archive"), map[string]any{}, &f); code != 200 || !strings.HasPrefix(f.Archive, "电子归档：") {
		t.Fatalf("archive: %d %s", code, body)
	}

	// An extension long before the 30 days before expiry: refused, naming the window.
	if code, body := party("POST", mine(f.ID, "extend"), application("online", "", day(300)), nil); code != http.StatusUnprocessableEntity || !strings.Contains(body, "30日内") {
		t.Fatalf("extension outside the window: %d %s", code, body)
	}
	// Termination restores the prior status and tells the departments (68).
	var term struct {
		Status string
		Filing filing
	}
	if code, body := party("POST", mine(f.ID, "terminate"), map[string]any{}, &term); code != 200 || term.Status != "存续" || term.Filing.Departments[0].Status != "done" {
		t.Fatalf("terminate: %d %s", code, body)
	}
	party("GET", rp+"/my/enterprise", nil, &me)
	if me.Status != "存续" {
		t.Fatalf("status after termination: %s", me.Status)
	}

	// Offline (modules 57–58): pre-review, the paper materials at the window, review, a paper archive.
	var off filing
	if code, body := party("POST", rp+"/my/suspensions", application("offline", day(1), day(90)), &off); code != http.StatusCreated {
		t.Fatalf("file offline: %d %s", code, body)
	}
	p.ok("pd_reg", "POST", at(off.ID, "prereview"), map[string]any{"decision": "pass"}, &off)
	if off.Status != "pending_materials" {
		t.Fatalf("offline pass: %+v", off)
	}
	var mats struct{ Materials []struct{ Key, Title string } }
	if code, _ := party("GET", mine(off.ID, "materials"), nil, &mats); code != 200 || mats.Materials[0].Title != "市场主体歇业备案申请书" {
		t.Fatalf("materials: %+v", mats)
	}
	p.ok("pd_reg", "POST", at(off.ID, "receive"), map[string]any{"note": "窗口收件"}, &off)
	p.ok("pd_reg", "POST", at(off.ID, "approve"), map[string]any{}, &off)
	if code, body := p.as("pd_reg", "POST", at(off.ID, "archive"), map[string]any{}, nil); code != http.StatusBadRequest || !strings.Contains(body, "存放位置") {
		t.Fatalf("paper archive without a location: %d %s", code, body)
	}
	p.ok("pd_reg", "POST", at(off.ID, "archive"), map[string]any{"location": "浦东新区市场监管局档案室 3-12"}, &off)
	if off.Archive != "纸质归档：浦东新区市场监管局档案室 3-12" {
		t.Fatalf("paper archive: %+v", off)
	}

	var list struct{ Suspensions []struct{ ID int64 } }
	p.ok("hp_reg", "GET", rp+"/suspensions", nil, &list)
	if len(list.Suspensions) != 0 {
		t.Fatalf("Huangpu lists Pudong filings: %+v", list)
	}
	p.ok("pd_reg", "GET", rp+"/suspensions?mode=offline", nil, &list)
	if len(list.Suspensions) != 1 || list.Suspensions[0].ID != off.ID {
		t.Fatalf("Pudong's offline filings: %+v", list)
	}
	var stats struct{ Total int }
	p.ok("pd_reg", "GET", rp+"/suspensions/stats", nil, &stats)
	if stats.Total != 3 {
		t.Fatalf("statistics: %+v", stats)
	}
	// The operator configures the exchange (docs/operator-guide.md): a secret
	// is stored and audited but never shown back; bad keys and non-operators
	// are refused.
	var settings struct {
		Settings []struct {
			Key, Value string
			Secret     bool
		}
	}
	p.ok("admin", "PUT", "/api/v1/admin/plugins/registration/settings/exchange.secret", map[string]any{"value": "a-secret-agreed-with-the-departments"}, &settings)
	p.ok("admin", "PUT", "/api/v1/admin/plugins/registration/settings/exchange.url.tax", map[string]any{"value": "http://127.0.0.1:9/tax"}, &settings)
	if len(settings.Settings) != 2 || !settings.Settings[0].Secret || settings.Settings[0].Value != "" || settings.Settings[1].Value != "http://127.0.0.1:9/tax" {
		t.Fatalf("settings: %+v", settings)
	}
	if code, body := p.as("admin", "PUT", "/api/v1/admin/plugins/registration/settings/Bad Key", map[string]any{"value": "x"}, nil); code != http.StatusBadRequest || !strings.Contains(body, "plugin.bad_setting") {
		t.Fatalf("a bad key: %d %s", code, body)
	}
	if code, _ := p.as("pd_reg", "PUT", "/api/v1/admin/plugins/registration/settings/registry.demo", map[string]any{"value": "off"}, nil); code != http.StatusForbidden {
		t.Fatalf("a reviewer changes plugin settings: %d", code)
	}
	if code, _ := p.as("admin", "GET", "/api/v1/admin/plugins/nosuch/settings", nil, nil); code != http.StatusNotFound {
		t.Fatalf("settings of a plugin that is not installed: %d", code)
	}
	// The departments' feedback route takes signed feedback only.
	if code, _ := p.do("", "POST", rp+"/exchange/feedback", map[string]any{"message_id": "x", "status": "done", "result": "伪造"}, nil); code != http.StatusUnauthorized {
		t.Fatalf("forged feedback: %d", code)
	}
}

// A person applies to establish a company (cluster A's workflow): the New
// Company Law rules refuse a first attempt whose instalments do not add up
// (A-3 R7, with its field); the corrected application names its signers —
// the legal representative (also director and shareholder) and the
// supervisor — who each sign as themselves; the applicant submits; the
// Pudong reviewer pre-reviews and approves from the workbench; the company
// enters the registry with a valid credit code, 存续, and is found by name.
func TestEstablishmentOnline(t *testing.T) {
	if testing.Short() {
		t.Skip("builds the registration plugin")
	}
	p, _ := pluginPortal(t, "registration")
	const rp = "/api/plugins/registration"
	applicant := p.signIn("suishenban", "person-legalrep")
	supervisor := p.signIn("suishenban", "person-agent")
	soon := time.Now().In(clock.Shanghai).AddDate(0, 3, 0).Format(time.RFC3339)
	later := time.Now().In(clock.Shanghai).AddDate(4, 0, 0).Format(time.RFC3339)
	company := func(second int64) map[string]any {
		zhang := map[string]any{"name": "张明", "idType": "resident_id", "idNumber": "310115198503120012"}
		return map[string]any{"name": "上海浦东星河软件有限公司", "district": "浦东新区", "address": "张江路200号", "scope": "软件开发；信息技术咨询服务",
			"company": map[string]any{"type": "llc", "registeredCapitalFen": 100_000_000, "supervision": "single_supervisor",
				"legalRep": map[string]any{"name": "张明", "idType": "resident_id", "idNumber": "310115198503120012", "position": "director", "appointedBy": "elected"},
				"members": []map[string]any{
					{"name": "张明", "idType": "resident_id", "idNumber": "310115198503120012", "positions": []string{"director"}},
					{"name": "李娜", "idType": "resident_id", "idNumber": "310115199202050035", "positions": []string{"supervisor"}},
				},
				"shareholders": []map[string]any{{"name": zhang["name"], "idType": "resident_id", "idNumber": zhang["idNumber"], "kind": "natural_person",
					"subscribedFen": 100_000_000, "instalments": []map[string]any{{"amountFen": 30_000_000, "due": soon}, {"amountFen": second, "due": later}}}},
			}}
	}
	var refused struct {
		Code    string
		Details []struct{ Rule, Field string }
	}
	code, body := applicant("POST", rp+"/establishments", company(60_000_000), nil)
	if err := json.Unmarshal([]byte(body), &refused); err != nil || code != http.StatusUnprocessableEntity ||
		refused.Code != "registration.rules" || len(refused.Details) == 0 || refused.Details[0].Rule != "A-3 R7" ||
		refused.Details[0].Field != "shareholders[0].instalments" {
		t.Fatalf("instalments that do not add up: %d %s", code, body)
	}
	type establishment struct {
		ID      int64
		Status  string
		Digest  string
		USCC    string
		Signers []struct {
			Role, Name string
			IDNumber   string `json:"id_number"`
		}
		Missing []string `json:"missing_signatures"`
	}
	var e establishment
	if code, body := applicant("POST", rp+"/establishments", company(70_000_000), &e); code != http.StatusCreated || e.Status != "pending_signatures" || len(e.Signers) != 2 {
		t.Fatalf("apply: %d %s", code, body)
	}
	if e.Signers[0].Role != "法定代表人、董事、股东" || e.Signers[0].IDNumber != "310115********0012" || strings.Contains(fmt.Sprint(e), "198503120012") {
		t.Fatalf("signers: %+v", e.Signers)
	}
	if code, body := applicant("POST", fmt.Sprintf("%s/establishments/%d/submit", rp, e.ID), map[string]any{}, nil); code != http.StatusConflict || !strings.Contains(body, "李娜") {
		t.Fatalf("submitted unsigned: %d %s", code, body)
	}
	stranger := p.signIn("suishenban", "person-demo")
	if code, _ := stranger("POST", fmt.Sprintf("%s/establishments/%d/sign", rp, e.ID), map[string]any{"digest": e.Digest}, nil); code != http.StatusNotFound {
		t.Fatalf("a stranger signs: %d", code)
	}
	for _, signer := range []func(string, string, any, any) (int, string){applicant, supervisor} {
		if code, body := signer("POST", fmt.Sprintf("%s/establishments/%d/sign", rp, e.ID), map[string]any{"digest": e.Digest}, nil); code != 200 {
			t.Fatalf("sign: %d %s", code, body)
		}
	}
	applicant("POST", fmt.Sprintf("%s/establishments/%d/submit", rp, e.ID), map[string]any{}, &e)
	if e.Status != "pending_prereview" {
		t.Fatalf("submit: %+v", e)
	}
	if code, _ := p.as("hp_reg", "POST", fmt.Sprintf("%s/establishments/%d/prereview", rp, e.ID), map[string]any{"decision": "pass"}, nil); code != http.StatusNotFound {
		t.Fatalf("Huangpu pre-reviews a Pudong application: %d", code)
	}
	p.ok("pd_reg", "POST", fmt.Sprintf("%s/establishments/%d/prereview", rp, e.ID), map[string]any{"decision": "pass"}, &e)
	p.ok("pd_reg", "POST", fmt.Sprintf("%s/establishments/%d/approve", rp, e.ID), map[string]any{"note": "准予设立"}, &e)
	if e.Status != "approved" || !strings.HasPrefix(e.USCC, "91310115MA") {
		t.Fatalf("approve: %+v", e)
	}
	var ent struct {
		Name, Status string
		Entity       struct {
			LegalRepID string `json:"legal_rep_id"`
		}
	}
	p.ok("pd_reg", "GET", rp+"/enterprises/"+e.USCC, nil, &ent)
	if ent.Name != "上海浦东星河软件有限公司" || ent.Status != "存续" || ent.Entity.LegalRepID != "310115********0012" {
		t.Fatalf("the registry: %+v", ent)
	}
	var found struct{ Enterprises []struct{ USCC string } }
	p.ok("pd_reg", "GET", rp+"/enterprises?q=星河软件", nil, &found)
	if len(found.Enterprises) == 0 || found.Enterprises[0].USCC != e.USCC {
		t.Fatalf("search after approval: %+v", found)
	}
	// The plugin's policy: a market station is not the registration
	// authority, whatever roles its staff hold (the security administrator
	// tries the live policy with a sample input).
	var decision struct {
		Decision struct {
			Allow  bool
			Reason string
		}
	}
	station := map[string]any{"input": map[string]any{"plugin": "registration", "action": "registration.application.review",
		"resource": map[string]any{"org_path": "/310000/310115/310115-S02"},
		"subject": map[string]any{"audience": "staff", "username": "x", "permissions": []string{"registration.application.review"},
			"org_path": "/310000/310115/310115-S02", "jurisdiction": "station", "data_scopes": []string{"subtree"}}}}
	p.ok("secadmin", "POST", "/api/v1/admin/policies/test", station, &decision)
	if decision.Decision.Allow || !strings.Contains(decision.Decision.Reason, "市场监管所不能预审或核准") {
		t.Fatalf("a station decides a registration: %+v", decision)
	}
	// The same name again: refused.
	if code, body := applicant("POST", rp+"/establishments", company(70_000_000), nil); code != http.StatusUnprocessableEntity || !strings.Contains(body, "已被登记") {
		t.Fatalf("a registered name: %d %s", code, body)
	}
}
