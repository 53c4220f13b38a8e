// Package manifest defines plugin.yaml, the declaration every plugin ships:
// who it is, which host it needs, what it asks of the host (capabilities), and
// what it contributes (routes, menus, entities, tasks, processes, policies,
// messages, events, document templates, jobs).
//
// The manifest is embedded in the plugin binary (served by Describe) and packed
// in its bundle; the host refuses a plugin whose two copies differ. The JSON
// Schema in plugin.schema.json is the published contract; Parse validates
// against it and then checks what a schema cannot (semver, unique keys).
package manifest

import (
	"bytes"
	"fmt"

	"gopkg.in/yaml.v3"
)

// ProtocolVersion is the wire-contract version this SDK speaks. It changes only
// for breaking changes to sdk/proto; features above it are negotiated through
// capabilities.
const ProtocolVersion = 1

// Manifest is a parsed plugin.yaml.
type Manifest struct {
	// ID is the plugin's stable identifier: lower case letters, digits and
	// hyphens, 2–32 characters, starting with a letter. It names the route
	// prefix /api/plugins/<id>/ and the plugin's database.
	ID string `yaml:"id" json:"id"`
	// Version is the plugin's semantic version (1.4.0, 2.0.0-rc.1).
	Version string `yaml:"version" json:"version"`
	// Name is the display name per language (zh-CN required).
	Name map[string]string `yaml:"name" json:"name"`
	// Description per language.
	Description map[string]string `yaml:"description,omitempty" json:"description,omitempty"`
	// Host is the semver range of host versions the plugin runs on (">=0.1.0 <2.0.0").
	Host string `yaml:"host" json:"host"`
	// Protocol is the wire-contract version the plugin was built with.
	Protocol int `yaml:"protocol" json:"protocol"`
	// Capabilities are the host services the plugin may call (audit.write,
	// settings.read, …). A call to an undeclared service is refused.
	Capabilities []string  `yaml:"capabilities,omitempty" json:"capabilities,omitempty"`
	Routes       []Route   `yaml:"routes,omitempty" json:"routes,omitempty"`
	Menus        []Menu    `yaml:"menus,omitempty" json:"menus,omitempty"`
	Entities     []Entity  `yaml:"entities,omitempty" json:"entities,omitempty"`
	Tasks        []Task    `yaml:"tasks,omitempty" json:"tasks,omitempty"`
	Processes    []Process `yaml:"processes,omitempty" json:"processes,omitempty"`
	Policies     []Policy  `yaml:"policies,omitempty" json:"policies,omitempty"`
	// I18n holds message bundles per language: key → text. Keys are namespaced
	// by plugin id at the host.
	I18n      map[string]map[string]string `yaml:"i18n,omitempty" json:"i18n,omitempty"`
	Events    Events                       `yaml:"events,omitempty" json:"events,omitempty"`
	Documents []Document                   `yaml:"documents,omitempty" json:"documents,omitempty"`
	Jobs      []Job                        `yaml:"jobs,omitempty" json:"jobs,omitempty"`
}

// Audience is who may call a route.
type Audience string

// Audiences.
const (
	AudienceStaff      Audience = "staff"
	AudienceEnterprise Audience = "enterprise"
	AudiencePublic     Audience = "public"
	AudienceAnonymous  Audience = "anonymous"
)

// Route is one HTTP route, relative to /api/plugins/<id>. Path segments in
// braces are parameters: /cases/{id}.
type Route struct {
	Method string `yaml:"method" json:"method"`
	Path   string `yaml:"path" json:"path"`
	// Permission is the action checked by policy before the plugin is called
	// (e.g. enforcement.case.read). Required unless the audience is anonymous.
	Permission string `yaml:"permission,omitempty" json:"permission,omitempty"`
	// Audience lists who may call the route at all.
	Audience []Audience `yaml:"audience" json:"audience"`
	// BodyLimit overrides the host's default request body limit, in bytes
	// (at most 1 GiB). Bodies over 64 KiB, or of unknown length, are streamed
	// to the plugin in chunks.
	BodyLimit int64 `yaml:"body_limit,omitempty" json:"body_limit,omitempty"`
	// Stream sends the response to the caller as the plugin writes it
	// (downloads, server-sent events); the handler's ResponseWriter is then an
	// http.Flusher.
	Stream bool `yaml:"stream,omitempty" json:"stream,omitempty"`
	// Timeout overrides the host's route timeout ("10s").
	Timeout string `yaml:"timeout,omitempty" json:"timeout,omitempty"`
}

