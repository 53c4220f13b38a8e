package identity_test

import (
	"context"
	"encoding/json"
	"net/http"
	"os"
	"strings"
	"testing"

	"github.com/shanghai-amr/portal/host/identity"
	"github.com/shanghai-amr/portal/host/store/ent/auditentry"
	"github.com/shanghai-amr/portal/host/store/ent/organization"
	"github.com/shanghai-amr/portal/host/store/ent/role"
	"github.com/shanghai-amr/portal/host/store/storetest"
)

// caller sends requests with one session token (and a language).
type caller func(method, path, body string) resp

func (f *fixture) as(t *testing.T, username, password, lang string) caller {
	t.Helper()
	r, s := f.login(t, username, password)
	if r.code != http.StatusOK {
		t.Fatalf("login %s: %d %s", username, r.code, r.body)
	}
	return func(method, path, body string) resp {
		return f.do(t, method, path, body, map[string]string{"Authorization": "Bearer " + s.Token, "Accept-Language": lang})
	}
}

// wantError checks a refusal: status, code and a message in the language.
func wantError(t *testing.T, what string, r resp, status int, code, message string) {
	t.Helper()
	var e struct{ Code, Message string }
	_ = json.Unmarshal([]byte(r.body), &e)
	if r.code != status || e.Code != code || !strings.Contains(e.Message, message) {
		t.Fatalf("%s = %d %s; want %d %s with %q", what, r.code, r.body, status, code, message)
	}
}

func (f *fixture) audited(t *testing.T, action, resource string) {
	t.Helper()
	n, err := f.st.Client.AuditEntry.Query().Where(auditentry.Action(action), auditentry.Resource(resource)).Count(context.Background())
	if err != nil || n != 1 {
		t.Fatalf("audit %s %s: %d entries, %v", action, resource, n, err)
	}
}

