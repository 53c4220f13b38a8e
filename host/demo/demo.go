// Package demo plays the demo users' first morning, so that a portal started
// with demonstration data (portal serve --demo) opens on a workbench with
// work in it rather than on empty boxes.
//
// It acts only as the demo users would, through the portal's public HTTP API
// with their passwords, and as the demo enterprise through the development
// identity provider: it starts the general approval, registers penalty
// leads and has one filed and approved into a case, and files the demo
// enterprise's business suspension. Every record it leaves is an ordinary
// one, made by the real processes, clocks and plugins, and audited under the
// user who made it. It knows the plugins only by their published routes
// (docs/enforcement.md, docs/registration.md), and leaves a part out when
// its plugin is not installed, or the development provider is not enabled.
package demo

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/http/cookiejar"
	"net/url"
	"strconv"
	"strings"
	"time"

	"github.com/shanghai-amr/portal/host/clock"
	"github.com/shanghai-amr/portal/host/identity"
)

// Summary says what Activity left, for the console.
type Summary struct {
	// Skipped: the demo users had already started work; nothing was added.
	Skipped bool
	// Approvals are the general approvals pd_li started (pd_wang approves).
	Approvals int
	// Leads are the penalty leads pd_li registered; Filing of them wait for
	// the filing approval (pd_wang first); Cases were approved into cases.
	Leads, Filing, Cases int
	// Suspensions are the business suspensions the demo enterprise filed
	// (pd_reg pre-reviews them).
	Suspensions int
}

// String is the summary in one line.
func (s Summary) String() string {
	if s.Skipped {
		return "the demo users had already started work; nothing added"
	}
	out := fmt.Sprintf("pd_li started %d general approvals and registered %d penalty leads: %d awaiting "+
		"the filing approval, %d filed as a case; pd_wang has approvals to do", s.Approvals, s.Leads, s.Filing, s.Cases)
	if s.Suspensions > 0 {
		out += fmt.Sprintf("; ent-demo filed %d business suspension, which pd_reg pre-reviews", s.Suspensions)
	}
	return out
}

// enforcement is where the enforcement plugin's routes are.
const enforcement = "/api/plugins/enforcement"

// Activity waits until the portal at base answers ready, then acts as the
// demo users. It does nothing when pd_li has already started anything, so
// a restart over the same data adds nothing.
func Activity(ctx context.Context, base string) (Summary, error) {
	c := &client{base: base, http: &http.Client{Timeout: 30 * time.Second}, tokens: map[string]string{}}
	if err := c.waitReady(ctx); err != nil {
		return Summary{}, err
	}
	var started struct{ Total int }
	if err := c.call(ctx, "pd_li", "GET", "/api/v1/workbench/boxes/started?size=1", nil, &started); err != nil {
		return Summary{}, err
	}
	if started.Total > 0 {
		return Summary{Skipped: true}, nil
	}
	var s Summary
	for _, a := range []struct {
		title  string
		amount int
	}{{"采购执法记录仪20台", 8000}, {"租用执法车辆（全年）", 36000}} {
		body := map[string]any{"key": "general_approval", "title": a.title, "form": map[string]any{"amount": a.amount}}
		if err := c.call(ctx, "pd_li", "POST", "/api/v1/workbench/instances", body, nil); err != nil {
			return s, err
		}
		s.Approvals++
	}
	if installed(ctx, func() error { return c.call(ctx, "pd_li", "GET", enforcement+"/leads", nil, nil) }) {
		if err := c.leads(ctx, &s); err != nil {
			return s, err
		}
	}
	err := c.suspension(ctx, &s)
	return s, err
}

// registration is where the registration plugin's routes are.
const registration = "/api/plugins/registration"

// suspension files the demo enterprise's business suspension (歇业备案),
// online, signed in as 上海浦东示例科技有限公司 through the development
// identity provider; its pre-review becomes pd_reg's to-do. Without that
// provider or the registration plugin it does nothing.
func (c *client) suspension(ctx context.Context, s *Summary) error {
	ent, ok, err := c.enterprise(ctx, "ent-demo")
	if err != nil || !ok {
		return err
	}
	if !installed(ctx, func() error { return ent.send(ctx, "GET", registration+"/my/enterprise", nil, nil) }) {
		return nil // the plugin is not installed, or not the enterprise's
	}
	day := func(d int) string { return time.Now().In(clock.Shanghai).AddDate(0, 0, d).Format(time.DateOnly) }
	application := map[string]any{"mode": "online", "reason": "经营场所装修", "start_date": day(7), "end_date": day(187),
		"service_address": "上海市浦东新区张江路100号",
		"agent":           map[string]any{"name": "李娜", "id_number": "310115199202050035", "mobile": "13812345678"},
		"persons":         []map[string]any{{"role": "legal_rep", "name": "张明", "id_number": "310115198503120012"}},
		"departments": map[string]any{
			"tax":             map[string]any{"tax_authority": "国家税务总局上海市浦东新区税务局", "invoices_cleared": "是"},
			"social_security": map[string]any{"ss_account": "31011500012345", "ss_insured": "12"},
		}}
	if err := ent.send(ctx, "POST", registration+"/my/suspensions", application, nil); err != nil {
		return err
	}
	s.Suspensions++
	return nil
}

