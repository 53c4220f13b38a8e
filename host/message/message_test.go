package message

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/shanghai-amr/portal/host/i18n"
	"github.com/shanghai-amr/portal/host/identity"
	"github.com/shanghai-amr/portal/host/server"
	"github.com/shanghai-amr/portal/host/store"
	"github.com/shanghai-amr/portal/host/store/storetest"
)

var quiet = slog.New(slog.DiscardHandler)

// testAuth trusts X-Test-User / X-Test-Audience / X-Test-Locale: the real
// identity middleware with a stand-in authenticator.
type testAuth struct{}

func (testAuth) Authenticate(r *http.Request) (*identity.Identity, error) {
	u := r.Header.Get("X-Test-User")
	if u == "" {
		return nil, nil
	}
	aud := r.Header.Get("X-Test-Audience")
	if aud == "" {
		aud = identity.Staff
	}
	return &identity.Identity{Audience: aud, Subject: u, Username: u, Locale: r.Header.Get("X-Test-Locale")}, nil
}

type fixture struct {
	st     *store.Store
	center *Center
	srv    *server.Server
	ts     *httptest.Server
	users  map[string]int
}

func newFixture(t *testing.T, dialect string, o Options) *fixture {
	t.Helper()
	st := storetest.Open(t, dialect)
	cat, err := i18n.New()
	if err != nil {
		t.Fatal(err)
	}
	f := &fixture{st: st, users: map[string]int{}}
	for _, u := range []struct{ name, locale, email, mobile string }{
		{"pd_li", "zh-CN", "li@example.com", "13812345678"},
		{"pd_wang", "en", "wang@example.com", ""},
		{"pd_zhao", "", "", ""},
	} {
		row, err := st.Client.User.Create().SetUsername(u.name).SetDisplayName(u.name).SetLocale(u.locale).
			SetEmail(u.email).SetMobile(u.mobile).Save(context.Background())
		if err != nil {
			t.Fatal(err)
		}
		f.users[u.name] = row.ID
	}
	o.Client, o.Catalog = st.Client, cat
	if o.Log == nil {
		o.Log = quiet
	}
	f.center = New(o)
	f.srv = server.New(server.Options{Catalog: cat, Logger: quiet, RequestTimeout: time.Second})
	f.center.MountAPI(f.srv, identity.Middleware(identity.Guard{}, testAuth{}))
	f.ts = httptest.NewServer(f.srv.Handler())
	t.Cleanup(f.ts.Close)
	t.Cleanup(f.center.Close) // runs first: ends open streams
	return f
}

// do calls the API as user (the identity's locale comes from the users table
// in real life; here the header carries it).
func (f *fixture) do(t *testing.T, method, path, user, locale string) (int, map[string]any) {
	t.Helper()
	req, _ := http.NewRequest(method, f.ts.URL+path, nil)
	if user != "" {
		req.Header.Set("X-Test-User", user)
		req.Header.Set("X-Test-Locale", locale)
	}
	resp, err := f.ts.Client().Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	var body map[string]any
	_ = json.NewDecoder(resp.Body).Decode(&body)
	return resp.StatusCode, body
}

func num(v any) int { f, _ := v.(float64); return int(f) }