func TestSystemAdministratorEditsTheOrganisationTree(t *testing.T) {
	storetest.Each(t, func(t *testing.T, dialect string) {
		f := newFixture(t, dialect, identity.Options{})
		ctx := context.Background()
		admin := f.as(t, "admin", "Root#Portal2026", "zh-CN")
		adminEn := f.as(t, "admin", "Root#Portal2026", "en")

		r := admin("POST", "/api/v1/admin/orgs", `{"parent":"310115","code":"310115-S04","kind":"station","name":"北蔡市场监督管理所","name_en":"Beicai Station"}`)
		if r.code != http.StatusCreated || !strings.Contains(r.body, `"path":"/310000/310115/310115-S04"`) {
			t.Fatalf("create station = %d %s", r.code, r.body)
		}
		o, err := f.st.Client.Organization.Query().Where(organization.Code("310115-S04")).WithParent().Only(ctx)
		if err != nil || o.Path != "/310000/310115/310115-S04" || o.Edges.Parent.Code != "310115" || o.DivisionCode != "310115" || o.Kind != organization.KindStation {
			t.Fatalf("stored station = %+v, %v", o, err)
		}
		f.audited(t, "org.create", "org:310115-S04")
		r = admin("POST", "/api/v1/admin/orgs", `{"parent":"310115-S04","code":"310115-S04-D01","kind":"department","name":"综合科"}`)
		if r.code != http.StatusCreated || !strings.Contains(r.body, `"path":"/310000/310115/310115-S04/310115-S04-D01"`) {
			t.Fatalf("create section under the station = %d %s", r.code, r.body)
		}
		r = admin("POST", "/api/v1/admin/orgs", `{"parent":"310000","code":"310199","kind":"district","name":"测试区市场监督管理局"}`)
		if r.code != http.StatusCreated || !strings.Contains(r.body, `"division_code":"310199"`) {
			t.Fatalf("create district = %d %s", r.code, r.body)
		}

		// The list says what may be added where, with the next free code.
		r = admin("GET", "/api/v1/admin/orgs", "")
		var list struct{ Orgs []identity.OrgInfo }
		_ = json.Unmarshal([]byte(r.body), &list)
		var pudong *identity.OrgInfo
		for i := range list.Orgs {
			if list.Orgs[i].Code == "310115" {
				pudong = &list.Orgs[i]
			}
		}
		if pudong == nil || len(pudong.MayAdd) != 2 || pudong.MayAdd[0] != (identity.ChildKind{Kind: "station", SuggestedCode: "310115-S05"}) ||
			pudong.MayAdd[1] != (identity.ChildKind{Kind: "department", SuggestedCode: "310115-D04"}) {
			t.Fatalf("Pudong in the list = %+v", pudong)
		}

		refusals := []struct {
			what, body   string
			status       int
			code, zh, en string
		}{
			{"a station code outside its parent", `{"parent":"310115","code":"310101-S09","kind":"station","name":"x"}`, 400, "identity.org_bad_code", "310115-S01", "310115-S01"},
			{"a malformed code", `{"parent":"310115","code":"310115-X01","kind":"station","name":"x"}`, 400, "identity.org_bad_code", "应形如", "should look like"},
			{"a district code of five digits", `{"parent":"310000","code":"31019","kind":"district","name":"x"}`, 400, "identity.org_bad_code", "310101", "310101"},
			{"a duplicate", `{"parent":"310115","code":"310115-S02","kind":"station","name":"x"}`, 409, "identity.org_exists", "已被使用", "taken"},
			{"an unknown parent", `{"parent":"319999","code":"319999-S01","kind":"station","name":"x"}`, 400, "identity.org_no_parent", "上级单位不存在", "parent unit does not exist"},
			{"a district under a district", `{"parent":"310115","code":"310198","kind":"district","name":"x"}`, 400, "identity.org_bad_kind", "区局下设市场所和科室", "cannot be created there"},
			{"a station under the city bureau", `{"parent":"310000","code":"310000-S01","kind":"station","name":"x"}`, 400, "identity.org_bad_kind", "市局下设", "cannot be created there"},
			{"a second city bureau", `{"parent":"310000","code":"320000","kind":"city","name":"x"}`, 400, "identity.org_bad_kind", "市局下设", "cannot be created there"},
			{"anything under a department", `{"parent":"310115-D03","code":"310115-D03-D01","kind":"department","name":"x"}`, 400, "identity.org_bad_kind", "市场所下设科室", "a station has sections"},
			{"no name", `{"parent":"310115","code":"310115-S09","kind":"station","name":"  "}`, 400, "identity.bad_name", "42 个汉字", "at most 42 characters"},
		}
		for _, tt := range refusals {
			wantError(t, tt.what, admin("POST", "/api/v1/admin/orgs", tt.body), tt.status, tt.code, tt.zh)
			wantError(t, tt.what+" (en)", adminEn("POST", "/api/v1/admin/orgs", tt.body), tt.status, tt.code, tt.en)
		}

		r = admin("PUT", "/api/v1/admin/orgs/310115-S04", `{"name":"北蔡所","name_en":"Beicai"}`)
		if r.code != http.StatusOK {
			t.Fatalf("rename = %d %s", r.code, r.body)
		}
		if o, _ := f.st.Client.Organization.Query().Where(organization.Code("310115-S04")).Only(ctx); o.Name != "北蔡所" || o.NameEn != "Beicai" || o.Path != "/310000/310115/310115-S04" {
			t.Fatalf("renamed = %+v", o)
		}
		f.audited(t, "org.rename", "org:310115-S04")
		wantError(t, "rename an unknown unit", admin("PUT", "/api/v1/admin/orgs/310115-S99", `{"name":"x"}`), 404, "identity.no_org", "没有该组织机构")

		wantError(t, "delete a unit with accounts", admin("DELETE", "/api/v1/admin/orgs/310115-D03", ""), 409, "identity.org_has_users", "还有 1 个账号")
		wantError(t, "delete a unit with units under it", adminEn("DELETE", "/api/v1/admin/orgs/310115-S04", ""), 409, "identity.org_has_children", "delete those first")
		wantError(t, "delete the root", admin("DELETE", "/api/v1/admin/orgs/310000", ""), 409, "identity.org_root", "不能删除")
		wantError(t, "delete an unknown unit", admin("DELETE", "/api/v1/admin/orgs/310115-S99", ""), 404, "identity.no_org", "没有该组织机构")
		// A custom role's data scope naming the unit keeps it.
		if err := f.st.Client.Role.Create().SetKey("scoped").SetName("x").SetPermissions([]string{"notice.read"}).
			SetDataScope("custom").SetCustomScope([]string{"310199"}).Exec(ctx); err != nil {
			t.Fatal(err)
		}
		wantError(t, "delete a unit a role's scope names", admin("DELETE", "/api/v1/admin/orgs/310199", ""), 409, "identity.org_in_use", "数据范围")
		if _, err := f.st.Client.Role.Delete().Where(role.Key("scoped")).Exec(ctx); err != nil {
			t.Fatal(err)
		}
		for _, code := range []string{"310115-S04-D01", "310115-S04", "310199"} {
			if r := admin("DELETE", "/api/v1/admin/orgs/"+code, ""); r.code != http.StatusNoContent {
				t.Fatalf("delete the empty leaf %s = %d %s", code, r.code, r.body)
			}
			f.audited(t, "org.delete", "org:"+code)
		}
		if n, _ := f.st.Client.Organization.Query().Where(organization.CodeHasPrefix("310115-S04")).Count(ctx); n != 0 {
			t.Fatalf("%d deleted units remain", n)
		}

		// Only the system administrator manages organisations.
		sec := f.as(t, "secadmin", identity.DemoPassword, "zh-CN")
		handler := f.as(t, "pd_li", identity.DemoPassword, "zh-CN")
		if r := sec("GET", "/api/v1/admin/orgs", ""); r.code != 200 || !strings.Contains(r.body, `"code":"310115-S02"`) {
			t.Fatalf("the security administrator reads the tree (custom data scopes name units): %d", r.code)
		}
		wantError(t, "a handler reads the tree", handler("GET", "/api/v1/admin/orgs", ""), 403, "auth.forbidden", "")
		for _, c := range []caller{sec, handler} {
			wantError(t, "create by another", c("POST", "/api/v1/admin/orgs", `{"parent":"310115","code":"310115-S05","kind":"station","name":"x"}`), 403, "auth.forbidden", "没有执行此操作的权限")
			wantError(t, "rename by another", c("PUT", "/api/v1/admin/orgs/310115-S01", `{"name":"x"}`), 403, "auth.forbidden", "")
			wantError(t, "delete by another", c("DELETE", "/api/v1/admin/orgs/310115-S01", ""), 403, "auth.forbidden", "")
		}
	})
}

