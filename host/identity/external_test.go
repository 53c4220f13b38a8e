package identity_test

import (
	"context"
	"net/http"
	"net/http/cookiejar"
	"net/http/httptest"
	"net/url"
	"strings"
	"testing"

	"github.com/shanghai-amr/portal/host/audit"
	"github.com/shanghai-amr/portal/host/devidp"
	"github.com/shanghai-amr/portal/host/i18n"
	"github.com/shanghai-amr/portal/host/identity"
	"github.com/shanghai-amr/portal/host/policy"
	"github.com/shanghai-amr/portal/host/server"
	"github.com/shanghai-amr/portal/host/store/ent/session"
	"github.com/shanghai-amr/portal/host/store/storetest"
)

// A browser's round trip through the development provider: enterprise and
// public sign-in end with a session whose identity carries the verified code.
func TestEnterpriseAndPublicSignInThroughOIDC(t *testing.T) {
	st := storetest.Open(t, "sqlite")
	ctx := context.Background()
	sealer := testSealer(t)
	sessions := identity.NewSessions(st.Client, audit.New(st.Client, nil), identity.Options{Sealer: sealer})
	pol, _ := policy.New(ctx)
	cat, _ := i18n.New()
	srv := server.New(server.Options{Catalog: cat})
	ts := httptest.NewUnstartedServer(srv.Handler())
	base := "http://" + ts.Listener.Addr().String()
	idp, err := devidp.New(base+"/dev-idp",
		devidp.Client{ID: "ent", Secret: "s1", RedirectURI: base + "/api/v1/auth/oidc/yiwangtongban/callback"},
		devidp.Client{ID: "pub", Secret: "s2", RedirectURI: base + "/api/v1/auth/oidc/suishenban/callback"})
	if err != nil {
		t.Fatal(err)
	}
	idp.Mount(srv.Engine(), "/dev-idp")
	identity.NewExternal(sessions,
		identity.ExternalProvider{Name: "yiwangtongban", Audience: identity.Enterprise, Issuer: base + "/dev-idp", ClientID: "ent", ClientSecret: "s1",
			RedirectURL: base + "/api/v1/auth/oidc/yiwangtongban/callback", Development: true},
		identity.ExternalProvider{Name: "suishenban", Audience: identity.Public, Issuer: base + "/dev-idp", ClientID: "pub", ClientSecret: "s2",
			RedirectURL: base + "/api/v1/auth/oidc/suishenban/callback", Development: true},
	).MountAPI(srv)
	sessions.MountAPI(srv, identity.Middleware(identity.Guard{Policy: pol}, sessions))
	ts.Start()
	defer ts.Close()

	signIn := func(provider, persona, returnTo string) (*http.Client, string) {
		jar, _ := cookiejar.New(nil)
		c := &http.Client{Jar: jar}
		// The portal sends the browser to the provider's page.
		resp, err := c.Get(base + "/api/v1/auth/oidc/" + provider + "/login?return=" + url.QueryEscape(returnTo))
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		if resp.StatusCode != 200 || !strings.Contains(resp.Request.URL.Path, "/dev-idp/authorize") {
			t.Fatalf("login went to %s (%d)", resp.Request.URL, resp.StatusCode)
		}
		// The person picks an identity; the provider redirects back; the portal
		// signs them in and sends them to the page they came from.
		form := url.Values{"persona": {persona}}
		for k, v := range resp.Request.URL.Query() {
			form[k] = v
		}
		c.CheckRedirect = func(req *http.Request, via []*http.Request) error {
			if !strings.HasPrefix(req.URL.Path, "/api/") && !strings.HasPrefix(req.URL.Path, "/dev-idp/") || req.URL.Host != ts.Listener.Addr().String() {
				return http.ErrUseLastResponse // the landing page: stop here
			}
			return nil
		}
		resp, err = c.PostForm(base+"/dev-idp/authorize", form)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		return c, resp.Header.Get("Location") + " " + resp.Status
	}

	c, landed := signIn("yiwangtongban", "ent-demo", "/portal/home")
	if !strings.HasPrefix(landed, "/portal/home 302") {
		t.Fatalf("enterprise sign-in ended at %q", landed)
	}
	resp, _ := c.Get(base + "/api/v1/auth/me")
	b := readAll(resp)
	if resp.StatusCode != 200 || !strings.Contains(b, `"audience":"enterprise"`) || !strings.Contains(b, `"uscc":"91310115MA1K4PTX8J"`) {
		t.Fatalf("enterprise me = %d %s", resp.StatusCode, b)
	}

	// The security administrator's session list shows it (it has no account).
	active, err := sessions.Active(ctx)
	if err != nil || len(active) != 1 || active[0].Audience != "enterprise" || active[0].Username != "yiwangtongban:ent-demo" {
		t.Fatalf("active sessions: %+v %v", active, err)
	}

	c, landed = signIn("suishenban", "person-demo", "/portal/home")
	resp, _ = c.Get(base + "/api/v1/auth/me")
	b = readAll(resp)
	if !strings.HasPrefix(landed, "/portal/home 302") || !strings.Contains(b, `"audience":"public"`) || strings.Contains(b, "11010519491231002X") {
		t.Fatalf("public sign-in: %q, me = %s", landed, b)
	}
	s, err := st.Client.Session.Query().Where(session.AudienceEQ(session.AudiencePublic)).Only(ctx)
	if err != nil || !strings.HasPrefix(s.IDNumber, "sm4gcm:") {
		t.Fatalf("identity number not sealed at rest: %v %q", err, s.IDNumber)
	}

	// A replayed or forged state is refused.
	resp, _ = http.Get(base + "/api/v1/auth/oidc/yiwangtongban/callback?state=forged&code=x")
	if b := readAll(resp); resp.StatusCode != http.StatusBadRequest || !strings.Contains(b, "auth.bad_state") {
		t.Fatalf("forged state = %d %s", resp.StatusCode, b)
	}
	// An open redirect through ?return= is not possible.
	for _, evil := range []string{"//evil.example/", "https://evil.example/", `/\evil.example`} {
		if _, landed := signIn("yiwangtongban", "ent-demo", evil); !strings.HasPrefix(landed, "/ 302") {
			t.Fatalf("return=%s landed at %q", evil, landed)
		}
	}
}

func readAll(r *http.Response) string {
	defer r.Body.Close()
	var sb strings.Builder
	buf := make([]byte, 4096)
	for {
		n, err := r.Body.Read(buf)
		sb.Write(buf[:n])
		if err != nil {
			return sb.String()
		}
	}
}
