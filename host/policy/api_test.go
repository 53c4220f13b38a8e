package policy

import (
	"context"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/shanghai-amr/portal/host/i18n"
	"github.com/shanghai-amr/portal/host/server"
)

func TestPublishTestAndRefuse(t *testing.T) {
	e, _ := New(context.Background())
	cat, _ := i18n.New()
	srv := server.New(server.Options{Catalog: cat})
	published := map[string]string{}
	e.MountAPI(srv, nil, nil, func(_ context.Context, name, src string) error { published[name] = src; return nil })
	do := func(method, path, body string) (int, string) {
		rec := httptest.NewRecorder()
		srv.Handler().ServeHTTP(rec, httptest.NewRequest(method, path, strings.NewReader(body)))
		return rec.Code, rec.Body.String()
	}
	if code, body := do("GET", "/api/v1/admin/policies", ""); code != 200 || !strings.Contains(body, "host/base.rego") {
		t.Fatalf("view = %d %s", code, body)
	}
	test := `{"input":{"subject":{"audience":"staff","permissions":["notice.read"],"jurisdiction":"district","org_path":"/310000/310115/310115-D03"},"action":"notice.read","resource":{"org_path":"/310000/310101"}}}`
	if code, body := do("POST", "/api/v1/admin/policies/test", test); code != 200 || !strings.Contains(body, `"allow":false`) || !strings.Contains(body, "jurisdiction") {
		t.Fatalf("test = %d %s", code, body)
	}
	v := e.Version()
	code, body := do("PUT", "/api/v1/admin/policies/host/extra.rego", "package portal.authz\n\nallow if {")
	if code != http.StatusBadRequest || !strings.Contains(body, "policy.invalid") || !strings.Contains(body, "extra.rego") {
		t.Fatalf("bad module = %d %s", code, body)
	}
	if e.Version() != v || len(published) != 0 {
		t.Fatal("a refused module changed the policy or was stored")
	}
	// A published rule takes effect at once: here, district users may read across districts.
	code, body = do("PUT", "/api/v1/admin/policies/host/extra.rego", "package portal.authz\n\nin_scope if input.action == \"notice.read\"")
	if code != 200 || e.Version() != v+1 || published["extra.rego"] == "" {
		t.Fatalf("good module = %d %s", code, body)
	}
	if code, body := do("POST", "/api/v1/admin/policies/test", test); code != 200 || !strings.Contains(body, `"allow":true`) {
		t.Fatalf("after publishing: %d %s", code, body)
	}
}
