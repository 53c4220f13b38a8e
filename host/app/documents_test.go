package app_test

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"image"
	"image/color"
	"image/png"
	"io"
	"net/http"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/shanghai-amr/portal/host/dossier"
	"github.com/shanghai-amr/portal/host/store/storetest"
)

// decisionData is a complete 行政处罚决定书.
func decisionData() map[string]any {
	return map[string]any{
		"party_name": "上海某某食品贸易有限公司", "party_id": "91310115MA1K4ABC1X", "party_address": "上海市浦东新区张江路100号",
		"legal_rep":    "王某某",
		"case_source":  "2026年3月12日，本局根据群众投诉对当事人进行检查，于同日立案调查。",
		"facts":        "当事人于2026年3月至5月间销售标注虚假生产日期的预包装饼干共计1,200盒，货值金额人民币36,000元，违法所得人民币4,800元。",
		"evidence":     "现场检查笔录、询问笔录、进货单据、销售记录",
		"defence":      "当事人在规定期限内未提出陈述、申辩意见。",
		"violated":     "《中华人民共和国食品安全法》第三十四条第（十）项",
		"basis":        "《中华人民共和国食品安全法》第一百二十四条第一款",
		"penalty":      "一、没收违法所得人民币4,800元；二、罚款人民币360,000元",
		"payment":      "持本决定书到指定银行或者通过电子支付系统缴纳罚没款",
		"review_organ": "上海市浦东新区人民政府", "court": "上海铁路运输法院", "issue_date": "2026-10-09",
	}
}

func pdfText(t *testing.T, pdf []byte) string {
	t.Helper()
	path := filepath.Join(t.TempDir(), "doc.pdf")
	if err := os.WriteFile(path, pdf, 0o600); err != nil {
		t.Fatal(err)
	}
	out, err := exec.Command("pdftotext", path, "-").Output()
	if err != nil {
		t.Fatalf("pdftotext: %v", err)
	}
	return strings.Join(strings.Fields(string(out)), "")
}

// raw sends a non-JSON body as a user and returns status, headers and body.
func (p *portal) raw(user, method, path, contentType string, body []byte) (int, http.Header, []byte) {
	p.t.Helper()
	if user != "" {
		p.as(user, "GET", "/api/v1/auth/me", nil, nil) // signs in once
	}
	req, _ := http.NewRequest(method, p.ts.URL+path, bytes.NewReader(body))
	req.Header.Set("Content-Type", contentType)
	if user != "" {
		req.Header.Set("Authorization", "Bearer "+p.tokens[user])
	}
	res, err := http.DefaultClient.Do(req)
	if err != nil {
		p.t.Fatal(err)
	}
	defer res.Body.Close()
	b, _ := io.ReadAll(res.Body)
	return res.StatusCode, res.Header, b
}

type docView struct {
	ID           int    `json:"id"`
	Number       string `json:"number"`
	SM3          string `json:"sm3"`
	Status       string `json:"status"`
	FileID       int    `json:"file_id"`
	CopiesIssued int    `json:"copies_issued"`
	VerifyURL    string `json:"verify_url"`
}

type verification struct {
	Valid    bool   `json:"valid"`
	Summary  string `json:"summary"`
	Document *struct {
		Number string `json:"number"`
		Status string `json:"status"`
	} `json:"document"`
	Report struct {
		Problems []struct {
			Code, Message string
			Object        int
		} `json:"problems"`
	} `json:"report"`
}

