package manifest

import (
	"encoding/json"
	"errors"
	"os"
	"reflect"
	"slices"
	"strings"
	"testing"
)

// minimal is the smallest valid manifest; the invalid cases below each change
// one thing about it.
const minimal = `
id: hello
version: 0.1.0
name: {zh-CN: 你好}
host: ">=0.1.0-0"
protocol: 1
`

func TestParseAcceptsFullExample(t *testing.T) {
	data, err := os.ReadFile("testdata/full.yaml")
	if err != nil {
		t.Fatal(err)
	}
	m, err := Parse(data)
	if err != nil {
		t.Fatalf("Parse: %v", err)
	}
	if m.ID != "enforcement" || m.Version != "1.2.0" || m.Name["zh-CN"] != "行政执法办案" {
		t.Errorf("identity = %q %q %q", m.ID, m.Version, m.Name["zh-CN"])
	}
	if len(m.Routes) != 8 || m.Routes[7].Audience[0] != AudienceAnonymous {
		t.Errorf("routes = %+v", m.Routes)
	}
	if got := m.Entities[0].Schema["required"]; !reflect.DeepEqual(got, []any{"number", "party", "cause"}) {
		t.Errorf("entity schema required = %#v", got)
	}
	if !strings.Contains(m.Policies[0].Rego, "package plugins.enforcement.cases") {
		t.Errorf("rego = %q", m.Policies[0].Rego)
	}
	if m.Jobs[0].Schedule != "0 8 * * 1-5" {
		t.Errorf("job = %+v", m.Jobs[0])
	}
	d, err := m.Entities[0].Detail()
	if err != nil {
		t.Fatalf("Detail: %v", err)
	}
	want := &DetailView{
		Tabs: []DetailTab{
			{Title: map[string]string{"zh-CN": "案件信息", "en": "Case"}, Fields: []string{"number", "cause", "filed_on", "fine"}},
			{Title: map[string]string{"zh-CN": "当事人", "en": "Party"}, Fields: []string{"party", "uscc"}},
		},
		Attachments: "documents",
		Timeline:    "instance_id",
	}
	if !reflect.DeepEqual(d, want) {
		t.Errorf("detail = %+v, want %+v", d, want)
	}
}

func TestDetailIsNilWithoutDeclaration(t *testing.T) {
	for _, views := range []string{"", "    views: {create: false}\n"} {
		m, err := Parse([]byte(minimal + "entities:\n  - name: case\n    title: {zh-CN: 案件}\n    schema: {type: object}\n" + views))
		if err != nil {
			t.Fatalf("%q: %v", views, err)
		}
		if d, err := m.Entities[0].Detail(); d != nil || err != nil {
			t.Errorf("%q: Detail() = %+v, %v; want nil", views, d, err)
		}
	}
}

func TestDetailAcceptsRecordFieldsOutsideTheSchema(t *testing.T) {
	// The attachments and timeline fields are in the record the plugin
	// answers, not necessarily in the schema (which also drives the form).
	m, err := Parse([]byte(minimal + `entities:
  - name: lead
    title: {zh-CN: 案源}
    schema: {type: object, properties: {party_name: {type: string}}}
    views:
      detail: {attachments: files, timeline: instance_id}
`))
	if err != nil {
		t.Fatal(err)
	}
	d, err := m.Entities[0].Detail()
	if err != nil || d.Attachments != "files" || d.Timeline != "instance_id" || d.Tabs != nil {
		t.Errorf("Detail() = %+v, %v", d, err)
	}
}

func TestDetailReportsADecodingProblemOfAHandMadeEntity(t *testing.T) {
	e := Entity{Name: "case", Views: map[string]any{"detail": map[string]any{"tabs": "all"}}}
	if _, err := e.Detail(); err == nil || !strings.Contains(err.Error(), "entity case: views.detail") {
		t.Errorf("Detail() error = %v", err)
	}
}

func TestParseAcceptsMinimal(t *testing.T) {
	if _, err := Parse([]byte(minimal)); err != nil {
		t.Fatal(err)
	}
}

