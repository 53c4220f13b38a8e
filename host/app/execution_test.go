package app_test

import (
	"database/sql"
	"fmt"
	"net/http"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/shanghai-amr/portal/host/clock"
)

// deliveredCase takes a new case to a delivered decision with a fine of
// 5,000 yuan: notice, the party's statement and its review, the decision
// approved by the head of the agency, delivery.
func deliveredCase(t *testing.T, p *portal) int64 {
	t.Helper()
	today := time.Now().In(clock.Shanghai).Format("2006-01-02")
	c := fileCase(t, p, today)
	p.ok("pd_li", "POST", fmt.Sprintf("%s/cases/%d/notice", ep, c.ID), map[string]any{"facts": "当事人销售超过保质期的食品。", "evidence": "现场检查笔录",
		"violated": "《中华人民共和国食品安全法》第三十四条", "basis": "《中华人民共和国食品安全法》第一百二十四条", "penalty": "罚款人民币5,000元",
		"fine_yuan": 5000, "contact": "李娜 021-12345678", "address": "上海市浦东新区合欢路2号"}, nil)
	party := p.enterprise()
	party("POST", fmt.Sprintf("%s/my/cases/%d/receipt", ep, c.ID), map[string]any{}, nil)
	party("POST", fmt.Sprintf("%s/my/cases/%d/statement", ep, c.ID), map[string]any{"body": "请求从轻处罚。"}, nil)
	var submitted struct {
		InstanceID string `json:"instance_id"`
	}
	p.ok("pd_li", "POST", fmt.Sprintf("%s/cases/%d/decision", ep, c.ID), map[string]any{"payment": "通过电子支付系统缴纳罚款",
		"review_organ": "上海市浦东新区人民政府", "court": "上海铁路运输法院", "review": "予以从轻处罚。"}, &submitted)
	inst, _ := strconv.Atoi(submitted.InstanceID)
	p.act("pd_head", p.one("pd_head", inst, "agency_head").ID, map[string]any{"action": "approve", "comment": "同意"})
	waitStatus(t, p, c.ID, "decided")
	p.ok("pd_li", "POST", fmt.Sprintf("%s/cases/%d/delivery", ep, c.ID), map[string]any{"document": "penalty_decision", "method": "direct",
		"date": today, "place": "当事人住所", "servers": "李娜、赵磊"}, nil)
	return c.ID
}

