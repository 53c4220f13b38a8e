package manifest

import (
	"bytes"
	_ "embed"
	"errors"
	"fmt"
	"io"
	"maps"
	"net/http"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/Masterminds/semver/v3"
	"github.com/santhosh-tekuri/jsonschema/v6"
	"github.com/santhosh-tekuri/jsonschema/v6/kind"
	"golang.org/x/text/language"
	"golang.org/x/text/message"
	"gopkg.in/yaml.v3"
)

// Schema is plugin.schema.json, the published JSON Schema (draft 2020-12) of
// plugin.yaml. Editors and CI can validate against it; Parse does, then adds
// the checks listed in its doc comment. Read it; do not change it.
//
//go:embed plugin.schema.json
var Schema []byte

// ErrInvalid is wrapped by every error Parse returns: the data is not a valid
// plugin.yaml. The error is a *ValidationError listing each problem.
var ErrInvalid = errors.New("manifest: invalid plugin.yaml")

// ValidationError lists everything wrong with a plugin.yaml at once, so that a
// plugin team fixes their manifest in one round. Each problem starts with the
// path of the offending field (routes[2].permission, name["zh-CN"], or (root)),
// then a colon and what is wrong. Problems are sorted by path.
type ValidationError struct {
	Problems []string
}

func (e *ValidationError) Error() string {
	return fmt.Sprintf("%v: %s", ErrInvalid, strings.Join(e.Problems, "; "))
}

// Unwrap makes errors.Is(err, ErrInvalid) true.
func (e *ValidationError) Unwrap() error { return ErrInvalid }

// schemaURL is the $id of plugin.schema.json; nothing is fetched from it.
const schemaURL = "https://github.com/shanghai-amr/portal/sdk/manifest/plugin.schema.json"

// compiled is built once while the package initialises and only read after;
// a schema that does not compile is a programming error caught by any test.
var compiled = compileSchema()

func compileSchema() *jsonschema.Schema {
	doc, err := jsonschema.UnmarshalJSON(bytes.NewReader(Schema))
	if err != nil {
		panic("manifest: plugin.schema.json: " + err.Error())
	}
	c := jsonschema.NewCompiler()
	c.DefaultDraft(jsonschema.Draft2020)
	if err := c.AddResource(schemaURL, doc); err != nil {
		panic("manifest: plugin.schema.json: " + err.Error())
	}
	s, err := c.Compile(schemaURL)
	if err != nil {
		panic("manifest: plugin.schema.json: " + err.Error())
	}
	return s
}

// Parse reads a plugin.yaml. It validates the YAML against Schema, decodes it
// into a Manifest refusing unknown fields, and then checks what the schema
// cannot express:
//
//   - version is a semantic version and host a semver range;
//   - no two routes share a method and path (parameter names do not count:
//     /cases/{id} and /cases/{caseID} are the same route);
//   - a route open to anyone but anonymous callers names a permission;
//   - a route timeout is positive;
//   - menu keys, entity names, task types, process keys, policy names,
//     document types and job names are each unique;
//   - no menu is its own ancestor;
//   - the tabs of an entity's detail view (views.detail) name properties of
//     the entity's schema.
//
// On failure the error is a *ValidationError carrying every problem found and
// wrapping ErrInvalid. A problem the schema reports hides the semantic
// problems at the same path, so each mistake is reported once.
func Parse(data []byte) (*Manifest, error) {
	doc, err := decodeGeneric(data)
	if err != nil {
		ps := problems{}
		ps.add(nil, err.Error())
		return nil, ps.err(nil)
	}
	ps := problems{}
	if err := compiled.Validate(doc); err != nil {
		var ve *jsonschema.ValidationError
		if !errors.As(err, &ve) {
			ps.add(nil, err.Error())
			return nil, ps.err(doc)
		}
		ps.addSchema(ve, message.NewPrinter(language.English))
	}
	var m Manifest
	dec := yaml.NewDecoder(bytes.NewReader(data))
	dec.KnownFields(true)
	if err := dec.Decode(&m); err != nil {
		// The schema mirrors the struct, so it has normally said why already.
		if len(ps) == 0 {
			ps.add(nil, err.Error())
		}
		return nil, ps.err(doc)
	}
	m.check(&ps)
	if len(ps) > 0 {
		return nil, ps.err(doc)
	}
	return &m, nil
}