// A Pudong case handler issues documents through the HTTP API; they are
// numbered, sealed, signed, readable Chinese PDFs; tampering is caught and
// located; copies are watermarked and traced; out-of-scope users see nothing;
// the case's dossier is archived into a signed package that passes the
// archive checks (issue 7).
func TestDocumentsSignaturesAndDossierThroughTheHTTPAPI(t *testing.T) {
	if _, err := exec.LookPath("pdftotext"); err != nil {
		t.Fatal("pdftotext (poppler-utils) is required: run scripts/ci-deps.sh")
	}
	p := newPortal(t, "sqlite")
	year := time.Now().In(time.FixedZone("CST", 8*3600)).Year()

	var tpls struct{ Templates []struct{ Type string } }
	p.ok("pd_li", "GET", "/api/v1/documents/templates", nil, &tpls)
	if len(tpls.Templates) != 9 {
		t.Fatalf("templates: %+v", tpls)
	}

	// Incomplete data: refused, field by field, and no number is used up.
	bad := decisionData()
	delete(bad, "facts")
	bad["typo_field"] = "x"
	code, body := p.as("pd_li", "POST", "/api/v1/documents", map[string]any{"type": "penalty_decision", "org_code": "310115", "data": bad}, nil)
	if code != http.StatusUnprocessableEntity || !strings.Contains(body, `"field":"facts"`) || !strings.Contains(body, `"typo_field"`) {
		t.Fatalf("incomplete data: %d %s", code, body)
	}

	var doc docView
	p.ok("pd_li", "POST", "/api/v1/documents", map[string]any{"type": "penalty_decision", "org_code": "310115",
		"subject": "case-1", "data": decisionData()}, &doc)
	if want := fmt.Sprintf("沪市监浦罚〔%d〕1号", year); doc.Number != want {
		t.Fatalf("number %q, want %q (the refused request must not use a number)", doc.Number, want)
	}

	code, hdr, pdf := p.raw("pd_li", "GET", fmt.Sprintf("/api/v1/documents/%d/content", doc.ID), "", nil)
	if code != 200 || hdr.Get("Content-Type") != "application/pdf" {
		t.Fatalf("content: %d %s", code, hdr)
	}
	text := pdfText(t, pdf)
	if dir := os.Getenv("PORTAL_KEEP_PDF"); dir != "" {
		_ = os.WriteFile(filepath.Join(dir, "signed-decision.pdf"), pdf, 0o600)
	}
	for _, w := range []string{"浦东新区市场监督管理局", "行政处罚决定书", doc.Number, "上海某某食品贸易有限公司", "罚款人民币360,000元", "2026年10月9日"} {
		if !strings.Contains(text, w) {
			t.Errorf("%q missing from the PDF text", w)
		}
	}

	// Verification: genuine, then one changed byte is caught and located.
	var v verification
	code, _, b := p.raw("", "POST", "/api/v1/documents/verify", "application/pdf", pdf)
	if code != 200 || jsonInto(t, b, &v) != nil || !v.Valid || v.Document == nil || v.Document.Number != doc.Number {
		t.Fatalf("verify genuine: %d %s", code, b)
	}
	tampered := bytes.Clone(pdf)
	i := bytes.Index(tampered, []byte("stream\n")) + 40
	tampered[i] ^= 0x01
	code, _, b = p.raw("", "POST", "/api/v1/documents/verify", "application/pdf", tampered)
	if code != 200 || jsonInto(t, b, &v) != nil || v.Valid || len(v.Report.Problems) == 0 || !strings.Contains(v.Report.Problems[0].Message, "bytes") {
		t.Fatalf("verify tampered: %d %s", code, b)
	}
	t.Logf("tampered: %s", v.Report.Problems[0].Message)

	// Another district sees nothing.
	if code, _ := p.as("hp_liu", "GET", fmt.Sprintf("/api/v1/documents/%d", doc.ID), nil, nil); code != http.StatusNotFound {
		t.Fatalf("Huangpu handler reads a Pudong document: %d", code)
	}

	// A copy: watermarked, coded, traced; its QR link answers.
	if code, _ := p.as("pd_li", "POST", fmt.Sprintf("/api/v1/documents/%d/copies", doc.ID), map[string]any{}, nil); code != http.StatusBadRequest {
		t.Fatalf("copy without a purpose: %d", code)
	}
	code, hdr, cp := p.raw("pd_li", "POST", fmt.Sprintf("/api/v1/documents/%d/copies", doc.ID), "application/json", []byte(`{"purpose":"行政复议"}`))
	if code != 200 || hdr.Get("X-Copy-Code") == "" {
		t.Fatalf("copy: %d %s", code, cp)
	}
	if dir := os.Getenv("PORTAL_KEEP_PDF"); dir != "" {
		_ = os.WriteFile(filepath.Join(dir, "copy-decision.pdf"), cp, 0o600)
	}
	if ct := pdfText(t, cp); !strings.Contains(ct, "副本") || !strings.Contains(ct, hdr.Get("X-Copy-Code")) || !strings.Contains(ct, doc.Number) {
		t.Errorf("the copy lacks its mark, code or number: %s", ct)
	}
	var pub docView
	code, _ = p.do("", "GET", fmt.Sprintf("/api/v1/verify/%d?h=%s", doc.ID, doc.SM3[:16]), nil, &pub)
	if code != 200 || pub.CopiesIssued != 1 || pub.Number != doc.Number {
		t.Fatalf("public verification: %d %+v", code, pub)
	}
	if code, _ := p.do("", "GET", fmt.Sprintf("/api/v1/verify/%d?h=%s", doc.ID, strings.Repeat("0", 16)), nil, nil); code != http.StatusNotFound {
		t.Fatalf("a wrong digest prefix must not reveal the document: %d", code)
	}

	// The case's other documents, and a photo of the evidence.
	docs := map[string]docView{"penalty_decision": doc}
	for typ, data := range map[string]map[string]any{
		"case_filing_approval": {"case_source": "投诉举报", "party_name": "上海某某食品贸易有限公司", "party_id": "91310115MA1K4ABC1X",
			"party_address": "上海市浦东新区张江路100号", "case_cause": "销售标注虚假生产日期的食品案", "summary": "经初步核查，当事人涉嫌销售标注虚假生产日期的食品。",
			"handler_opinion": "建议立案", "handlers": "李娜、赵磊", "unit_opinion": "同意立案", "head_opinion": "同意", "issue_date": "2026-03-12"},
		"penalty_notice": {"party_name": "上海某某食品贸易有限公司", "filing_date": "2026-03-12", "case_cause": "销售标注虚假生产日期的食品",
			"facts": "当事人销售标注虚假生产日期的预包装饼干。", "evidence": "现场检查笔录", "violated": "《中华人民共和国食品安全法》第三十四条",
			"basis": "《中华人民共和国食品安全法》第一百二十四条", "penalty": "罚款人民币360,000元", "window_days": "5", "contact": "李娜 021-12345678",
			"address": "上海市浦东新区合欢路2号", "issue_date": "2026-09-01"},
		"service_receipt": {"documents": doc.Number + " 行政处罚决定书", "recipient": "上海某某食品贸易有限公司", "place": "上海市浦东新区张江路100号",
			"method": "直接送达", "servers": "李娜、赵磊", "issue_date": "2026-10-10"},
	} {
		var d docView
		p.ok("pd_li", "POST", "/api/v1/documents", map[string]any{"type": typ, "org_code": "310115", "subject": "case-1", "data": data}, &d)
		docs[typ] = d
	}
	var photo struct{ ID int }
	code, _, b = p.raw("pd_li", "POST", "/api/v1/files?name="+urlEscape("现场照片.png")+"&purpose=evidence", "image/png", pngBytes(t))
	if code != http.StatusCreated || jsonInto(t, b, &photo) != nil {
		t.Fatalf("upload: %d %s", code, b)
	}

	ctx := context.Background()
	ds := p.a.Dossiers
	d, err := ds.Open(ctx, "host", "case-1", "penalty_general", "上海某某食品贸易有限公司销售标注虚假生产日期的食品案", "310115", "/310000/310115")
	if err != nil {
		t.Fatal(err)
	}
	for _, typ := range []string{"case_filing_approval", "penalty_notice", "penalty_decision", "service_receipt"} {
		if _, err := ds.Append(ctx, d.ID, dossier.Entry{Kind: dossier.KindDocument, DocType: typ, Title: typ, FileID: docs[typ].FileID,
			Format: "pdf", Meta: map[string]any{"date": "2026-10-09"}}); err != nil {
			t.Fatalf("append %s: %v", typ, err)
		}
	}
	if _, err := ds.Append(ctx, d.ID, dossier.Entry{Kind: dossier.KindEvidence, Title: "现场照片", FileID: photo.ID, Format: "png",
		Meta: map[string]any{"date": "2026-03-12"}}); err != nil {
		t.Fatal(err)
	}
	archived, rep, err := ds.ArchiveAndStore(ctx, p.a.Files, d.ID, dossier.ArchiveInfo{Fonds: "Z031", Retention: "定期30年"}, "pd_li", 0)
	if err != nil {
		t.Fatalf("archive: %v %+v", err, rep)
	}
	if !rep.Passed || archived.Status != "archived" || archived.ArchiveCode == "" {
		t.Fatalf("archive: %+v %+v", archived, rep)
	}

	var view struct {
		Items []struct{ Seq int }
		Chain struct{ Intact bool }
	}
	p.ok("pd_arch", "GET", fmt.Sprintf("/api/v1/dossiers/%d", d.ID), nil, &view)
	if len(view.Items) != 5 || !view.Chain.Intact {
		t.Fatalf("dossier view: %+v", view)
	}
	code, _, pkg := p.raw("pd_arch", "GET", fmt.Sprintf("/api/v1/dossiers/%d/package", d.ID), "", nil)
	if code != 200 {
		t.Fatalf("package: %d", code)
	}
	var report dossier.Report
	code, _, b = p.raw("pd_arch", "POST", "/api/v1/dossiers/check", "application/zip", pkg)
	if code != 200 || jsonInto(t, b, &report) != nil || !report.Passed || len(report.Results) != len(dossier.Checks()) {
		t.Fatalf("check the stored package: %d %s", code, b)
	}
	broken := bytes.Clone(pkg)
	broken[len(broken)/2] ^= 0xff
	code, _, b = p.raw("pd_arch", "POST", "/api/v1/dossiers/check", "application/zip", broken)
	if code != 200 || jsonInto(t, b, &report) != nil || report.Passed {
		t.Fatalf("a changed byte must fail the checks: %d %s", code, b)
	}
	if code, _ := p.as("pd_li", "POST", "/api/v1/dossiers/check", "x", nil); code != http.StatusForbidden {
		t.Fatalf("a handler runs archive checks: %d", code)
	}

	// Revoked: verification says so.
	if _, err := p.a.Docs.Revoke(ctx, doc.ID, "行政复议决定撤销", "pd_wang", ""); err != nil {
		t.Fatal(err)
	}
	code, _, b = p.raw("", "POST", "/api/v1/documents/verify", "application/pdf", pdf)
	if code != 200 || jsonInto(t, b, &v) != nil || v.Valid || v.Document.Status != "revoked" {
		t.Fatalf("verify revoked: %d %s", code, b)
	}
}

