// Package workflow is the host's approval engine and the unified workbench:
// versioned process definitions (node trees declared by plugins or edited by
// administrators), instances with Chinese approval operations (会签, 或签,
// 依次, 退回, 转办, 委派, 加签, 减签, 撤回, 终止, 催办), tasks with statutory
// deadlines, and the inbox across all plugins. docs/workbench.md is the design.
package workflow

import (
	"encoding/json"
	"fmt"
	"regexp"
	"strings"

	"github.com/shanghai-amr/portal/host/clock"
)

// Spec is a process definition: a tree of nodes run in order.
type Spec struct {
	Title map[string]string `json:"title,omitempty"`
	Nodes []Node            `json:"nodes"`
	// Form lists the variables a task page shows, in order, under their
	// titles; without it the page shows every variable under its name.
	Form []FormField `json:"form,omitempty"`
}

// FormField is a process variable as a task page shows it.
type FormField struct {
	Name  string            `json:"name"`
	Title map[string]string `json:"title"` // zh-CN required, en optional
}

// Node types.
const (
	Approval  = "approval"
	Condition = "condition"
	Parallel  = "parallel"
	CC        = "cc"
)

// Approval modes.
const (
	ModeAll        = "all"        // 会签
	ModeAny        = "any"        // 或签
	ModeSequential = "sequential" // 依次
)

// Node is one step of a definition.
type Node struct {
	ID        string            `json:"id"`
	Type      string            `json:"type"`
	Name      string            `json:"name,omitempty"`
	NameEn    string            `json:"name_en,omitempty"`
	Approvers *Approvers        `json:"approvers,omitempty"`
	Mode      string            `json:"mode,omitempty"`
	Ratio     float64           `json:"ratio,omitempty"`
	Group     bool              `json:"group,omitempty"` // one task the approvers claim (认领)
	Empty     string            `json:"empty,omitempty"` // error (default), skip, admin
	Fields    map[string]string `json:"fields,omitempty"`
	Deadline  *clock.Limit      `json:"deadline,omitempty"`
	Branches  []Branch          `json:"branches,omitempty"`
}

// Branch is one way out of a condition or parallel node.
type Branch struct {
	Name  string `json:"name,omitempty"`
	When  string `json:"when,omitempty"` // Rego expression; empty = default branch
	Nodes []Node `json:"nodes"`
}

// Approvers says who a node's tasks go to.
type Approvers struct {
	Type       string   `json:"type"`
	Users      []string `json:"users,omitempty"`
	Role       string   `json:"role,omitempty"`
	Post       string   `json:"post,omitempty"`
	Scope      string   `json:"scope,omitempty"` // initiator_org (default), initiator_unit, all
	Levels     int      `json:"levels,omitempty"`
	Field      string   `json:"field,omitempty"`
	Expression string   `json:"expression,omitempty"`
}

// Approver types.
const (
	ByUser            = "user"
	ByRole            = "role"
	ByPost            = "post"
	ByLeader          = "leader"
	ByLeaders         = "leaders"
	ByInitiator       = "initiator"
	ByInitiatorLeader = "initiator_leader"
	ByField           = "field"
	ByExpression      = "expression"
)

// StartNode is the pseudo-node of the initiator: 退回 to it sends the
// instance back to the initiator to revise and resubmit.
const StartNode = "start"

var idPattern = regexp.MustCompile(`^[a-z][a-z0-9_]{0,63}$`)

// ParseSpec decodes a definition from JSON (or a manifest's decoded YAML
// re-encoded as JSON) and validates it.
func ParseSpec(b []byte) (*Spec, error) {
	var s Spec
	dec := json.NewDecoder(strings.NewReader(string(b)))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&s); err != nil {
		return nil, fmt.Errorf("definition: %w", err)
	}
	if _, err := compile(&s); err != nil {
		return nil, err
	}
	return &s, nil
}

// fieldName is what a form field's name may be: a process variable's key.
var fieldName = regexp.MustCompile(`^[A-Za-z_][A-Za-z0-9_]{0,63}$`)

// graph is a compiled definition: every node with the id of what follows it.
type graph struct {
	nodes map[string]*cnode
	first string
	order []string    // depth-first order, for "earlier node" checks
	form  []FormField // Spec.Form
}

type cnode struct {
	*Node
	next string // the node after this one; "" = end; "join:<id>" = a parallel branch's end
}

func joinOf(id string) string { return "join:" + id }

