package app_test

import (
	"fmt"
	"net/http"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/shanghai-amr/portal/host/clock"
)

// A lead's outcomes (C11 1168): returned to its source when it does not
// qualify; 不予立案 and 合并立案 (into an open case of the same party) through
// the same three-level filing approval as 立案 (P2).
func TestLeadReturnNotFiledAndMerged(t *testing.T) {
	if testing.Short() {
		t.Skip("builds the enforcement plugin")
	}
	p, _ := enforcementPortal(t)
	loadNextYears(t, p.a.Calendar)
	today := time.Now().In(clock.Shanghai).Format("2006-01-02")
	c := fileCase(t, p, today)
	type leadJSON struct {
		ID      int64
		Status  string
		CaseID  int64 `json:"case_id"`
		Outcome struct{ Outcome, Reason string }
	}
	newLead := func(party, uscc string) leadJSON {
		var l leadJSON
		p.ok("pd_li", "POST", ep+"/leads", map[string]any{"source": "complaint", "party_name": party, "party_id": uscc,
			"party_address": "上海市浦东新区张江路100号", "summary": "群众投诉。", "received_on": today}, &l)
		return l
	}
	approveFiling := func(l leadJSON, body map[string]any) leadJSON {
		var started struct {
			InstanceID string `json:"instance_id"`
		}
		p.ok("pd_li", "POST", fmt.Sprintf("%s/leads/%d/file", ep, l.ID), body, &started)
		inst, _ := strconv.Atoi(started.InstanceID)
		for _, step := range []struct{ user, node string }{{"pd_wang", "unit_head"}, {"pd_legal", "legal"}, {"pd_head", "agency_head"}} {
			p.act(step.user, p.one(step.user, inst, step.node).ID, map[string]any{"action": "approve", "comment": "同意"})
		}
		for i := 0; ; i++ {
			var got leadJSON
			p.ok("pd_li", "GET", fmt.Sprintf("%s/leads/%d", ep, l.ID), nil, &got)
			if got.Status != "filing" {
				return got
			}
			if i == 100 {
				t.Fatalf("lead %d still filing", l.ID)
			}
			time.Sleep(100 * time.Millisecond)
		}
	}

	// Returned: not a matter for this bureau.
	a := newLead("上海浦东示例科技有限公司", "91310115MA1K4PTX8J")
	if code, _ := p.as("pd_li", "POST", fmt.Sprintf("%s/leads/%d/return", ep, a.ID), map[string]any{}, nil); code != http.StatusBadRequest {
		t.Fatalf("a return without a reason: %d", code)
	}
	var ret leadJSON
	p.ok("pd_li", "POST", fmt.Sprintf("%s/leads/%d/return", ep, a.ID), map[string]any{"reason": "不属于市场监管部门职责，退回来源单位"}, &ret)
	if ret.Status != "returned" || ret.Outcome.Outcome != "return" {
		t.Fatalf("returned: %+v", ret)
	}
	if code, _ := p.as("pd_li", "POST", fmt.Sprintf("%s/leads/%d/file", ep, a.ID), map[string]any{"cause": "x", "opinion": "x"}, nil); code != http.StatusConflict {
		t.Fatalf("filing a returned lead: %d", code)
	}

	// 不予立案.
	b := newLead("上海浦东示例科技有限公司", "91310115MA1K4PTX8J")
	if got := approveFiling(b, map[string]any{"outcome": "not_file", "opinion": "经核查，违法事实不能成立，建议不予立案。"}); got.Status != "not_filed" || got.CaseID != 0 {
		t.Fatalf("not filed: %+v", got)
	}

	// 合并立案 into the open case of the same party; another party's case is refused.
	m := newLead("上海浦东示例科技有限公司", "91310115MA1K4PTX8J")
	if code, body := p.as("pd_li", "POST", fmt.Sprintf("%s/leads/%d/file", ep, m.ID), map[string]any{"outcome": "merge", "opinion": "x"}, nil); code != http.StatusBadRequest || !strings.Contains(body, "merge_into") {
		t.Fatalf("a merge without its case: %d %s", code, body)
	}
	other := newLead("上海黄浦某商店", "91310101MA1FP0000H")
	if code, body := p.as("pd_li", "POST", fmt.Sprintf("%s/leads/%d/file", ep, other.ID), map[string]any{"outcome": "merge", "merge_into": c.ID, "opinion": "x"}, nil); code != http.StatusBadRequest || !strings.Contains(body, "same party") {
		t.Fatalf("a merge into another party's case: %d %s", code, body)
	}
	if got := approveFiling(m, map[string]any{"outcome": "merge", "merge_into": c.ID, "opinion": "与在办案件系同一当事人同一违法行为，建议合并立案。"}); got.Status != "merged" || got.CaseID != c.ID {
		t.Fatalf("merged: %+v", got)
	}
}
