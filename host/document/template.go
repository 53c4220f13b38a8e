package document

import (
	"embed"
	"fmt"
	"io/fs"
	"regexp"
	"sort"
	"strings"
	"time"
	"unicode/utf8"

	"gopkg.in/yaml.v3"

	"github.com/shanghai-amr/portal/host/numbering"
)

// Template is one version of a document type: its fields and its layout.
type Template struct {
	Type      string  `yaml:"type" json:"type"`
	Version   int     `yaml:"version" json:"version"`
	Title     string  `yaml:"title" json:"title"`
	TitleEn   string  `yaml:"title_en" json:"title_en"`
	Numbering string  `yaml:"numbering" json:"numbering"` // 文号 pattern; empty: the type has no number
	Seal      string  `yaml:"seal" json:"seal"`           // seal purpose under the star, e.g. 行政处罚专用章; empty: the official seal
	Fields    []Field `yaml:"fields" json:"fields"`
	Blocks    []Block `yaml:"blocks" json:"blocks"`
}

// Field is one value a template needs.
type Field struct {
	Key      string `yaml:"key" json:"key"`
	Label    string `yaml:"label" json:"label"`
	LabelEn  string `yaml:"label_en" json:"label_en"`
	Required bool   `yaml:"required" json:"required"`
	Kind     string `yaml:"kind" json:"kind,omitempty"` // text (default), multiline, date (YYYY-MM-DD, printed 2026年1月2日)
}

// Block is one element of the layout.
type Block struct {
	// Kind is heading (issuing organisation and title), number (文号), line
	// (a line without first-line indent), paragraph (indented two characters),
	// table (label/value rows), signature (organisation, date and seal), note
	// (small print).
	Kind     string `yaml:"kind" json:"kind"`
	Text     string `yaml:"text,omitempty" json:"text,omitempty"`
	Indent   *int   `yaml:"indent,omitempty" json:"indent,omitempty"`
	Optional string `yaml:"optional,omitempty" json:"optional,omitempty"` // skip the block when this field is empty
	Date     string `yaml:"date,omitempty" json:"date,omitempty"`
	Rows     []Row  `yaml:"rows,omitempty" json:"rows,omitempty"`
}

// Row is one row of a table block.
type Row struct {
	Label    string `yaml:"label" json:"label"`
	Value    string `yaml:"value" json:"value"`
	MinLines int    `yaml:"min_lines,omitempty" json:"min_lines,omitempty"`
}

var (
	typePattern = regexp.MustCompile(`^[a-z][a-z0-9_]{1,63}$`)
	fieldRef    = regexp.MustCompile(`\{\{\s*([a-z][a-z0-9_]*)\s*\}\}`)
	blockKinds  = map[string]bool{"heading": true, "number": true, "line": true, "paragraph": true, "table": true, "signature": true, "note": true}
)

// Check validates a template: known block kinds, every {{field}} declared,
// a usable numbering rule, one signature block.
func (t *Template) Check() error {
	if !typePattern.MatchString(t.Type) {
		return fmt.Errorf("type %q: lower-case letters, digits and _", t.Type)
	}
	if t.Version < 1 {
		return fmt.Errorf("%s: version must be positive", t.Type)
	}
	if t.Title == "" || utf8.RuneCountInString(t.Title) > 40 {
		return fmt.Errorf("%s: a title of 1–40 characters is required", t.Type)
	}
	if t.Numbering != "" {
		if err := t.rule().Check(); err != nil {
			return fmt.Errorf("%s: numbering: %w", t.Type, err)
		}
	}
	declared := map[string]bool{}
	for _, f := range t.Fields {
		if !fieldRef.MatchString("{{" + f.Key + "}}") {
			return fmt.Errorf("%s: field key %q", t.Type, f.Key)
		}
		if declared[f.Key] {
			return fmt.Errorf("%s: field %q declared twice", t.Type, f.Key)
		}
		switch f.Kind {
		case "", "text", "multiline", "date":
		default:
			return fmt.Errorf("%s: field %s: unknown kind %q", t.Type, f.Key, f.Kind)
		}
		declared[f.Key] = true
	}
	signatures := 0
	for i, b := range t.Blocks {
		if !blockKinds[b.Kind] {
			return fmt.Errorf("%s: block %d: unknown kind %q", t.Type, i+1, b.Kind)
		}
		if b.Kind == "signature" {
			signatures++
		}
		if b.Kind == "number" && t.Numbering == "" {
			return fmt.Errorf("%s: block %d: a number block needs a numbering rule", t.Type, i+1)
		}
		texts := []string{b.Text, b.Date}
		for _, r := range b.Rows {
			texts = append(texts, r.Value)
		}
		for _, s := range texts {
			for _, m := range fieldRef.FindAllStringSubmatch(s, -1) {
				if !declared[m[1]] {
					return fmt.Errorf("%s: block %d uses undeclared field {{%s}}", t.Type, i+1, m[1])
				}
			}
		}
		if b.Optional != "" && !declared[b.Optional] {
			return fmt.Errorf("%s: block %d: optional names undeclared field %q", t.Type, i+1, b.Optional)
		}
	}
	if signatures != 1 {
		return fmt.Errorf("%s: exactly one signature block is required", t.Type)
	}
	return nil
}