func TestSecurityAdministratorManagesCustomRoles(t *testing.T) {
	storetest.Each(t, func(t *testing.T, dialect string) {
		f := newFixture(t, dialect, identity.Options{})
		ctx := context.Background()
		installNotice(t, f)
		sec := f.as(t, "secadmin", identity.DemoPassword, "zh-CN")
		secEn := f.as(t, "secadmin", identity.DemoPassword, "en")

		// The known permissions: the built-in roles' and the plugin's staff routes'.
		r := sec("GET", "/api/v1/admin/permissions", "")
		var known struct{ Permissions []identity.Permission }
		if err := json.Unmarshal([]byte(r.body), &known); err != nil || r.code != 200 {
			t.Fatalf("permissions = %d %s", r.code, r.body)
		}
		byKey := map[string]identity.Permission{}
		for _, p := range known.Permissions {
			byKey[p.Key] = p
		}
		if p := byKey["notice.export"]; len(p.Sources) != 1 || p.Sources[0] != "notice" || p.Administrator {
			t.Fatalf("notice.export = %+v", p)
		}
		if p := byKey["notice.read"]; strings.Join(p.Sources, ",") != "host,notice" {
			t.Fatalf("notice.read = %+v", p)
		}
		if _, ok := byKey["portal.public"]; ok {
			t.Fatal("a public route's permission is offered to staff roles")
		}
		for _, p := range []string{"users.manage", "org.manage", "roles.manage", "policies.manage", "audit.read", "users.read"} {
			if !byKey[p].Administrator {
				t.Fatalf("%s is not marked as an administrator's", p)
			}
		}
		if byKey["workbench.use"].Administrator || byKey["documents.read"].Administrator {
			t.Fatal("a permission other roles share is marked as an administrator's")
		}

		r = sec("POST", "/api/v1/admin/roles", `{"key":"inspector","name":"检查员","name_en":"Inspector","permissions":["workbench.use","notice.read","notice.read"],"data_scope":"custom","custom_scope":["310115","310101"]}`)
		if r.code != http.StatusCreated {
			t.Fatalf("create = %d %s", r.code, r.body)
		}
		f.audited(t, "role.create", "role:inspector")
		ro, err := f.st.Client.Role.Query().Where(role.Key("inspector")).Only(ctx)
		if err != nil || ro.Builtin || strings.Join(ro.Permissions, ",") != "notice.read,workbench.use" || ro.DataScope != role.DataScopeCustom ||
			strings.Join(ro.CustomScope, ",") != "310101,310115" {
			t.Fatalf("stored role = %+v, %v", ro, err)
		}

		refusals := []struct {
			what, method, path, body string
			status                   int
			code, zh, en             string
		}{
			{"a bad key", "POST", "/api/v1/admin/roles", `{"key":"Bad Key","name":"x","permissions":["notice.read"]}`, 400, "identity.role_bad_key", "小写字母开头", "lower-case"},
			{"a duplicate key", "POST", "/api/v1/admin/roles", `{"key":"inspector","name":"x","permissions":["notice.read"]}`, 409, "identity.role_exists", "已被使用", "taken"},
			{"a built-in key", "POST", "/api/v1/admin/roles", `{"key":"handler","name":"x","permissions":["notice.read"]}`, 409, "identity.role_exists", "已被使用", "taken"},
			{"the system administrator's permission", "POST", "/api/v1/admin/roles", `{"key":"helper","name":"x","permissions":["notice.read","users.manage"]}`, 400, "identity.role_admin_permission", "三员分立，自定义角色不能包含系统管理员、安全管理员或审计管理员的专有权限：users.manage", "users.manage"},
			{"the security administrator's permission", "POST", "/api/v1/admin/roles", `{"key":"helper","name":"x","permissions":["roles.manage"]}`, 400, "identity.role_admin_permission", "roles.manage", "separation of administrators"},
			{"the audit administrator's permission", "PUT", "/api/v1/admin/roles/inspector", `{"name":"x","permissions":["audit.read"]}`, 400, "identity.role_admin_permission", "audit.read", "audit.read"},
			{"a wildcard", "POST", "/api/v1/admin/roles", `{"key":"helper","name":"x","permissions":["*"]}`, 400, "identity.role_unknown_permission", "不认识这些权限：*", "does not know"},
			{"an unknown permission", "POST", "/api/v1/admin/roles", `{"key":"helper","name":"x","permissions":["notice.destroy"]}`, 400, "identity.role_unknown_permission", "notice.destroy", "notice.destroy"},
			{"no permission", "POST", "/api/v1/admin/roles", `{"key":"helper","name":"x","permissions":[]}`, 400, "identity.role_empty", "至少选择一项权限", "at least one"},
			{"a custom scope of nothing", "POST", "/api/v1/admin/roles", `{"key":"helper","name":"x","permissions":["notice.read"],"data_scope":"custom"}`, 400, "identity.role_bad_scope", "数据范围无效", "data scope"},
			{"a custom scope naming no unit", "POST", "/api/v1/admin/roles", `{"key":"helper","name":"x","permissions":["notice.read"],"data_scope":"custom","custom_scope":["319999"]}`, 400, "identity.role_bad_scope", "数据范围无效", "data scope"},
			{"an unknown scope", "POST", "/api/v1/admin/roles", `{"key":"helper","name":"x","permissions":["notice.read"],"data_scope":"galaxy"}`, 400, "identity.role_bad_scope", "数据范围无效", "data scope"},
			{"no name", "POST", "/api/v1/admin/roles", `{"key":"helper","name":"","permissions":["notice.read"]}`, 400, "identity.bad_name", "21 个汉字", "64"},
			{"editing a built-in role", "PUT", "/api/v1/admin/roles/handler", `{"name":"承办人","permissions":["notice.read"]}`, 409, "identity.role_builtin", "内置角色不能修改或删除", "Built-in roles cannot be changed"},
			{"deleting a built-in role", "DELETE", "/api/v1/admin/roles/archivist", "", 409, "identity.role_builtin", "内置角色", "Built-in"},
			{"editing an unknown role", "PUT", "/api/v1/admin/roles/nobody", `{"name":"x","permissions":["notice.read"]}`, 404, "identity.no_role", "没有该角色", "No such role"},
		}
		for _, tt := range refusals {
			wantError(t, tt.what, sec(tt.method, tt.path, tt.body), tt.status, tt.code, tt.zh)
			wantError(t, tt.what+" (en)", secEn(tt.method, tt.path, tt.body), tt.status, tt.code, tt.en)
		}
		if n, _ := f.st.Client.AuditEntry.Query().Where(auditentry.ActionHasPrefix("role.")).Count(ctx); n != 1 {
			t.Fatalf("refusals were recorded as changes: %d role.* entries", n)
		}

		// Granted, the role's permissions reach the holder's session; an edit
		// takes effect on the holder's next request.
		if r := sec("PUT", "/api/v1/admin/users/zj_zhao/roles", `{"roles":["handler","inspector"]}`); r.code != 200 {
			t.Fatalf("grant = %d %s", r.code, r.body)
		}
		zhao := f.as(t, "zj_zhao", identity.DemoPassword, "zh-CN")
		can := func() string {
			return zhao("POST", "/api/v1/auth/can", `{"actions":["notice.export"]}`).body
		}
		if !strings.Contains(can(), `"notice.export":false`) {
			t.Fatalf("before the edit: %s", can())
		}
		r = sec("PUT", "/api/v1/admin/roles/inspector", `{"name":"检查员","name_en":"Inspector","permissions":["notice.read","notice.export"],"data_scope":"subtree"}`)
		if r.code != 200 || !strings.Contains(r.body, `"users":1`) {
			t.Fatalf("edit = %d %s", r.code, r.body)
		}
		f.audited(t, "role.update", "role:inspector")
		if !strings.Contains(can(), `"notice.export":true`) {
			t.Fatalf("after the edit, the same session: %s", can())
		}
		if me := zhao("GET", "/api/v1/auth/me", "").body; !strings.Contains(me, `"notice.export"`) {
			t.Fatalf("me = %s", me)
		}

		wantError(t, "delete a granted role", sec("DELETE", "/api/v1/admin/roles/inspector", ""), 409, "identity.role_in_use", "已授予 1 个账号")
		r = sec("GET", "/api/v1/admin/roles", "")
		if !strings.Contains(r.body, `{"key":"inspector","name":"检查员","name_en":"Inspector","builtin":false,"permissions":["notice.export","notice.read"],"data_scope":"subtree","custom_scope":[],"users":1}`) ||
			!strings.Contains(r.body, `"key":"handler","name":"承办人","name_en":"Case handler","builtin":true`) {
			t.Fatalf("roles = %s", r.body)
		}
		if r := sec("PUT", "/api/v1/admin/users/zj_zhao/roles", `{"roles":["handler"]}`); r.code != 200 {
			t.Fatalf("take back = %d %s", r.code, r.body)
		}
		if r := sec("DELETE", "/api/v1/admin/roles/inspector", ""); r.code != http.StatusNoContent {
			t.Fatalf("delete = %d %s", r.code, r.body)
		}
		f.audited(t, "role.delete", "role:inspector")
		if !strings.Contains(can(), `"notice.export":false`) {
			t.Fatalf("after the delete: %s", can())
		}

		// Only the security administrator manages roles.
		admin := f.as(t, "admin", "Root#Portal2026", "zh-CN")
		handler := f.as(t, "pd_li", identity.DemoPassword, "zh-CN")
		for _, c := range []caller{admin, handler} {
			wantError(t, "create by another", c("POST", "/api/v1/admin/roles", `{"key":"helper","name":"x","permissions":["notice.read"]}`), 403, "auth.forbidden", "")
			wantError(t, "edit by another", c("PUT", "/api/v1/admin/roles/handler", `{"name":"x","permissions":["notice.read"]}`), 403, "auth.forbidden", "")
			wantError(t, "delete by another", c("DELETE", "/api/v1/admin/roles/handler", ""), 403, "auth.forbidden", "")
			wantError(t, "permissions for another", c("GET", "/api/v1/admin/permissions", ""), 403, "auth.forbidden", "")
		}
	})
}

