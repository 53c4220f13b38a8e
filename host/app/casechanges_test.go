package app_test

import (
	"encoding/json"
	"fmt"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/shanghai-amr/portal/host/clock"
)

// approveChange applies for a change to a case as its handler, has the head
// of the unit and the head of the agency approve it in the workbench, and
// returns the case once the change is made.
func approveChange(t *testing.T, p *portal, caseID int64, op string, body map[string]any) caseJSON {
	t.Helper()
	var req struct {
		ChangeID   int64  `json:"change_id"`
		InstanceID string `json:"instance_id"`
	}
	p.ok("pd_li", "POST", fmt.Sprintf("%s/cases/%d/%s", ep, caseID, op), body, &req)
	inst, _ := strconv.Atoi(req.InstanceID)
	p.act("pd_wang", p.one("pd_wang", inst, "unit_head").ID, map[string]any{"action": "approve", "comment": "同意"})
	p.act("pd_head", p.one("pd_head", inst, "agency_head").ID, map[string]any{"action": "approve", "comment": "同意"})
	if !settled(t, p, caseID, req.ChangeID, "applied") || op == "transfer" {
		return caseJSON{ID: caseID} // moved out of the handler's scope
	}
	// The change is recorded as applied after the case has changed: read
	// the case again to see it.
	var after caseJSON
	p.ok("pd_li", "GET", fmt.Sprintf("%s/cases/%d", ep, caseID), nil, &after)
	return after
}

// settled waits until the plugin has learnt the outcome of change id's
// approval (delivered asynchronously) and finds the change in state want;
// false when the case has left the handler's scope (a transfer).
func settled(t *testing.T, p *portal, caseID, id int64, want string) bool {
	t.Helper()
	for i := 0; ; i++ {
		var cv struct {
			Changes []struct {
				ID     int64
				Status string
				Note   string
			}
		}
		code, _ := p.as("pd_li", "GET", fmt.Sprintf("%s/cases/%d", ep, caseID), nil, &cv)
		if code == http.StatusNotFound {
			return false
		}
		for _, ch := range cv.Changes {
			if ch.ID == id && ch.Status == want {
				return true
			}
			if ch.ID == id && ch.Status != "pending" {
				t.Fatalf("change %d: %s %s", ch.ID, ch.Status, ch.Note)
			}
		}
		if i == 100 {
			t.Fatalf("change %d not %s after its approval", id, want)
		}
		time.Sleep(100 * time.Millisecond)
	}
}

