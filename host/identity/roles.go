package identity

import (
	"context"
	"crypto/rand"
	"errors"
	"fmt"
	"math/big"
	"strings"

	"github.com/shanghai-amr/portal/host/pii"
	"github.com/shanghai-amr/portal/host/store/ent"
	"github.com/shanghai-amr/portal/host/store/ent/organization"
	"github.com/shanghai-amr/portal/host/store/ent/post"
	"github.com/shanghai-amr/portal/host/store/ent/role"
	"github.com/shanghai-amr/portal/host/store/ent/user"
)

// The three separated administrator roles of 等保三级 (三员分立): no account
// may hold more than one of them.
const (
	RoleSystemAdmin   = "sysadmin"
	RoleSecurityAdmin = "secadmin"
	RoleAuditAdmin    = "auditadmin"
)

// BuiltinRole is a role the host creates and keeps.
type BuiltinRole struct {
	Key, Name, NameEn string
	Permissions       []string
}

// BuiltinRoles are created at start if missing; their permissions are reset
// to these on every start so that an upgrade's changes take effect.
var BuiltinRoles = []BuiltinRole{
	{RoleSystemAdmin, "系统管理员", "System administrator", []string{"plugins.read", "plugins.manage", "org.read", "org.manage", "users.read", "users.manage", "processes.read", "processes.manage", "calendars.manage", "dicts.manage", "templates.manage", "workbench.use"}},
	{RoleSecurityAdmin, "安全管理员", "Security administrator", []string{"sessions.read", "sessions.manage", "users.read", "users.unlock", "roles.manage", "policies.read", "policies.manage", "workbench.use"}},
	{RoleAuditAdmin, "审计管理员", "Audit administrator", []string{"audit.read", "audit.verify", "workbench.use"}},
	{"handler", "承办人", "Case handler", []string{"notice.read", "notice.write", "enforcement.case.read", "enforcement.case.write", "documents.read", "documents.issue", "files.read", "dossiers.read", "dossiers.write", "workbench.use"}},
	{"case_lead", "办案机构负责人", "Head of the handling unit", []string{"notice.read", "enforcement.case.read", "enforcement.case.approve", "documents.read", "documents.issue", "files.read", "dossiers.read", "dossiers.write", "workbench.use"}},
	{"legal_reviewer", "法制审核人员", "Legal reviewer", []string{"notice.read", "enforcement.case.read", "enforcement.case.legal_review", "documents.read", "documents.issue", "files.read", "dossiers.read", "workbench.use"}},
	{"agency_head", "机关负责人", "Head of the agency", []string{"notice.read", "enforcement.case.read", "enforcement.case.decide", "documents.read", "documents.issue", "documents.revoke", "files.read", "dossiers.read", "dossiers.write", "workbench.use"}},
	{"registration_reviewer", "登记审核员", "Registration reviewer", []string{"notice.read", "registration.application.read", "registration.application.review", "documents.read", "documents.issue", "files.read", "dossiers.read", "dossiers.write", "workbench.use"}},
	{"archivist", "档案人员", "Archivist", []string{"documents.read", "files.read", "dossiers.read", "dossiers.check", "workbench.use"}},
}

// rolePermissions returns a copy of a built-in role's permissions.
func rolePermissions(key string) []string {
	for _, r := range BuiltinRoles {
		if r.Key == key {
			return append([]string(nil), r.Permissions...)
		}
	}
	return nil
}

// BuiltinPosts are the positions (岗位) created at start.
var BuiltinPosts = []struct{ Key, Name, NameEn string }{
	{"enforcement", "执法岗", "Enforcement officer"},
	{"legal_review", "法制审核岗", "Legal review"},
	{"registration_review", "登记审核岗", "Registration review"},
	{"unit_head", "负责人岗", "Head of unit"},
}

// ErrSeparation refuses a role set that breaks the separation of administrators.
var ErrSeparation = errors.New("identity: an account may hold only one of the system, security and audit administrator roles")

// IsAdministratorRole reports whether key is one of the three separated
// administrator roles.
func IsAdministratorRole(key string) bool {
	return key == RoleSystemAdmin || key == RoleSecurityAdmin || key == RoleAuditAdmin
}

// CheckSeparation enforces 三员分立 on a set of role keys.
func CheckSeparation(roleKeys []string) error {
	n := 0
	for _, k := range roleKeys {
		if IsAdministratorRole(k) {
			n++
		}
	}
	if n > 1 {
		return ErrSeparation
	}
	return nil
}

// EnsureBuiltinRoles creates or refreshes the built-in roles and posts.
func EnsureBuiltinRoles(ctx context.Context, c *ent.Client) error {
	for _, p := range BuiltinPosts {
		err := c.Post.Create().SetKey(p.Key).SetName(p.Name).SetNameEn(p.NameEn).
			OnConflictColumns(post.FieldKey).UpdateName().UpdateNameEn().Exec(ctx)
		if err != nil {
			return fmt.Errorf("identity: post %s: %w", p.Key, err)
		}
	}
	for _, r := range BuiltinRoles {
		err := c.Role.Create().SetKey(r.Key).SetName(r.Name).SetNameEn(r.NameEn).SetBuiltin(true).SetPermissions(r.Permissions).
			OnConflictColumns(role.FieldKey).UpdatePermissions().UpdateName().UpdateNameEn().UpdateBuiltin().Exec(ctx)
		if err != nil {
			return fmt.Errorf("identity: role %s: %w", r.Key, err)
		}
	}
	return nil
}

