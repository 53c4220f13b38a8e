package workflow

import (
	"context"
	"fmt"
	"sync"
	"time"

	"github.com/open-policy-agent/opa/v1/rego"
)

// Conditions and expression approvers are Rego queries evaluated by OPA with
// form, initiator and instance bound. A condition holds when the query has a
// result; an expression approver binds users to a list of usernames, e.g.
//
//	form.amount > 100000
//	users := [u | u := form.reviewers[_]]
var exprCache sync.Map // string → *rego.PreparedEvalQuery

const exprPrelude = "form := input.form; initiator := input.initiator; instance := input.instance; "

func compileExpr(src string) (*rego.PreparedEvalQuery, error) {
	if src == "" {
		return nil, fmt.Errorf("empty expression")
	}
	if q, ok := exprCache.Load(src); ok {
		return q.(*rego.PreparedEvalQuery), nil
	}
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
	defer cancel()
	q, err := rego.New(rego.Query(exprPrelude+src), rego.StrictBuiltinErrors(true)).PrepareForEval(ctx)
	if err != nil {
		return nil, fmt.Errorf("expression %q: %v", src, err)
	}
	exprCache.Store(src, &q)
	return &q, nil
}

// exprInput is what an expression sees.
type exprInput struct {
	Form      map[string]any `json:"form"`
	Initiator map[string]any `json:"initiator"`
	Instance  map[string]any `json:"instance"`
}

func evalExpr(ctx context.Context, src string, in exprInput) (rego.ResultSet, error) {
	q, err := compileExpr(src)
	if err != nil {
		return nil, err
	}
	ctx, cancel := context.WithTimeout(ctx, 200*time.Millisecond)
	defer cancel()
	return q.Eval(ctx, rego.EvalInput(map[string]any{"form": in.Form, "initiator": in.Initiator, "instance": in.Instance}))
}

// holds evaluates a branch condition.
func holds(ctx context.Context, src string, in exprInput) (bool, error) {
	rs, err := evalExpr(ctx, src, in)
	if err != nil {
		return false, err
	}
	return len(rs) > 0, nil
}

// usernames evaluates an expression approver: the users it binds.
func usernames(ctx context.Context, src string, in exprInput) ([]string, error) {
	rs, err := evalExpr(ctx, src, in)
	if err != nil || len(rs) == 0 {
		return nil, err
	}
	var out []string
	switch v := rs[0].Bindings["users"].(type) {
	case []any:
		for _, u := range v {
			if s, ok := u.(string); ok {
				out = append(out, s)
			}
		}
	case string:
		out = append(out, v)
	default:
		return nil, fmt.Errorf("expression must bind users to a list of usernames")
	}
	return out, nil
}
