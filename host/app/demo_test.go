package app_test

import (
	"context"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/shanghai-amr/portal/host/clock"
	"github.com/shanghai-amr/portal/host/demo"
)

// The demo's first morning (portal serve --demo): after it, pd_wang has the
// general approvals and a filing approval to do, pd_li has a case made by
// the real filing process, pd_reg the demo enterprise's business suspension
// to pre-review, and a second run adds nothing.
func TestDemoActivityLeavesWorkInTheWorkbench(t *testing.T) {
	if testing.Short() {
		t.Skip("builds the enforcement and registration plugins")
	}
	p, _ := pluginPortal(t, "enforcement", "registration")
	// The case clock's 90 days may end next year: its holiday schedule must
	// be entered for a deadline to be given (the demo's administrator's job).
	loadNextYears(t, p.a.Calendar)
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	s, err := demo.Activity(ctx, p.ts.URL)
	if err != nil {
		t.Fatal(err)
	}
	if s != (demo.Summary{Approvals: 2, Leads: 3, Filing: 1, Cases: 1, Suspensions: 1}) {
		t.Fatalf("summary %+v", s)
	}

	var todo struct {
		Items []struct {
			Node, Title string
			NodeNameEn  string `json:"node_name_en"`
			Reason      struct{ Zh, En string }
		}
	}
	p.ok("pd_wang", "GET", "/api/v1/workbench/boxes/todo?size=100", nil, &todo)
	nodes := map[string]int{}
	for _, it := range todo.Items {
		nodes[it.Node]++
		// Why it is pd_wang's: a role by its name, not its key.
		if it.Node == "unit_head" && (strings.Contains(it.Reason.Zh, "case_lead") || !strings.Contains(it.Reason.Zh, "角色「") ||
			it.NodeNameEn != "Head of the handling unit") {
			t.Fatalf("the filing task's reason: %+v", it.Reason)
		}
	}
	if nodes["leader"] != 2 || nodes["unit_head"] != 1 {
		t.Fatalf("pd_wang's 待办: %+v", todo.Items)
	}

	var reg struct {
		Items []struct {
			Title      string
			NodeName   string `json:"node_name"`
			NodeNameEn string `json:"node_name_en"`
			Reason     struct{ Zh string }
		}
	}
	p.ok("pd_reg", "GET", "/api/v1/workbench/boxes/todo?size=100", nil, &reg)
	// Its step is the task type's title from plugin.yaml (in both languages),
	// not the type's key; its reason names the bureau it belongs to.
	if len(reg.Items) != 1 || !strings.Contains(reg.Items[0].Title, "歇业备案预审") || reg.Items[0].NodeName != "歇业备案预审" ||
		reg.Items[0].NodeNameEn != "Pre-review a suspension filing" ||
		!strings.Contains(reg.Items[0].Reason.Zh, "浦东") {
		t.Fatalf("pd_reg's 待办: %+v", reg.Items)
	}

	var leads struct{ Leads []struct{ Status string } }
	p.ok("pd_li", "GET", ep+"/leads", nil, &leads)
	if len(leads.Leads) != 3 {
		t.Fatalf("pd_li's leads: %+v", leads.Leads)
	}
	// The case is made by the plugin when the filing approval ends (a callback).
	for i := 0; ; i++ {
		var cases struct{ Cases []caseJSON }
		p.ok("pd_li", "GET", ep+"/cases", nil, &cases)
		if len(cases.Cases) == 1 {
			if !strings.Contains(cases.Cases[0].Number, "沪市监浦立") {
				t.Fatalf("the demo case: %+v", cases.Cases[0])
			}
			// Its own page carries the clock's last day (90 natural days, R-DL-1).
			var one struct {
				DueOn string `json:"due_on"`
			}
			p.ok("pd_li", "GET", fmt.Sprintf("%s/cases/%d", ep, cases.Cases[0].ID), nil, &one)
			due, err := time.ParseInLocation(time.DateOnly, one.DueOn, clock.Shanghai)
			if days := due.Sub(time.Now().In(clock.Shanghai)).Hours() / 24; err != nil || days < 85 || days > 92 {
				t.Fatalf("the case's due_on = %q", one.DueOn)
			}
			break
		}
		if i == 100 {
			t.Fatalf("pd_li's cases: %+v", cases.Cases)
		}
		time.Sleep(100 * time.Millisecond)
	}

	if again, err := demo.Activity(ctx, p.ts.URL); err != nil || !again.Skipped {
		t.Fatalf("a second run: %+v, %v", again, err)
	}
}
