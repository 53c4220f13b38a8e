package app_test

import (
	"net/http"
	"strings"
	"testing"

	"github.com/shanghai-amr/portal/host/identity"
	"github.com/shanghai-amr/portal/host/store/storetest"
)

// Account administration follows 三员分立: the system administrator creates
// accounts, the security administrator grants roles and unlocks them.
func TestAccountAdministrationIsSeparated(t *testing.T) {
	storetest.Each(t, func(t *testing.T, dialect string) {
		p := newPortal(t, dialect)
		newUser := map[string]any{"username": "pd_zhou", "display_name": "周洁", "password": "Zhou#Portal2026", "org_code": "310115-D03", "posts": []string{"enforcement"}}
		if code, b := p.as("secadmin", "POST", "/api/v1/admin/users", newUser, nil); code != http.StatusForbidden {
			t.Fatalf("security administrator creating an account: %d %s", code, b)
		}
		p.ok("admin", "POST", "/api/v1/admin/users", newUser, nil)
		if code, b := p.as("admin", "POST", "/api/v1/admin/users", newUser, nil); code != http.StatusConflict || !strings.Contains(b, "identity.user_exists") {
			t.Fatalf("duplicate: %d %s", code, b)
		}
		weak := map[string]any{"username": "pd_weak", "display_name": "弱", "password": "short", "org_code": "310115"}
		if code, b := p.as("admin", "POST", "/api/v1/admin/users", weak, nil); code != http.StatusBadRequest || !strings.Contains(b, "auth.weak_password") {
			t.Fatalf("weak password: %d %s", code, b)
		}
		if code, _ := p.as("admin", "PUT", "/api/v1/admin/users/pd_zhou/roles", map[string]any{"roles": []string{"handler"}}, nil); code != http.StatusForbidden {
			t.Fatalf("system administrator granting roles: %d", code)
		}
		p.ok("secadmin", "PUT", "/api/v1/admin/users/pd_zhou/roles", map[string]any{"roles": []string{"handler"}}, nil)
		if code, b := p.as("secadmin", "PUT", "/api/v1/admin/users/pd_zhou/roles", map[string]any{"roles": []string{"sysadmin", "auditadmin"}}, nil); code != http.StatusBadRequest || !strings.Contains(b, "identity.separation") {
			t.Fatalf("two administrator roles: %d %s", code, b)
		}
		var list struct {
			Items []identity.UserInfo
			Total int
		}
		p.ok("admin", "GET", "/api/v1/admin/users?q=pd_zhou", nil, &list)
		if list.Total != 1 || list.Items[0].OrgCode != "310115-D03" || len(list.Items[0].Roles) != 1 {
			t.Fatalf("list: %+v", list)
		}
		// The new user signs in; disabling the account ends the session.
		code, b := p.do("", "POST", "/api/v1/auth/login", map[string]string{"username": "pd_zhou", "password": "Zhou#Portal2026"}, nil)
		if code != http.StatusOK {
			t.Fatalf("login: %d %s", code, b)
		}
		p.tokens["pd_zhou"] = strings.Split(strings.Split(b, `"token":"`)[1], `"`)[0]
		p.ok("pd_zhou", "GET", "/api/v1/workbench/counts", nil, nil)
		p.ok("admin", "PUT", "/api/v1/admin/users/pd_zhou/status", map[string]any{"status": "disabled"}, nil)
		if code, _ := p.as("pd_zhou", "GET", "/api/v1/workbench/counts", nil, nil); code != http.StatusUnauthorized {
			t.Fatalf("a disabled account's session still works: %d", code)
		}
		p.ok("secadmin", "POST", "/api/v1/admin/users/pd_zhou/unlock", nil, nil)
		var orgs struct {
			Orgs []struct{ Code, Parent string }
		}
		p.ok("admin", "GET", "/api/v1/admin/orgs", nil, &orgs)
		if len(orgs.Orgs) < 17 || orgs.Orgs[0].Code != "310000" {
			t.Fatalf("orgs: %d, first %+v", len(orgs.Orgs), orgs.Orgs[0])
		}
	})
}

func TestDictionaries(t *testing.T) {
	p := newPortal(t, "sqlite")
	var d struct {
		Key   string
		Items []struct {
			Value string
			Label map[string]string
		}
	}
	p.ok("pd_li", "GET", "/api/v1/dicts/district", nil, &d)
	if len(d.Items) != 16 || d.Items[10].Label["zh-CN"] != "浦东新区" {
		t.Fatalf("district: %+v", d)
	}
	if code, _ := p.as("pd_li", "PUT", "/api/v1/admin/dicts/case_source", map[string]any{}, nil); code != http.StatusForbidden {
		t.Fatalf("a handler editing a dictionary: %d", code)
	}
	bad := map[string]any{"key": "case_source", "title": map[string]string{"zh-CN": "来源"},
		"items": []map[string]any{{"value": "a", "label": map[string]string{"zh-CN": "甲"}}, {"value": "a", "label": map[string]string{"zh-CN": "乙"}}}}
	if code, b := p.as("admin", "PUT", "/api/v1/admin/dicts/case_source", bad, nil); code != http.StatusBadRequest || !strings.Contains(b, "repeated") {
		t.Fatalf("repeated value: %d %s", code, b)
	}
	good := map[string]any{"key": "case_source", "title": map[string]string{"zh-CN": "来源"},
		"items": []map[string]any{{"value": "a", "label": map[string]string{"zh-CN": "甲", "en": "A"}}}}
	p.ok("admin", "PUT", "/api/v1/admin/dicts/case_source", good, nil)
	p.ok("pd_li", "GET", "/api/v1/dicts/case_source", nil, &d)
	if len(d.Items) != 1 {
		t.Fatalf("after the edit: %+v", d)
	}
	if code, _ := p.as("pd_li", "GET", "/api/v1/dicts/nothing", nil, nil); code != http.StatusNotFound {
		t.Fatalf("unknown dictionary: %d", code)
	}
	p.lastAudit("dict.put", "admin")
}