// Execution (C13): the party asks to pay later, or in instalments, and the
// head of the agency approves, which moves the due dates (R-EXE-5, R-PAY-9);
// each instalment is paid on its own order; an unpaid fine gets its
// demand notice only once overdue, and the application to the court is
// refused with every reason and its date until its window opens (R-EXE-3).
func TestDeferralDemandAndCourtApplication(t *testing.T) {
	if testing.Short() {
		t.Skip("builds the enforcement plugin")
	}
	p, _ := enforcementPortal(t)
	loadNextYears(t, p.a.Calendar)
	now := time.Now().In(clock.Shanghai)
	party := p.enterprise()

	a := deliveredCase(t, p)
	due := now.AddDate(0, 0, 15).Format("2006-01-02")
	until := now.AddDate(0, 2, 0).Format("2006-01-02")
	plan := func(id int64) string { return fmt.Sprintf("%s/my/cases/%d/payment-plan", ep, id) }
	if code, body := party("POST", plan(a), map[string]any{"type": "deferral", "until": now.AddDate(2, 0, 0).Format("2006-01-02"), "reason": "经营困难"}, nil); code != http.StatusBadRequest || !strings.Contains(body, due) {
		t.Fatalf("a deferral of two years: %d %s", code, body)
	}
	var view struct {
		PaymentPlan struct{ Type, Status string } `json:"payment_plan"`
	}
	if code, body := party("POST", plan(a), map[string]any{"type": "deferral", "until": until, "reason": "受疫情影响资金周转困难，申请暂缓缴纳"}, &view); code != http.StatusCreated || view.PaymentPlan.Status != "pending" {
		t.Fatalf("deferral: %d %s", code, body)
	}
	if code, _ := p.as("pd_li", "POST", fmt.Sprintf("%s/cases/%d/payment-plan/decide", ep, a), map[string]any{"approve": true, "note": "同意"}, nil); code != http.StatusForbidden {
		t.Fatalf("the handler approves a deferral: %d", code)
	}
	p.ok("pd_head", "POST", fmt.Sprintf("%s/cases/%d/payment-plan/decide", ep, a), map[string]any{"approve": true, "note": "经核实确有经济困难，同意暂缓至" + until}, nil)
	var mine struct {
		Cases []struct {
			ID         int64
			PaymentDue string `json:"payment_due"`
			PaidFen    int64  `json:"paid_fen"`
		}
	}
	myCase := func(id int64) (string, int64) {
		party("GET", ep+"/my/cases", nil, &mine)
		for _, c := range mine.Cases {
			if c.ID == id {
				return c.PaymentDue, c.PaidFen
			}
		}
		return "", 0
	}
	if d, _ := myCase(a); d != until {
		t.Fatalf("the due date after the deferral: %s", d)
	}
	if code, body := p.as("pd_li", "POST", fmt.Sprintf("%s/cases/%d/demand", ep, a), map[string]any{}, nil); code != http.StatusConflict || !strings.Contains(body, until) {
		t.Fatalf("a demand before the deferral ends: %d %s", code, body)
	}

	// Instalments (分期缴纳, R-PAY-9): each paid on its own order. The
	// operator points the payment platform's notifications at this host.
	p.ok("admin", "PUT", "/api/v1/admin/plugins/enforcement/settings/payment.notify_url", map[string]any{"value": p.ts.URL + ep + "/payment/notify"}, nil)
	i := deliveredCase(t, p)
	first, second := now.AddDate(0, 0, 20).Format("2006-01-02"), now.AddDate(0, 2, 0).Format("2006-01-02")
	if code, body := party("POST", plan(i), map[string]any{"type": "instalments", "reason": "资金困难", "instalments": []map[string]any{
		{"amount_yuan": 2000, "due": first}, {"amount_yuan": 2000, "due": second}}}, nil); code != http.StatusBadRequest || !strings.Contains(body, "the fine is 5000 yuan") {
		t.Fatalf("instalments that do not add up: %d %s", code, body)
	}
	party("POST", plan(i), map[string]any{"type": "instalments", "reason": "资金困难，申请分两期缴纳", "instalments": []map[string]any{
		{"amount_yuan": 2000, "due": first}, {"amount_yuan": 3000, "due": second}}}, nil)
	p.ok("pd_head", "POST", fmt.Sprintf("%s/cases/%d/payment-plan/decide", ep, i), map[string]any{"approve": true, "note": "同意分两期缴纳"}, nil)
	for k, want := range []int64{200000, 300000} {
		var order struct {
			AmountFen int64 `json:"amount_fen"`
		}
		if code, body := party("POST", fmt.Sprintf("%s/my/cases/%d/pay", ep, i), map[string]any{}, &order); code != http.StatusCreated || order.AmountFen != want {
			t.Fatalf("instalment %d: %d %s", k+1, code, body)
		}
		party("POST", fmt.Sprintf("%s/my/cases/%d/sandbox-pay", ep, i), map[string]any{}, nil)
		for n := 0; ; n++ {
			if _, paid := myCase(i); paid >= 200000*int64(k+1)+100000*int64(k) {
				break
			}
			if n == 100 {
				_, body := party("GET", ep+"/my/cases", nil, nil)
				t.Fatalf("instalment %d not recorded: %s", k+1, body)
			}
			time.Sleep(100 * time.Millisecond)
		}
	}
	if code, _ := party("POST", fmt.Sprintf("%s/my/cases/%d/pay", ep, i), map[string]any{}, nil); code != http.StatusConflict {
		t.Fatalf("paying a fine paid in full: %d", code)
	}

	// Another case, its decision delivered seven months ago (in the plugin's
	// own database) and still unpaid.
	b := deliveredCase(t, p)
	db, err := sql.Open("sqlite", "file:"+filepath.Join(p.dir, "plugins", "data", "enforcement", "data.db")+"?_pragma=busy_timeout(5000)")
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	if _, err := db.Exec("UPDATE cases SET delivered_at = ? WHERE id = ?", now.AddDate(0, -7, 0).UnixMilli(), b); err != nil {
		t.Fatal(err)
	}
	court := fmt.Sprintf("%s/cases/%d/court-application", ep, b)
	if code, body := p.as("pd_head", "POST", court, map[string]any{"court": "上海铁路运输法院"}, nil); code != http.StatusUnprocessableEntity || !strings.Contains(body, "尚未送达催告书") {
		t.Fatalf("a court application without a demand: %d %s", code, body)
	}
	// The 催告书 is issued, then delivered: the ten working days run from delivery.
	var demanded struct {
		Documents []struct{ Type, Number string }
	}
	p.ok("pd_li", "POST", fmt.Sprintf("%s/cases/%d/demand", ep, b), map[string]any{}, &demanded)
	if last := demanded.Documents[len(demanded.Documents)-1]; last.Type != "demand_notice" || !strings.HasPrefix(last.Number, "沪市监浦催〔") {
		t.Fatalf("the demand notice: %+v", demanded.Documents)
	}
	if code, _ := p.as("pd_li", "POST", fmt.Sprintf("%s/cases/%d/demand", ep, b), map[string]any{}, nil); code != http.StatusConflict {
		t.Fatalf("a second demand before the first is delivered: %d", code)
	}
	p.ok("pd_li", "POST", fmt.Sprintf("%s/cases/%d/delivery", ep, b), map[string]any{"document": "demand_notice", "method": "direct",
		"date": now.Format("2006-01-02"), "place": "当事人住所", "servers": "李娜、赵磊"}, nil)
	if code, body := p.as("pd_head", "POST", court, map[string]any{"court": "上海铁路运输法院"}, nil); code != http.StatusUnprocessableEntity || !strings.Contains(body, "十个工作日尚未届满") {
		t.Fatalf("a court application inside the demand's ten working days: %d %s", code, body)
	}
	// Twenty days pass since the delivery (in the plugin's own database).
	var findings string
	if err := db.QueryRow("SELECT findings FROM cases WHERE id = ?", b).Scan(&findings); err != nil {
		t.Fatal(err)
	}
	if _, err := db.Exec("UPDATE cases SET findings = ? WHERE id = ?", strings.Replace(findings, `"delivered_on":"`+now.Format("2006-01-02"), `"delivered_on":"`+now.AddDate(0, 0, -20).Format("2006-01-02"), 1), b); err != nil {
		t.Fatal(err)
	}
	if code, body := p.as("pd_head", "POST", court, map[string]any{"court": "上海铁路运输法院", "review_or_suit": true}, nil); code != http.StatusUnprocessableEntity || !strings.Contains(body, "行政复议或者提起行政诉讼") {
		t.Fatalf("a court application after a suit: %d %s", code, body)
	}
	var applied struct {
		Window struct{ Open bool }
	}
	p.ok("pd_head", "POST", court, map[string]any{"court": "上海铁路运输法院"}, &applied)
	if !applied.Window.Open {
		t.Fatalf("the court application: %+v", applied)
	}
}