// browser is a caller with a session cookie and its CSRF token, as a
// browser signed in through an identity provider is.
type browser struct {
	base string
	http *http.Client
	csrf string
}

// enterprise signs in as persona through the development identity
// provider's enterprise side (一网通办); false when that provider is not
// enabled.
func (c *client) enterprise(ctx context.Context, persona string) (*browser, bool, error) {
	jar, _ := cookiejar.New(nil)
	b := &browser{base: c.base, http: &http.Client{Jar: jar, Timeout: 30 * time.Second}}
	req, _ := http.NewRequestWithContext(ctx, "GET", c.base+"/api/v1/auth/oidc/yiwangtongban/login?return=/portal", nil)
	res, err := b.http.Do(req)
	if err != nil {
		return nil, false, fmt.Errorf("demo: enterprise sign-in: %w", err)
	}
	res.Body.Close()
	if res.StatusCode != http.StatusOK || res.Request.URL.Path != "/dev-idp/authorize" {
		return nil, false, nil // no development provider here
	}
	form := url.Values{"persona": {persona}}
	for k, v := range res.Request.URL.Query() {
		form[k] = v
	}
	// Follow the provider's redirects back to the portal's callback, which
	// sets the session cookie, but not on to the page it returns to.
	b.http.CheckRedirect = func(r *http.Request, _ []*http.Request) error {
		if !strings.HasPrefix(r.URL.Path, "/api/") && !strings.HasPrefix(r.URL.Path, "/dev-idp/") {
			return http.ErrUseLastResponse
		}
		return nil
	}
	req, _ = http.NewRequestWithContext(ctx, "POST", c.base+"/dev-idp/authorize", strings.NewReader(form.Encode()))
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	if res, err = b.http.Do(req); err != nil {
		return nil, false, fmt.Errorf("demo: enterprise sign-in: %w", err)
	}
	res.Body.Close()
	var csrf struct {
		Token string `json:"csrf_token"`
	}
	if err := b.send(ctx, "GET", "/api/v1/auth/csrf", nil, &csrf); err != nil {
		return nil, false, err
	}
	b.csrf = csrf.Token
	return b, true, nil
}

// send is client.send with the browser's cookie and CSRF token.
func (b *browser) send(ctx context.Context, method, path string, body, out any) error {
	return do(ctx, b.http, b.base, method, path, body, out, func(r *http.Request) {
		if b.csrf != "" {
			r.Header.Set(identity.HeaderCSRF, b.csrf)
		}
	})
}

// lead is a penalty lead as the demo registers it.
type lead struct {
	party, uscc, summary, cause string
	file, approve               bool
}

var leads = []lead{
	{party: "上海浦东示例科技有限公司", uscc: "91310115MA1K4PTX8J", summary: "群众投诉该公司门店销售超过保质期的预包装食品。",
		cause: "销售超过保质期的食品", file: true, approve: true},
	{party: "上海某某食品贸易有限公司", uscc: "91310115MA1K4ABC18", summary: "市场监管所日常检查发现冷藏柜温度记录缺失。",
		cause: "未按规定记录食品贮存温度", file: true},
	{party: "上海某某商贸有限公司", uscc: "91310101MA1FP0000H", summary: "12315平台转来举报：网店宣称产品“全网最低价”无依据。"},
}

// leads registers the demo's penalty leads as pd_li, files some, and has
// the first approved by the unit head, the legal reviewer and the head of
// the agency, as docs/enforcement.md describes.
func (c *client) leads(ctx context.Context, s *Summary) error {
	for _, l := range leads {
		var got struct{ ID int64 }
		body := map[string]any{"source": "complaint", "party_name": l.party, "party_id": l.uscc,
			"party_address": "上海市浦东新区张江路100号", "summary": l.summary}
		if err := c.call(ctx, "pd_li", "POST", enforcement+"/leads", body, &got); err != nil {
			return err
		}
		s.Leads++
		if !l.file {
			continue
		}
		var filed struct {
			InstanceID string `json:"instance_id"`
		}
		path := enforcement + "/leads/" + strconv.FormatInt(got.ID, 10) + "/file"
		if err := c.call(ctx, "pd_li", "POST", path, map[string]any{"cause": l.cause, "opinion": "经初步核查，建议立案调查。"}, &filed); err != nil {
			return err
		}
		if !l.approve {
			s.Filing++
			continue
		}
		inst, err := strconv.Atoi(filed.InstanceID)
		if err != nil {
			return fmt.Errorf("demo: filing answered instance %q", filed.InstanceID)
		}
		for _, step := range []struct{ user, node, comment string }{
			{"pd_wang", "unit_head", "同意立案。"}, {"pd_legal", "legal", "符合立案条件。"}, {"pd_head", "agency_head", "同意。"}} {
			if err := c.approve(ctx, step.user, inst, step.node, step.comment); err != nil {
				return err
			}
		}
		s.Cases++
	}
	return nil
}

