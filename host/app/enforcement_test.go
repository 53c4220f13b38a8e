package app_test

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/http/cookiejar"
	"net/http/httptest"
	"net/url"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/shanghai-amr/portal/host/app"
	"github.com/shanghai-amr/portal/host/clock"
	"github.com/shanghai-amr/portal/host/config"
	"github.com/shanghai-amr/portal/host/store/ent/auditentry"
	"github.com/shanghai-amr/portal/host/store/storetest"
	"github.com/shanghai-amr/portal/sdk/bundle"
)

// enforcementPortal is a host with the enforcement plugin installed from a
// signed bundle (a real plugin process) and the development identity
// provider, on an address known before it starts (sign-in redirects).
func enforcementPortal(t *testing.T) (*portal, bundle.KeyPair) {
	t.Helper()
	return pluginPortal(t, "enforcement")
}

// pluginPortal is a host with the named plugins of plugins/ installed from
// signed bundles at start (real plugin processes).
func pluginPortal(t *testing.T, plugins ...string) (*portal, bundle.KeyPair) {
	t.Helper()
	dir := t.TempDir()
	kp, err := bundle.GenerateKey("test")
	if err != nil {
		t.Fatal(err)
	}
	if _, _, err := bundle.WriteKeyPair(filepath.Join(dir, "trust"), kp); err != nil {
		t.Fatal(err)
	}
	os.Remove(filepath.Join(dir, "trust", "test.key"))
	bundles := filepath.Join(dir, "bundles")
	if err := os.MkdirAll(bundles, 0o700); err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Minute)
	defer cancel()
	for _, id := range plugins {
		if _, err := bundle.Build(ctx, bundle.BuildOptions{PluginDir: "../../plugins/" + id, Version: "0.1.0", Key: kp.Private,
			Out: filepath.Join(bundles, id+"-0.1.0.tar.gz")}); err != nil {
			t.Fatal(err)
		}
	}
	ts := httptest.NewUnstartedServer(nil)
	base := "http://" + ts.Listener.Addr().String()
	cfg, err := config.Load("portal", []string{"--data-dir", dir, "--db-dsn", storetest.DSN(t, "sqlite"), "--demo", "--dev-idp",
		"--public-url", base, "--bundles", bundles}, func(string) string { return "" }, nil)
	if err != nil {
		t.Fatal(err)
	}
	logw := io.Discard
	if os.Getenv("PORTAL_TEST_LOG") != "" {
		logw = os.Stderr
	}
	a, err := app.New(context.Background(), cfg, slog.New(slog.NewTextHandler(logw, nil)))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { a.Close() })
	ts.Config.Handler = a.Server.Handler()
	ts.Start()
	t.Cleanup(ts.Close)
	p := &portal{t: t, a: a, ts: ts, tokens: map[string]string{}, dir: dir}
	deadline := time.Now().Add(60 * time.Second)
	for _, id := range plugins {
		for {
			var info struct{ State string }
			if code, _ := p.as("admin", "GET", "/api/v1/admin/plugins/"+id, nil, &info); code == 200 && info.State == "running" {
				break
			}
			if time.Now().After(deadline) {
				t.Fatalf("the %s plugin did not start", id)
			}
			time.Sleep(200 * time.Millisecond)
		}
	}
	return p, kp
}

// enterprise signs in as the development provider's enterprise persona
// (上海浦东示例科技有限公司, 91310115MA1K4PTX8J) and returns a client with
// the session cookie and its CSRF token.
func (p *portal) enterprise() func(method, path string, body any, out any) (int, string) {
	p.t.Helper()
	return p.signIn("yiwangtongban", "ent-demo")
}