// Menu is one menu entry, placed by keys, never by numeric ids.
type Menu struct {
	Key        string            `yaml:"key" json:"key"`
	Parent     string            `yaml:"parent,omitempty" json:"parent,omitempty"`
	Title      map[string]string `yaml:"title" json:"title"`
	Icon       string            `yaml:"icon,omitempty" json:"icon,omitempty"`
	Path       string            `yaml:"path,omitempty" json:"path,omitempty"`
	Permission string            `yaml:"permission,omitempty" json:"permission,omitempty"`
	Audience   []Audience        `yaml:"audience,omitempty" json:"audience,omitempty"`
	Order      int               `yaml:"order,omitempty" json:"order,omitempty"`
	// Module is an ES module under the bundle's web/ folder (e.g. stats.js)
	// that renders this entry's page, for pages the entity schemas cannot
	// express. Its default export is mount(element, context) (docs/ui.md).
	Module string `yaml:"module,omitempty" json:"module,omitempty"`
}

// Entity describes one of the plugin's record types for generic pages, search,
// policy and audit. The plugin owns the table; the host keeps the descriptor.
type Entity struct {
	Name   string            `yaml:"name" json:"name"`
	Title  map[string]string `yaml:"title" json:"title"`
	Schema map[string]any    `yaml:"schema" json:"schema"` // JSON Schema of one record
	// Views tell the shell how to show the records (docs/ui.md): list, form
	// (a UI schema), create (false hides the New button) and detail. They
	// travel to the shell as written; only detail is checked here (see
	// DetailView), the others are free-form.
	Views map[string]any `yaml:"views,omitempty" json:"views,omitempty"`
}

// DetailView is an entity's views.detail: how the shell lays out the page of
// one record. Every part is optional. Declaring it (even empty) also makes
// the list link each record to <list path>/<id>, so that path must be a GET
// route answering the record.
//
//	views:
//	  detail:
//	    tabs:
//	      - {title: {zh-CN: 案件信息, en: Case}, fields: [number, cause, status]}
//	      - {title: {zh-CN: 当事人, en: Party}, fields: [party_name, party_id]}
//	    attachments: documents   # a record field: [{file_id, name}], [{document_id, number, type}] or [ids]
//	    timeline: instance_id    # a record field: the id of a host process instance
type DetailView struct {
	// Tabs group the record's fields, in order. Every field must be a
	// property of the entity's schema; Parse refuses unknown names. Without
	// tabs the shell shows one "基本信息/Details" tab with every property of
	// the schema except the attachments and timeline fields.
	Tabs []DetailTab `yaml:"tabs,omitempty" json:"tabs,omitempty"`
	// Attachments names the record field holding the record's files, shown
	// as an "附件/Attachments" tab with download links. Each element is a
	// host file id, an object with file_id (and name) downloaded through
	// /api/v1/files/<id>/content, or a host official document (document_id,
	// with number and type) downloaded through /api/v1/documents/<id>/content
	// — a document's PDF belongs to the plugin that issued it, which the
	// files API never serves. The field need not be in the schema.
	Attachments string `yaml:"attachments,omitempty" json:"attachments,omitempty"`
	// Timeline names the record field holding the id of a host process
	// instance, shown as a "流程/Timeline" tab from the workbench's instance
	// view (who, when, what, why). The field need not be in the schema.
	Timeline string `yaml:"timeline,omitempty" json:"timeline,omitempty"`
}

// DetailTab is one tab of a record's page.
type DetailTab struct {
	Title  map[string]string `yaml:"title" json:"title"`
	Fields []string          `yaml:"fields" json:"fields"`
}