// rule is the template's numbering rule; sequences are per document type.
func (t *Template) rule() numbering.Rule {
	return numbering.Rule{Key: "document." + t.Type, Pattern: t.Numbering}
}

// FieldError is one problem with the data for a template.
type FieldError struct {
	Field   string `json:"field"`
	Label   string `json:"label"`
	Problem string `json:"problem"` // required, date, too_long, unknown
}

// maxValue bounds one field's text (runes).
const maxValue = 5000

// Fill checks data against the template's fields and returns the values as
// printed: dates as 2026年1月2日, everything else as text. Unknown keys are
// refused, so a typo does not silently print an empty line.
func (t *Template) Fill(data map[string]any) (map[string]string, []FieldError) {
	out := map[string]string{}
	var problems []FieldError
	known := map[string]Field{}
	for _, f := range t.Fields {
		known[f.Key] = f
	}
	keys := make([]string, 0, len(data))
	for k := range data {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	for _, k := range keys {
		if _, ok := known[k]; !ok {
			problems = append(problems, FieldError{Field: k, Problem: "unknown"})
		}
	}
	for _, f := range t.Fields {
		v := strings.TrimSpace(toText(data[f.Key]))
		switch {
		case v == "" && f.Required:
			problems = append(problems, FieldError{Field: f.Key, Label: f.Label, Problem: "required"})
			continue
		case utf8.RuneCountInString(v) > maxValue:
			problems = append(problems, FieldError{Field: f.Key, Label: f.Label, Problem: "too_long"})
			continue
		case v != "" && f.Kind == "date":
			d, err := time.Parse("2006-01-02", v)
			if err != nil {
				problems = append(problems, FieldError{Field: f.Key, Label: f.Label, Problem: "date"})
				continue
			}
			v = ChineseDate(d)
		}
		out[f.Key] = v
	}
	return out, problems
}

func toText(v any) string {
	switch x := v.(type) {
	case nil:
		return ""
	case string:
		return x
	case float64:
		if x == float64(int64(x)) {
			return fmt.Sprintf("%d", int64(x))
		}
		return fmt.Sprintf("%.2f", x)
	default:
		return fmt.Sprint(x)
	}
}

// ChineseDate prints a date the way official documents do: 2026年1月2日.
func ChineseDate(d time.Time) string {
	return fmt.Sprintf("%d年%d月%d日", d.Year(), int(d.Month()), d.Day())
}

// expand replaces {{field}} with its value.
func expand(s string, values map[string]string) string {
	return fieldRef.ReplaceAllStringFunc(s, func(m string) string {
		return values[fieldRef.FindStringSubmatch(m)[1]]
	})
}

//go:embed templates/*.yaml
var builtin embed.FS

// Builtins returns the templates shipped with the host, checked.
func Builtins() ([]Template, error) {
	names, err := fs.Glob(builtin, "templates/*.yaml")
	if err != nil {
		return nil, err
	}
	var out []Template
	for _, n := range names {
		b, err := builtin.ReadFile(n)
		if err != nil {
			return nil, err
		}
		t, err := ParseTemplate(b)
		if err != nil {
			return nil, fmt.Errorf("%s: %w", n, err)
		}
		out = append(out, *t)
	}
	return out, nil
}

// ParseTemplate reads a template from YAML (or JSON) and checks it.
func ParseTemplate(b []byte) (*Template, error) {
	var t Template
	if err := yamlStrict(b, &t); err != nil {
		return nil, err
	}
	if err := t.Check(); err != nil {
		return nil, err
	}
	return &t, nil
}

// scopeOf is the numbering scope of an organisation code that is also its
// district code (district bureaus and stations carry their district's code).
func scopeOf(orgCode string) numbering.Scope {
	return numbering.Scope{OrgCode: orgCode, DivisionCode: orgCode}
}

// yamlStrict decodes YAML (JSON is YAML) refusing unknown keys.
func yamlStrict(b []byte, v any) error {
	dec := yaml.NewDecoder(strings.NewReader(string(b)))
	dec.KnownFields(true)
	return dec.Decode(v)
}