// signIn signs in through the development identity provider as persona, by
// provider (yiwangtongban: enterprises; suishenban: the public), and returns
// a caller with that session.
func (p *portal) signIn(provider, persona string) func(method, path string, body any, out any) (int, string) {
	p.t.Helper()
	jar, _ := cookiejar.New(nil)
	c := &http.Client{Jar: jar}
	base := p.ts.URL
	resp, err := c.Get(base + "/api/v1/auth/oidc/" + provider + "/login?return=/portal")
	if err != nil {
		p.t.Fatal(err)
	}
	resp.Body.Close()
	form := url.Values{"persona": {persona}}
	for k, v := range resp.Request.URL.Query() {
		form[k] = v
	}
	c.CheckRedirect = func(req *http.Request, via []*http.Request) error {
		if !strings.HasPrefix(req.URL.Path, "/api/") && !strings.HasPrefix(req.URL.Path, "/dev-idp/") {
			return http.ErrUseLastResponse
		}
		return nil
	}
	resp, err = c.PostForm(base+"/dev-idp/authorize", form)
	if err != nil {
		p.t.Fatal(err)
	}
	resp.Body.Close()
	var csrf struct {
		Token string `json:"csrf_token"`
	}
	resp, err = c.Get(base + "/api/v1/auth/csrf")
	if err != nil || resp.StatusCode != 200 {
		p.t.Fatalf("csrf: %v %v", err, resp.Status)
	}
	_ = json.NewDecoder(resp.Body).Decode(&csrf)
	resp.Body.Close()
	return func(method, path string, body any, out any) (int, string) {
		p.t.Helper()
		var r io.Reader
		if body != nil {
			b, _ := json.Marshal(body)
			r = strings.NewReader(string(b))
		}
		req, _ := http.NewRequest(method, base+path, r)
		req.Header.Set("Content-Type", "application/json")
		req.Header.Set("X-CSRF-Token", csrf.Token)
		res, err := c.Do(req)
		if err != nil {
			p.t.Fatal(err)
		}
		defer res.Body.Close()
		b, _ := io.ReadAll(res.Body)
		if out != nil && res.StatusCode < 300 {
			if err := json.Unmarshal(b, out); err != nil {
				p.t.Fatalf("%s %s: %v %s", method, path, err, b)
			}
		}
		return res.StatusCode, string(b)
	}
}

type clockJSON struct {
	Due    time.Time
	Colour string
	Paused bool
}

type caseJSON struct {
	ID           int64
	Number       string
	Status       string
	StatementDue *time.Time `json:"statement_due"`
	Clock        *clockJSON
	Documents    []struct {
		Type, Number string
	}
}

const ep = "/api/plugins/enforcement"

// fileCase registers a lead for the demo enterprise, has it approved through
// the three-level filing approval (P2) by the right people of the Pudong
// bureau, and returns the case the plugin created.
func fileCase(t *testing.T, p *portal, receivedOn string) caseJSON {
	t.Helper()
	var l struct {
		ID    int64
		Clock *clockJSON
	}
	p.ok("pd_li", "POST", ep+"/leads", map[string]any{"source": "complaint", "party_name": "上海浦东示例科技有限公司",
		"party_id": "91310115MA1K4PTX8J", "party_address": "上海市浦东新区张江路100号",
		"summary": "群众投诉该公司销售标注虚假生产日期的预包装食品。", "received_on": receivedOn}, &l)
	var started struct {
		InstanceID string `json:"instance_id"`
	}
	p.ok("pd_li", "POST", fmt.Sprintf("%s/leads/%d/file", ep, l.ID), map[string]any{"cause": "销售标注虚假生产日期的食品",
		"opinion": "经核查，当事人涉嫌违反《食品安全法》第三十四条，建议立案。"}, &started)
	inst, _ := strconv.Atoi(started.InstanceID)
	for _, step := range []struct{ user, node string }{{"pd_wang", "unit_head"}, {"pd_legal", "legal"}, {"pd_head", "agency_head"}} {
		task := p.one(step.user, inst, step.node)
		p.act(step.user, task.ID, map[string]any{"action": "approve", "comment": "同意立案"})
	}
	deadline := time.Now().Add(20 * time.Second)
	for {
		var lead struct {
			CaseID int64 `json:"case_id"`
		}
		p.ok("pd_li", "GET", fmt.Sprintf("%s/leads/%d", ep, l.ID), nil, &lead)
		if lead.CaseID != 0 {
			var c caseJSON
			p.ok("pd_li", "GET", fmt.Sprintf("%s/cases/%d", ep, lead.CaseID), nil, &c)
			if c.Number != "" {
				return c
			}
		}
		if time.Now().After(deadline) {
			t.Fatal("the case was not created after the filing approval")
		}
		time.Sleep(200 * time.Millisecond)
	}
}