func TestParseReportsProblemAtFieldPath(t *testing.T) {
	route := func(s string) string { return minimal + "routes:\n" + s }
	menus := func(s string) string { return minimal + "menus:\n" + s }
	detail := func(s string) string {
		return minimal + "entities:\n  - name: case\n    title: {zh-CN: 案件}\n" +
			"    schema: {type: object, properties: {number: {type: string}, party_name: {type: string}}}\n" +
			"    views:\n      detail:\n        " + s
	}
	tests := []struct {
		name string
		yaml string
		want string // the expected problem's path and start of message
	}{
		{"empty document", ``, "(root): empty document"},
		{"not YAML", "id: [", "(root): yaml:"},
		{"two documents", minimal + "---\n" + minimal, "(root): more than one YAML document"},
		{"not an object", `- a`, "(root):"},
		{"missing id", strings.Replace(minimal, "id: hello\n", "", 1), "id: is required"},
		{"id with capitals", strings.Replace(minimal, "id: hello", "id: Hello", 1), "id:"},
		{"id too short", strings.Replace(minimal, "id: hello", "id: h", 1), "id:"},
		{"id too long", strings.Replace(minimal, "id: hello", "id: h"+strings.Repeat("x", 32), 1), "id:"},
		{"version not semver", strings.Replace(minimal, "0.1.0\n", "1.2\n", 1), "version:"},
		{"version with v prefix", strings.Replace(minimal, "0.1.0\n", "v1.2.0\n", 1), "version:"},
		{"name without zh-CN", strings.Replace(minimal, "{zh-CN: 你好}", "{en: Hello}", 1), "name.zh-CN: is required"},
		{"name with bad language", strings.Replace(minimal, "{zh-CN: 你好}", "{zh-CN: 你好, Chinese: x}", 1), "name.Chinese: is not a language tag"},
		{"host not a range", strings.Replace(minimal, `">=0.1.0-0"`, `"newest please"`, 1), "host: \"newest please\" is not a version range"},
		{"protocol zero", strings.Replace(minimal, "protocol: 1", "protocol: 0", 1), "protocol:"},
		{"protocol a string", strings.Replace(minimal, "protocol: 1", "protocol: one", 1), "protocol:"},
		{"unknown top-level field", minimal + "homepage: https://example.org\n", "homepage: is not a known field"},
		{"unknown capability", minimal + "capabilities: [audit.write, database.drop]\n", "capabilities[1]:"},
		{"repeated capability", minimal + "capabilities: [audit.write, audit.write]\n", "capabilities:"},
		{"route method lower case", route("  - {method: get, path: /a, permission: x.read, audience: [staff]}\n"), "routes[0].method:"},
		{"route method unknown", route("  - {method: HEAD, path: /a, permission: x.read, audience: [staff]}\n"), "routes[0].method:"},
		{"route path relative", route("  - {method: GET, path: cases, permission: x.read, audience: [staff]}\n"), "routes[0].path:"},
		{"route path with query", route("  - {method: GET, path: '/cases?all=1', permission: x.read, audience: [staff]}\n"), "routes[0].path:"},
		{"route without audience", route("  - {method: GET, path: /a, permission: x.read}\n"), "routes[0].audience: is required"},
		{"route with empty audience", route("  - {method: GET, path: /a, permission: x.read, audience: []}\n"), "routes[0].audience:"},
		{"route with unknown audience", route("  - {method: GET, path: /a, permission: x.read, audience: [admin]}\n"), "routes[0].audience[0]:"},
		{"route unknown field", route("  - {method: GET, path: /a, permission: x.read, audience: [staff], auth: none}\n"), "routes[0].auth: is not a known field"},
		{"route without permission", route(
			"  - {method: GET, path: /a, audience: [anonymous]}\n" +
				"  - {method: GET, path: /b, audience: [anonymous, public]}\n"), "routes[1].permission: is required unless the audience is only anonymous"},
		{"route repeated", route(
			"  - {method: GET, path: '/cases/{id}', permission: x.read, audience: [staff]}\n" +
				"  - {method: POST, path: '/cases/{id}', permission: x.write, audience: [staff]}\n" +
				"  - {method: GET, path: '/cases/{caseID}', permission: x.read, audience: [staff]}\n"), "routes[2].path: GET /cases/{caseID} is already declared by routes[0]"},
		{"route timeout not a duration", route("  - {method: GET, path: /a, permission: x.read, audience: [staff], timeout: soon}\n"), "routes[0].timeout:"},
		{"route timeout zero", route("  - {method: GET, path: /a, permission: x.read, audience: [staff], timeout: 0s}\n"), "routes[0].timeout: \"0s\" is not a positive duration"},
		{"route body limit negative", route("  - {method: GET, path: /a, permission: x.read, audience: [staff], body_limit: -1}\n"), "routes[0].body_limit:"},
		{"menu key repeated", menus(
			"  - {key: a, title: {zh-CN: 甲}}\n" +
				"  - {key: b, title: {zh-CN: 乙}}\n" +
				"  - {key: a, title: {zh-CN: 丙}}\n"), "menus[2].key: \"a\" is already used by menus[0]"},
		{"menu without title", menus("  - {key: a}\n"), "menus[0].title: is required"},
		{"menu title without zh-CN", menus("  - {key: a, title: {en: A}}\n"), "menus[0].title.zh-CN: is required"},
		{"menu is its own ancestor", menus(
			"  - {key: a, parent: b, title: {zh-CN: 甲}}\n" +
				"  - {key: b, parent: a, title: {zh-CN: 乙}}\n"), "menus[0].parent: menu \"a\" is its own ancestor"},
		{"task type repeated", minimal + "tasks:\n" +
			"  - {type: x.review, title: {zh-CN: 审核}}\n" +
			"  - {type: x.review, title: {zh-CN: 复核}}\n", "tasks[1].type: \"x.review\" is already used by tasks[0]"},
		{"entity without schema", minimal + "entities:\n  - {name: case, title: {zh-CN: 案件}}\n", "entities[0].schema: is required"},
		{"entity schema not an object", minimal + "entities:\n  - {name: case, title: {zh-CN: 案件}, schema: [1]}\n", "entities[0].schema:"},
		{"process without definition", minimal + "processes:\n  - {key: p, title: {zh-CN: 流程}}\n", "processes[0].definition: is required"},
		{"policy without rego", minimal + "policies:\n  - {name: cases}\n", "policies[0].rego: is required"},
		{"event type with spaces", minimal + "events: {publishes: [case closed]}\n", "events.publishes[0]:"},
		{"events unknown field", minimal + "events: {consumes: [a.b]}\n", "events.consumes: is not a known field"},
		{"wildcard publish", minimal + "events: {publishes: [case.*]}\n", "events.publishes[0]:"},
		{"wildcard in the middle", minimal + "events: {subscribes: [case.*.closed]}\n", "events.subscribes[0]:"},
		{"i18n bad language", minimal + "i18n: {chinese: {a: b}}\n", "i18n.chinese: is not a language tag"},
		{"i18n key not text", minimal + "i18n: {zh-CN: {a: [1]}}\n", "i18n.zh-CN.a:"},
		{"i18n key with dots is quoted", minimal + "i18n: {zh-CN: {case.title: [1]}}\n", `i18n.zh-CN["case.title"]:`},
		{"document without template", minimal + "documents:\n  - {type: x.decision, title: {zh-CN: 决定书}}\n", "documents[0].template: is required"},
		{"detail tab names an unknown field", detail("tabs:\n        - {title: {zh-CN: 基本}, fields: [number, partyname]}\n"),
			`entities[0].views.detail.tabs[0].fields[1]: "partyname" is not a field of the entity's schema (number, party_name)`},
		{"detail tab of a schema without properties", minimal + "entities:\n  - name: case\n    title: {zh-CN: 案件}\n    schema: {type: object}\n" +
			"    views:\n      detail:\n        tabs: [{title: {zh-CN: 基本}, fields: [number]}]\n",
			`entities[0].views.detail.tabs[0].fields[0]: "number" is not a field of the entity's schema, which has no properties`},
		{"detail tab without title", detail("tabs: [{fields: [number]}]\n"), "entities[0].views.detail.tabs[0].title: is required"},
		{"detail tab title without zh-CN", detail("tabs: [{title: {en: Basics}, fields: [number]}]\n"), "entities[0].views.detail.tabs[0].title.zh-CN: is required"},
		{"detail tab without fields", detail("tabs: [{title: {zh-CN: 基本}, fields: []}]\n"), "entities[0].views.detail.tabs[0].fields:"},
		{"detail tab field repeated", detail("tabs: [{title: {zh-CN: 基本}, fields: [number, number]}]\n"), "entities[0].views.detail.tabs[0].fields:"},
		{"detail tabs empty", detail("tabs: []\n"), "entities[0].views.detail.tabs:"},
		{"detail with a flat field list", detail("fields: [number]\n"), "entities[0].views.detail.fields: is not a known field"},
		{"detail not an object", minimal + "entities:\n  - name: case\n    title: {zh-CN: 案件}\n    schema: {type: object}\n    views: {detail: [number]}\n",
			"entities[0].views.detail:"},
		{"detail attachments not a field name", detail("attachments: 'case documents'\n"),
			`entities[0].views.detail.attachments: "case documents" is not a field name`},
		{"detail timeline not a string", detail("timeline: {field: instance_id}\n"), "entities[0].views.detail.timeline:"},
		{"job without schedule", minimal + "jobs:\n  - {name: x.remind}\n", "jobs[0].schedule: is required"},
		{"job name repeated", minimal + "jobs:\n  - {name: x.remind, schedule: '@daily'}\n  - {name: x.remind, schedule: '@hourly'}\n", "jobs[1].name:"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			m, err := Parse([]byte(tt.yaml))
			if err == nil {
				t.Fatalf("Parse accepted it: %+v", m)
			}
			if !errors.Is(err, ErrInvalid) {
				t.Errorf("errors.Is(err, ErrInvalid) = false for %v", err)
			}
			var ve *ValidationError
			if !errors.As(err, &ve) {
				t.Fatalf("error is %T, want *ValidationError", err)
			}
			if !slices.ContainsFunc(ve.Problems, func(p string) bool { return strings.HasPrefix(p, tt.want) }) {
				t.Errorf("no problem starts with %q; got:\n  %s", tt.want, strings.Join(ve.Problems, "\n  "))
			}
		})
	}
}

