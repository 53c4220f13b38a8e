// Package policy decides who may do what, with OPA embedded (v1/rego,
// prepared queries, no network). The host's base policy (base.rego) and each
// plugin's Rego modules (under data.plugins.<id>, which may only restrict)
// answer every route, menu and plugin→host decision; list filters are compiled
// from filter.rego with the record unknown (v1/rego/compile, UCAST) so that
// plugins scope their queries by jurisdiction without hand-written rules.
//
// Invariants: decisions fail closed (an evaluation error denies); a set of
// modules that does not compile is refused with the compiler's message and
// the previous set stays active; every change bumps the version, which keys
// the filter cache.
package policy

import (
	"context"
	_ "embed"
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"sort"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"

	"github.com/open-policy-agent/opa/v1/ast"
	"github.com/open-policy-agent/opa/v1/rego"
	"github.com/open-policy-agent/opa/v1/rego/compile"
)

//go:embed base.rego
var baseRego string

//go:embed filter.rego
var filterRego string

// Subject is the caller as policies see it.
type Subject struct {
	Audience     string   `json:"audience"`
	Username     string   `json:"username"`
	Roles        []string `json:"roles"`
	Permissions  []string `json:"permissions"`
	OrgPath      string   `json:"org_path"`
	Jurisdiction string   `json:"jurisdiction"`
	// DataScopes are the role data scopes (all, subtree, own_level, own,
	// custom); none means subtree.
	DataScopes []string `json:"data_scopes,omitempty"`
	// CustomRoots are the organisation paths of custom-scope roles.
	CustomRoots []string `json:"custom_roots,omitempty"`
}

// ScopeRoot is the organisation subtree a district or station user may reach:
// the first two or three segments of their organisation path ("" for the city
// level and for anyone else).
func (s Subject) ScopeRoot() string {
	depth := 0
	switch s.Jurisdiction {
	case "district":
		depth = 2
	case "station":
		depth = 3
	default:
		return ""
	}
	parts := strings.Split(strings.TrimPrefix(s.OrgPath, "/"), "/")
	if len(parts) < depth || s.OrgPath == "" {
		return "/" // malformed path: scope to nothing real
	}
	return "/" + strings.Join(parts[:depth], "/")
}

// Input is one question: may Subject do Action (on Resource, through Plugin)?
type Input struct {
	Subject  Subject        `json:"subject"`
	Action   string         `json:"action"`
	Resource map[string]any `json:"resource,omitempty"`
	Plugin   string         `json:"plugin,omitempty"`
}

// Decision is the answer, with a reason for the audit log.
type Decision struct {
	Allow  bool   `json:"allow"`
	Reason string `json:"reason"`
}

// Engine holds the active policy set.
type Engine struct {
	mu      sync.Mutex // serialises changes
	current atomic.Pointer[compiled]
	filters sync.Map // filterKey → *Filter
	// decisions caches Decide by (version, input); cleared on every change and
	// when it holds maxCachedDecisions entries.
	decisions sync.Map
	cached    atomic.Int64
}

// maxCachedDecisions bounds the decision cache (a few MB at most).
const maxCachedDecisions = 50_000

type compiled struct {
	version int
	// cacheable is false when a module calls a builtin whose answer can
	// change for the same input (time.now_ns, http.send, rand …).
	cacheable bool
	modules   map[string]string // file name → source
	// allow is the hot path; reason is evaluated only to explain a denial.
	allow, reason rego.PreparedEvalQuery
	filter        *compile.Prepared
}

// Module names: "host/base.rego", "host/filter.rego", "plugins/<id>/<name>.rego".
const hostPrefix = "host/"

// New compiles the base policy.
func New(ctx context.Context) (*Engine, error) {
	e := &Engine{}
	if err := e.install(ctx, map[string]string{hostPrefix + "base.rego": baseRego, hostPrefix + "filter.rego": filterRego}); err != nil {
		return nil, err
	}
	return e, nil
}

// ErrCompile wraps the compiler's message for a refused module set.
var ErrCompile = errors.New("policy: does not compile")

