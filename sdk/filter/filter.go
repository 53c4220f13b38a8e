// Package filter turns the host's list filters into SQL. The host compiles a
// filter from its policy for each caller (Host.Policy.DataFilter): everything,
// nothing, or UCAST conditions on the record's attributes ("resource.org_path"
// starts with "/310000/310115/" …). SQL renders them as a WHERE clause with
// placeholders, so a plugin scopes every list by the caller's jurisdiction
// without writing the rule itself.
//
// A condition on an attribute the plugin did not map to a column is an error:
// the plugin cannot apply it, so it must not list anything (fail closed).
package filter

import (
	"encoding/json"
	"errors"
	"fmt"
	"strings"

	"github.com/shanghai-amr/portal/sdk/proto/pluginv1"
)

// ErrUnmapped is returned for a condition on an attribute with no column.
var ErrUnmapped = errors.New("filter: condition on an unmapped attribute")

// SQL renders f as a WHERE condition (without the keyword) and its arguments.
// columns maps attribute names ("resource.org_path") to column expressions.
func SQL(f *pluginv1.DataFilterResponse, columns map[string]string) (string, []any, error) {
	switch {
	case f == nil || f.AllowNone:
		return "1 = 0", nil, nil
	case f.Unconditional:
		return "1 = 1", nil, nil
	}
	var node map[string]any
	if err := json.Unmarshal(f.Ucast, &node); err != nil {
		return "", nil, fmt.Errorf("filter: %w", err)
	}
	var args []any
	where, err := render(node, columns, &args)
	return where, args, err
}

func render(n map[string]any, columns map[string]string, args *[]any) (string, error) {
	op, _ := n["operator"].(string)
	switch n["type"] {
	case "compound":
		items, _ := n["value"].([]any)
		if len(items) == 0 {
			return "", fmt.Errorf("filter: empty %s", op)
		}
		joiner := map[string]string{"and": " AND ", "or": " OR "}[op]
		if joiner == "" {
			if op == "not" && len(items) == 1 {
				inner, err := render(items[0].(map[string]any), columns, args)
				return "NOT (" + inner + ")", err
			}
			return "", fmt.Errorf("filter: unknown compound %q", op)
		}
		parts := make([]string, 0, len(items))
		for _, it := range items {
			m, ok := it.(map[string]any)
			if !ok {
				return "", errors.New("filter: malformed condition")
			}
			p, err := render(m, columns, args)
			if err != nil {
				return "", err
			}
			parts = append(parts, "("+p+")")
		}
		return strings.Join(parts, joiner), nil
	case "field":
		field, _ := n["field"].(string)
		col, ok := columns[field]
		if !ok {
			return "", fmt.Errorf("%w: %s", ErrUnmapped, field)
		}
		v := n["value"]
		switch op {
		case "eq", "ne", "lt", "lte", "gt", "gte":
			*args = append(*args, v)
			return col + " " + map[string]string{"eq": "=", "ne": "<>", "lt": "<", "lte": "<=", "gt": ">", "gte": ">="}[op] + " ?", nil
		case "startswith", "endswith", "contains":
			s, ok := v.(string)
			if !ok {
				return "", fmt.Errorf("filter: %s needs a string", op)
			}
			// '!' escapes: a backslash would itself need escaping in MySQL literals.
			esc := strings.NewReplacer(`!`, `!!`, `%`, `!%`, `_`, `!_`).Replace(s)
			pattern := map[string]string{"startswith": esc + "%", "endswith": "%" + esc, "contains": "%" + esc + "%"}[op]
			*args = append(*args, pattern)
			return col + ` LIKE ? ESCAPE '!'`, nil
		case "in", "nin":
			list, ok := v.([]any)
			if !ok || len(list) == 0 {
				if op == "in" {
					return "1 = 0", nil
				}
				return "1 = 1", nil
			}
			*args = append(*args, list...)
			not := ""
			if op == "nin" {
				not = "NOT "
			}
			return col + " " + not + "IN (?" + strings.Repeat(", ?", len(list)-1) + ")", nil
		}
		return "", fmt.Errorf("filter: unknown operator %q", op)
	}
	return "", fmt.Errorf("filter: unknown node type %v", n["type"])
}