func TestParseReportsAllProblemsOnce(t *testing.T) {
	data := `
id: Enforcement
version: "1.0"
name: {en: Enforcement}
host: ">=0.1.0"
protocol: 1
routes:
  - {method: GET, path: /cases, audience: [staff]}
  - {method: GET, path: /cases, permission: x.read, audience: [staff]}
`
	_, err := Parse([]byte(data))
	var ve *ValidationError
	if !errors.As(err, &ve) {
		t.Fatalf("err = %v, want *ValidationError", err)
	}
	want := []string{"id:", "name.zh-CN: is required", "routes[0].permission:", "routes[1].path:", "version:"}
	if len(ve.Problems) != len(want) {
		t.Fatalf("got %d problems, want %d:\n  %s", len(ve.Problems), len(want), strings.Join(ve.Problems, "\n  "))
	}
	for i, w := range want {
		if !strings.HasPrefix(ve.Problems[i], w) {
			t.Errorf("problem %d = %q, want prefix %q", i, ve.Problems[i], w)
		}
	}
}

func TestParseAcceptsYAMLScalarsInFreeFormMaps(t *testing.T) {
	// Unquoted dates and numeric keys are ordinary YAML that the schema
	// validator must see as JSON strings.
	data := minimal + `entities:
  - name: case
    title: {zh-CN: 案件}
    schema: {type: object, examples: [{filed_on: 2024-05-01}]}
i18n:
  zh-CN: {404: 未找到}
`
	m, err := Parse([]byte(data))
	if err != nil {
		t.Fatal(err)
	}
	if m.I18n["zh-CN"]["404"] != "未找到" {
		t.Errorf("i18n = %v", m.I18n)
	}
}

