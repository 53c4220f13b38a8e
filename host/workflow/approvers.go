package workflow

import (
	"cmp"
	"context"
	"fmt"
	"strings"

	"github.com/shanghai-amr/portal/host/store/ent"
	"github.com/shanghai-amr/portal/host/store/ent/organization"
	"github.com/shanghai-amr/portal/host/store/ent/post"
	"github.com/shanghai-amr/portal/host/store/ent/role"
	"github.com/shanghai-amr/portal/host/store/ent/user"
)

// LeaderPost is the position (岗位) that makes a user the leader of their
// organisation for leader approvers.
const LeaderPost = "unit_head"

// Reason is why a task reached its assignee, kept on the task.
type Reason struct {
	Code string `json:"code"`
	Zh   string `json:"zh"`
	En   string `json:"en"`
}

type assignment struct {
	UserID int    `json:"user_id"`
	Reason Reason `json:"reason"`
}

// people is what the resolver needs to know about the instance.
type people struct {
	initiatorID int
	orgPath     string // the initiator's organisation path
	form        map[string]any
	expr        exprInput
	// where names the organisation role and post holders are looked up in,
	// for the reason, when it is not the initiator's (a plugin's to-do).
	where *scopeName
}

// resolve lists the approvers of a node, without duplicates, in order.
func resolve(ctx context.Context, db *ent.Client, a *Approvers, p people) ([]assignment, error) {
	var out []assignment
	seen := map[int]bool{}
	add := func(users []*ent.User, r Reason) {
		for _, u := range users {
			if !seen[u.ID] && u.Status == user.StatusActive {
				seen[u.ID] = true
				out = append(out, assignment{UserID: u.ID, Reason: r})
			}
		}
	}
	active := user.StatusEQ(user.StatusActive)
	byNames := func(names []string, r Reason) error {
		us, err := db.User.Query().Where(user.UsernameIn(names...), active).All(ctx)
		if err != nil {
			return err
		}
		// keep the order given
		idx := map[string]*ent.User{}
		for _, u := range us {
			idx[u.Username] = u
		}
		for _, n := range names {
			if u, ok := idx[n]; ok {
				add([]*ent.User{u}, r)
			}
		}
		return nil
	}
	switch a.Type {
	case ByUser:
		return out, byNames(a.Users, Reason{"user", "定义中指定的人员", "named in the definition"})
	case ByInitiator:
		u, err := db.User.Get(ctx, p.initiatorID)
		if err != nil {
			return nil, err
		}
		add([]*ent.User{u}, Reason{"initiator", "发起人", "the initiator"})
	case ByRole, ByPost:
		root, where := scopeRoot(a.Scope, p.orgPath)
		if p.where != nil {
			where = *p.where
		}
		q := db.User.Query().Where(active)
		if a.Type == ByRole {
			q.Where(user.HasRolesWith(role.Key(a.Role)))
		} else {
			q.Where(user.HasPostsWith(post.Key(a.Post)))
		}
		if root != "" {
			q.Where(user.HasOrganizationWith(organization.Or(organization.Path(root), organization.PathHasPrefix(root+"/"))))
		}
		us, err := q.Order(ent.Asc(user.FieldID)).All(ctx)
		if err != nil {
			return nil, err
		}
		kind, kindEn, name, nameEn := "角色", "role", a.Role, a.Role
		if a.Type == ByPost {
			kind, kindEn, name, nameEn = "岗位", "post", a.Post, a.Post
			if po, err := db.Post.Query().Where(post.Key(a.Post)).Only(ctx); err == nil {
				name, nameEn = po.Name, cmp.Or(po.NameEn, po.Name)
			}
		} else if r, err := db.Role.Query().Where(role.Key(a.Role)).Only(ctx); err == nil {
			name, nameEn = r.Name, cmp.Or(r.NameEn, r.Name)
		}
		add(us, Reason{a.Type, fmt.Sprintf("%s「%s」（%s）", kind, name, where.zh), fmt.Sprintf("%s \"%s\" (%s)", kindEn, nameEn, where.en)})
	case ByLeader, ByInitiatorLeader, ByLeaders:
		levels := a.Levels
		if levels == 0 || a.Type == ByInitiatorLeader {
			levels = 1
		}
		chain, err := leaders(ctx, db, p.orgPath, levels)
		if err != nil {
			return nil, err
		}
		for i, us := range chain {
			lvl := i + 1
			if a.Type != ByLeaders && lvl != levels {
				continue
			}
			add(us, Reason{"leader", fmt.Sprintf("发起人的第 %d 级负责人", lvl), fmt.Sprintf("the initiator's level-%d leader", lvl)})
		}
	case ByField:
		var names []string
		switch v := p.form[a.Field].(type) {
		case string:
			names = []string{v}
		case []any:
			for _, x := range v {
				if s, ok := x.(string); ok {
					names = append(names, s)
				}
			}
		}
		return out, byNames(names, Reason{"field", "表单字段 " + a.Field + " 指定", "named in form field " + a.Field})
	case ByExpression:
		names, err := usernames(ctx, a.Expression, p.expr)
		if err != nil {
			return nil, err
		}
		return out, byNames(names, Reason{"expression", "表达式 " + a.Expression, "expression " + a.Expression})
	}
	return out, nil
}

type scopeName struct{ zh, en string }

// scopeRoot is the organisation path approvers are looked up under.
func scopeRoot(scope, orgPath string) (string, scopeName) {
	switch scope {
	case "all":
		return "", scopeName{"全市", "city-wide"}
	case "initiator_unit":
		return orgPath, scopeName{"发起人所在部门", "the initiator's unit"}
	}
	// initiator_org: the initiator's bureau (the city or a district bureau)
	// with its departments and stations: the first two path elements at most.
	parts := strings.Split(strings.Trim(orgPath, "/"), "/")
	if len(parts) > 2 {
		parts = parts[:2]
	}
	return "/" + strings.Join(parts, "/"), scopeName{"发起人所在局", "the initiator's bureau"}
}

// leaders walks up from the organisation at path and returns, for each of the
// first n levels that have a leader, the leaders there. Vacant levels are
// skipped, so "level 1" is the nearest organisation with a leader.
func leaders(ctx context.Context, db *ent.Client, path string, n int) ([][]*ent.User, error) {
	parts := strings.Split(strings.Trim(path, "/"), "/")
	var out [][]*ent.User
	for i := len(parts); i > 0 && len(out) < n; i-- {
		p := "/" + strings.Join(parts[:i], "/")
		us, err := db.User.Query().Where(user.StatusEQ(user.StatusActive), user.HasPostsWith(post.Key(LeaderPost)),
			user.HasOrganizationWith(organization.Path(p))).Order(ent.Asc(user.FieldID)).All(ctx)
		if err != nil {
			return nil, err
		}
		if len(us) > 0 {
			out = append(out, us)
		}
	}
	return out, nil
}