// Marshal encodes the manifest as YAML that Parse accepts. The build uses it to
// stamp the release version into the bundled plugin.yaml, and the SDK to serve
// the stamped manifest, so both produce the same bytes.
func (m *Manifest) Marshal() ([]byte, error) {
	var b bytes.Buffer
	enc := yaml.NewEncoder(&b)
	enc.SetIndent(2)
	if err := enc.Encode(m); err != nil {
		return nil, fmt.Errorf("manifest: marshal: %w", err)
	}
	if err := enc.Close(); err != nil {
		return nil, fmt.Errorf("manifest: marshal: %w", err)
	}
	return b.Bytes(), nil
}

// decodeGeneric turns YAML into the JSON data model the schema validator
// understands: objects with string keys, arrays, strings, numbers, booleans
// and null.
func decodeGeneric(data []byte) (any, error) {
	dec := yaml.NewDecoder(bytes.NewReader(data))
	var v any
	if err := dec.Decode(&v); err != nil {
		if errors.Is(err, io.EOF) {
			return nil, errors.New("empty document")
		}
		return nil, err
	}
	var extra any
	if err := dec.Decode(&extra); !errors.Is(err, io.EOF) {
		return nil, errors.New("more than one YAML document")
	}
	return jsonValue(v), nil
}

func jsonValue(v any) any {
	switch v := v.(type) {
	case map[string]any:
		for k, e := range v {
			v[k] = jsonValue(e)
		}
		return v
	case map[any]any:
		// YAML allows keys such as 404 or true; the typed decode reads them
		// into string-keyed maps, so the schema sees them as strings too.
		o := make(map[string]any, len(v))
		for k, e := range v {
			o[fmt.Sprint(k)] = jsonValue(e)
		}
		return o
	case []any:
		for i, e := range v {
			v[i] = jsonValue(e)
		}
		return v
	default:
		return v
	}
}

// problem is one finding, located by the tokens of its JSON pointer.
type problem struct {
	loc []string
	msg string
}

type problems []problem

func (ps *problems) add(loc []string, msg string) {
	*ps = append(*ps, problem{loc: slices.Clone(loc), msg: msg})
}

// addUnlessKnown adds a semantic problem unless the schema already reported
// one at loc or at a field containing it.
func (ps *problems) addUnlessKnown(loc []string, msg string) {
	for _, p := range *ps {
		if len(p.loc) <= len(loc) && slices.Equal(p.loc, loc[:len(p.loc)]) {
			return
		}
	}
	ps.add(loc, msg)
}

// within reports whether a problem is known at loc or at a field inside it.
func (ps *problems) within(loc []string) bool {
	for _, p := range *ps {
		if len(p.loc) >= len(loc) && slices.Equal(p.loc[:len(loc)], loc) {
			return true
		}
	}
	return false
}

// addSchema flattens the validator's error tree into its leaves, the only
// nodes that say what is wrong with a particular field.
func (ps *problems) addSchema(e *jsonschema.ValidationError, p *message.Printer) {
	if len(e.Causes) > 0 {
		for _, c := range e.Causes {
			ps.addSchema(c, p)
		}
		return
	}
	switch k := e.ErrorKind.(type) {
	case *kind.Required:
		for _, name := range k.Missing {
			ps.add(append(slices.Clone(e.InstanceLocation), name), "is required")
		}
	case *kind.AdditionalProperties:
		msg := "is not a known field"
		if languageKeyed(e.SchemaURL) {
			msg = "is not a language tag (zh-CN, en)"
		}
		for _, name := range k.Properties {
			ps.add(append(slices.Clone(e.InstanceLocation), name), msg)
		}
	case *kind.Pattern:
		ps.add(e.InstanceLocation, fmt.Sprintf("%q %s", k.Got, patternHint(e.SchemaURL, k.Want)))
	default:
		ps.add(e.InstanceLocation, k.LocalizedString(p))
	}
}

// patternHint says in words what the schema's regular expressions ask for;
// schemaLoc is the location of the schema holding the pattern.
func patternHint(schemaLoc, pattern string) string {
	_, ptr, _ := strings.Cut(schemaLoc, "#")
	switch {
	case ptr == "/properties/id":
		return "is not a plugin id: a lower-case letter, then 1 to 31 lower-case letters, digits or hyphens"
	case ptr == "/$defs/semver":
		return "is not a semantic version (1.4.0, 2.0.0-rc.1)"
	case ptr == "/$defs/key":
		return "is not a dotted lower-case key (enforcement.case.read)"
	case ptr == "/$defs/relativePath":
		return "is not a path starting with / without spaces, ? or #"
	case ptr == "/$defs/recordField":
		return "is not a field name: a letter or underscore, then letters, digits or underscores (party_name)"
	case strings.HasSuffix(ptr, "/timeout"):
		return "is not a duration (10s, 1m30s)"
	case strings.HasSuffix(ptr, "/name"):
		return "is not a lower-case name (case_file)"
	default:
		return "does not match " + pattern
	}
}