func (e *Engine) install(ctx context.Context, modules map[string]string) error {
	names := make([]string, 0, len(modules))
	for n := range modules {
		names = append(names, n)
	}
	sort.Strings(names)
	var parsed []func(*rego.Rego)
	cacheable := true
	for _, n := range names {
		m, err := ast.ParseModuleWithOpts(n, modules[n], ast.ParserOptions{RegoVersion: ast.RegoV1})
		if err != nil {
			return fmt.Errorf("%w: %v", ErrCompile, err)
		}
		cacheable = cacheable && deterministic(m)
		parsed = append(parsed, rego.ParsedModule(m))
	}
	allow, err := rego.New(append([]func(*rego.Rego){rego.Query("data.portal.authz.allow")}, parsed...)...).PrepareForEval(ctx)
	if err != nil {
		return fmt.Errorf("%w: %v", ErrCompile, err)
	}
	reason, err := rego.New(append([]func(*rego.Rego){rego.Query("data.portal.authz.reason")}, parsed...)...).PrepareForEval(ctx)
	if err != nil {
		return fmt.Errorf("%w: %v", ErrCompile, err)
	}
	filter, err := compile.New(
		compile.ParsedQuery(ast.MustParseBody("data.portal.filter.include")),
		compile.ParsedUnknowns(ast.MustParseTerm("input.resource")),
		compile.Target("ucast", "all"),
		compile.Rego(parsed...),
	).Prepare(ctx)
	if err != nil {
		return fmt.Errorf("%w: %v", ErrCompile, err)
	}
	version := 1
	if c := e.current.Load(); c != nil {
		version = c.version + 1
	}
	e.current.Store(&compiled{version: version, cacheable: cacheable, modules: modules, allow: allow, reason: reason, filter: filter})
	e.filters.Clear()
	e.decisions.Clear()
	e.cached.Store(0)
	return nil
}

// deterministic reports whether m calls only builtins whose result depends on
// their arguments alone, so that its decisions may be cached by input.
func deterministic(m *ast.Module) bool {
	ok := true
	check := func(name string) {
		if b, found := ast.BuiltinMap[name]; found && b.Nondeterministic || strings.HasPrefix(name, "time.now") {
			ok = false
		}
	}
	ast.WalkExprs(m, func(x *ast.Expr) bool {
		if x.IsCall() {
			check(x.Operator().String())
		}
		return false
	})
	ast.WalkTerms(m, func(t *ast.Term) bool {
		if c, isCall := t.Value.(ast.Call); isCall && len(c) > 0 {
			check(c[0].Value.String())
		}
		return false
	})
	return ok
}

// Version is the active policy set's version.
func (e *Engine) Version() int { return e.current.Load().version }

// Modules returns the active modules by name.
func (e *Engine) Modules() map[string]string {
	out := map[string]string{}
	for k, v := range e.current.Load().modules {
		out[k] = v
	}
	return out
}

// PluginModules returns plugin id's modules by their names in the manifest.
func (e *Engine) PluginModules(id string) map[string]string {
	prefix := "plugins/" + id + "/"
	out := map[string]string{}
	for k, v := range e.current.Load().modules {
		if name, ok := strings.CutPrefix(k, prefix); ok {
			out[name] = v
		}
	}
	return out
}

// SetPluginModules replaces plugin id's modules (nil removes them). Each
// module's package must be plugins.<id> or below. On any error nothing changes.
func (e *Engine) SetPluginModules(ctx context.Context, id string, modules map[string]string) error {
	e.mu.Lock()
	defer e.mu.Unlock()
	next := map[string]string{}
	prefix := "plugins/" + id + "/"
	for k, v := range e.current.Load().modules {
		if !strings.HasPrefix(k, prefix) {
			next[k] = v
		}
	}
	want := ast.MustParseRef("data.plugins." + strings.ReplaceAll(id, "-", "_"))
	for name, src := range modules {
		m, err := ast.ParseModuleWithOpts(name, src, ast.ParserOptions{RegoVersion: ast.RegoV1})
		if err != nil {
			return fmt.Errorf("%w: %s: %v", ErrCompile, name, err)
		}
		if !m.Package.Path.HasPrefix(want) {
			return fmt.Errorf("%w: %s: package %s is outside %s", ErrCompile, name, m.Package.Path, want)
		}
		next[prefix+name] = src
	}
	return e.install(ctx, next)
}

// SetHostModule replaces one of the host's modules (administrators publish a
// new version at run time). A module that does not compile is refused.
func (e *Engine) SetHostModule(ctx context.Context, name, src string) error {
	e.mu.Lock()
	defer e.mu.Unlock()
	next := e.Modules()
	next[hostPrefix+name] = src
	return e.install(ctx, next)
}

// OnOrg is the input for subject taking action on a record of the
// organisation at orgPath — the question every scoped record asks.
func OnOrg(subject Subject, action, orgPath string) Input {
	return Input{Subject: subject, Action: action, Resource: map[string]any{"org_path": orgPath}}
}

// Allows reports whether the decision on in allows. A nil engine allows
// nothing: fail closed.
func (e *Engine) Allows(ctx context.Context, in Input) bool {
	return e != nil && e.Decide(ctx, in).Allow
}