func TestSendListReadWithOwnerChecks(t *testing.T) {
	storetest.Each(t, func(t *testing.T, dialect string) {
		f := newFixture(t, dialect, Options{})
		ctx := context.Background()
		li, wang := f.users["pd_li"], f.users["pd_wang"]
		if err := f.center.Send(ctx, nil, Message{Recipients: []int{li, wang, li}, Category: CategoryTask,
			Template: "message.task.new", Params: map[string]any{"Title": "立案审批", "Node": "部门负责人审核"},
			Link: "/workbench/todo"}); err != nil {
			t.Fatal(err)
		}
		// Inside a transaction: stored only when the caller commits.
		tx, err := f.st.Client.Tx(ctx)
		if err != nil {
			t.Fatal(err)
		}
		if err := f.center.Send(ctx, tx.Client(), Message{Recipients: []int{li}, Category: CategoryUrge,
			Template: "message.task.urged", Params: map[string]any{"Title": "立案审批", "Comment": "请尽快"}}); err != nil {
			t.Fatal(err)
		}
		if err := tx.Rollback(); err != nil {
			t.Fatal(err)
		}
		tx, _ = f.st.Client.Tx(ctx)
		if err := f.center.Send(ctx, tx.Client(), Message{Recipients: []int{li}, Category: CategoryTask,
			Template: "message.process.approved", Params: map[string]any{"Title": "立案审批"}}); err != nil {
			t.Fatal(err)
		}
		if err := tx.Commit(); err != nil {
			t.Fatal(err)
		}
		f.center.RegisterTemplates("enforcement", map[string]map[string]string{
			"zh-CN": {"notice.new": "新通知：{{.Name}}"}, "en": {"notice.new": "New notice: {{.Name}}"}})
		if err := f.center.Send(ctx, nil, Message{Recipients: []int{wang}, Category: CategoryPlugin, Source: "enforcement",
			Template: "plugin.enforcement.notice.new", Params: map[string]any{"Name": "沪市监案〔2026〕1号"}, Link: "/p/enforcement/1"}); err != nil {
			t.Fatal(err)
		}
		for _, bad := range []Message{
			{Recipients: []int{li}, Category: "bogus", Template: "message.task.new"},
			{Recipients: []int{li}, Category: CategoryTask},
			{Recipients: []int{li}, Category: CategoryTask, Template: "message.task.new", Link: "javascript:alert(1)"},
			{Recipients: []int{li}, Category: CategoryTask, Template: "message.task.new", Link: "//evil.example/x"},
			{Recipients: []int{0}, Category: CategoryTask, Template: "message.task.new"},
		} {
			if err := f.center.Send(ctx, nil, bad); err == nil {
				t.Errorf("Send(%+v) accepted", bad)
			}
		}

		code, body := f.do(t, "GET", "/api/v1/messages", "pd_li", "zh-CN")
		items, _ := body["items"].([]any)
		if code != 200 || num(body["total"]) != 2 || num(body["unread"]) != 2 || len(items) != 2 {
			t.Fatalf("li's list = %d %v", code, body)
		}
		newest, older := items[0].(map[string]any), items[1].(map[string]any)
		if newest["title"] != "您发起的「立案审批」已审批通过。" || older["title"] != "新待办：立案审批（部门负责人审核）" ||
			older["link"] != "/workbench/todo" || older["category"] != "task" || older["source"] != "" ||
			older["read_at"] != nil || older["created_at"] == "" {
			t.Fatalf("li's items = %v", items)
		}
		code, body = f.do(t, "GET", "/api/v1/messages", "pd_wang", "en")
		items, _ = body["items"].([]any)
		if code != 200 || num(body["total"]) != 2 || len(items) != 2 ||
			items[0].(map[string]any)["title"] != "New notice: 沪市监案〔2026〕1号" || items[0].(map[string]any)["source"] != "enforcement" ||
			items[1].(map[string]any)["title"] != "New task: 立案审批 (部门负责人审核)" {
			t.Fatalf("wang's list in English = %d %v", code, body)
		}
		wangTask := num(items[1].(map[string]any)["id"])
		liNewest := num(newest["id"])

		// Only the recipient may mark a message read.
		if code, body := f.do(t, "POST", "/api/v1/messages/"+itoa(wangTask)+"/read", "pd_li", ""); code != 404 || body["code"] != "message.not_found" {
			t.Fatalf("li reads wang's message: %d %v", code, body)
		}
		if code, body := f.do(t, "POST", "/api/v1/messages/999999/read", "pd_li", ""); code != 404 {
			t.Fatalf("missing message: %d %v", code, body)
		}
		if code, body := f.do(t, "POST", "/api/v1/messages/x/read", "pd_li", ""); code != 404 {
			t.Fatalf("bad id: %d %v", code, body)
		}
		if _, body := f.do(t, "GET", "/api/v1/messages/unread-count", "pd_wang", ""); num(body["unread"]) != 2 {
			t.Fatalf("wang's unread after li's attempt = %v", body)
		}
		if code, body := f.do(t, "POST", "/api/v1/messages/"+itoa(liNewest)+"/read", "pd_li", ""); code != 200 || num(body["updated"]) != 1 {
			t.Fatalf("read = %d %v", code, body)
		}
		if code, body := f.do(t, "POST", "/api/v1/messages/"+itoa(liNewest)+"/read", "pd_li", ""); code != 200 || num(body["updated"]) != 0 {
			t.Fatalf("read again = %d %v", code, body)
		}
		if _, body := f.do(t, "GET", "/api/v1/messages/unread-count", "pd_li", ""); num(body["unread"]) != 1 {
			t.Fatalf("li's unread = %v", body)
		}
		code, body = f.do(t, "GET", "/api/v1/messages?unread=1&size=1000", "pd_li", "")
		if items, _ := body["items"].([]any); code != 200 || num(body["total"]) != 1 || len(items) != 1 || num(items[0].(map[string]any)["id"]) == liNewest {
			t.Fatalf("unread only = %d %v", code, body)
		}
		code, body = f.do(t, "GET", "/api/v1/messages?size=1&page=2", "pd_li", "")
		if items, _ := body["items"].([]any); code != 200 || num(body["total"]) != 2 || len(items) != 1 || items[0].(map[string]any)["read_at"] != nil {
			t.Fatalf("page 2 = %d %v", code, body)
		}
		if _, body := f.do(t, "GET", "/api/v1/messages?category=urge", "pd_li", ""); num(body["total"]) != 0 {
			t.Fatalf("category filter = %v", body)
		}
		for _, q := range []string{"unread=maybe", "category=bogus", "page=0", "page=x", "size=0", "size=-3"} {
			if code, body := f.do(t, "GET", "/api/v1/messages?"+q, "pd_li", ""); code != 400 || body["code"] != "request.invalid" {
				t.Errorf("?%s = %d %v", q, code, body)
			}
		}
		if code, body := f.do(t, "POST", "/api/v1/messages/read-all", "pd_li", ""); code != 200 || num(body["updated"]) != 1 {
			t.Fatalf("read-all = %d %v", code, body)
		}
		if _, body := f.do(t, "GET", "/api/v1/messages/unread-count", "pd_li", ""); num(body["unread"]) != 0 {
			t.Fatalf("li's unread after read-all = %v", body)
		}
		if _, body := f.do(t, "GET", "/api/v1/messages/unread-count", "pd_wang", ""); num(body["unread"]) != 2 {
			t.Fatalf("read-all touched wang's messages: %v", body)
		}

		// Staff with an account only.
		if code, _ := f.do(t, "GET", "/api/v1/messages", "", ""); code != 401 {
			t.Errorf("anonymous = %d", code)
		}
		if code, _ := f.do(t, "GET", "/api/v1/messages", "operator", ""); code != 403 {
			t.Errorf("staff without an account = %d", code)
		}
		req, _ := http.NewRequest("GET", f.ts.URL+"/api/v1/messages/unread-count", nil)
		req.Header.Set("X-Test-User", "pd_li")
		req.Header.Set("X-Test-Audience", identity.Enterprise)
		if resp, err := f.ts.Client().Do(req); err != nil || resp.StatusCode != 403 {
			t.Errorf("enterprise caller = %v %v", resp.StatusCode, err)
		} else {
			resp.Body.Close()
		}
	})
}

