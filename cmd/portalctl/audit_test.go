package main

import (
	"bytes"
	"context"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/shanghai-amr/portal/host/audit"
	"github.com/shanghai-amr/portal/host/i18n"
	"github.com/shanghai-amr/portal/host/identity"
	"github.com/shanghai-amr/portal/host/org"
	"github.com/shanghai-amr/portal/host/policy"
	"github.com/shanghai-amr/portal/host/server"
	"github.com/shanghai-amr/portal/host/store/storetest"
)

func TestAuditVerifyNamesTheFirstBadRecord(t *testing.T) {
	storetest.Each(t, func(t *testing.T, dialect string) {
		st := storetest.Open(t, dialect)
		ctx := context.Background()
		if err := identity.EnsureBuiltinRoles(ctx, st.Client); err != nil {
			t.Fatal(err)
		}
		if _, err := org.SeedDemo(ctx, st.Client); err != nil {
			t.Fatal(err)
		}
		if _, err := identity.CreateUser(ctx, st.Client, identity.NewUser{Username: "auditadmin", DisplayName: "审计管理员",
			Password: identity.DemoPassword, OrgCode: "310000", Roles: []string{identity.RoleAuditAdmin}}); err != nil {
			t.Fatal(err)
		}
		al := audit.New(st.Client, nil)
		sessions := identity.NewSessions(st.Client, al, identity.Options{})
		pol, err := policy.New(ctx)
		if err != nil {
			t.Fatal(err)
		}
		cat, _ := i18n.New()
		srv := server.New(server.Options{Catalog: cat})
		auth := identity.Middleware(identity.Guard{Policy: pol, Audit: al}, sessions)
		sessions.MountAPI(srv, auth)
		al.MountAPI(srv, auth, identity.Require("audit.read"))
		ts := httptest.NewServer(srv.Handler())
		defer ts.Close()
		for range 4 { // some history: failed and successful logins are audited
			_, _ = sessions.Login(ctx, "auditadmin", "Wrong#Pass2026", "127.0.0.1", "test")
		}
		sess, err := sessions.Login(ctx, "auditadmin", identity.DemoPassword, "127.0.0.1", "test")
		if err != nil {
			t.Fatal(err)
		}
		verify := func() (int, string) {
			var out, errOut bytes.Buffer
			code := run(ctx, []string{"audit", "verify", "--url", ts.URL, "--token", sess.Token}, streams{out: &out, err: &errOut})
			return code, out.String() + errOut.String()
		}
		if code, out := verify(); code != 0 || !strings.Contains(out, "verified: 5 entries") {
			t.Fatalf("intact chain: exit %d, %s", code, out)
		}
		// Search and export see the same entries.
		req, _ := http.NewRequest("GET", ts.URL+"/api/v1/admin/audit?action=auth.login&outcome=failure&format=csv", nil)
		req.Header.Set("Authorization", "Bearer "+sess.Token)
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		csvBody, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		if lines := strings.Count(string(csvBody), "\n"); resp.StatusCode != 200 || lines != 5 { // header + 4 failures
			t.Fatalf("audit export = %d, %d lines:\n%s", resp.StatusCode, lines, csvBody)
		}
		// By organisation: the city bureau's subtree has the successful login; Pudong's has nothing.
		for org, want := range map[string]int{"310000": 1, "310115": 0} {
			req, _ := http.NewRequest("GET", ts.URL+"/api/v1/admin/audit?org="+org, nil)
			req.Header.Set("Authorization", "Bearer "+sess.Token)
			resp, err := http.DefaultClient.Do(req)
			if err != nil {
				t.Fatal(err)
			}
			b, _ := io.ReadAll(resp.Body)
			resp.Body.Close()
			if got := strings.Count(string(b), `"seq":`); resp.StatusCode != 200 || got != want {
				t.Fatalf("org=%s: %d entries (%d), want %d: %s", org, got, resp.StatusCode, want, b)
			}
		}
		if _, err := st.DB.ExecContext(ctx, "UPDATE audit_entries SET actor = 'someone_else' WHERE seq = 3"); err != nil {
			t.Fatal(err)
		}
		if code, out := verify(); code != 1 || !strings.Contains(out, "entry 3 was altered") {
			t.Fatalf("edited entry: exit %d, %s", code, out)
		}
		if _, err := st.DB.ExecContext(ctx, "DELETE FROM audit_entries WHERE seq = 2"); err != nil {
			t.Fatal(err)
		}
		if code, out := verify(); code != 1 || !strings.Contains(out, "entry 2 is missing") {
			t.Fatalf("deleted entry: exit %d, %s", code, out)
		}
	})
}