// err sorts the problems by location, drops repeats and formats them against
// doc, which tells array indexes from object keys.
func (ps problems) err(doc any) error {
	slices.SortStableFunc(ps, func(a, b problem) int { return compareLoc(a.loc, b.loc) })
	var out []string
	for _, p := range ps {
		s := formatLoc(doc, p.loc) + ": " + p.msg
		if !slices.Contains(out, s) {
			out = append(out, s)
		}
	}
	return &ValidationError{Problems: out}
}

func compareLoc(a, b []string) int {
	for i := range min(len(a), len(b)) {
		x, errX := strconv.Atoi(a[i])
		y, errY := strconv.Atoi(b[i])
		if errX == nil && errY == nil {
			if x != y {
				return x - y
			}
			continue
		}
		if c := strings.Compare(a[i], b[i]); c != 0 {
			return c
		}
	}
	return len(a) - len(b)
}

var plainKey = regexp.MustCompile(`^[A-Za-z_][A-Za-z0-9_-]*$`)

// formatLoc writes a location the way a person points at a YAML field:
// routes[2].permission, name.zh-CN, i18n.en["case.title"].
func formatLoc(doc any, loc []string) string {
	if len(loc) == 0 {
		return "(root)"
	}
	var b strings.Builder
	cur := doc
	for _, tok := range loc {
		if arr, ok := cur.([]any); ok {
			b.WriteString("[" + tok + "]")
			if i, err := strconv.Atoi(tok); err == nil && i >= 0 && i < len(arr) {
				cur = arr[i]
			} else {
				cur = nil
			}
			continue
		}
		if obj, ok := cur.(map[string]any); ok {
			cur = obj[tok]
		} else {
			cur = nil
		}
		if plainKey.MatchString(tok) {
			if b.Len() > 0 {
				b.WriteByte('.')
			}
			b.WriteString(tok)
		} else {
			b.WriteString("[" + strconv.Quote(tok) + "]")
		}
	}
	return b.String()
}

// check adds the problems the schema cannot see.
func (m *Manifest) check(ps *problems) {
	if _, err := semver.StrictNewVersion(m.Version); err != nil {
		ps.addUnlessKnown([]string{"version"}, fmt.Sprintf("%q is not a semantic version (1.4.0, 2.0.0-rc.1)", m.Version))
	}
	if _, err := semver.NewConstraint(m.Host); err != nil {
		ps.addUnlessKnown([]string{"host"}, fmt.Sprintf("%q is not a version range (\">=0.1.0 <2.0.0\"): %v", m.Host, err))
	}

	routes := map[string]int{}
	for i, r := range m.Routes {
		at := func(field ...string) []string {
			return append([]string{"routes", strconv.Itoa(i)}, field...)
		}
		key := r.Method + " " + routePattern(r.Path)
		if j, dup := routes[key]; dup {
			ps.addUnlessKnown(at("path"), fmt.Sprintf("%s %s is already declared by routes[%d]", r.Method, r.Path, j))
		} else {
			routes[key] = i
		}
		if r.Permission == "" && len(r.Audience) > 0 && !onlyAnonymous(r.Audience) {
			ps.addUnlessKnown(at("permission"), "is required unless the audience is only anonymous")
		}
		if r.Timeout != "" {
			if d, err := time.ParseDuration(r.Timeout); err != nil || d <= 0 {
				ps.addUnlessKnown(at("timeout"), fmt.Sprintf("%q is not a positive duration (10s, 1m30s)", r.Timeout))
			}
		}
	}

	unique(ps, "menus", "key", len(m.Menus), func(i int) string { return m.Menus[i].Key })
	unique(ps, "entities", "name", len(m.Entities), func(i int) string { return m.Entities[i].Name })
	unique(ps, "tasks", "type", len(m.Tasks), func(i int) string { return m.Tasks[i].Type })
	unique(ps, "processes", "key", len(m.Processes), func(i int) string { return m.Processes[i].Key })
	unique(ps, "policies", "name", len(m.Policies), func(i int) string { return m.Policies[i].Name })
	unique(ps, "documents", "type", len(m.Documents), func(i int) string { return m.Documents[i].Type })
	unique(ps, "jobs", "name", len(m.Jobs), func(i int) string { return m.Jobs[i].Name })
	m.checkMenuTree(ps)
	m.checkDetailViews(ps)
	m.checkActions(ps)
}