func TestMarshalRoundTrips(t *testing.T) {
	data, err := os.ReadFile("testdata/full.yaml")
	if err != nil {
		t.Fatal(err)
	}
	m, err := Parse(data)
	if err != nil {
		t.Fatal(err)
	}
	m.Version = "1.3.0-rc.1"
	out, err := m.Marshal()
	if err != nil {
		t.Fatal(err)
	}
	again, err := Parse(out)
	if err != nil {
		t.Fatalf("Parse(Marshal()): %v\n%s", err, out)
	}
	if !reflect.DeepEqual(m, again) {
		t.Errorf("round trip changed the manifest:\n%s", out)
	}
}

func TestSchemaEnumeratesKnownCapabilities(t *testing.T) {
	var s struct {
		Properties struct {
			Capabilities struct {
				Items struct {
					Enum []string `json:"enum"`
				} `json:"items"`
			} `json:"capabilities"`
		} `json:"properties"`
	}
	if err := json.Unmarshal(Schema, &s); err != nil {
		t.Fatal(err)
	}
	if got := s.Properties.Capabilities.Items.Enum; !slices.Equal(got, KnownCapabilities()) {
		t.Errorf("schema enum = %v\nGo constants  = %v", got, KnownCapabilities())
	}
}

func TestHasCapability(t *testing.T) {
	m := &Manifest{Capabilities: []string{CapAuditWrite, CapSettingsRead}}
	if !m.HasCapability(CapAuditWrite) || !m.HasCapability("settings.read") {
		t.Error("declared capability not found")
	}
	if m.HasCapability(CapSettingsWrite) {
		t.Error("undeclared capability found")
	}
	var none *Manifest
	if none.HasCapability(CapAuditWrite) {
		t.Error("nil manifest has a capability")
	}
}

