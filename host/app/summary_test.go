package app_test

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"os/exec"
	"strings"
	"testing"
	"time"

	"github.com/shanghai-amr/portal/host/store/ent/auditentry"
)

// summaryJSON is a summary-procedure case as the plugin answers it.
type summaryJSON struct {
	ID      int64
	Number  string
	Status  string
	FineFen int64 `json:"fine_fen"`
	Capture struct {
		Party struct {
			IDNumber string `json:"id_number"`
		}
	}
	Record struct {
		Decision *struct {
			DocumentID string `json:"document_id"`
			Number     string
			SM3        string
		}
		OfficerSignature *struct{ By, SM3 string } `json:"officer_signature"`
		Acknowledgement  *struct {
			SignerName  string `json:"signer_name"`
			Refused     bool
			DecisionSM3 string `json:"decision_sm3"`
		}
		Receipt *struct {
			DocumentID string `json:"document_id"`
		}
		Unit   *struct{ Approved bool } `json:"unit_filing"`
		Agency *struct{ Approved bool } `json:"agency_filing"`
	}
}

const sp = ep + "/summary-cases"

// summaryCapture is an on-site capture by pd_li with zj_zhao (both Pudong
// handlers), for party and penalty.
func summaryCapture(party map[string]any, warning bool, fineYuan int, second string) map[string]any {
	return map[string]any{
		"cause": "未按规定明码标价", "party": party,
		"officers": []map[string]any{{"username": "pd_li", "certificate_no": "31011500123"}, {"username": second, "certificate_no": "31011500456"}},
		"place":    "上海市浦东新区张江路100号店堂内",
		"facts":    "当事人在其经营场所销售的12种商品未标明价格。", "evidence": "现场检查笔录、现场照片",
		"violated": "《中华人民共和国价格法》第十三条第一款", "basis": "《明码标价和禁止价格欺诈规定》第二十条",
		"warning": warning, "fine_yuan": fineYuan, "review_organ": "上海市浦东新区人民政府", "court": "上海铁路运输法院",
	}
}

var summaryEnterprise = map[string]any{"kind": "organisation", "name": "上海浦东示例科技有限公司", "id_number": "91310115MA1K4PTX8J",
	"address": "上海市浦东新区张江路100号", "legal_rep": "张明", "phone": "021-58881234"}