// approve approves the user's task at node of instance inst.
func (c *client) approve(ctx context.Context, user string, inst int, node, comment string) error {
	var todo struct {
		Items []struct {
			ID         int    `json:"id"`
			InstanceID int    `json:"instance_id"`
			Node       string `json:"node"`
		}
	}
	if err := c.call(ctx, user, "GET", "/api/v1/workbench/boxes/todo?size=100", nil, &todo); err != nil {
		return err
	}
	for _, t := range todo.Items {
		if t.InstanceID == inst && t.Node == node {
			return c.call(ctx, user, "POST", "/api/v1/workbench/tasks/"+strconv.Itoa(t.ID)+"/actions",
				map[string]any{"action": "approve", "comment": comment}, nil)
		}
	}
	return fmt.Errorf("demo: %s has no task at %s of instance %d", user, node, inst)
}

// client calls the portal as the demo users.
type client struct {
	base   string
	http   *http.Client
	tokens map[string]string
}

// waitReady waits up to two minutes for /readyz to answer 200.
func (c *client) waitReady(ctx context.Context) error {
	ready := poll(ctx, 600, func() bool {
		req, _ := http.NewRequestWithContext(ctx, "GET", c.base+"/readyz", nil)
		res, err := c.http.Do(req)
		if err != nil {
			return false
		}
		res.Body.Close()
		return res.StatusCode == http.StatusOK
	})
	if !ready {
		return fmt.Errorf("demo: the portal at %s did not become ready", c.base)
	}
	return nil
}

// installed says whether get succeeds: a plugin's route that answers. It
// waits up to a minute while the route answers 503 (the plugin is
// starting); any other failure (404: not installed) is false.
func installed(ctx context.Context, get func() error) bool {
	ok := false
	poll(ctx, 300, func() bool {
		err := get()
		var se *statusError
		if errors.As(err, &se) && se.code == http.StatusServiceUnavailable {
			return false // starting: ask again
		}
		ok = err == nil
		return true
	})
	return ok
}

// poll calls done every 200 ms until it answers true, at most n times and
// while ctx lasts; false when it never did.
func poll(ctx context.Context, n int, done func() bool) bool {
	for range n {
		if done() {
			return true
		}
		select {
		case <-ctx.Done():
			return false
		case <-time.After(200 * time.Millisecond):
		}
	}
	return false
}

// statusError is an answer other than 2xx.
type statusError struct {
	what string
	code int
	body string
}

func (e *statusError) Error() string { return fmt.Sprintf("demo: %s: %d %s", e.what, e.code, e.body) }

// call sends body (JSON) as user and decodes a 2xx answer into out.
func (c *client) call(ctx context.Context, user, method, path string, body, out any) error {
	tok, err := c.token(ctx, user)
	if err != nil {
		return err
	}
	return c.send(ctx, tok, method, path, body, out)
}

func (c *client) token(ctx context.Context, user string) (string, error) {
	if t, ok := c.tokens[user]; ok {
		return t, nil
	}
	var s struct{ Token string }
	if err := c.send(ctx, "", "POST", "/api/v1/auth/login", map[string]string{"username": user, "password": identity.DemoPassword}, &s); err != nil {
		return "", err
	}
	c.tokens[user] = s.Token
	return s.Token, nil
}

func (c *client) send(ctx context.Context, tok, method, path string, body, out any) error {
	return do(ctx, c.http, c.base, method, path, body, out, func(r *http.Request) {
		if tok != "" {
			r.Header.Set("Authorization", "Bearer "+tok)
		}
	})
}

// do sends body (JSON) to base+path, set up by auth, and decodes a 2xx
// answer into out; any other answer is a *statusError.
func do(ctx context.Context, hc *http.Client, base, method, path string, body, out any, auth func(*http.Request)) error {
	var r io.Reader
	if body != nil {
		b, err := json.Marshal(body)
		if err != nil {
			return err
		}
		r = bytes.NewReader(b)
	}
	req, err := http.NewRequestWithContext(ctx, method, base+path, r)
	if err != nil {
		return err
	}
	req.Header.Set("Content-Type", "application/json")
	auth(req)
	res, err := hc.Do(req)
	if err != nil {
		return fmt.Errorf("demo: %s %s: %w", method, path, err)
	}
	defer res.Body.Close()
	b, _ := io.ReadAll(io.LimitReader(res.Body, 1<<20))
	if res.StatusCode >= 300 {
		return &statusError{what: method + " " + path, code: res.StatusCode, body: string(b)}
	}
	if out != nil {
		if err := json.Unmarshal(b, out); err != nil {
			return fmt.Errorf("demo: %s %s: %w", method, path, err)
		}
	}
	return nil
}