func itoa(n int) string { b, _ := json.Marshal(n); return string(b) }

func TestRenderHostAndPluginTemplates(t *testing.T) {
	cat, err := i18n.New()
	if err != nil {
		t.Fatal(err)
	}
	c := New(Options{Catalog: cat, Log: quiet})
	p := map[string]any{"Title": "T1", "Node": "N1", "Comment": "C1", "Due": "2026-03-01 17:00", "Plugin": "enforcement"}
	for _, key := range []string{"message.task.new", "message.task.cc", "message.task.urged", "message.process.approved",
		"message.process.rejected", "message.process.withdrawn", "message.process.terminated", "message.deadline.yellow",
		"message.deadline.orange", "message.deadline.red", "message.supervise.overdue", "message.plugin.parked",
		"message.too_many_streams", "message.not_found"} {
		zh, en := c.Render(i18n.ZhCN, key, p), c.Render(i18n.English, key, p)
		if zh == key || en == key || zh == en || strings.Contains(zh+en, "<no value>") {
			t.Errorf("%s: zh %q, en %q", key, zh, en)
		}
	}
	if got := c.Render(i18n.English, "message.task.urged", map[string]any{"Title": "T"}); got != "Reminder to act on: T" {
		t.Errorf("urged without a comment = %q", got)
	}
	if got := c.Render(i18n.ZhCN, "message.deadline.red", map[string]any{"Title": "立案", "Due": "2026-03-01"}); got != "「立案」已超期（期限 2026-03-01）。" {
		t.Errorf("red = %q", got)
	}
	if got := c.Render(i18n.English, "message.no.such", nil); got != "message.no.such" {
		t.Errorf("unknown id = %q", got)
	}

	c.RegisterTemplates("enforcement", map[string]map[string]string{
		"zh-CN": {"filed": "案件 {{.No}} 已立案", "only_zh": "仅中文 {{.No}}", "broken": "坏模板 {{.No"},
		"en-US": {"filed": "Case {{.No}} filed"},
		"fr":    {"filed": "Affaire {{.No}}"},
	})
	d := map[string]any{"No": json.Number("42")}
	for _, tt := range []struct {
		tag       string
		key, want string
	}{
		{"zh-CN", "plugin.enforcement.filed", "案件 42 已立案"},
		{"en", "plugin.enforcement.filed", "Case 42 filed"},
		{"en", "plugin.enforcement.only_zh", "仅中文 42"},                     // falls back to zh-CN
		{"en", "plugin.enforcement.broken", "坏模板 {{.No"},                   // does not parse: shown as written
		{"en", "plugin.enforcement.missing", "plugin.enforcement.missing"}, // unknown: the key
		{"en", "plugin.unavailable", "This business plugin is temporarily unavailable. Please try again shortly."},
	} {
		tag := i18n.ZhCN
		if tt.tag == "en" {
			tag = i18n.English
		}
		if got := c.Render(tag, tt.key, d); got != tt.want {
			t.Errorf("Render(%s, %s) = %q, want %q", tt.tag, tt.key, got, tt.want)
		}
	}
	// Registering again replaces the plugin's set.
	c.RegisterTemplates("enforcement", map[string]map[string]string{"zh-CN": {"filed": "立案 {{.No}}"}})
	if got := c.Render(i18n.English, "plugin.enforcement.filed", d); got != "立案 42" {
		t.Errorf("after re-registering: %q", got)
	}
	if got := c.Render(i18n.ZhCN, "plugin.enforcement.only_zh", d); got != "plugin.enforcement.only_zh" {
		t.Errorf("a dropped template still renders: %q", got)
	}
}