// The summary procedure (简易程序, §1.0 and C2) end to end through the HTTP
// API, with the enforcement plugin running from its signed bundle: two Pudong
// officers capture on site within 行政处罚法 第五十一条; the host issues the
// 当场行政处罚决定书 from its template and it verifies; the party confirms it
// on the officer's device against its SM3 and the 送达回证 records it; the head
// of the unit and then the agency file it; only then is a payment order
// created (R-PAY-8), paid at the sandbox platform, and the dossier archived
// passing the archive checks (1304). A second case whose filing the head of
// the unit refuses gets no payment order (acceptance S2); a Huangpu officer
// reaches neither case by any route (issue 8, item 3).
func TestSummaryProcedureOnSiteToArchive(t *testing.T) {
	if testing.Short() {
		t.Skip("builds the enforcement plugin")
	}
	if _, err := exec.LookPath("pdftotext"); err != nil {
		t.Fatal("pdftotext (poppler-utils) is required: run scripts/ci-deps.sh")
	}
	p, _ := pluginPortal(t, "enforcement")
	if err := p.a.Store.Client.Setting.Create().SetScope("enforcement").SetKey("payment.notify_url").
		SetValue(p.ts.URL + ep + "/payment/notify").Exec(context.Background()); err != nil {
		t.Fatal(err)
	}
	year := time.Now().In(time.FixedZone("CST", 8*3600)).Year()

	// Refused through the real host, nothing stored: the second officer must
	// be a handler of the same district bureau (第四十二条); the limit of
	// 第五十一条 holds; a head of unit cannot capture (no enforcement.case.write).
	for _, c := range []struct {
		name, user string
		body       map[string]any
		status     int
		want       string
	}{
		{"an officer of another district", "pd_li", summaryCapture(summaryEnterprise, false, 500, "hp_liu"), 422, "不属于本局"},
		{"an unknown officer", "pd_li", summaryCapture(summaryEnterprise, false, 500, "nobody"), 422, "不是本系统的执法人员"},
		{"a head of unit as the second officer", "pd_li", summaryCapture(summaryEnterprise, false, 500, "pd_wang"), 422, "不是执法人员"},
		{"第五十一条: 3,500 yuan for an organisation", "pd_li", summaryCapture(summaryEnterprise, false, 3500, "zj_zhao"), 422, "不得超过3000元"},
		{"no permission to capture", "pd_wang", summaryCapture(summaryEnterprise, false, 500, "zj_zhao"), 403, ""},
	} {
		if code, body := p.as(c.user, "POST", sp, c.body, nil); code != c.status || !strings.Contains(body, c.want) {
			t.Fatalf("%s: %d %s", c.name, code, body)
		}
	}
	var list struct{ Cases []summaryJSON }
	p.ok("pd_li", "GET", sp, nil, &list)
	if len(list.Cases) != 0 {
		t.Fatalf("refused captures were stored: %+v", list.Cases)
	}

	// Capture (C2) and the decision issued from the host's template (1126).
	var sc summaryJSON
	if code, body := p.as("pd_li", "POST", sp, summaryCapture(summaryEnterprise, true, 500, "zj_zhao"), &sc); code != http.StatusCreated || sc.Status != "captured" {
		t.Fatalf("capture: %d %s", code, body)
	}
	if code, body := p.as("zj_zhao", "POST", fmt.Sprintf("%s/%d/issue", sp, sc.ID), map[string]any{}, nil); code != http.StatusNotFound {
		// The station officer named on the case does not see a brigade's case (his data scope is his station).
		t.Fatalf("issue outside the caller's scope: %d %s", code, body)
	}
	p.ok("pd_li", "POST", fmt.Sprintf("%s/%d/issue", sp, sc.ID), map[string]any{}, &sc)
	dec := sc.Record.Decision
	if want := fmt.Sprintf("沪市监浦当罚〔%d〕1号", year); sc.Status != "issued" || dec == nil || sc.Number != want || dec.Number != want ||
		sc.Record.OfficerSignature == nil || sc.Record.OfficerSignature.By != "pd_li" || sc.Record.OfficerSignature.SM3 != dec.SM3 {
		t.Fatalf("issue: %+v (want %s)", sc, want)
	}
	code, _, pdf := p.raw("pd_li", "GET", "/api/v1/documents/"+dec.DocumentID+"/content", "", nil)
	if code != 200 {
		t.Fatalf("decision content: %d", code)
	}
	text := pdfText(t, pdf)
	for _, w := range []string{"当场行政处罚决定书", dec.Number, "上海浦东示例科技有限公司", "警告，并处罚款人民币500元", "李娜（执法证号：31011500123）",
		"赵磊（执法证号：31011500456）", "第五十一条", "上海市浦东新区人民政府", "处罚地点"} {
		if !strings.Contains(text, w) {
			t.Errorf("%q missing from the decision: %s", w, text)
		}
	}
	var v verification
	code, _, b := p.raw("", "POST", "/api/v1/documents/verify", "application/pdf", pdf)
	if code != 200 || jsonInto(t, b, &v) != nil || !v.Valid || v.Document == nil || v.Document.Number != dec.Number {
		t.Fatalf("verify the decision: %d %s", code, b)
	}
	var pub struct{ Number, Status string }
	if code, body := p.do("", "GET", fmt.Sprintf("/api/v1/verify/%s?h=%s", dec.DocumentID, dec.SM3[:16]), nil, &pub); code != 200 || pub.Number != dec.Number || pub.Status != "issued" {
		t.Fatalf("public verification: %d %s", code, body)
	}

	// R-PAY-8 before any filing: no payment order.
	if code, body := p.as("pd_li", "POST", fmt.Sprintf("%s/%d/payment-order", sp, sc.ID), map[string]any{}, nil); code != http.StatusConflict || !strings.Contains(body, "enforcement.summary.not_filed") {
		t.Fatalf("a payment order before the filings: %d %s", code, body)
	}

	// The party confirms on the officer's device: the digest must be the
	// decision's as issued; then the 送达回证 records signer, time and SM3.
	ack := map[string]any{"signer_name": "张明", "capacity": "legal_rep", "decision_sm3": strings.Repeat("0", 64)}
	if code, body := p.as("pd_li", "POST", fmt.Sprintf("%s/%d/acknowledge", sp, sc.ID), ack, nil); code != http.StatusConflict || !strings.Contains(body, "SM3") {
		t.Fatalf("confirming another document: %d %s", code, body)
	}
	ack["signer_name"] = "李四"
	ack["decision_sm3"] = dec.SM3
	if code, body := p.as("pd_li", "POST", fmt.Sprintf("%s/%d/acknowledge", sp, sc.ID), ack, nil); code != http.StatusBadRequest {
		t.Fatalf("a signer who is not the legal representative: %d %s", code, body)
	}
	ack["signer_name"] = "张明"
	p.ok("pd_li", "POST", fmt.Sprintf("%s/%d/acknowledge", sp, sc.ID), ack, &sc)
	if sc.Status != "delivered" || sc.Record.Acknowledgement == nil || sc.Record.Acknowledgement.DecisionSM3 != dec.SM3 || sc.Record.Receipt == nil {
		t.Fatalf("acknowledgement: %+v", sc)
	}
	code, _, receipt := p.raw("pd_li", "GET", "/api/v1/documents/"+sc.Record.Receipt.DocumentID+"/content", "", nil)
	if rt := pdfText(t, receipt); code != 200 || !strings.Contains(rt, "送达回证") || !strings.Contains(rt, dec.Number) ||
		!strings.Contains(rt, "张明（法定代表人）") || !strings.Contains(rt, dec.SM3[:16]) {
		t.Fatalf("the proof of service: %d %s", code, rt)
	}

	// Filing at the unit, then at the agency, by the right people (1205).
	at := func(id int64, step string) string { return fmt.Sprintf("%s/%d/%s", sp, id, step) }
	if code, _ := p.as("pd_li", "POST", at(sc.ID, "unit-filing"), map[string]any{"approve": true}, nil); code != http.StatusForbidden {
		t.Fatalf("a handler files: %d", code)
	}
	if code, _ := p.as("pd_head", "POST", at(sc.ID, "agency-filing"), map[string]any{"approve": true}, nil); code != http.StatusConflict {
		t.Fatalf("the agency files before the unit: %d", code)
	}
	p.ok("pd_wang", "POST", at(sc.ID, "unit-filing"), map[string]any{"approve": true, "opinion": "事实清楚，适用依据正确，同意备案"}, &sc)
	if sc.Status != "unit_filed" || sc.Record.Unit == nil || !sc.Record.Unit.Approved {
		t.Fatalf("unit filing: %+v", sc)
	}
	if code, body := p.as("pd_li", "POST", at(sc.ID, "payment-order"), map[string]any{}, nil); code != http.StatusConflict || !strings.Contains(body, "机关备案尚未完成") {
		t.Fatalf("a payment order after the unit's filing only: %d %s", code, body)
	}
	p.ok("pd_head", "POST", at(sc.ID, "agency-filing"), map[string]any{"approve": true}, &sc)
	if sc.Status != "agency_filed" || sc.Record.Agency == nil || !sc.Record.Agency.Approved {
		t.Fatalf("agency filing: %+v", sc)
	}

	// The payment order (the general procedure's payment code, C10): 500
	// yuan, valid 15 minutes (R-PAY-2); paid at the sandbox, notified.
	var order struct {
		OrderNo   string    `json:"order_no"`
		CaseID    string    `json:"case_id"`
		AmountFen int64     `json:"amount_fen"`
		ExpiresAt time.Time `json:"expires_at"`
	}
	if code, body := p.as("pd_li", "POST", at(sc.ID, "payment-order"), map[string]any{}, &order); code != http.StatusCreated || order.AmountFen != 50000 ||
		order.CaseID != fmt.Sprintf("S%d", sc.ID) {
		t.Fatalf("payment order: %d %s", code, body)
	}
	if d := time.Until(order.ExpiresAt); d > 15*time.Minute || d < 14*time.Minute {
		t.Fatalf("an order is valid 15 minutes (R-PAY-2): %s", d)
	}
	p.ok("pd_li", "POST", at(sc.ID, "sandbox-pay"), map[string]any{}, nil)
	for i := 0; ; i++ {
		p.ok("pd_li", "GET", fmt.Sprintf("%s/%d", sp, sc.ID), nil, &sc)
		if sc.Status == "paid" {
			break
		}
		if i == 100 {
			t.Fatalf("the payment was not recorded: %+v", sc)
		}
		time.Sleep(100 * time.Millisecond)
	}

	// A Huangpu officer: 404 on every route he holds the permission for; the
	// host refuses the others (403) before the plugin sees the request.
	probe := map[string]any{"approve": true, "signer_name": "张明", "capacity": "legal_rep", "decision_sm3": dec.SM3}
	for _, r := range []struct {
		route  string
		status int
	}{{"GET %d", 404}, {"POST %d/issue", 404}, {"POST %d/acknowledge", 404}, {"POST %d/payment-order", 404}, {"POST %d/sandbox-pay", 404},
		{"POST %d/unit-filing", 403}, {"POST %d/agency-filing", 403}, {"POST %d/close", 403}} {
		method, path, _ := strings.Cut(r.route, " ")
		if code, body := p.as("hp_liu", method, fmt.Sprintf(sp+"/"+path, sc.ID), probe, nil); code != r.status {
			t.Fatalf("hp_liu %s: %d %s", r.route, code, body)
		}
	}
	var hp struct{ Cases []summaryJSON }
	p.ok("hp_liu", "GET", sp, nil, &hp)
	if len(hp.Cases) != 0 {
		t.Fatalf("Huangpu lists Pudong summary cases: %+v", hp.Cases)
	}

	// Archived into the summary dossier (penalty_summary: the decision and the
	// proof of service), which passes the archive checks (1304).
	var closed struct {
		ArchiveCode string `json:"archive_code"`
		Report      struct {
			Passed  bool
			Results []struct {
				Code   string
				Passed bool
			}
		}
	}
	if code, body := p.as("pd_wang", "POST", at(sc.ID, "close"), map[string]any{}, &closed); code != 200 || !closed.Report.Passed {
		t.Fatalf("close: %d %s", code, body)
	}
	if !strings.HasPrefix(closed.ArchiveCode, fmt.Sprintf("Z031-%d-D10-", year)) || len(closed.Report.Results) < 14 {
		t.Fatalf("archive: %+v", closed)
	}
	p.ok("pd_li", "GET", fmt.Sprintf("%s/%d", sp, sc.ID), nil, &sc)
	if sc.Status != "archived" {
		t.Fatalf("after closing: %+v", sc)
	}

	// S2: a citizen fined at the limit (200 yuan) refuses to sign, which the
	// officers note; the head of the unit refuses the filing: no payment
	// order, and the platform is not called.
	person := map[string]any{"kind": "person", "name": "王某", "id_type": "resident_id", "id_number": "310115199202050035", "address": "上海市浦东新区合欢路8号"}
	var s2 summaryJSON
	p.ok("pd_li", "POST", sp, summaryCapture(person, false, 200, "zj_zhao"), &s2)
	p.ok("pd_li", "POST", at(s2.ID, "issue"), map[string]any{}, &s2)
	if want := fmt.Sprintf("沪市监浦当罚〔%d〕2号", year); s2.Number != want {
		t.Fatalf("second decision number %q, want %q", s2.Number, want)
	}
	p.ok("pd_li", "POST", at(s2.ID, "acknowledge"), map[string]any{"refused": true, "reason": "当事人对处罚不服，拒绝签字", "witness": "社区工作人员刘某"}, &s2)
	if s2.Status != "delivered" || s2.Record.Acknowledgement == nil || !s2.Record.Acknowledgement.Refused {
		t.Fatalf("refusal to sign: %+v", s2)
	}
	if code, _ := p.as("pd_wang", "POST", at(s2.ID, "unit-filing"), map[string]any{"approve": false}, nil); code != http.StatusBadRequest {
		t.Fatalf("a refusal without its opinion (R-RET-4): %d", code)
	}
	p.ok("pd_wang", "POST", at(s2.ID, "unit-filing"), map[string]any{"approve": false, "opinion": "违法事实认定证据不足"}, &s2)
	if code, body := p.as("pd_li", "POST", at(s2.ID, "payment-order"), map[string]any{}, nil); code != http.StatusConflict ||
		!strings.Contains(body, "系统无法生成缴纳罚款的支付单") || !strings.Contains(body, "违法事实认定证据不足") {
		t.Fatalf("S2: a payment order after a refused filing: %d %s", code, body)
	}
	if code, _ := p.as("pd_head", "POST", at(s2.ID, "agency-filing"), map[string]any{"approve": true}, nil); code != http.StatusConflict {
		t.Fatalf("the agency files what the unit refused: %d", code)
	}
	ctx := context.Background()
	if n, err := p.a.Store.Client.AuditEntry.Query().Where(auditentry.Action("enforcement.summary.pay_order")).Count(ctx); err != nil || n != 1 {
		t.Fatalf("payment orders placed: %d (%v), want only the first case's", n, err)
	}
	// The list masks the citizen's identity number.
	p.ok("pd_li", "GET", sp, nil, &list)
	if len(list.Cases) != 2 || list.Cases[0].Capture.Party.IDNumber == "310115199202050035" || !strings.HasSuffix(list.Cases[0].Capture.Party.IDNumber, "0035") {
		t.Fatalf("list: %+v", list.Cases)
	}

	// Every state change is in the host's audit log.
	for _, a := range []string{"capture", "issue", "acknowledge", "unit_filing", "agency_filing", "pay_order", "paid", "archive"} {
		if n, err := p.a.Store.Client.AuditEntry.Query().Where(auditentry.Action("enforcement.summary." + a)).Count(ctx); err != nil || n == 0 {
			t.Errorf("no audit entry enforcement.summary.%s (%v)", a, err)
		}
	}
	b, _ = json.Marshal(closed)
	t.Logf("archived: %s", b)
}