// Decide evaluates one decision. Errors deny. Decisions are cached by policy
// version and complete input unless a module is time- or chance-dependent.
func (e *Engine) Decide(ctx context.Context, in Input) Decision {
	c := e.current.Load()
	var key string
	if c.cacheable {
		b, err := json.Marshal(in)
		if err == nil {
			key = strconv.Itoa(c.version) + "|" + string(b)
			if d, ok := e.decisions.Load(key); ok {
				return d.(Decision)
			}
		}
	}
	d := e.decide(ctx, c, in)
	if key != "" {
		if e.cached.Add(1) > maxCachedDecisions {
			e.decisions.Clear()
			e.cached.Store(0)
		}
		e.decisions.Store(key, d)
	}
	return d
}

func (e *Engine) decide(ctx context.Context, c *compiled, in Input) Decision {
	input, err := ast.InterfaceToValue(in.value())
	if err != nil {
		return Decision{Reason: fmt.Sprintf("policy error: %v", err)}
	}
	rs, err := c.allow.Eval(ctx, rego.EvalParsedInput(input))
	if err != nil || len(rs) != 1 || len(rs[0].Expressions) != 1 {
		return Decision{Reason: fmt.Sprintf("policy error: %v", err)}
	}
	if allow, _ := rs[0].Expressions[0].Value.(bool); allow {
		return Decision{Allow: true, Reason: "allowed"}
	}
	reason := "denied"
	if rs, err := c.reason.Eval(ctx, rego.EvalParsedInput(input)); err == nil && len(rs) == 1 && len(rs[0].Expressions) == 1 {
		if r, ok := rs[0].Expressions[0].Value.(string); ok {
			reason = r
		}
	}
	return Decision{Reason: reason}
}

// value renders the input as plain JSON-like values for OPA.
func (in Input) value() map[string]any {
	s := in.Subject
	perms := make([]any, len(s.Permissions))
	for i, p := range s.Permissions {
		perms[i] = p
	}
	roles := make([]any, len(s.Roles))
	for i, r := range s.Roles {
		roles[i] = r
	}
	root := s.ScopeRoot()
	prefix := ""
	if root != "" {
		prefix = root + "/"
	}
	scopes := []any{"subtree"}
	if len(s.DataScopes) > 0 {
		scopes = make([]any, len(s.DataScopes))
		for i, d := range s.DataScopes {
			scopes[i] = d
		}
	}
	custom := make([]any, len(s.CustomRoots))
	for i, c := range s.CustomRoots {
		custom[i] = c
	}
	v := map[string]any{
		"subject": map[string]any{"audience": s.Audience, "username": s.Username, "roles": roles,
			"permissions": perms, "org_path": s.OrgPath, "jurisdiction": s.Jurisdiction,
			"scope_root": root, "scope_prefix": prefix, "data_scopes": scopes, "custom_roots": custom},
		"action": in.Action,
	}
	if in.Resource != nil {
		v["resource"] = in.Resource
	}
	if in.Plugin != "" {
		v["plugin"] = strings.ReplaceAll(in.Plugin, "-", "_")
	}
	return v
}

// Filter is a compiled list filter.
type Filter struct {
	// All means no condition: every record. None means no record at all.
	All, None bool
	// UCAST is the condition tree when neither All nor None.
	UCAST map[string]any
}

// ListFilter compiles the list filter for a subject, cached per policy version
// and subject shape (jurisdiction, organisation path, data scopes, and the
// username only when the "own" scope uses it).
func (e *Engine) ListFilter(ctx context.Context, s Subject) (*Filter, error) {
	c := e.current.Load()
	who := "" // the username shapes the filter only through the "own" scope
	if slices.Contains(s.DataScopes, "own") {
		who = s.Username
	}
	key := fmt.Sprintf("%d|%s|%s|%s|%v|%v", c.version, s.Jurisdiction, s.OrgPath, who, s.DataScopes, s.CustomRoots)
	if f, ok := e.filters.Load(key); ok {
		return f.(*Filter), nil
	}
	fs, err := c.filter.Compile(ctx, rego.EvalInput(Input{Subject: s}.value()))
	if err != nil {
		return nil, fmt.Errorf("policy: compile filter: %w", err)
	}
	f := &Filter{}
	q := fs.For("ucast", "all").Query
	switch v := q.(type) {
	case nil:
		f.None = true
	case map[string]any:
		if len(v) == 0 {
			f.All = true
		} else {
			f.UCAST = v
		}
	default:
		return nil, fmt.Errorf("policy: unexpected filter %T", q)
	}
	e.filters.Store(key, f)
	return f, nil
}