func TestCheckCompatible(t *testing.T) {
	tests := []struct {
		host     string
		hostVer  string
		protocol int
		want     string // "" for compatible
	}{
		{">=0.1.0 <2.0.0", "0.1.0", 1, ""},
		{">=0.1.0 <2.0.0", "1.9.9", 1, ""},
		{">=0.1.0-0 <2.0.0", "0.1.0-dev", 1, ""},
		{">=0.1.0-0 <2.0.0", "1.4.0-rc.1", 1, ""},
		{">=0.1.0-0", "0.1.0+build.7", 1, ""},
		{"^1.2", "1.5.0", 1, ""},
		{">=2.0.0 <3.0.0", "0.1.0", 1, `manifest: plugin "enforcement" 1.2.0 needs host ">=2.0.0 <3.0.0", but this host is 0.1.0`},
		{">=0.1.0 <2.0.0", "0.1.0-dev", 1, `manifest: plugin "enforcement" 1.2.0 needs host ">=0.1.0 <2.0.0", but this host is 0.1.0-dev`},
		{">=0.1.0 <2.0.0", "2.0.0", 1, `manifest: plugin "enforcement" 1.2.0 needs host ">=0.1.0 <2.0.0", but this host is 2.0.0`},
		{">=0.1.0 <2.0.0", "1.0.0", 2, `manifest: plugin "enforcement" 1.2.0 speaks protocol 1, but this host speaks protocol 2`},
	}
	for _, tt := range tests {
		t.Run(tt.host+" on "+tt.hostVer, func(t *testing.T) {
			m := &Manifest{ID: "enforcement", Version: "1.2.0", Host: tt.host, Protocol: 1}
			err := m.CheckCompatible(tt.hostVer, tt.protocol)
			if tt.want == "" {
				if err != nil {
					t.Fatalf("CheckCompatible: %v", err)
				}
				return
			}
			if err == nil || err.Error() != tt.want {
				t.Fatalf("err = %v\nwant %s", err, tt.want)
			}
			if !errors.Is(err, ErrIncompatible) {
				t.Errorf("errors.Is(err, ErrIncompatible) = false")
			}
		})
	}
}

func TestCheckCompatibleRefusesUnparsableHostVersion(t *testing.T) {
	m := &Manifest{ID: "enforcement", Version: "1.2.0", Host: ">=0.1.0", Protocol: 1}
	err := m.CheckCompatible("latest", 1)
	if err == nil || errors.Is(err, ErrIncompatible) {
		t.Fatalf("err = %v, want a parse error that is not ErrIncompatible", err)
	}
}

// views.actions: each names one of the manifest's POST routes and, with
// when, a field of the schema.
func TestActions(t *testing.T) {
	entity := func(actions string) string {
		return minimal + `routes:
  - {method: POST, path: "/cases/{id}/notice", permission: cases.write, audience: [staff]}
  - {method: GET, path: "/cases/{id}", permission: cases.read, audience: [staff]}
entities:
  - name: case
    title: {zh-CN: 案件}
    schema: {type: object, properties: {status: {type: string}}}
    views:
      actions:
` + actions
	}
	m, err := Parse([]byte(entity(`        - {name: notice, title: {zh-CN: 告知, en: Notify}, route: "/cases/{id}/notice", when: {field: status, in: [investigating]},
           form: {type: object, required: [facts], properties: {facts: {type: string}}}}
`)))
	if err != nil {
		t.Fatal(err)
	}
	as, err := m.Entities[0].Actions()
	if err != nil || len(as) != 1 || as[0].Route != "/cases/{id}/notice" || as[0].When.Field != "status" || as[0].Form["type"] != "object" {
		t.Fatalf("Actions() = %+v, %v", as, err)
	}
	for _, c := range []struct{ name, actions, want string }{
		{"a GET route", `        - {name: view, title: {zh-CN: 查看}, route: "/cases/{id}"}` + "\n", `entities[0].views.actions[0].route: "/cases/{id}" is not a POST route of the manifest`},
		{"an unknown field", `        - {name: notice, title: {zh-CN: 告知}, route: "/cases/{id}/notice", when: {field: state, in: [x]}}` + "\n", `entities[0].views.actions[0].when.field: "state" is not a field of the entity's schema`},
		{"no title", `        - {name: notice, route: "/cases/{id}/notice"}` + "\n", "entities[0].views.actions[0].title: is required"},
	} {
		_, err := Parse([]byte(entity(c.actions)))
		if err == nil || !strings.Contains(err.Error(), c.want) {
			t.Errorf("%s: %v, want %q", c.name, err, c.want)
		}
	}
}
