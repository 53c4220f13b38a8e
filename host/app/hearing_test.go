package app_test

import (
	"database/sql"
	"encoding/json"
	"fmt"
	"net/http"
	"net/url"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/shanghai-amr/portal/host/clock"

	_ "modernc.org/sqlite"
)

// A hearing (行政处罚法 第六十三条–第六十五条; R-NOT-3, R-LEG-1, R-LEG-2): the
// notice announces the right; the party asks for a hearing inside the window;
// the decision waits; the legal reviewer arranges it at least seven days
// ahead with a presiding officer who did not investigate; once held, the
// 听证笔录 goes into the dossier and the decision goes through legal review
// because the case was heard. A case without the right cannot ask for one,
// and a case with no R-LEG-1 ground goes straight to the head of the agency.
func TestHearingAndLegalReviewByCategory(t *testing.T) {
	if testing.Short() {
		t.Skip("builds the enforcement plugin")
	}
	p, _ := enforcementPortal(t)
	loadNextYears(t, p.a.Calendar)
	today := time.Now().In(clock.Shanghai)
	c := fileCase(t, p, today.Format("2006-01-02"))
	notice := map[string]any{"facts": "当事人销售超过保质期的食品。", "evidence": "现场检查笔录", "violated": "《中华人民共和国食品安全法》第三十四条",
		"basis": "《中华人民共和国食品安全法》第一百二十四条", "penalty": "罚款人民币200,000元", "fine_yuan": 200000, "contact": "李娜 021-12345678",
		"address": "上海市浦东新区合欢路2号", "hearing": true}
	var cv caseJSON
	p.ok("pd_li", "POST", fmt.Sprintf("%s/cases/%d/notice", ep, c.ID), notice, &cv)
	types := map[string]bool{}
	for _, d := range cv.Documents {
		types[d.Type] = true
	}
	if !types["penalty_notice"] || !types["hearing_notice"] {
		t.Fatalf("the notices: %+v", cv.Documents)
	}
	party := p.enterprise()
	party("POST", fmt.Sprintf("%s/my/cases/%d/receipt", ep, c.ID), map[string]any{}, nil)
	if code, body := party("POST", fmt.Sprintf("%s/my/cases/%d/statement", ep, c.ID), map[string]any{"kind": "hearing", "body": "对罚款数额有异议，申请听证。"}, nil); code != http.StatusCreated {
		t.Fatalf("hearing request: %d %s", code, body)
	}
	if code, _ := party("POST", fmt.Sprintf("%s/my/cases/%d/statement", ep, c.ID), map[string]any{"kind": "hearing", "body": "再次申请"}, nil); code != http.StatusConflict {
		t.Fatalf("a second hearing request: %d", code)
	}
	decision := map[string]any{"payment": "通过电子支付系统缴纳罚款", "review_organ": "上海市浦东新区人民政府", "court": "上海铁路运输法院"}
	if code, body := p.as("pd_li", "POST", fmt.Sprintf("%s/cases/%d/decision", ep, c.ID), decision, nil); code != http.StatusConflict || !strings.Contains(body, "听证尚未安排") {
		t.Fatalf("a decision before the hearing: %d %s", code, body)
	}
	arrange := fmt.Sprintf("%s/cases/%d/hearing/arrange", ep, c.ID)
	in7 := today.AddDate(0, 0, 7).Format("2006-01-02")
	if code, _ := p.as("pd_li", "POST", arrange, map[string]any{"date": in7, "place": "本局听证室", "presiding": "王法制"}, nil); code != http.StatusForbidden {
		t.Fatalf("the handler arranges the hearing (R-LEG-2: the 法制机构 does): %d", code)
	}
	if code, body := p.as("pd_legal", "POST", arrange, map[string]any{"date": today.AddDate(0, 0, 3).Format("2006-01-02"), "place": "本局听证室", "presiding": "王法制"}, nil); code != http.StatusUnprocessableEntity || !strings.Contains(body, "七日前") {
		t.Fatalf("a hearing in three days: %d %s", code, body)
	}
	if code, body := p.as("pd_legal", "POST", arrange, map[string]any{"date": in7, "place": "本局听证室", "presiding": "pd_li"}, nil); code != http.StatusUnprocessableEntity || !strings.Contains(body, "非本案调查人员") {
		t.Fatalf("the investigator presides: %d %s", code, body)
	}
	p.ok("pd_legal", "POST", arrange, map[string]any{"date": in7, "place": "本局听证室", "presiding": "王法制"}, nil)
	var mine struct {
		Cases []struct {
			Hearing struct {
				Date, Place string
				Public      bool
			}
		}
	}
	party("GET", ep+"/my/cases", nil, &mine)
	if len(mine.Cases) != 1 || mine.Cases[0].Hearing.Date != in7 || !mine.Cases[0].Hearing.Public {
		t.Fatalf("the party sees its hearing: %+v", mine)
	}
	record := fmt.Sprintf("%s/cases/%d/hearing/record", ep, c.ID)
	var file struct{ ID int }
	code, _, b := p.raw("pd_legal", "POST", "/api/v1/files?name="+url.QueryEscape("听证笔录.png")+"&purpose=evidence", "image/png", pngBytes(t))
	if code != http.StatusCreated || json.Unmarshal(b, &file) != nil {
		t.Fatalf("upload: %d %s", code, b)
	}
	rec := map[string]any{"file_id": strconv.Itoa(file.ID), "summary": "当事人对违法事实无异议，请求减轻罚款。"}
	if code, _ := p.as("pd_legal", "POST", record, rec, nil); code != http.StatusConflict {
		t.Fatalf("a record before the hearing's day: %d", code)
	}
	// Seven days pass: the hearing's date becomes today in the plugin's own database.
	db, err := sql.Open("sqlite", "file:"+filepath.Join(p.dir, "plugins", "data", "enforcement", "data.db")+"?_pragma=busy_timeout(5000)")
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	var findings string
	if err := db.QueryRow("SELECT findings FROM cases WHERE id = ?", c.ID).Scan(&findings); err != nil {
		t.Fatal(err)
	}
	if _, err := db.Exec("UPDATE cases SET findings = ? WHERE id = ?", strings.Replace(findings, in7, today.Format("2006-01-02"), 1), c.ID); err != nil {
		t.Fatal(err)
	}
	p.ok("pd_legal", "POST", record, rec, &cv)

	// Heard: legal review whatever the handler says (R-LEG-1 (二)).
	var submitted struct {
		InstanceID string `json:"instance_id"`
	}
	p.ok("pd_li", "POST", fmt.Sprintf("%s/cases/%d/decision", ep, c.ID), decision, &submitted)
	inst, _ := strconv.Atoi(submitted.InstanceID)
	p.act("pd_legal", p.one("pd_legal", inst, "legal").ID, map[string]any{"action": "approve", "comment": "听证程序合法，同意"})
	p.act("pd_head", p.one("pd_head", inst, "agency_head").ID, map[string]any{"action": "approve", "comment": "同意"})
	waitStatus(t, p, c.ID, "decided")

	// A case whose penalty carries no right to a hearing, and no ground for
	// legal review: no hearing to ask for, straight to the head of the agency.
	c2 := fileCase(t, p, today.Format("2006-01-02"))
	delete(notice, "hearing")
	notice["fine_yuan"], notice["penalty"] = 2000, "罚款人民币2,000元"
	p.ok("pd_li", "POST", fmt.Sprintf("%s/cases/%d/notice", ep, c2.ID), notice, nil)
	party("POST", fmt.Sprintf("%s/my/cases/%d/receipt", ep, c2.ID), map[string]any{}, nil)
	if code, body := party("POST", fmt.Sprintf("%s/my/cases/%d/statement", ep, c2.ID), map[string]any{"kind": "hearing", "body": "申请听证"}, nil); code != http.StatusUnprocessableEntity || !strings.Contains(body, "不适用听证程序") {
		t.Fatalf("a hearing without the right: %d %s", code, body)
	}
	party("POST", fmt.Sprintf("%s/my/cases/%d/statement", ep, c2.ID), map[string]any{"body": "请求从轻处罚。"}, nil)
	decision["review"] = "当事人初次违法，予以从轻处罚。"
	decision["legal_review"] = []string{"heard"}
	if code, body := p.as("pd_li", "POST", fmt.Sprintf("%s/cases/%d/decision", ep, c2.ID), decision, nil); code != http.StatusBadRequest || !strings.Contains(body, "no hearing") {
		t.Fatalf("the heard ground without a hearing: %d %s", code, body)
	}
	delete(decision, "legal_review")
	p.ok("pd_li", "POST", fmt.Sprintf("%s/cases/%d/decision", ep, c2.ID), decision, &submitted)
	inst, _ = strconv.Atoi(submitted.InstanceID)
	if items := p.todo("pd_legal", inst); len(items) != 0 {
		t.Fatalf("legal review without a ground of R-LEG-1: %+v", items)
	}
	p.act("pd_head", p.one("pd_head", inst, "agency_head").ID, map[string]any{"action": "approve", "comment": "同意"})
	waitStatus(t, p, c2.ID, "decided")

	// Publication (R-DL-1): the 7th working day after issue; the head of the
	// agency may defer it and lift the deferral, which publishes it at once.
	var decided struct {
		Publication struct {
			Date     string
			Deferred bool
		}
	}
	p.ok("pd_li", "GET", fmt.Sprintf("%s/cases/%d", ep, c2.ID), nil, &decided)
	if decided.Publication.Date <= today.Format("2006-01-02") || decided.Publication.Deferred {
		t.Fatalf("the publication date: %+v", decided.Publication)
	}
	var public struct {
		Penalties []struct{ Number, Party, Published string }
	}
	p.do("", "GET", ep+"/public/penalties", nil, &public)
	if len(public.Penalties) != 0 {
		t.Fatalf("published before its day: %+v", public)
	}
	if code, _ := p.as("pd_li", "POST", fmt.Sprintf("%s/cases/%d/publication/defer", ep, c2.ID), map[string]any{"reason": "涉及正在调查的关联案件"}, nil); code != http.StatusForbidden {
		t.Fatalf("the handler defers the publication: %d", code)
	}
	p.ok("pd_head", "POST", fmt.Sprintf("%s/cases/%d/publication/defer", ep, c2.ID), map[string]any{"reason": "涉及正在调查的关联案件"}, &decided)
	if !decided.Publication.Deferred {
		t.Fatalf("deferred: %+v", decided.Publication)
	}
	p.ok("pd_head", "POST", fmt.Sprintf("%s/cases/%d/publication/lift", ep, c2.ID), map[string]any{"reason": "关联案件已结案"}, &decided)
	if decided.Publication.Deferred {
		t.Fatalf("lifted: %+v", decided.Publication)
	}
	// Its day comes (in the plugin's database): public, to anyone.
	if err := db.QueryRow("SELECT findings FROM cases WHERE id = ?", c2.ID).Scan(&findings); err != nil {
		t.Fatal(err)
	}
	if _, err := db.Exec("UPDATE cases SET findings = ? WHERE id = ?", strings.Replace(findings, decided.Publication.Date, today.Format("2006-01-02"), 1), c2.ID); err != nil {
		t.Fatal(err)
	}
	p.do("", "GET", ep+"/public/penalties", nil, &public)
	if len(public.Penalties) != 1 || public.Penalties[0].Party != "上海浦东示例科技有限公司" || !strings.HasPrefix(public.Penalties[0].Number, "沪市监浦罚") {
		t.Fatalf("the public list after the deferral was lifted: %+v", public)
	}
}

func waitStatus(t *testing.T, p *portal, id int64, status string) {
	t.Helper()
	for i := 0; ; i++ {
		var cv caseJSON
		p.ok("pd_li", "GET", fmt.Sprintf("%s/cases/%d", ep, id), nil, &cv)
		if cv.Status == status {
			return
		}
		if i == 100 {
			t.Fatalf("case %d: %s, want %s", id, cv.Status, status)
		}
		time.Sleep(100 * time.Millisecond)
	}
}