func pngBytes(t *testing.T) []byte {
	img := image.NewRGBA(image.Rect(0, 0, 64, 48))
	for x := 0; x < 64; x++ {
		img.Set(x, x%48, color.RGBA{200, 30, 30, 255})
	}
	var buf bytes.Buffer
	if err := png.Encode(&buf, img); err != nil {
		t.Fatal(err)
	}
	return buf.Bytes()
}

func jsonInto(t *testing.T, b []byte, v any) error {
	t.Helper()
	err := json.Unmarshal(b, v)
	if err != nil {
		t.Logf("decode %s: %v", b, err)
	}
	return err
}

func urlEscape(s string) string { return url.QueryEscape(s) }

// The system administrator publishes a new version of a document type: new
// documents use it, issued ones keep theirs; a template that does not check
// is refused with the reason (issue 7: versioned templates).
func TestDocumentTemplateVersions(t *testing.T) {
	dir, dsn := t.TempDir(), storetest.DSN(t, "sqlite")
	p := openPortal(t, dir, dsn)
	var list struct {
		Templates []map[string]any `json:"templates"`
	}
	p.ok("admin", "GET", "/api/v1/admin/document-templates", nil, &list)
	var notice map[string]any
	for _, tpl := range list.Templates {
		if tpl["type"] == "suspension_notice" {
			notice = tpl
		}
	}
	if notice == nil || notice["version"].(float64) != 1 {
		t.Fatalf("templates: %+v", list)
	}
	data := map[string]any{"enterprise_name": "上海某某商贸有限公司", "uscc": "91310115MA1FP0000X", "apply_date": "2026-11-02",
		"start_date": "2026-11-05", "end_date": "2027-11-04", "service_address": "上海市浦东新区合欢路2号", "issue_date": "2026-11-03"}
	var v1 docView
	p.ok("pd_li", "POST", "/api/v1/documents", map[string]any{"type": "suspension_notice", "org_code": "310115", "data": data}, &v1)

	blocks := notice["blocks"].([]any)
	blocks = append(blocks[:len(blocks)-1], map[string]any{"kind": "paragraph", "text": "特此通知。"}, blocks[len(blocks)-1])
	notice["blocks"] = blocks
	var published map[string]any
	p.ok("admin", "POST", "/api/v1/admin/document-templates", notice, &published)
	if published["version"].(float64) != 2 {
		t.Fatalf("published: %+v", published)
	}
	broken := map[string]any{"type": "suspension_notice", "title": "歇业备案通知书", "blocks": []any{map[string]any{"kind": "paragraph", "text": "{{nobody}}"}}}
	if code, body := p.as("admin", "POST", "/api/v1/admin/document-templates", broken, nil); code != http.StatusBadRequest || !strings.Contains(body, "nobody") {
		t.Fatalf("broken template: %d %s", code, body)
	}
	if code, _ := p.as("pd_li", "POST", "/api/v1/admin/document-templates", notice, nil); code != http.StatusForbidden {
		t.Fatalf("a handler publishes templates: %d", code)
	}

	var v2 docView
	p.ok("pd_li", "POST", "/api/v1/documents", map[string]any{"type": "suspension_notice", "org_code": "310115", "data": data}, &v2)
	text := func(id int) string {
		_, _, pdf := p.raw("pd_li", "GET", fmt.Sprintf("/api/v1/documents/%d/content", id), "", nil)
		return pdfText(t, pdf)
	}
	if !strings.Contains(text(v2.ID), "特此通知") || strings.Contains(text(v1.ID), "特此通知") {
		t.Fatal("the new version is not used by new documents only")
	}
	// Published versions are stored: a restarted host has them.
	p.a.Close()
	p = openPortal(t, dir, dsn)
	if got, err := p.a.Docs.Template("suspension_notice", 0); err != nil || got.Version != 2 {
		t.Fatalf("latest: %+v %v", got, err)
	}
}