// installNotice records the example plugin as installed, its manifest with a
// staff route of a permission no built-in role has and a public route.
func installNotice(t *testing.T, f *fixture) {
	t.Helper()
	b, err := os.ReadFile("../../sdk/examples/notice/plugin.yaml")
	if err != nil {
		t.Fatal(err)
	}
	m := strings.Replace(string(b), "  - {method: GET, path: /public/notices, audience: [anonymous]}\n",
		"  - {method: GET, path: /public/notices, audience: [anonymous]}\n"+
			"  - {method: GET, path: /notices/export, permission: notice.export, audience: [staff]}\n"+
			"  - {method: GET, path: /my/notices, permission: portal.public, audience: [public]}\n", 1)
	if !strings.Contains(m, "notice.export") {
		t.Fatal("the example manifest changed: adapt the test")
	}
	ctx := context.Background()
	if err := f.st.Client.Plugin.Create().SetPluginID("notice").SetVersion("0.1.0").Exec(ctx); err != nil {
		t.Fatal(err)
	}
	if err := f.st.Client.PluginBundle.Create().SetPluginID("notice").SetVersion("0.1.0").SetDigest(strings.Repeat("0", 64)).
		SetSigner("test").SetBinarySha256(strings.Repeat("0", 64)).SetManifest([]byte(m)).Exec(ctx); err != nil {
		t.Fatal(err)
	}
}