// fakeChannel records deliveries and fails the first failFirst attempts.
type fakeChannel struct {
	mu        sync.Mutex
	failFirst int
	calls     int
	got       []delivery
	ch        chan delivery
}

type delivery struct {
	to            Recipient
	subject, body string
}

func (f *fakeChannel) Name() string { return "sms" }

func (f *fakeChannel) Deliver(_ context.Context, to Recipient, subject, body string) error {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.calls++
	if f.calls <= f.failFirst {
		return errors.New("gateway busy")
	}
	d := delivery{to, subject, body}
	f.got = append(f.got, d)
	f.ch <- d
	return nil
}

func TestExternalChannelsGetCommittedMessagesWithRetries(t *testing.T) {
	storetest.Each(t, func(t *testing.T, dialect string) {
		sms := &fakeChannel{failFirst: 1, ch: make(chan delivery, 10)}
		var logs bytes.Buffer
		f := newFixture(t, dialect, Options{
			Channels:   map[string][]Channel{CategoryDeadline: {sms, NewLogChannel("email", slog.New(slog.NewTextHandler(&logs, nil)))}},
			OpenMobile: func(s string) (string, error) { return s, nil },
		})
		f.center.retryWait = 10 * time.Millisecond
		f.center.commitChecks = []time.Duration{0, 50 * time.Millisecond, 100 * time.Millisecond, 200 * time.Millisecond}
		ctx := context.Background()
		li := f.users["pd_li"]
		due := map[string]any{"Title": "张三案", "Due": "2026-03-01"}

		// A task message: no channel for that category.
		if err := f.center.Send(ctx, nil, Message{Recipients: []int{li}, Category: CategoryTask, Template: "message.task.cc", Params: due}); err != nil {
			t.Fatal(err)
		}
		// Rolled back: never delivered.
		tx, _ := f.st.Client.Tx(ctx)
		if err := f.center.Send(ctx, tx.Client(), Message{Recipients: []int{li}, Category: CategoryDeadline, Template: "message.deadline.yellow", Params: due}); err != nil {
			t.Fatal(err)
		}
		_ = tx.Rollback()
		// Committed a little later: delivered, after one failed attempt.
		tx, _ = f.st.Client.Tx(ctx)
		if err := f.center.Send(ctx, tx.Client(), Message{Recipients: []int{li}, Category: CategoryDeadline, Template: "message.deadline.red", Params: due, Link: "/workbench/todo"}); err != nil {
			t.Fatal(err)
		}
		time.Sleep(30 * time.Millisecond)
		if err := tx.Commit(); err != nil {
			t.Fatal(err)
		}
		select {
		case d := <-sms.ch:
			if d.to.UserID != li || d.to.Username != "pd_li" || d.to.Mobile != "13812345678" || d.to.Email != "li@example.com" ||
				d.subject != "「张三案」已超期（期限 2026-03-01）。" || d.body != d.subject+"\n/workbench/todo" {
				t.Fatalf("delivery = %+v", d)
			}
		case <-time.After(5 * time.Second):
			t.Fatal("no delivery within 5 s")
		}
		time.Sleep(500 * time.Millisecond) // the rolled-back send's checks run out
		f.center.Close()
		sms.mu.Lock()
		defer sms.mu.Unlock()
		if len(sms.got) != 1 || sms.calls != 2 {
			t.Fatalf("deliveries %d, attempts %d; want 1 delivery after 2 attempts (the rolled-back and the task message are not sent)", len(sms.got), sms.calls)
		}
		out := logs.String()
		if !strings.Contains(out, "would send") || !strings.Contains(out, "138****5678") || !strings.Contains(out, "l***@example.com") ||
			strings.Contains(out, "13812345678") || strings.Contains(out, "li@example.com") || strings.Contains(out, "张三") {
			t.Fatalf("log channel output: %s", out)
		}
	})
}

