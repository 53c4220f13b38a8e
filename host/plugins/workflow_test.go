package plugins

import (
	"context"
	"encoding/json"
	"fmt"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/shanghai-amr/portal/host/clock"
	"github.com/shanghai-amr/portal/host/identity"
	"github.com/shanghai-amr/portal/host/org"
	"github.com/shanghai-amr/portal/host/store/ent/processdefinition"
	"github.com/shanghai-amr/portal/host/store/ent/user"
	"github.com/shanghai-amr/portal/host/workflow"
	"github.com/shanghai-amr/portal/sdk/bundle"
)

// A real plugin process declares a process in its manifest, starts an
// instance in a user's request, the approver approves it in the workbench,
// and the host calls the plugin back with the outcome.
func TestPluginProcessRunsAndCallsThePluginBack(t *testing.T) {
	var wf *workflow.Engine
	h := newTestHost(t, "sqlite", func(o *Options) {
		cal, err := clock.New()
		if err != nil {
			t.Fatal(err)
		}
		wf = workflow.New(workflow.Options{Client: o.Store.Client, Calendar: cal, Audit: o.Audit, Log: o.Log})
		o.Workflow = wf
	})
	wf.SetCallbacks(h.m.TaskCallbacks())
	ctx := context.Background()
	c := h.m.opts.Store.Client
	if _, err := org.SeedDemo(ctx, c); err != nil {
		t.Fatal(err)
	}
	if _, err := identity.SeedDemoUsers(ctx, c, testSealer(t)); err != nil {
		t.Fatal(err)
	}
	h.mustInstall(t, fixtures.notice)
	def, err := c.ProcessDefinition.Query().Where(processdefinition.Key("notice.publish")).Only(ctx)
	if err != nil || def.Plugin != "notice" || def.Source != "manifest" {
		t.Fatalf("the manifest's process was not published: %v %+v", err, def)
	}
	s, err := h.sessions.Login(ctx, "pd_li", identity.DemoPassword, "127.0.0.1", "test")
	if err != nil {
		t.Fatal(err)
	}
	code, b, _ := h.callAs(t, s.Token, "POST", "/api/plugins/notice/notices", strings.NewReader(`{"title":"端午节值班安排","body":"正文"}`))
	var created struct{ ID int }
	if json.Unmarshal(b, &created); code != 201 {
		t.Fatalf("create: %d %s", code, b)
	}
	path := fmt.Sprintf("/api/plugins/notice/notices/%d", created.ID)
	code, b, _ = h.callAs(t, s.Token, "POST", path+"/submit", nil)
	var sub struct {
		InstanceID string `json:"instance_id"`
		State      string
	}
	if json.Unmarshal(b, &sub); code != 202 || sub.State != "running" {
		t.Fatalf("submit: %d %s", code, b)
	}
	if code, b, _ := h.callAs(t, s.Token, "POST", path+"/submit", nil); code != 409 {
		t.Fatalf("second submit: %d %s", code, b)
	}
	// pd_li's leader is the head of the Pudong bureau (pd_wang): the task
	// links back to the plugin's page.
	wang, err := h.sessions.Login(ctx, "pd_wang", identity.DemoPassword, "127.0.0.1", "test")
	if err != nil {
		t.Fatal(err)
	}
	u, err := wf.List(ctx, userID(t, h, "pd_wang"), workflow.ListQuery{Box: workflow.BoxTodo})
	if err != nil {
		t.Fatal(err)
	}
	items := u.Items.([]workflow.Item)
	if len(items) != 1 || items[0].Link != fmt.Sprintf("/plugins/notice/notices/%d", created.ID) || items[0].DueAt == nil {
		t.Fatalf("pd_wang's todo: %+v", items)
	}
	if err := wf.Act(ctx, wang.User, items[0].ID, workflow.Op{Action: workflow.OpApprove, Comment: "同意发布"}); err != nil {
		t.Fatal(err)
	}
	inst, _ := strconv.Atoi(sub.InstanceID)
	deadline := time.Now().Add(10 * time.Second)
	for {
		_, b, _ := h.callAs(t, s.Token, "GET", path+"/review", nil)
		if strings.Contains(string(b), `"state":"approved"`) && strings.Contains(string(b), sub.InstanceID) {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("the plugin did not record the outcome of instance %d: %s", inst, b)
		}
		time.Sleep(50 * time.Millisecond)
	}
}

func userID(t *testing.T, h *testHost, name string) int {
	t.Helper()
	u, err := h.m.opts.Store.Client.User.Query().Where(user.Username(name)).Only(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	return u.ID
}

// The host serves the serving version's web/ files (ES module pages), and
// refuses a bundle whose menu names a module it does not carry.
func TestPluginAssetsAndMissingModules(t *testing.T) {
	h := newTestHost(t, "sqlite", nil)
	h.mustInstall(t, fixtures.notice)
	code, b, hdr := h.call(t, "GET", "/plugin-assets/notice/0.1.0/stats.js", nil, false)
	if code != 200 || !strings.Contains(string(b), "export default function mount") || !strings.HasPrefix(hdr.Get("Content-Type"), "text/javascript") {
		t.Fatalf("asset: %d %s %q", code, hdr.Get("Content-Type"), b[:min(len(b), 80)])
	}
	for _, p := range []string{"/plugin-assets/notice/9.9.9/stats.js", "/plugin-assets/notice/0.1.0/../../../plugin.yaml",
		"/plugin-assets/notice/0.1.0/missing.js", "/plugin-assets/other/0.1.0/stats.js"} {
		if code, _, _ := h.call(t, "GET", p, nil, false); code != 404 {
			t.Errorf("%s: %d, want 404", p, code)
		}
	}
	// The same plugin packed with an empty web/ folder.
	out := filepath.Join(t.TempDir(), "notice-0.2.0.tar.gz")
	if _, err := bundle.Build(context.Background(), bundle.BuildOptions{PluginDir: "../../sdk/examples/notice", Version: "0.2.0",
		WebDir: t.TempDir(), Key: fixtures.key.Private, Out: out}); err != nil {
		t.Fatal(err)
	}
	code, b = h.upgrade(t, "notice", out)
	if code != 400 && code != 422 || !strings.Contains(string(b), "missing_module") {
		t.Fatalf("upgrade without the module: %d %s", code, b)
	}
}