// One general-procedure case from lead to archive through the HTTP API, as
// the right users in the right organisations, with the clocks checked at each
// step (a span over the 2026 National Day holiday, an extension, a pause);
// the party files 陈述申辩 inside the window and, on another case, one moment
// after it closes; a Huangpu officer can neither see nor touch a Pudong case;
// the final dossier passes the archive checks (issue 8).
func TestPenaltyCaseFromLeadToArchive(t *testing.T) {
	if testing.Short() {
		t.Skip("builds the enforcement plugin")
	}
	p, _ := enforcementPortal(t)
	cal := p.a.Calendar
	loadNextYears(t, cal)

	// C11 / R-DL-2: a lead received on 2026-09-25 has 15 working days, which
	// run over the National Day holiday (10-01 … 10-07).
	var l struct {
		ID    int64
		Clock *clockJSON
	}
	p.ok("pd_li", "POST", ep+"/leads", map[string]any{"source": "inspection", "party_name": "上海浦东示例科技有限公司",
		"party_id": "91310115MA1K4PTX8J", "party_address": "上海市浦东新区张江路100号", "summary": "日常检查发现疑似过期食品。",
		"received_on": "2026-09-25"}, &l)
	want, err := cal.Compute(time.Date(2026, 9, 25, 9, 0, 0, 0, clock.Shanghai), clock.Limit{Unit: clock.WorkingDays, Amount: 15, Start: clock.NextDay})
	if err != nil {
		t.Fatal(err)
	}
	if l.Clock == nil || !l.Clock.Due.Equal(want.Due) || !l.Clock.Due.After(time.Date(2026, 10, 16, 23, 0, 0, 0, clock.Shanghai)) {
		t.Fatalf("lead clock %+v, want %s (after the holiday)", l.Clock, want.Due)
	}
	if l.Clock.Colour != "red" {
		t.Fatalf("a lead past its check period is red: %+v", l.Clock)
	}
	// It ran out: the host's calendar refuses extending it at once, and
	// nothing changes.
	if code, body := p.as("pd_li", "POST", fmt.Sprintf("%s/leads/%d/extend", ep, l.ID), map[string]any{"reason": "补充核查"}, nil); code != http.StatusUnprocessableEntity || !strings.Contains(body, "ran out") {
		t.Fatalf("extending an expired lead: %d %s", code, body)
	}
	// A lead received today: the handler applies to extend it, both heads
	// approve (R-RET-1), once, by 15 working days (R-DL-2); a second
	// extension and a head's own application are refused.
	var fresh struct {
		ID    int64
		Clock *clockJSON
	}
	p.ok("pd_li", "POST", ep+"/leads", map[string]any{"source": "complaint", "party_name": "上海浦东示例科技有限公司",
		"party_id": "91310115MA1K4PTX8J", "party_address": "上海市浦东新区张江路100号", "summary": "投诉举报。"}, &fresh)
	if code, _ := p.as("pd_wang", "POST", fmt.Sprintf("%s/leads/%d/extend", ep, fresh.ID), map[string]any{"reason": "x"}, nil); code != http.StatusForbidden {
		t.Fatalf("the head of unit applies: %d", code)
	}
	var req struct {
		InstanceID string `json:"instance_id"`
	}
	p.ok("pd_li", "POST", fmt.Sprintf("%s/leads/%d/extend", ep, fresh.ID), map[string]any{"reason": "案情复杂，需调取银行流水"}, &req)
	inst, _ := strconv.Atoi(req.InstanceID)
	p.act("pd_wang", p.one("pd_wang", inst, "unit_head").ID, map[string]any{"action": "approve", "comment": "同意"})
	p.act("pd_head", p.one("pd_head", inst, "agency_head").ID, map[string]any{"action": "approve", "comment": "同意"})
	var ext struct{ Clock *clockJSON }
	for i := 0; ; i++ {
		p.ok("pd_li", "GET", fmt.Sprintf("%s/leads/%d", ep, fresh.ID), nil, &ext)
		if ext.Clock.Due.After(fresh.Clock.Due.Add(14 * 24 * time.Hour)) {
			break
		}
		if i == 100 {
			t.Fatalf("extension: %s → %s", fresh.Clock.Due, ext.Clock.Due)
		}
		time.Sleep(100 * time.Millisecond)
	}
	if code, _ := p.as("pd_li", "POST", fmt.Sprintf("%s/leads/%d/extend", ep, fresh.ID), map[string]any{"reason": "again"}, nil); code != http.StatusConflict {
		t.Fatalf("a second extension: %d", code)
	}

	c := fileCase(t, p, "")
	if !strings.HasPrefix(c.Number, "沪市监浦立〔") || c.Status != "investigating" || c.Clock == nil {
		t.Fatalf("case: %+v", c)
	}
	// R-DL-1: 90 natural days from filing.
	filed := c.Clock.Due
	// R-DL-3: time for testing is excluded — the clock pauses and resumes;
	// each change applied for by the handler and approved by both heads.
	cv := approveChange(t, p, c.ID, "pause", map[string]any{"reason": "送检：食品检验"})
	if !cv.Clock.Paused {
		t.Fatalf("pause: %+v", cv.Clock)
	}
	cv = approveChange(t, p, c.ID, "resume", map[string]any{"reason": "检验报告已出具"})
	if cv.Clock.Paused || cv.Clock.Due.Before(filed) {
		t.Fatalf("resume: %+v", cv.Clock)
	}
	cv = approveChange(t, p, c.ID, "extend", map[string]any{"reason": "案情复杂，申请延期", "days": 30})
	if got := cv.Clock.Due.Sub(filed); got < 30*24*time.Hour {
		t.Fatalf("extension by 30 days moved the due date by %s", got)
	}
	// R-LEG-3: a further extension needs the collective discussion recorded.
	if code, body := p.as("pd_li", "POST", fmt.Sprintf("%s/cases/%d/extend", ep, c.ID), map[string]any{"reason": "继续延长", "days": 30}, nil); code != http.StatusBadRequest || !strings.Contains(body, "R-LEG-3") {
		t.Fatalf("a further extension without the collective discussion: %d %s", code, body)
	}

	// Another district sees and touches nothing, by any route (C12 data
	// scope): every staff route of the manifest, with this case's and this
	// lead's ids, as a Huangpu handler and a Huangpu registration reviewer.
	leadRoutes := []string{"GET /leads/%d", "POST /leads/%d/pause", "POST /leads/%d/resume", "POST /leads/%d/extend", "POST /leads/%d/file"}
	caseRoutes := []string{"GET /cases/%d", "POST /cases/%d/pause", "POST /cases/%d/resume", "POST /cases/%d/extend", "POST /cases/%d/evidence",
		"POST /cases/%d/notice", "POST /cases/%d/decision", "POST /cases/%d/delivery", "POST /cases/%d/close"}
	probe := map[string]any{"reason": "x", "days": 5, "cause": "x", "opinion": "x", "payment": "x", "review_organ": "x", "court": "x",
		"document": "penalty_notice", "method": "direct", "date": "2026-11-01", "servers": "x", "title": "x", "file_id": "1"}
	for _, who := range []string{"hp_liu", "hp_reg"} {
		for _, set := range []struct {
			routes []string
			id     int64
		}{{leadRoutes, fresh.ID}, {caseRoutes, c.ID}} {
			for _, r := range set.routes {
				method, path, _ := strings.Cut(r, " ")
				if code, b := p.as(who, method, fmt.Sprintf(ep+path, set.id), probe, nil); code != http.StatusNotFound && code != http.StatusForbidden {
					t.Fatalf("%s %s %s: %d %s", who, method, path, code, b)
				}
			}
		}
	}
	var still caseJSON
	p.ok("pd_li", "GET", fmt.Sprintf("%s/cases/%d", ep, c.ID), nil, &still)
	if still.Status != "investigating" || len(still.Documents) != 1 {
		t.Fatalf("the refused calls changed the case: %+v", still)
	}
	var hp struct{ Cases []caseJSON }
	p.ok("hp_liu", "GET", ep+"/cases", nil, &hp)
	if len(hp.Cases) != 0 {
		t.Fatalf("Huangpu lists Pudong cases: %+v", hp.Cases)
	}

	// Evidence, uploaded to the host and filed in the dossier.
	var photo struct{ ID int }
	code, _, b := p.raw("pd_li", "POST", "/api/v1/files?name="+url.QueryEscape("现场照片.png")+"&purpose=evidence", "image/png", pngBytes(t))
	if code != http.StatusCreated || json.Unmarshal(b, &photo) != nil {
		t.Fatalf("upload: %d %s", code, b)
	}
	p.ok("pd_li", "POST", fmt.Sprintf("%s/cases/%d/evidence", ep, c.ID), map[string]any{"title": "现场检查照片", "file_id": strconv.Itoa(photo.ID)}, nil)

	// 告知 with a 3-working-day window; the party confirms receipt online.
	notice := map[string]any{"facts": "当事人销售标注虚假生产日期的预包装饼干1,200盒。", "evidence": "现场检查笔录、检验报告、进货单据",
		"violated": "《中华人民共和国食品安全法》第三十四条", "basis": "《中华人民共和国食品安全法》第一百二十四条", "penalty": "罚款人民币50,000元",
		"fine_yuan": 50000, "contact": "李娜 021-12345678", "address": "上海市浦东新区合欢路2号"}
	p.ok("pd_li", "POST", fmt.Sprintf("%s/cases/%d/notice", ep, c.ID), notice, &cv)
	if cv.Status != "notified" {
		t.Fatalf("notice: %+v", cv)
	}
	party := p.enterprise()
	var mine struct{ Cases []caseJSON }
	if code, body := party("GET", ep+"/my/cases", nil, &mine); code != 200 || len(mine.Cases) != 1 {
		t.Fatalf("my cases: %d %s", code, body)
	}
	if code, body := party("POST", fmt.Sprintf("%s/my/cases/%d/receipt", ep, c.ID), map[string]any{}, nil); code != 200 {
		t.Fatalf("receipt: %d %s", code, body)
	}
	// R-NOT-1: inside the window — accepted.
	if code, body := party("POST", fmt.Sprintf("%s/my/cases/%d/statement", ep, c.ID), map[string]any{"body": "我公司已下架全部涉案产品，请求从轻处罚。"}, nil); code != http.StatusCreated {
		t.Fatalf("statement inside the window: %d %s", code, body)
	}

	// The decision, after the review of the statement, goes through legal
	// review and the head of the agency (R-LEG-1) and is issued on approval;
	// then delivery, and closing and archiving by the head of the unit.
	decision := map[string]any{"payment": "通过电子支付系统缴纳罚款", "review_organ": "上海市浦东新区人民政府", "court": "上海铁路运输法院"}
	if code, body := p.as("pd_li", "POST", fmt.Sprintf("%s/cases/%d/decision", ep, c.ID), decision, nil); code != http.StatusBadRequest || !strings.Contains(body, "R-NOT-3") {
		t.Fatalf("a decision ignoring the party's statement: %d %s", code, body)
	}
	decision["review"] = "当事人主动下架涉案产品，予以从轻处罚，但不予免除。"
	decision["legal_review"] = []string{"complex"} // R-LEG-1 (三)
	var submitted struct {
		InstanceID string `json:"instance_id"`
	}
	p.ok("pd_li", "POST", fmt.Sprintf("%s/cases/%d/decision", ep, c.ID), decision, &submitted)
	dinst, _ := strconv.Atoi(submitted.InstanceID)
	p.act("pd_legal", p.one("pd_legal", dinst, "legal").ID, map[string]any{"action": "approve", "comment": "事实清楚，证据确凿，适用依据正确"})
	p.act("pd_head", p.one("pd_head", dinst, "agency_head").ID, map[string]any{"action": "approve", "comment": "同意"})
	for i := 0; ; i++ {
		p.ok("pd_li", "GET", fmt.Sprintf("%s/cases/%d", ep, c.ID), nil, &cv)
		if cv.Status == "decided" {
			break
		}
		if i == 100 {
			t.Fatalf("decision not issued after its approval: %+v", cv)
		}
		time.Sleep(100 * time.Millisecond)
	}
	today := time.Now().In(clock.Shanghai).Format("2006-01-02")
	p.ok("pd_li", "POST", fmt.Sprintf("%s/cases/%d/delivery", ep, c.ID), map[string]any{"document": "penalty_decision", "method": "direct",
		"date": today, "place": "当事人住所", "servers": "李娜、赵磊"}, &cv)
	if cv.Status != "delivered" || len(cv.Documents) != 4 {
		t.Fatalf("delivery: %+v", cv)
	}
	// C10: the party pays the fine through the (sandbox) payment platform; the
	// signed notification reaches the plugin through the host; a repeated
	// notification records one payment; a forged one is refused.
	if err := p.a.Store.Client.Setting.Create().SetScope("enforcement").SetKey("payment.notify_url").
		SetValue(p.ts.URL + ep + "/payment/notify").Exec(context.Background()); err != nil {
		t.Fatal(err)
	}
	var order struct {
		OrderNo   string    `json:"order_no"`
		AmountFen int64     `json:"amount_fen"`
		ExpiresAt time.Time `json:"expires_at"`
	}
	if code, body := party("POST", fmt.Sprintf("%s/my/cases/%d/pay", ep, c.ID), map[string]any{}, &order); code != http.StatusCreated || order.AmountFen != 5000000 {
		t.Fatalf("pay: %d %s", code, body)
	}
	if d := time.Until(order.ExpiresAt); d > 15*time.Minute || d < 14*time.Minute {
		t.Fatalf("an order is valid 15 minutes (R-PAY-2): %s", d)
	}
	paid := func() int64 {
		var mine struct {
			Cases []struct {
				ID      int64
				PaidFen int64 `json:"paid_fen"`
			}
		}
		party("GET", ep+"/my/cases", nil, &mine)
		for _, mc := range mine.Cases {
			if mc.ID == c.ID {
				return mc.PaidFen
			}
		}
		return 0
	}
	party("POST", fmt.Sprintf("%s/my/cases/%d/sandbox-pay", ep, c.ID), map[string]any{}, nil)
	for i := 0; paid() == 0; i++ {
		if i == 100 {
			t.Fatal("the payment notification was not recorded")
		}
		time.Sleep(100 * time.Millisecond)
	}
	party("POST", fmt.Sprintf("%s/my/cases/%d/sandbox-pay?redeliver=1", ep, c.ID), map[string]any{}, nil)
	time.Sleep(500 * time.Millisecond)
	if n, err := p.a.Store.Client.AuditEntry.Query().Where(auditentry.Action("enforcement.case.paid")).Count(context.Background()); err != nil || n != 1 || paid() != 5000000 {
		t.Fatalf("a repeated notification: %d payments recorded (%v), paid %d", n, err, paid())
	}
	forged, _ := http.NewRequest("POST", p.ts.URL+ep+"/payment/notify", strings.NewReader(fmt.Sprintf(
		`{"notify_id":"x","event":"PAID","order_no":%q,"case_id":"%d","amount_fen":1,"paid_at":"2026-11-27T10:00:00+08:00"}`, order.OrderNo, c.ID)))
	for k, v := range map[string]string{"X-Pay-App-Id": "samr-enforcement", "X-Pay-Key-Id": "dev", "X-Pay-Timestamp": strconv.FormatInt(time.Now().Unix(), 10),
		"X-Pay-Nonce": "n1", "X-Pay-Sign-Type": "HMAC-SM3", "X-Pay-Signature": strings.Repeat("ab", 32), "Content-Type": "application/json"} {
		forged.Header.Set(k, v)
	}
	res, err := http.DefaultClient.Do(forged)
	if err != nil {
		t.Fatal(err)
	}
	res.Body.Close()
	if res.StatusCode != http.StatusBadRequest {
		t.Fatalf("a forged notification: %d", res.StatusCode)
	}

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
	if code, body := p.as("pd_wang", "POST", fmt.Sprintf("%s/cases/%d/close", ep, c.ID), map[string]any{"retention": "定期30年"}, &closed); code != 200 || !closed.Report.Passed {
		t.Fatalf("close: %d %s", code, body)
	}
	if !strings.HasPrefix(closed.ArchiveCode, "Z031-") || len(closed.Report.Results) < 14 {
		t.Fatalf("archive: %+v", closed)
	}

	// R-NOT-1, late: a second case whose notice was received by post on the
	// latest day that makes the window already closed — refused, naming the
	// deadline.
	c2 := fileCase(t, p, "")
	p.ok("pd_li", "POST", fmt.Sprintf("%s/cases/%d/notice", ep, c2.ID), notice, nil)
	now := time.Now()
	var received time.Time
	var due time.Time
	for k := 1; k < 30; k++ {
		d := time.Date(now.Year(), now.Month(), now.Day()-k, 9, 0, 0, 0, clock.Shanghai)
		dl, err := cal.Compute(d, clock.Limit{Unit: clock.WorkingDays, Amount: 3, Start: clock.NextDay})
		if err != nil {
			t.Fatal(err)
		}
		if dl.Due.Before(now) {
			received, due = d, dl.Due
			break
		}
	}
	delivery := map[string]any{"document": "penalty_notice", "method": "post", "date": received.Format("2006-01-02"), "place": "邮寄", "servers": "李娜"}
	receipts := func() (numbers []string) { // a 送达回证 has no 文号 of its own
		var cv struct {
			Documents []struct{ Type, Number string }
		}
		p.ok("pd_li", "GET", fmt.Sprintf("%s/cases/%d", ep, c2.ID), nil, &cv)
		for _, d := range cv.Documents {
			if d.Type == "service_receipt" {
				numbers = append(numbers, d.Number)
			}
		}
		return numbers
	}
	// The form sent twice (a retry, a double click) records one service;
	// another service of the notice is another receipt.
	p.ok("pd_li", "POST", fmt.Sprintf("%s/cases/%d/delivery", ep, c2.ID), delivery, nil)
	p.ok("pd_li", "POST", fmt.Sprintf("%s/cases/%d/delivery", ep, c2.ID), delivery, nil)
	if got := receipts(); len(got) != 1 {
		t.Fatalf("the same delivery sent twice: receipts %v, want one", got)
	}
	delivery["method"], delivery["place"] = "direct", "当事人住所"
	p.ok("pd_li", "POST", fmt.Sprintf("%s/cases/%d/delivery", ep, c2.ID), delivery, nil)
	if got := receipts(); len(got) != 2 {
		t.Fatalf("a second service: receipts %v, want two", got)
	}
	code, body := party("POST", fmt.Sprintf("%s/my/cases/%d/statement", ep, c2.ID), map[string]any{"body": "逾期提交的陈述"}, nil)
	wantDate := fmt.Sprintf("%d年%d月%d日", due.Year(), int(due.Month()), due.Day())
	if code != http.StatusUnprocessableEntity || !strings.Contains(body, "enforcement.window_closed") || !strings.Contains(body, wantDate) {
		t.Fatalf("late statement: %d %s (want the deadline %s)", code, body, wantDate)
	}
	t.Logf("late statement refused: %s", body)
}