// A retried issue under the same Idempotency-Key gets the document already
// issued and takes no second 文号; the key is not reusable for another
// record.
func TestDocumentIssueIdempotencyKey(t *testing.T) {
	p := newPortal(t, "sqlite")
	year := time.Now().In(time.FixedZone("CST", 8*3600)).Year()
	issue := func(key, subject string) (int, docView) {
		t.Helper()
		p.as("pd_li", "GET", "/api/v1/auth/me", nil, nil) // signs in once
		b, _ := json.Marshal(map[string]any{"type": "penalty_decision", "org_code": "310115", "subject": subject, "data": decisionData()})
		req, _ := http.NewRequest("POST", p.ts.URL+"/api/v1/documents", bytes.NewReader(b))
		req.Header.Set("Content-Type", "application/json")
		req.Header.Set("Authorization", "Bearer "+p.tokens["pd_li"])
		if key != "" {
			req.Header.Set("Idempotency-Key", key)
		}
		res, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		defer res.Body.Close()
		var d docView
		_ = json.NewDecoder(res.Body).Decode(&d)
		return res.StatusCode, d
	}
	c1, first := issue("decision-case-1", "case-1")
	c2, again := issue("decision-case-1", "case-1")
	if c1 != http.StatusCreated || c2 != http.StatusCreated || again.ID != first.ID || first.Number != fmt.Sprintf("沪市监浦罚〔%d〕1号", year) {
		t.Fatalf("a retry under the same key: %d %+v, then %d %+v", c1, first, c2, again)
	}
	if code, _ := issue("decision-case-1", "case-2"); code != http.StatusConflict {
		t.Fatalf("the key reused for another record: %d", code)
	}
	if code, _ := issue(strings.Repeat("k", 101), "case-3"); code != http.StatusBadRequest {
		t.Fatalf("an over-long key: %d", code)
	}
	if _, next := issue("", "case-3"); next.Number != fmt.Sprintf("沪市监浦罚〔%d〕2号", year) {
		t.Fatalf("the next document is %q: the retry took a number", next.Number)
	}
}