func compile(s *Spec) (*graph, error) {
	g := &graph{nodes: map[string]*cnode{}, form: s.Form}
	if len(s.Nodes) == 0 {
		return nil, fmt.Errorf("definition: no nodes")
	}
	seen := map[string]bool{}
	for _, f := range s.Form {
		if !fieldName.MatchString(f.Name) || seen[f.Name] || f.Title["zh-CN"] == "" {
			return nil, fmt.Errorf("definition: form field %q needs a unique name (letters, digits, _) and a zh-CN title", f.Name)
		}
		seen[f.Name] = true
	}
	var walk func(list []Node, after string) error
	walk = func(list []Node, after string) error {
		for i := range list {
			n := &list[i]
			next := after
			if i+1 < len(list) {
				next = list[i+1].ID
			}
			if err := checkNode(n); err != nil {
				return err
			}
			if _, dup := g.nodes[n.ID]; dup || n.ID == StartNode {
				return fmt.Errorf("definition: node id %q is used twice or reserved", n.ID)
			}
			g.nodes[n.ID] = &cnode{Node: n, next: next}
			g.order = append(g.order, n.ID)
			for _, b := range n.Branches {
				bAfter := next
				if n.Type == Parallel {
					bAfter = joinOf(n.ID)
				}
				if err := walk(b.Nodes, bAfter); err != nil {
					return err
				}
			}
		}
		return nil
	}
	if err := walk(s.Nodes, ""); err != nil {
		return nil, err
	}
	g.first = s.Nodes[0].ID
	return g, nil
}

func checkNode(n *Node) error {
	bad := func(format string, a ...any) error {
		return fmt.Errorf("definition: node %q: %s", n.ID, fmt.Sprintf(format, a...))
	}
	if !idPattern.MatchString(n.ID) {
		return fmt.Errorf("definition: node id %q must be lower-case letters, digits and _", n.ID)
	}
	switch n.Type {
	case Approval, CC:
		if n.Approvers == nil {
			return bad("approvers are required")
		}
		if err := checkApprovers(n.Approvers); err != nil {
			return bad("%v", err)
		}
		if len(n.Branches) > 0 {
			return bad("only condition and parallel nodes have branches")
		}
	case Condition, Parallel:
		if len(n.Branches) < 1 || (n.Type == Parallel && len(n.Branches) < 2) {
			return bad("needs branches (a parallel node at least two)")
		}
		defaults := 0
		for i, b := range n.Branches {
			if n.Type == Condition && b.When == "" {
				defaults++
				if i != len(n.Branches)-1 {
					return bad("the default branch (no when) must be last")
				}
			}
			if n.Type == Parallel && b.When != "" {
				return bad("parallel branches have no conditions")
			}
			if n.Type == Parallel && len(b.Nodes) == 0 {
				return bad("a parallel branch needs nodes")
			}
			if b.When != "" {
				if _, err := compileExpr(b.When); err != nil {
					return bad("branch %d: %v", i+1, err)
				}
			}
		}
		if defaults > 1 {
			return bad("at most one default branch")
		}
		if n.Approvers != nil {
			return bad("a %s node has no approvers", n.Type)
		}
	default:
		return bad("unknown type %q (approval, condition, parallel, cc)", n.Type)
	}
	switch n.Mode {
	case "", ModeAll, ModeAny, ModeSequential:
	default:
		return bad("unknown mode %q (all, any, sequential)", n.Mode)
	}
	if n.Ratio < 0 || n.Ratio > 1 || (n.Ratio > 0 && n.Mode != ModeAll) {
		return bad("ratio must be in (0, 1] and only on mode all")
	}
	if n.Group && n.Mode == ModeSequential {
		return bad("a group task cannot be sequential")
	}
	switch n.Empty {
	case "", "error", "skip", "admin":
	default:
		return bad("unknown empty-approver policy %q (error, skip, admin)", n.Empty)
	}
	for f, p := range n.Fields {
		if p != "read" && p != "edit" && p != "hidden" {
			return bad("field %q: permission %q (read, edit, hidden)", f, p)
		}
	}
	if d := n.Deadline; d != nil {
		if d.Amount <= 0 || d.Amount > 3650 {
			return bad("deadline amount out of range 1–3650")
		}
		switch d.Unit {
		case clock.NaturalDays, clock.WorkingDays, clock.Hours:
		default:
			return bad("deadline unit %q (natural_days, working_days, hours)", d.Unit)
		}
	}
	return nil
}

func checkApprovers(a *Approvers) error {
	switch a.Type {
	case ByUser:
		if len(a.Users) == 0 {
			return fmt.Errorf("users are required")
		}
	case ByRole:
		if a.Role == "" {
			return fmt.Errorf("role is required")
		}
	case ByPost:
		if a.Post == "" {
			return fmt.Errorf("post is required")
		}
	case ByLeader, ByLeaders:
		if a.Levels < 0 || a.Levels > 5 {
			return fmt.Errorf("levels must be 1–5")
		}
	case ByInitiator, ByInitiatorLeader:
	case ByField:
		if a.Field == "" {
			return fmt.Errorf("field is required")
		}
	case ByExpression:
		if _, err := compileExpr(a.Expression); err != nil {
			return err
		}
	default:
		return fmt.Errorf("unknown approver type %q", a.Type)
	}
	switch a.Scope {
	case "", "initiator_org", "initiator_unit", "all":
	default:
		return fmt.Errorf("unknown scope %q (initiator_org, initiator_unit, all)", a.Scope)
	}
	return nil
}

// earlier reports whether node a comes before node b on the definition.
func (g *graph) earlier(a, b string) bool {
	if a == StartNode {
		return b != StartNode
	}
	ia, ib := -1, -1
	for i, id := range g.order {
		if id == a {
			ia = i
		}
		if id == b {
			ib = i
		}
	}
	return ia >= 0 && ib >= 0 && ia < ib
}
