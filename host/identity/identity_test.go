package identity_test

import (
	"context"
	"encoding/json"
	"errors"
	"io"
	"net/http"
	"net/http/httptest"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/shanghai-amr/portal/host/audit"
	"github.com/shanghai-amr/portal/host/i18n"
	"github.com/shanghai-amr/portal/host/identity"
	"github.com/shanghai-amr/portal/host/org"
	"github.com/shanghai-amr/portal/host/pii"
	"github.com/shanghai-amr/portal/host/policy"
	"github.com/shanghai-amr/portal/host/server"
	"github.com/shanghai-amr/portal/host/store"
	"github.com/shanghai-amr/portal/host/store/ent/auditentry"
	"github.com/shanghai-amr/portal/host/store/ent/user"
	"github.com/shanghai-amr/portal/host/store/storetest"
)

type fixture struct {
	st  *store.Store
	ts  *httptest.Server
	now *time.Time
	s   *identity.Sessions
}

func newFixture(t *testing.T, dialect string, o identity.Options) *fixture {
	t.Helper()
	st := storetest.Open(t, dialect)
	ctx := context.Background()
	if _, err := org.SeedDemo(ctx, st.Client); err != nil {
		t.Fatal(err)
	}
	if err := identity.EnsureBuiltinRoles(ctx, st.Client); err != nil {
		t.Fatal(err)
	}
	sealer := testSealer(t)
	if _, err := identity.SeedDemoUsers(ctx, st.Client, sealer); err != nil {
		t.Fatal(err)
	}
	o.Sealer = sealer
	if _, err := identity.EnsureBootstrapAdmin(ctx, st.Client, "Root#Portal2026"); err != nil {
		t.Fatal(err)
	}
	if _, err := identity.CreateUser(ctx, st.Client, identity.NewUser{Username: "xss", DisplayName: `<script>alert(1)</script>`,
		Password: identity.DemoPassword, OrgCode: "310101", Roles: []string{"handler"}}); err != nil {
		t.Fatal(err)
	}
	now := time.Now()
	o.Now = func() time.Time { return now }
	al := audit.New(st.Client, nil)
	s := identity.NewSessions(st.Client, al, o)
	cat, _ := i18n.New()
	srv := server.New(server.Options{Catalog: cat, Logger: nil})
	pol, err := policy.New(ctx)
	if err != nil {
		t.Fatal(err)
	}
	auth := identity.Middleware(identity.Guard{Policy: pol, Audit: al}, s)
	s.MountAPI(srv, auth)
	s.MountAdminAPI(srv, auth)
	ts := httptest.NewServer(srv.Handler())
	t.Cleanup(ts.Close)
	return &fixture{st: st, ts: ts, now: &now, s: s}
}

type resp struct {
	code    int
	body    string
	cookies []*http.Cookie
	elapsed time.Duration
}

func (f *fixture) do(t *testing.T, method, path, body string, hdr map[string]string, cookies ...*http.Cookie) resp {
	t.Helper()
	req, _ := http.NewRequest(method, f.ts.URL+path, strings.NewReader(body))
	for k, v := range hdr {
		req.Header.Set(k, v)
	}
	for _, c := range cookies {
		req.AddCookie(c)
	}
	start := time.Now()
	r, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer r.Body.Close()
	b, _ := io.ReadAll(r.Body)
	return resp{r.StatusCode, string(b), r.Cookies(), time.Since(start)}
}

func (f *fixture) login(t *testing.T, username, password string) (resp, identity.Session) {
	t.Helper()
	r := f.do(t, "POST", "/api/v1/auth/login", `{"username":"`+username+`","password":"`+password+`"}`, nil)
	var s identity.Session
	_ = json.Unmarshal([]byte(r.body), &s)
	return r, s
}

func TestLockoutEngagesOnTheSixthWrongPassword(t *testing.T) {
	storetest.Each(t, func(t *testing.T, dialect string) {
		f := newFixture(t, dialect, identity.Options{})
		for i := 1; i <= 5; i++ {
			if r, _ := f.login(t, "pd_li", "Wrong@Pass123"); r.code != http.StatusUnauthorized || !strings.Contains(r.body, "auth.invalid_login") {
				t.Fatalf("attempt %d: %d %s", i, r.code, r.body)
			}
		}
		if r, _ := f.login(t, "pd_li", "Wrong@Pass123"); r.code != http.StatusLocked || !strings.Contains(r.body, "auth.locked") {
			t.Fatalf("attempt 6: %d %s", r.code, r.body)
		}
		if r, _ := f.login(t, "pd_li", identity.DemoPassword); r.code != http.StatusLocked {
			t.Fatalf("right password while locked: %d", r.code)
		}
		// Unknown usernames lock the same way, so the answer reveals nothing.
		for i := 1; i <= 5; i++ {
			f.login(t, "nobody", "Wrong@Pass123")
		}
		if r, _ := f.login(t, "nobody", "Wrong@Pass123"); r.code != http.StatusLocked {
			t.Fatalf("unknown user, attempt 6: %d", r.code)
		}
		// After the lock period the right password works again.
		*f.now = f.now.Add(16 * time.Minute)
		if r, _ := f.login(t, "pd_li", identity.DemoPassword); r.code != http.StatusOK {
			t.Fatalf("after the lock: %d %s", r.code, r.body)
		}
	})
}

