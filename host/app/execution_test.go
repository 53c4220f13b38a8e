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

// Execution (C13): the party asks to pay later and the head of the agency
// approves, which moves the due date (R-EXE-5); an unpaid fine gets its
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
	var view struct {
		PaymentDue string `json:"payment_due"`
		Deferral   struct{ Until, Status string }
	}
	party("GET", fmt.Sprintf("%s/my/cases", ep), nil, nil)
	due := now.AddDate(0, 0, 15).Format("2006-01-02")
	until := now.AddDate(0, 2, 0).Format("2006-01-02")
	if code, body := party("POST", fmt.Sprintf("%s/my/cases/%d/deferral", ep, a), map[string]any{"until": now.AddDate(2, 0, 0).Format("2006-01-02"), "reason": "经营困难"}, nil); code != http.StatusBadRequest || !strings.Contains(body, due) {
		t.Fatalf("a deferral of two years: %d %s", code, body)
	}
	if code, body := party("POST", fmt.Sprintf("%s/my/cases/%d/deferral", ep, a), map[string]any{"until": until, "reason": "受疫情影响资金周转困难，申请暂缓缴纳"}, &view); code != http.StatusCreated || view.Deferral.Status != "pending" {
		t.Fatalf("deferral: %d %s", code, body)
	}
	if code, _ := p.as("pd_li", "POST", fmt.Sprintf("%s/cases/%d/deferral/decide", ep, a), map[string]any{"approve": true, "note": "同意"}, nil); code != http.StatusForbidden {
		t.Fatalf("the handler approves a deferral: %d", code)
	}
	p.ok("pd_head", "POST", fmt.Sprintf("%s/cases/%d/deferral/decide", ep, a), map[string]any{"approve": true, "note": "经核实确有经济困难，同意暂缓至" + until}, nil)
	var mine struct {
		Cases []struct {
			ID         int64
			PaymentDue string `json:"payment_due"`
		}
	}
	party("GET", ep+"/my/cases", nil, &mine)
	for _, c := range mine.Cases {
		if c.ID == a && c.PaymentDue != until {
			t.Fatalf("the due date after the deferral: %+v", c)
		}
	}
	if code, body := p.as("pd_li", "POST", fmt.Sprintf("%s/cases/%d/demand", ep, a), map[string]any{"delivered_on": now.Format("2006-01-02"), "method": "direct"}, nil); code != http.StatusConflict || !strings.Contains(body, until) {
		t.Fatalf("a demand before the deferral ends: %d %s", code, body)
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
	p.ok("pd_li", "POST", fmt.Sprintf("%s/cases/%d/demand", ep, b), map[string]any{"delivered_on": now.AddDate(0, 0, -1).Format("2006-01-02"), "method": "direct"}, nil)
	if code, body := p.as("pd_head", "POST", court, map[string]any{"court": "上海铁路运输法院"}, nil); code != http.StatusUnprocessableEntity || !strings.Contains(body, "十个工作日尚未届满") {
		t.Fatalf("a court application inside the demand's ten working days: %d %s", code, body)
	}
	p.ok("pd_li", "POST", fmt.Sprintf("%s/cases/%d/demand", ep, b), map[string]any{"delivered_on": now.AddDate(0, 0, -20).Format("2006-01-02"), "method": "direct"}, nil)
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