// sseClient reads one event stream.
type sseClient struct {
	resp   *http.Response
	cancel context.CancelFunc
	events chan sseEvent
}

type sseEvent struct{ id, name, data string }

func (f *fixture) openStream(t *testing.T, user, locale string) (*sseClient, int) {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	req, _ := http.NewRequestWithContext(ctx, "GET", f.ts.URL+"/api/v1/messages/stream", nil)
	req.Header.Set("X-Test-User", user)
	req.Header.Set("X-Test-Locale", locale)
	resp, err := f.ts.Client().Do(req)
	if err != nil {
		cancel()
		t.Fatal(err)
	}
	if resp.StatusCode != 200 {
		b, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		cancel()
		t.Logf("stream refused: %s", b)
		return nil, resp.StatusCode
	}
	if ct := resp.Header.Get("Content-Type"); !strings.HasPrefix(ct, "text/event-stream") {
		t.Fatalf("Content-Type %q", ct)
	}
	s := &sseClient{resp: resp, cancel: cancel, events: make(chan sseEvent, 100)}
	go func() {
		defer close(s.events)
		sc := bufio.NewScanner(resp.Body)
		var ev sseEvent
		for sc.Scan() {
			line := sc.Text()
			switch {
			case line == "":
				if ev.name != "" {
					s.events <- ev
				}
				ev = sseEvent{}
			case strings.HasPrefix(line, "event: "):
				ev.name = strings.TrimPrefix(line, "event: ")
			case strings.HasPrefix(line, "data: "):
				ev.data = strings.TrimPrefix(line, "data: ")
			case strings.HasPrefix(line, "id: "):
				ev.id = strings.TrimPrefix(line, "id: ")
			}
		}
	}()
	t.Cleanup(s.close)
	return s, 200
}