// checkActions refuses an action whose route is not one of the manifest's
// POST routes, or whose condition names a field the schema does not have.
func (m *Manifest) checkActions(ps *problems) {
	posts := map[string]bool{}
	for _, r := range m.Routes {
		if r.Method == http.MethodPost {
			posts[r.Path] = true
		}
	}
	for i := range m.Entities {
		e := &m.Entities[i]
		at := []string{"entities", strconv.Itoa(i), "views", "actions"}
		as, err := e.Actions()
		if err != nil {
			if !ps.within(at) {
				ps.add(at, err.Error())
			}
			continue
		}
		props := e.properties()
		for j, a := range as {
			if !posts[a.Route] {
				ps.addUnlessKnown(append(slices.Clone(at), strconv.Itoa(j), "route"), fmt.Sprintf("%q is not a POST route of the manifest", a.Route))
			}
			if a.When != nil && !props[a.When.Field] {
				ps.addUnlessKnown(append(slices.Clone(at), strconv.Itoa(j), "when", "field"), fmt.Sprintf("%q is not a field of the entity's schema", a.When.Field))
			}
		}
	}
}

// checkDetailViews refuses a detail view whose tabs name fields the entity's
// schema does not have: the shell would show an empty row, and the mistake is
// usually a typo the plugin team wants to hear about at load.
func (m *Manifest) checkDetailViews(ps *problems) {
	for i := range m.Entities {
		e := &m.Entities[i]
		at := []string{"entities", strconv.Itoa(i), "views", "detail"}
		d, err := e.Detail()
		if err != nil {
			// The schema has said what is wrong inside views.detail.
			if !ps.within(at) {
				ps.add(at, err.Error())
			}
			continue
		}
		if d == nil {
			continue
		}
		props := e.properties()
		known := slices.Sorted(maps.Keys(props))
		for j, tab := range d.Tabs {
			for k, f := range tab.Fields {
				if props[f] {
					continue
				}
				msg := fmt.Sprintf("%q is not a field of the entity's schema (%s)", f, strings.Join(known, ", "))
				if len(known) == 0 {
					msg = fmt.Sprintf("%q is not a field of the entity's schema, which has no properties", f)
				}
				ps.addUnlessKnown(append(slices.Clone(at), "tabs", strconv.Itoa(j), "fields", strconv.Itoa(k)), msg)
			}
		}
	}
}

// unique reports every element of list whose field repeats an earlier one.
func unique(ps *problems, list, field string, n int, value func(int) string) {
	seen := make(map[string]int, n)
	for i := range n {
		v := value(i)
		if v == "" {
			continue // the schema reports it as missing
		}
		if j, dup := seen[v]; dup {
			ps.addUnlessKnown([]string{list, strconv.Itoa(i), field},
				fmt.Sprintf("%q is already used by %s[%d]", v, list, j))
			continue
		}
		seen[v] = i
	}
}

// checkMenuTree refuses parent chains among the plugin's own menus that loop,
// which would leave the host unable to place them.
func (m *Manifest) checkMenuTree(ps *problems) {
	parent := make(map[string]string, len(m.Menus))
	for _, mu := range m.Menus {
		if _, dup := parent[mu.Key]; !dup {
			parent[mu.Key] = mu.Parent
		}
	}
	for i, mu := range m.Menus {
		k := mu.Parent
		for range len(m.Menus) {
			if k == mu.Key {
				ps.addUnlessKnown([]string{"menus", strconv.Itoa(i), "parent"},
					fmt.Sprintf("menu %q is its own ancestor", mu.Key))
				break
			}
			next, ok := parent[k]
			if !ok {
				break
			}
			k = next
		}
	}
}

var pathParam = regexp.MustCompile(`\{[^/{}]*\}`)

// routePattern replaces parameter names, which do not change what a route
// matches.
func routePattern(p string) string {
	return pathParam.ReplaceAllString(p, "{}")
}

func onlyAnonymous(as []Audience) bool {
	for _, a := range as {
		if a != AudienceAnonymous {
			return false
		}
	}
	return true
}

// languageKeyed tells the schema's two language-keyed objects from the
// field-keyed ones, so an unknown key gets the right explanation.
func languageKeyed(schemaLoc string) bool {
	return strings.HasSuffix(schemaLoc, "#/$defs/texts") || strings.HasSuffix(schemaLoc, "#/properties/i18n")
}