func TestLoginTimeDoesNotRevealWhetherAUserExists(t *testing.T) {
	f := newFixture(t, "sqlite", identity.Options{MaxFailures: 1000})
	// Adjacent pairs see the same machine load (other test packages run in
	// parallel); the median of the pair ratios is what an attacker could use.
	const n = 25
	var ratios []float64
	var known, unknown time.Duration
	for range n {
		k := f.do(t, "POST", "/api/v1/auth/login", `{"username":"pd_li","password":"Wrong@Pass123"}`, nil).elapsed
		u := f.do(t, "POST", "/api/v1/auth/login", `{"username":"no_such_user","password":"Wrong@Pass123"}`, nil).elapsed
		ratios = append(ratios, float64(k)/float64(u))
		known += k
		unknown += u
	}
	slices.Sort(ratios)
	ratio := ratios[n/2]
	t.Logf("login time: known user %v, unknown user %v on average; median pair ratio %.2f", known/n, unknown/n, ratio)
	if ratio < 0.67 || ratio > 1.5 {
		t.Fatalf("median ratio %.2f: the difference reveals which usernames exist", ratio)
	}
}

func TestCookieSessionsNeedCSRFTokenOnUnsafeMethods(t *testing.T) {
	f := newFixture(t, "sqlite", identity.Options{})
	r, s := f.login(t, "pd_li", identity.DemoPassword)
	if r.code != 200 || len(r.cookies) == 0 || !r.cookies[0].HttpOnly || r.cookies[0].SameSite != http.SameSiteLaxMode {
		t.Fatalf("login = %d, cookies %v", r.code, r.cookies)
	}
	cookie := r.cookies[0]
	if got := f.do(t, "GET", "/api/v1/auth/me", "", nil, cookie); got.code != 200 || !strings.Contains(got.body, `"org_path":"/310000/310115/310115-D03"`) ||
		!strings.Contains(got.body, `"mobile":"138****0004"`) || !strings.Contains(got.body, `"posts":["enforcement"]`) {
		t.Fatalf("me = %d %s", got.code, got.body)
	}
	if got := f.do(t, "POST", "/api/v1/auth/logout", "", nil, cookie); got.code != http.StatusForbidden || !strings.Contains(got.body, "auth.csrf") {
		t.Fatalf("logout without CSRF token = %d %s", got.code, got.body)
	}
	if got := f.do(t, "POST", "/api/v1/auth/logout", "", map[string]string{identity.HeaderCSRF: "wrong"}, cookie); got.code != http.StatusForbidden {
		t.Fatalf("logout with a wrong CSRF token = %d", got.code)
	}
	if got := f.do(t, "POST", "/api/v1/auth/logout", "", map[string]string{identity.HeaderCSRF: s.CSRFToken}, cookie); got.code != http.StatusNoContent {
		t.Fatalf("logout with the token = %d %s", got.code, got.body)
	}
	if got := f.do(t, "GET", "/api/v1/auth/me", "", nil, cookie); got.code != http.StatusUnauthorized {
		t.Fatalf("after logout = %d", got.code)
	}
	// Bearer tokens are not sent by browsers on their own: no CSRF token needed.
	_, s2 := f.login(t, "pd_li", identity.DemoPassword)
	if got := f.do(t, "POST", "/api/v1/auth/logout", "", map[string]string{"Authorization": "Bearer " + s2.Token}); got.code != http.StatusNoContent {
		t.Fatalf("bearer logout = %d %s", got.code, got.body)
	}
}