func (s *sseClient) close() { s.cancel(); s.resp.Body.Close() }

// next waits for the next event, which must be named name.
func (s *sseClient) next(t *testing.T, name string, within time.Duration) map[string]any {
	t.Helper()
	select {
	case ev, ok := <-s.events:
		if !ok {
			t.Fatalf("stream ended waiting for %q", name)
		}
		if ev.name != name {
			t.Fatalf("got event %q %s, want %q", ev.name, ev.data, name)
		}
		var m map[string]any
		if err := json.Unmarshal([]byte(ev.data), &m); err != nil {
			t.Fatalf("event %q data %q: %v", name, ev.data, err)
		}
		return m
	case <-time.After(within):
		t.Fatalf("no %q event within %s", name, within)
	}
	return nil
}

func (s *sseClient) quiet(t *testing.T, d time.Duration) {
	t.Helper()
	select {
	case ev := <-s.events:
		t.Fatalf("unexpected event %q %s", ev.name, ev.data)
	case <-time.After(d):
	}
}

func TestStreamPushesOnWake(t *testing.T) {
	storetest.Each(t, func(t *testing.T, dialect string) {
		// Polling is off in effect: only Wake can bring the message within a second.
		f := newFixture(t, dialect, Options{Poll: time.Hour})
		ctx := context.Background()
		li := f.users["pd_li"]
		if err := f.center.Send(ctx, nil, Message{Recipients: []int{li}, Category: CategorySystem, Template: "message.plugin.parked", Params: map[string]any{"Plugin": "old"}}); err != nil {
			t.Fatal(err)
		}
		s, _ := f.openStream(t, "pd_li", "en")
		if u := s.next(t, "unread", time.Second); num(u["unread"]) != 1 {
			t.Fatalf("initial unread = %v", u)
		}
		// Sent in a transaction: nothing is pushed before the commit and the Wake.
		tx, _ := f.st.Client.Tx(ctx)
		if err := f.center.Send(ctx, tx.Client(), Message{Recipients: []int{li, f.users["pd_wang"]}, Category: CategoryTask,
			Template: "message.task.new", Params: map[string]any{"Title": "Filing", "Node": "Review"}, Link: "/workbench/todo"}); err != nil {
			t.Fatal(err)
		}
		s.quiet(t, 200*time.Millisecond)
		if err := tx.Commit(); err != nil {
			t.Fatal(err)
		}
		f.center.Wake(li, f.users["pd_wang"])
		m := s.next(t, "message", time.Second)
		if m["title"] != "New task: Filing (Review)" || m["link"] != "/workbench/todo" || m["category"] != "task" || m["read_at"] != nil {
			t.Fatalf("message event = %v", m)
		}
		if u := s.next(t, "unread", time.Second); num(u["unread"]) != 2 {
			t.Fatalf("unread after the message = %v", u)
		}
		// Reading it (here, from another tab) updates the count.
		if code, _ := f.do(t, "POST", "/api/v1/messages/read-all", "pd_li", ""); code != 200 {
			t.Fatal("read-all failed")
		}
		if u := s.next(t, "unread", time.Second); num(u["unread"]) != 0 {
			t.Fatalf("unread after read-all = %v", u)
		}
		// The stream outlives the server's request deadline (1 s here).
		time.Sleep(1200 * time.Millisecond)
		if err := f.center.Send(ctx, nil, Message{Recipients: []int{li}, Category: CategoryTask, Template: "message.task.cc", Params: map[string]any{"Title": "Late"}}); err != nil {
			t.Fatal(err)
		}
		f.center.Wake(li)
		if m := s.next(t, "message", time.Second); m["title"] != "Copied to you: Late" {
			t.Fatalf("message after the request deadline = %v", m)
		}
		s.next(t, "unread", time.Second)
		// And it ends when the client goes away, after the deadline too.
		s.close()
		waitFor(t, "the stream to end", func() bool { return f.center.hub.streams() == 0 })
	})
}