// NewUser describes a staff account to create.
type NewUser struct {
	Username, DisplayName, Password, OrgCode string
	Roles                                    []string
	// Posts are position keys (岗位), e.g. enforcement.
	Posts []string
	// MobileSealed is the mobile number sealed with pii.Sealer (never plain).
	MobileSealed string
}

// ErrUnknownReference: a new account names a role, post or organisation that
// does not exist.
var ErrUnknownReference = errors.New("identity: no such role, post or organisation")

// CreateUser creates a staff account after checking the password policy and
// the separation of administrator roles.
func CreateUser(ctx context.Context, c *ent.Client, nu NewUser) (*ent.User, error) {
	if err := CheckPolicy(nu.Username, nu.Password); err != nil {
		return nil, err
	}
	if err := CheckSeparation(nu.Roles); err != nil {
		return nil, err
	}
	hash, err := HashPassword(nu.Password)
	if err != nil {
		return nil, err
	}
	roles, err := c.Role.Query().Where(role.KeyIn(nu.Roles...)).All(ctx)
	if err != nil {
		return nil, err
	}
	if len(roles) != len(nu.Roles) {
		return nil, fmt.Errorf("%w: roles %v", ErrUnknownReference, nu.Roles)
	}
	posts, err := c.Post.Query().Where(post.KeyIn(nu.Posts...)).All(ctx)
	if err != nil {
		return nil, err
	}
	if len(posts) != len(nu.Posts) {
		return nil, fmt.Errorf("%w: posts %v", ErrUnknownReference, nu.Posts)
	}
	if nu.MobileSealed != "" && !strings.HasPrefix(nu.MobileSealed, "sm4gcm:") {
		return nil, errors.New("identity: mobile numbers are stored sealed (pii.Sealer)")
	}
	q := c.User.Create().SetUsername(nu.Username).SetDisplayName(nu.DisplayName).SetPasswordHash(hash).
		SetMobile(nu.MobileSealed).AddRoles(roles...).AddPosts(posts...)
	if nu.OrgCode != "" {
		o, err := c.Organization.Query().Where(organization.Code(nu.OrgCode)).Only(ctx)
		if err != nil {
			if ent.IsNotFound(err) {
				return nil, fmt.Errorf("%w: organisation %s", ErrUnknownReference, nu.OrgCode)
			}
			return nil, fmt.Errorf("identity: organisation %s: %w", nu.OrgCode, err)
		}
		q.SetOrganization(o)
	}
	return q.Save(ctx)
}

// EnsureBootstrapAdmin creates the system administrator "admin" if there is no
// user at all. The password is password (from PORTAL_ADMIN_PASSWORD) or, when
// empty, a generated one that is returned so it can be shown once.
func EnsureBootstrapAdmin(ctx context.Context, c *ent.Client, password string) (generated string, err error) {
	n, err := c.User.Query().Where(user.Username("admin")).Count(ctx)
	if err != nil || n > 0 {
		return "", err
	}
	if password == "" {
		password = newPassword()
		generated = password
	}
	org := ""
	if exists, _ := c.Organization.Query().Where(organization.Code("310000")).Exist(ctx); exists {
		org = "310000"
	}
	_, err = CreateUser(ctx, c, NewUser{Username: "admin", DisplayName: "系统管理员", Password: password, OrgCode: org, Roles: []string{RoleSystemAdmin}})
	return generated, err
}

// newPassword makes a random 16-character password that meets the policy.
func newPassword() string {
	const alphabet = "ABCDEFGHJKLMNPQRSTUVWXYZabcdefghijkmnopqrstuvwxyz23456789!@#%^*-_+="
	for {
		b := make([]byte, 16)
		for i := range b {
			n, _ := rand.Int(rand.Reader, big.NewInt(int64(len(alphabet))))
			b[i] = alphabet[n.Int64()]
		}
		if CheckPolicy("admin", string(b)) == nil {
			return string(b)
		}
	}
}

// ResealPersonalData re-seals every stored personal value (users' mobile
// numbers) under the sealer's current key, finishing a key rotation; after it
// the old keys may be removed. It returns how many values it re-sealed.
func ResealPersonalData(ctx context.Context, c *ent.Client, sealer *pii.Sealer) (int, error) {
	users, err := c.User.Query().Where(user.MobileNEQ("")).All(ctx)
	if err != nil {
		return 0, err
	}
	n := 0
	for _, u := range users {
		v, err := sealer.Reseal(u.Mobile)
		if err != nil {
			return n, fmt.Errorf("identity: user %s: %w", u.Username, err)
		}
		if v == u.Mobile {
			continue
		}
		if err := u.Update().SetMobile(v).Exec(ctx); err != nil {
			return n, err
		}
		n++
	}
	return n, nil
}
