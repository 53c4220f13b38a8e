package filter

import (
	"encoding/json"
	"errors"
	"fmt"

	"entgo.io/ent/dialect/sql"

	"github.com/shanghai-amr/portal/sdk/proto/pluginv1"
)

// Ent renders f as an ent predicate for plugins whose stores use ent:
//
//	p, err := filter.Ent(f, map[string]string{"resource.org_path": notice.FieldOrgPath})
//	client.Notice.Query().Where(func(s *sql.Selector) { s.Where(p) })
//
// columns maps attribute names to column names; an unmapped attribute fails
// closed, as in SQL.
func Ent(f *pluginv1.DataFilterResponse, columns map[string]string) (*sql.Predicate, error) {
	switch {
	case f == nil || f.AllowNone:
		return sql.False(), nil
	case f.Unconditional:
		return sql.Not(sql.False()), nil
	}
	var node map[string]any
	if err := json.Unmarshal(f.Ucast, &node); err != nil {
		return nil, fmt.Errorf("filter: %w", err)
	}
	return entNode(node, columns)
}

func entNode(n map[string]any, columns map[string]string) (*sql.Predicate, error) {
	op, _ := n["operator"].(string)
	switch n["type"] {
	case "compound":
		items, _ := n["value"].([]any)
		var preds []*sql.Predicate
		for _, it := range items {
			m, ok := it.(map[string]any)
			if !ok {
				return nil, errors.New("filter: malformed condition")
			}
			p, err := entNode(m, columns)
			if err != nil {
				return nil, err
			}
			preds = append(preds, p)
		}
		switch {
		case len(preds) == 0:
			return nil, fmt.Errorf("filter: empty %s", op)
		case op == "and":
			return sql.And(preds...), nil
		case op == "or":
			return sql.Or(preds...), nil
		case op == "not" && len(preds) == 1:
			return sql.Not(preds[0]), nil
		}
		return nil, fmt.Errorf("filter: unknown compound %q", op)
	case "field":
		field, _ := n["field"].(string)
		col, ok := columns[field]
		if !ok {
			return nil, fmt.Errorf("%w: %s", ErrUnmapped, field)
		}
		v := n["value"]
		s, isString := v.(string)
		switch op {
		case "eq":
			return sql.EQ(col, v), nil
		case "ne":
			return sql.NEQ(col, v), nil
		case "lt":
			return sql.LT(col, v), nil
		case "lte":
			return sql.LTE(col, v), nil
		case "gt":
			return sql.GT(col, v), nil
		case "gte":
			return sql.GTE(col, v), nil
		case "startswith", "endswith", "contains":
			if !isString {
				return nil, fmt.Errorf("filter: %s needs a string", op)
			}
			return map[string]func(string, string) *sql.Predicate{"startswith": sql.HasPrefix, "endswith": sql.HasSuffix, "contains": sql.Contains}[op](col, s), nil
		case "in", "nin":
			list, _ := v.([]any)
			if len(list) == 0 {
				if op == "in" {
					return sql.False(), nil
				}
				return sql.Not(sql.False()), nil
			}
			if op == "in" {
				return sql.In(col, list...), nil
			}
			return sql.NotIn(col, list...), nil
		}
		return nil, fmt.Errorf("filter: unknown operator %q", op)
	}
	return nil, fmt.Errorf("filter: unknown node type %v", n["type"])
}