func TestStreamSeesAnotherReplicasMessagesByPolling(t *testing.T) {
	storetest.Each(t, func(t *testing.T, dialect string) {
		f := newFixture(t, dialect, Options{Poll: 100 * time.Millisecond})
		li := f.users["pd_li"]
		s, _ := f.openStream(t, "pd_li", "zh-CN")
		if u := s.next(t, "unread", time.Second); num(u["unread"]) != 0 {
			t.Fatalf("initial unread = %v", u)
		}
		// Another replica writes the row; nobody here calls Wake.
		if _, err := f.st.Client.Message.Create().SetRecipientID(li).SetCategory(CategorySupervise).
			SetTemplate("message.supervise.overdue").SetParams(`{"Title":"张三案"}`).Save(context.Background()); err != nil {
			t.Fatal(err)
		}
		start := time.Now()
		m := s.next(t, "message", time.Second)
		if m["title"] != "督办：「张三案」已超期。" {
			t.Fatalf("message event = %v", m)
		}
		if u := s.next(t, "unread", time.Second); num(u["unread"]) != 1 {
			t.Fatalf("unread = %v", u)
		}
		t.Logf("arrived after %s (poll 100ms)", time.Since(start))
		// Someone else's message does not reach this stream.
		if _, err := f.st.Client.Message.Create().SetRecipientID(f.users["pd_wang"]).SetCategory(CategorySystem).
			SetTemplate("message.not_found").Save(context.Background()); err != nil {
			t.Fatal(err)
		}
		s.quiet(t, 400*time.Millisecond)
	})
}

func TestStreamCapRefusesWith429(t *testing.T) {
	storetest.Each(t, func(t *testing.T, dialect string) {
		f := newFixture(t, dialect, Options{MaxStreamsPerUser: 2, MaxStreams: 3})
		var open []*sseClient
		for range 2 {
			s, code := f.openStream(t, "pd_li", "")
			if code != 200 {
				t.Fatalf("stream refused: %d", code)
			}
			s.next(t, "unread", time.Second)
			open = append(open, s)
		}
		code, body := f.do(t, "GET", "/api/v1/messages/stream", "pd_li", "")
		if code != http.StatusTooManyRequests || body["code"] != "message.too_many_streams" {
			t.Fatalf("third stream of one user = %d %v", code, body)
		}
		s, code := f.openStream(t, "pd_wang", "")
		if code != 200 {
			t.Fatalf("another user's stream = %d", code)
		}
		s.next(t, "unread", time.Second)
		if code, body := f.do(t, "GET", "/api/v1/messages/stream", "pd_zhao", ""); code != http.StatusTooManyRequests ||
			body["details"].(map[string]any)["scope"] != "server" {
			t.Fatalf("stream over the overall cap = %d %v", code, body)
		}
		// Closing one frees its place.
		open[0].close()
		waitFor(t, "a stream to end", func() bool { return f.center.hub.streams() == 2 })
		s, code = f.openStream(t, "pd_li", "")
		if code != 200 {
			t.Fatalf("stream after one closed = %d", code)
		}
		s.next(t, "unread", time.Second)
	})
}

func waitFor(t *testing.T, what string, cond func() bool) {
	t.Helper()
	for deadline := time.Now().Add(3 * time.Second); time.Now().Before(deadline); time.Sleep(20 * time.Millisecond) {
		if cond() {
			return
		}
	}
	t.Fatalf("timed out waiting for %s", what)
}

func TestSendToUsersByUsername(t *testing.T) {
	f := newFixture(t, "sqlite", Options{})
	ctx := context.Background()
	f.center.RegisterTemplates("notice", map[string]map[string]string{"zh-CN": {"published": "公告已发布"}})
	if err := f.center.SendToUsers(ctx, "notice", []string{"pd_li", "pd_wang", "pd_li"}, "published", nil); err != nil {
		t.Fatal(err)
	}
	n, err := f.st.Client.Message.Query().Count(ctx)
	if err != nil || n != 2 {
		t.Fatalf("messages: %d %v (a repeated username gets one)", n, err)
	}
	if err := f.center.SendToUsers(ctx, "notice", []string{"pd_li", "nobody"}, "published", nil); err == nil {
		t.Fatal("an unknown recipient was accepted")
	}
	if err := f.center.SendToUsers(ctx, "notice", nil, "published", nil); err == nil {
		t.Fatal("no recipients was accepted")
	}
}