// Changes to a case in investigation (C12, R-RET-2), each applied for by the
// handler and approved by both heads: suspension on a ground of R-SUS-1
// stops the clock and resumption needs proof, which goes into the dossier;
// a refused change changes nothing; termination for an outcome that is not a
// penalty closes the case (R-LEG-5); a change of handling body moves the
// case's data scope — the Huangpu brigade sees and handles it from then on,
// Pudong no longer does.
func TestCaseSuspensionTerminationTransfer(t *testing.T) {
	if testing.Short() {
		t.Skip("builds the enforcement plugin")
	}
	p, _ := enforcementPortal(t)
	loadNextYears(t, p.a.Calendar)
	today := time.Now().In(clock.Shanghai).Format("2006-01-02")
	c := fileCase(t, p, today)
	at := func(id int64, action string) string { return fmt.Sprintf("%s/cases/%d/%s", ep, id, action) }

	// The case page offers each user the actions they may call: the
	// handler applies and notifies, the head of unit closes.
	caseActions := func(user string) map[string]bool {
		var ui struct {
			Entities []struct {
				Name  string
				Views struct{ Actions []struct{ Name string } }
			}
		}
		p.ok(user, "GET", "/api/v1/plugins/enforcement/ui", nil, &ui)
		out := map[string]bool{}
		for _, e := range ui.Entities {
			if e.Name == "case" {
				for _, a := range e.Views.Actions {
					out[a.Name] = true
				}
			}
		}
		return out
	}
	if li, wang := caseActions("pd_li"), caseActions("pd_wang"); !li["notice"] || !li["extend"] || li["close"] || !wang["close"] || wang["notice"] {
		t.Fatalf("actions offered: pd_li %v, pd_wang %v", li, wang)
	}

	if code, body := p.as("pd_li", "POST", at(c.ID, "suspend"), map[string]any{"ground": "holiday", "reason": "x"}, nil); code != http.StatusBadRequest || !strings.Contains(body, "R-SUS-1") {
		t.Fatalf("an unknown ground: %d %s", code, body)
	}
	if code, _ := p.as("pd_wang", "POST", at(c.ID, "suspend"), map[string]any{"ground": "party_missing", "reason": "当事人下落不明"}, nil); code != http.StatusForbidden {
		t.Fatalf("the head of unit applies (the handler does; the head approves): %d", code)
	}
	// Refused: nothing changes.
	var req struct {
		ChangeID   int64  `json:"change_id"`
		InstanceID string `json:"instance_id"`
	}
	p.ok("pd_li", "POST", at(c.ID, "suspend"), map[string]any{"ground": "force_majeure", "reason": "台风"}, &req)
	if code, _ := p.as("pd_li", "POST", at(c.ID, "terminate"), map[string]any{"type": "minor", "reason": "x"}, nil); code != http.StatusConflict {
		t.Fatalf("a second change while one awaits approval: %d", code)
	}
	inst, _ := strconv.Atoi(req.InstanceID)
	p.act("pd_wang", p.one("pd_wang", inst, "unit_head").ID, map[string]any{"action": "reject", "comment": "台风已过境，不符合中止条件"})
	settled(t, p, c.ID, req.ChangeID, "refused")
	var cv caseJSON
	p.ok("pd_li", "GET", fmt.Sprintf("%s/cases/%d", ep, c.ID), nil, &cv)
	if cv.Status != "investigating" {
		t.Fatalf("a refused suspension changed the case: %+v", cv)
	}

	cv = approveChange(t, p, c.ID, "suspend", map[string]any{"ground": "party_missing", "reason": "当事人下落不明，无法调查"})
	if cv.Status != "suspended" || cv.Clock == nil || !cv.Clock.Paused {
		t.Fatalf("suspended: %+v", cv)
	}
	if code, body := p.as("pd_li", "POST", at(c.ID, "resume-investigation"), map[string]any{"reason": "已找到当事人"}, nil); code != http.StatusBadRequest || !strings.Contains(body, "proof") {
		t.Fatalf("resumed without proof: %d %s", code, body)
	}
	var proof struct{ ID int }
	code, _, b := p.raw("pd_li", "POST", "/api/v1/files?name="+url.QueryEscape("当事人到案证明.png")+"&purpose=evidence", "image/png", pngBytes(t))
	if code != http.StatusCreated || json.Unmarshal(b, &proof) != nil {
		t.Fatalf("upload: %d %s", code, b)
	}
	cv = approveChange(t, p, c.ID, "resume-investigation", map[string]any{"reason": "当事人已到案", "proof_file_id": strconv.Itoa(proof.ID)})
	if cv.Status != "investigating" || cv.Clock.Paused {
		t.Fatalf("resumed: %+v", cv)
	}

	// 变更办案机构 to the Huangpu enforcement brigade: the scope moves.
	if code, _ := p.as("pd_li", "POST", at(c.ID, "transfer"), map[string]any{"org_code": "nowhere", "reason": "管辖调整"}, nil); code != http.StatusBadRequest {
		t.Fatalf("a transfer to no organisation: %d", code)
	}
	approveChange(t, p, c.ID, "transfer", map[string]any{"org_code": "310101-D03", "reason": "违法行为发生地在黄浦区，移交黄浦区局办理"})
	if code, _ := p.as("pd_li", "GET", fmt.Sprintf("%s/cases/%d", ep, c.ID), nil, nil); code != http.StatusNotFound {
		t.Fatalf("Pudong still sees the transferred case: %d", code)
	}
	var hp struct{ Cases []caseJSON }
	p.ok("hp_liu", "GET", ep+"/cases", nil, &hp)
	if len(hp.Cases) != 1 || hp.Cases[0].ID != c.ID {
		t.Fatalf("Huangpu's cases after the transfer: %+v", hp.Cases)
	}
	if code, body := p.as("hp_liu", "POST", at(c.ID, "evidence"), map[string]any{"title": "补充证据", "file_id": strconv.Itoa(proof.ID)}, nil); code == http.StatusNotFound {
		t.Fatalf("Huangpu cannot act on its case: %d %s", code, body)
	}

	// 数据修改 (1191): the corrected value, the old one kept in the change.
	c2 := fileCase(t, p, today)
	if code, _ := p.as("pd_li", "POST", at(c2.ID, "correct"), map[string]any{"field": "number", "value": "x", "reason": "x"}, nil); code != http.StatusBadRequest {
		t.Fatalf("correcting the case number: %d", code)
	}
	fixed := approveChange(t, p, c2.ID, "correct", map[string]any{"field": "party_address", "value": "上海市浦东新区张江路200号", "reason": "住所录入错误"})
	var withChanges struct {
		PartyAddress string `json:"party_address"`
		Changes      []struct {
			Op      string
			Request struct{ Old, Value string }
		}
	}
	p.ok("pd_li", "GET", fmt.Sprintf("%s/cases/%d", ep, c2.ID), nil, &withChanges)
	if withChanges.PartyAddress != "上海市浦东新区张江路200号" || withChanges.Changes[0].Request.Old != "上海市浦东新区张江路100号" || fixed.ID != c2.ID {
		t.Fatalf("corrected: %+v", withChanges)
	}

	// 调查终止 (R-LEG-5) on the same case.
	if code, body := p.as("pd_li", "POST", at(c2.ID, "terminate"), map[string]any{"type": "penalty", "reason": "x"}, nil); code != http.StatusBadRequest || !strings.Contains(body, "R-LEG-5") {
		t.Fatalf("termination as a penalty: %d %s", code, body)
	}
	ended := approveChange(t, p, c2.ID, "terminate", map[string]any{"type": "minor", "reason": "当事人违法行为轻微并及时改正，没有造成危害后果"})
	if ended.Status != "terminated" || ended.Clock != nil {
		t.Fatalf("terminated: %+v", ended)
	}
	if code, _ := p.as("pd_li", "POST", at(c2.ID, "notice"), map[string]any{"facts": "x"}, nil); code != http.StatusConflict && code != http.StatusBadRequest {
		t.Fatalf("a notice on a terminated case: %d", code)
	}
}