func TestMobileNumbersAreSealedAtRest(t *testing.T) {
	f := newFixture(t, "sqlite", identity.Options{})
	u, err := f.st.Client.User.Query().Where(user.Username("pd_li")).Only(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	if !strings.HasPrefix(u.Mobile, "sm4gcm:") || strings.Contains(u.Mobile, "13817750004") {
		t.Fatalf("stored mobile = %q", u.Mobile)
	}
}

func TestSessionFixationIsImpossible(t *testing.T) {
	f := newFixture(t, "sqlite", identity.Options{})
	planted := &http.Cookie{Name: identity.SessionCookie, Value: "pst_attacker_chosen_value"}
	r := f.do(t, "POST", "/api/v1/auth/login", `{"username":"pd_li","password":"`+identity.DemoPassword+`"}`, nil, planted)
	if r.code != 200 || len(r.cookies) == 0 || r.cookies[0].Value == planted.Value {
		t.Fatalf("login kept the planted session id: %d %v", r.code, r.cookies)
	}
	if got := f.do(t, "GET", "/api/v1/auth/me", "", nil, planted); got.code != http.StatusUnauthorized {
		t.Fatalf("planted id = %d, want 401", got.code)
	}
}

func TestIdleAndAbsoluteTimeouts(t *testing.T) {
	f := newFixture(t, "sqlite", identity.Options{IdleTimeout: 30 * time.Minute, AbsoluteTimeout: 2 * time.Hour})
	_, s := f.login(t, "pd_li", identity.DemoPassword)
	bearer := map[string]string{"Authorization": "Bearer " + s.Token}
	for range 5 { // active every 25 minutes: stays signed in until the absolute limit
		*f.now = f.now.Add(25 * time.Minute)
		got := f.do(t, "GET", "/api/v1/auth/me", "", bearer)
		if f.now.Sub(s.ExpiresAt) < 0 && got.code != 200 {
			t.Fatalf("active session refused at %v: %d", f.now, got.code)
		}
		if f.now.After(s.ExpiresAt) && got.code != http.StatusUnauthorized {
			t.Fatalf("session past its absolute limit accepted")
		}
	}
	_, s = f.login(t, "pd_li", identity.DemoPassword)
	*f.now = f.now.Add(31 * time.Minute)
	if got := f.do(t, "GET", "/api/v1/auth/me", "", map[string]string{"Authorization": "Bearer " + s.Token}); got.code != http.StatusUnauthorized {
		t.Fatalf("idle session = %d", got.code)
	}
}

func TestHostileInputIsInert(t *testing.T) {
	f := newFixture(t, "sqlite", identity.Options{MaxFailures: 1000})
	for _, u := range []string{`admin' OR '1'='1`, `admin"; DROP TABLE users; --`, `' UNION SELECT password_hash FROM users --`} {
		body, _ := json.Marshal(map[string]string{"username": u, "password": "x' OR '1'='1"})
		if r := f.do(t, "POST", "/api/v1/auth/login", string(body), nil); r.code != http.StatusUnauthorized {
			t.Fatalf("login as %q = %d %s", u, r.code, r.body)
		}
	}
	if r, _ := f.login(t, "admin", "Root#Portal2026"); r.code != 200 {
		t.Fatalf("users table damaged? admin login = %d", r.code)
	}
	_, s := f.login(t, "xss", identity.DemoPassword)
	r := f.do(t, "GET", "/api/v1/auth/me", "", map[string]string{"Authorization": "Bearer " + s.Token})
	if strings.Contains(r.body, "<script>") || !strings.Contains(r.body, `\u003cscript\u003e`) {
		t.Fatalf("display name not escaped in JSON: %s", r.body)
	}
	if r := f.do(t, "POST", "/api/v1/auth/login", `{"username":"a","password":"b","extra":1}`, nil); r.code != http.StatusBadRequest {
		t.Fatalf("unknown field = %d", r.code)
	}
}

func TestAdministratorRolesAreSeparated(t *testing.T) {
	f := newFixture(t, "sqlite", identity.Options{})
	st := storetest.Open(t, "sqlite")
	ctx := context.Background()
	_ = identity.EnsureBuiltinRoles(ctx, st.Client)
	_, err := identity.CreateUser(ctx, st.Client, identity.NewUser{Username: "superuser", DisplayName: "x", Password: identity.DemoPassword,
		Roles: []string{identity.RoleSystemAdmin, identity.RoleAuditAdmin}})
	if !errors.Is(err, identity.ErrSeparation) {
		t.Fatalf("two administrator roles on one account: %v", err)
	}
	if n, _ := st.Client.User.Query().Where(user.Username("superuser")).Count(ctx); n != 0 {
		t.Fatal("the refused account was created")
	}
	// The system administrator cannot see sessions; the security administrator can end them.
	_, admin := f.login(t, "admin", "Root#Portal2026")
	if r := f.do(t, "GET", "/api/v1/admin/sessions", "", map[string]string{"Authorization": "Bearer " + admin.Token}); r.code != http.StatusForbidden {
		t.Fatalf("sysadmin lists sessions: %d", r.code)
	}
	if n, _ := f.st.Client.AuditEntry.Query().Where(auditentry.Action("auth.denied"), auditentry.Actor("admin")).Count(ctx); n != 1 {
		t.Fatalf("the refusal was not audited (%d entries)", n)
	}
	_, sec := f.login(t, "secadmin", identity.DemoPassword)
	r := f.do(t, "GET", "/api/v1/admin/sessions", "", map[string]string{"Authorization": "Bearer " + sec.Token})
	if r.code != 200 || !strings.Contains(r.body, `"username":"admin"`) || strings.Contains(r.body, admin.Token) {
		t.Fatalf("secadmin sessions = %d %s", r.code, r.body)
	}
	if r := f.do(t, "DELETE", "/api/v1/admin/sessions/"+itoa(admin.ID), "", map[string]string{"Authorization": "Bearer " + sec.Token}); r.code != http.StatusNoContent {
		t.Fatalf("end session = %d %s", r.code, r.body)
	}
	if r := f.do(t, "GET", "/api/v1/auth/me", "", map[string]string{"Authorization": "Bearer " + admin.Token}); r.code != http.StatusUnauthorized {
		t.Fatalf("ended session still works: %d", r.code)
	}
}

func itoa(i int) string { b, _ := json.Marshal(i); return string(b) }

func TestCanAnswersWhichButtonsToShow(t *testing.T) {
	f := newFixture(t, "sqlite", identity.Options{})
	_, s := f.login(t, "pd_li", identity.DemoPassword)
	r := f.do(t, "POST", "/api/v1/auth/can", `{"actions":["notice.write","plugins.manage","enforcement.case.decide"]}`,
		map[string]string{"Authorization": "Bearer " + s.Token})
	if r.code != 200 || !strings.Contains(r.body, `"notice.write":true`) || !strings.Contains(r.body, `"plugins.manage":false`) ||
		!strings.Contains(r.body, `"enforcement.case.decide":false`) {
		t.Fatalf("can = %d %s", r.code, r.body)
	}
}

func TestPasswordPolicy(t *testing.T) {
	for _, tt := range []struct {
		pw string
		ok bool
	}{
		{"Demo@2026!", true}, {"short1!A", false}, {"alllowercaseletters", false}, {"Lowercase1234", true},
		{"pd_li@Portal1", false}, {"长城长城长城长城长城A1", true},
	} {
		if err := identity.CheckPolicy("pd_li", tt.pw); (err == nil) != tt.ok {
			t.Errorf("%q: err = %v", tt.pw, err)
		}
	}
	h, _ := identity.HashPassword("Demo@2026!")
	if !identity.CheckPassword(h, "Demo@2026!") || identity.CheckPassword(h, "Demo@2026?") || identity.CheckPassword("garbage", "x") {
		t.Fatal("argon2id round trip")
	}
}

func testSealer(t testing.TB) *pii.Sealer {
	s, err := pii.ParseKeys(pii.NewKeySpec("test"))
	if err != nil {
		t.Fatal(err)
	}
	return s
}

func TestParallelGuessesCannotExceedTheLimit(t *testing.T) {
	f := newFixture(t, "sqlite", identity.Options{})
	const n = 20
	codes := make(chan int, n)
	for range n {
		go func() {
			r, _ := f.login(t, "pd_li", "Wrong@Pass123")
			codes <- r.code
		}()
	}
	checked := 0
	for range n {
		if <-codes == http.StatusUnauthorized {
			checked++ // an attempt that was allowed to test a password
		}
	}
	if checked > 5 {
		t.Fatalf("%d of %d parallel guesses were checked; the limit is 5", checked, n)
	}
	if r, _ := f.login(t, "pd_li", identity.DemoPassword); r.code != http.StatusLocked {
		t.Fatalf("after the burst: %d, want 423", r.code)
	}
}

func TestResealFinishesAKeyRotation(t *testing.T) {
	st := storetest.Open(t, "sqlite")
	ctx := context.Background()
	_, _ = org.SeedDemo(ctx, st.Client)
	_ = identity.EnsureBuiltinRoles(ctx, st.Client)
	k1 := pii.NewKeySpec("k1")
	old, _ := pii.ParseKeys(k1)
	demo, err := identity.SeedDemoUsers(ctx, st.Client, old)
	if err != nil {
		t.Fatal(err)
	}
	rotated, _ := pii.ParseKeys(pii.NewKeySpec("k2") + "," + k1)
	n, err := identity.ResealPersonalData(ctx, st.Client, rotated)
	if err != nil || n != len(demo) { // every demo user has a mobile number
		t.Fatalf("resealed %d, %v", n, err)
	}
	users, _ := st.Client.User.Query().All(ctx)
	for _, u := range users {
		if u.Mobile != "" && !strings.HasPrefix(u.Mobile, "sm4gcm:k2:") {
			t.Fatalf("%s still sealed with the old key: %s", u.Username, u.Mobile[:12])
		}
	}
}