// loadNextYears: clocks started now may run into next year, whose holiday
// schedule is published late in the year; until an administrator enters it,
// the test gives the calendar next year's weekends (as an administrator would).
func loadNextYears(t *testing.T, cal *clock.Calendar) {
	t.Helper()
	have := map[int]bool{}
	for _, y := range cal.Years() {
		have[y.Year] = true
	}
	for y := time.Now().Year() + 1; y <= time.Now().Year()+2; y++ {
		if !have[y] {
			if err := cal.Load(clock.Year{Year: y}); err != nil {
				t.Fatal(err)
			}
		}
	}
}

// The plugin upgrades from one version to the next while loopback clients
// read cases and a filing approval is in flight: no request fails, answers
// switch to the new version, the approval that ends after the upgrade creates
// its case in the new version, and the case created before is intact (issue 8).
func TestEnforcementUpgradeWithCasesInFlight(t *testing.T) {
	if testing.Short() {
		t.Skip("builds the enforcement plugin twice")
	}
	p, kp := enforcementPortal(t)
	loadNextYears(t, p.a.Calendar)
	before := fileCase(t, p, "")

	// A second filing: two of its three approvals before the upgrade.
	var l struct{ ID int64 }
	p.ok("pd_li", "POST", ep+"/leads", map[string]any{"source": "referral", "party_name": "上海浦东示例科技有限公司",
		"party_id": "91310115MA1K4PTX8J", "party_address": "上海市浦东新区张江路100号", "summary": "兄弟单位移送。"}, &l)
	var started struct {
		InstanceID string `json:"instance_id"`
	}
	p.ok("pd_li", "POST", fmt.Sprintf("%s/leads/%d/file", ep, l.ID), map[string]any{"cause": "无照经营", "opinion": "建议立案"}, &started)
	inst, _ := strconv.Atoi(started.InstanceID)
	for _, step := range []struct{ user, node string }{{"pd_wang", "unit_head"}, {"pd_legal", "legal"}} {
		p.act(step.user, p.one(step.user, inst, step.node).ID, map[string]any{"action": "approve", "comment": "同意"})
	}

	next := filepath.Join(t.TempDir(), "enforcement-0.1.1.tar.gz")
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Minute)
	defer cancel()
	if _, err := bundle.Build(ctx, bundle.BuildOptions{PluginDir: "../../plugins/enforcement", Version: "0.1.1", Key: kp.Private, Out: next}); err != nil {
		t.Fatal(err)
	}
	upgrade, err := os.ReadFile(next)
	if err != nil {
		t.Fatal(err)
	}

	// 16 loopback clients read the case list and a case until the upgrade
	// is over and a second after (bounded).
	p.as("pd_li", "GET", "/api/v1/auth/me", nil, nil)
	token := p.tokens["pd_li"]
	done := make(chan struct{})
	type tally struct{ ok, failed, v1, v2 int }
	results := make(chan tally, 16)
	for i := 0; i < 16; i++ {
		go func(i int) {
			var t tally
			path := ep + "/cases"
			if i%2 == 1 {
				path = fmt.Sprintf("%s/cases/%d", ep, before.ID)
			}
			for n := 0; n < 100000; n++ {
				select {
				case <-done:
					results <- t
					return
				default:
				}
				req, _ := http.NewRequest("GET", p.ts.URL+path, nil)
				req.Header.Set("Authorization", "Bearer "+token)
				res, err := http.DefaultClient.Do(req)
				if err != nil {
					t.failed++
					continue
				}
				_, _ = io.Copy(io.Discard, res.Body)
				res.Body.Close()
				switch {
				case res.StatusCode != 200:
					t.failed++
				case res.Header.Get("X-Plugin-Version") == "0.1.1":
					t.ok++
					t.v2++
				default:
					t.ok++
					t.v1++
				}
			}
			results <- t
		}(i)
	}
	time.Sleep(500 * time.Millisecond)
	code, _, body := p.raw("admin", "POST", "/api/v1/admin/plugins/enforcement/upgrade", "application/gzip", upgrade)
	time.Sleep(time.Second)
	close(done)
	var sum tally
	for i := 0; i < 16; i++ {
		r := <-results
		sum.ok, sum.failed, sum.v1, sum.v2 = sum.ok+r.ok, sum.failed+r.failed, sum.v1+r.v1, sum.v2+r.v2
	}
	if code != 200 {
		t.Fatalf("upgrade: %d %s", code, body)
	}
	t.Logf("during the upgrade: %d answered (%d by 0.1.0, %d by 0.1.1), %d failed", sum.ok, sum.v1, sum.v2, sum.failed)
	if sum.failed != 0 || sum.v1 == 0 || sum.v2 == 0 {
		t.Fatalf("upgrade under load: %+v", sum)
	}

	// The approval in flight ends after the upgrade: the new version makes
	// the case; the case made before is intact.
	p.act("pd_head", p.one("pd_head", inst, "agency_head").ID, map[string]any{"action": "approve", "comment": "同意"})
	deadline := time.Now().Add(20 * time.Second)
	for {
		var lead struct {
			CaseID int64 `json:"case_id"`
		}
		p.ok("pd_li", "GET", fmt.Sprintf("%s/leads/%d", ep, l.ID), nil, &lead)
		if lead.CaseID != 0 {
			var c caseJSON
			p.ok("pd_li", "GET", fmt.Sprintf("%s/cases/%d", ep, lead.CaseID), nil, &c)
			if c.Number != "" && c.Status == "investigating" {
				break
			}
		}
		if time.Now().After(deadline) {
			t.Fatal("the filing approved after the upgrade did not become a case")
		}
		time.Sleep(200 * time.Millisecond)
	}
	var again caseJSON
	p.ok("pd_li", "GET", fmt.Sprintf("%s/cases/%d", ep, before.ID), nil, &again)
	if again.Number != before.Number || again.Status != before.Status || len(again.Documents) != len(before.Documents) {
		t.Fatalf("the case made before the upgrade changed: %+v → %+v", before, again)
	}
}