// Action is one of an entity's views.actions: a button on a record's page
// (and, with bulk, on the list for the selected records) that POSTs to one
// of the plugin's routes, with a form when the route takes a body.
//
//	views:
//	  actions:
//	    - name: notice
//	      title: {zh-CN: 告知, en: Notify}
//	      route: "/cases/{id}/notice"        # a POST route the manifest declares
//	      when: {field: status, in: [investigating]}
//	      form: {type: object, required: [facts], properties: {facts: {type: string, title: 违法事实}}}
type Action struct {
	Name  string            `yaml:"name" json:"name"`
	Title map[string]string `yaml:"title" json:"title"`
	// Route is the path of a POST route of the manifest, with {id} standing
	// for the record's id.
	Route string `yaml:"route" json:"route"`
	// When shows the action only on records whose field has one of the
	// values; nil shows it always.
	When *ActionWhen `yaml:"when,omitempty" json:"when,omitempty"`
	// Form is the JSON Schema of the body (with the same UI conventions as a
	// create form); nil posts an empty object.
	Form map[string]any `yaml:"form,omitempty" json:"form,omitempty"`
	// Bulk offers the action for the records selected in the list.
	Bulk bool `yaml:"bulk,omitempty" json:"bulk,omitempty"`
	// Confirm asks before posting an action without a form.
	Confirm map[string]string `yaml:"confirm,omitempty" json:"confirm,omitempty"`
}

// ActionWhen is an action's condition on the record.
type ActionWhen struct {
	Field string `yaml:"field" json:"field"`
	In    []any  `yaml:"in" json:"in"`
}

// Actions are the entity's views.actions. On a manifest from Parse it does
// not fail: Parse has checked them.
func (e *Entity) Actions() ([]Action, error) {
	raw, ok := e.Views["actions"]
	if !ok || raw == nil {
		return nil, nil
	}
	b, err := yaml.Marshal(raw)
	if err != nil {
		return nil, fmt.Errorf("manifest: entity %s: views.actions: %w", e.Name, err)
	}
	var as []Action
	dec := yaml.NewDecoder(bytes.NewReader(b))
	dec.KnownFields(true)
	if err := dec.Decode(&as); err != nil {
		return nil, fmt.Errorf("manifest: entity %s: views.actions: %w", e.Name, err)
	}
	return as, nil
}

// Detail is the entity's views.detail, or nil when it declares none. On a
// manifest from Parse it does not fail: Parse has checked the declaration.
func (e *Entity) Detail() (*DetailView, error) {
	raw, ok := e.Views["detail"]
	if !ok || raw == nil {
		return nil, nil
	}
	b, err := yaml.Marshal(raw)
	if err != nil {
		return nil, fmt.Errorf("manifest: entity %s: views.detail: %w", e.Name, err)
	}
	var d DetailView
	dec := yaml.NewDecoder(bytes.NewReader(b))
	dec.KnownFields(true)
	if err := dec.Decode(&d); err != nil {
		return nil, fmt.Errorf("manifest: entity %s: views.detail: %w", e.Name, err)
	}
	return &d, nil
}

// properties are the names of the entity schema's properties.
func (e *Entity) properties() map[string]bool {
	props, _ := e.Schema["properties"].(map[string]any)
	out := make(map[string]bool, len(props))
	for k := range props {
		out[k] = true
	}
	return out
}

// Task is a task type the plugin creates in the unified workbench.
type Task struct {
	Type  string            `yaml:"type" json:"type"`
	Title map[string]string `yaml:"title" json:"title"`
	// Page is the plugin page that opens the task (relative path).
	Page string `yaml:"page,omitempty" json:"page,omitempty"`
}

// Process is a process definition the plugin declares (node tree).
type Process struct {
	Key        string            `yaml:"key" json:"key"`
	Title      map[string]string `yaml:"title" json:"title"`
	Definition map[string]any    `yaml:"definition" json:"definition"`
}

// Policy is a Rego module, loaded under data.plugins.<id>.
type Policy struct {
	Name string `yaml:"name" json:"name"`
	Rego string `yaml:"rego" json:"rego"`
}

// Events lists event types the plugin publishes and subscribes to.
type Events struct {
	Publishes  []string `yaml:"publishes,omitempty" json:"publishes,omitempty"`
	Subscribes []string `yaml:"subscribes,omitempty" json:"subscribes,omitempty"`
}

// Document is an official-document template the plugin contributes.
type Document struct {
	Type     string            `yaml:"type" json:"type"`
	Title    map[string]string `yaml:"title" json:"title"`
	Template string            `yaml:"template" json:"template"`
}

// Job is a scheduled job the host triggers.
type Job struct {
	Name     string `yaml:"name" json:"name"`
	Schedule string `yaml:"schedule" json:"schedule"` // cron expression
}
