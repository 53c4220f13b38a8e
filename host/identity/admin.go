package identity

import (
	"errors"
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/gin-gonic/gin"

	"github.com/shanghai-amr/portal/host/apierror"
	"github.com/shanghai-amr/portal/host/audit"
	"github.com/shanghai-amr/portal/host/server"
	"github.com/shanghai-amr/portal/host/store/ent"
	"github.com/shanghai-amr/portal/host/store/ent/loginthrottle"
	"github.com/shanghai-amr/portal/host/store/ent/organization"
	"github.com/shanghai-amr/portal/host/store/ent/post"
	"github.com/shanghai-amr/portal/host/store/ent/role"
	"github.com/shanghai-amr/portal/host/store/ent/session"
	"github.com/shanghai-amr/portal/host/store/ent/user"
)

// UserInfo is a staff account as the admin console lists it.
type UserInfo struct {
	Username    string     `json:"username"`
	DisplayName string     `json:"display_name"`
	Status      string     `json:"status"`
	OrgCode     string     `json:"org_code,omitempty"`
	OrgName     string     `json:"org_name,omitempty"`
	Roles       []string   `json:"roles"`
	Posts       []string   `json:"posts"`
	LastLoginAt *time.Time `json:"last_login_at,omitempty"`
}

// MountAdminAPI registers user, organisation, role and post administration
// (三员分立: the system administrator manages accounts and organisations,
// the security administrator manages roles, grants them and unlocks accounts):
//
//	GET    /api/v1/admin/users?q=&org=&page=&size=   users.read
//	POST   /api/v1/admin/users                       users.manage   {username, display_name, password, org_code, posts}
//	PUT    /api/v1/admin/users/:username/status      users.manage   {status: active|disabled}
//	PUT    /api/v1/admin/users/:username/roles       roles.manage   {roles: [...]}
//	POST   /api/v1/admin/users/:username/unlock      users.unlock
//	GET    /api/v1/admin/orgs                        org.read or roles.manage   the tree, flat, with what may be added under each unit
//	POST   /api/v1/admin/orgs                        org.manage     {parent, code, kind, name, name_en}
//	PUT    /api/v1/admin/orgs/:code                  org.manage     {name, name_en}
//	DELETE /api/v1/admin/orgs/:code                  org.manage     an empty leaf only
//	GET    /api/v1/admin/roles                       users.read     roles with permissions, data scope and holders
//	GET    /api/v1/admin/permissions                 roles.manage   the permissions a role may be made of
//	POST   /api/v1/admin/roles                       roles.manage   {key, name, name_en, permissions, data_scope, custom_scope}
//	PUT    /api/v1/admin/roles/:key                  roles.manage   {name, name_en, permissions, data_scope, custom_scope}; custom roles only
//	DELETE /api/v1/admin/roles/:key                  roles.manage   a custom role nobody holds
//	GET    /api/v1/admin/posts                       users.read
//
// Every change is audited (org.*, role.*, user.*).
func (s *Sessions) MountAdminAPI(srv *server.Server, auth gin.HandlerFunc) {
	api := srv.API().Group("/v1/admin", auth)
	api.GET("/users", Require("users.read"), s.listUsers)
	api.POST("/users", Require("users.manage"), s.createUser)
	api.PUT("/users/:username/status", Require("users.manage"), s.setStatus)
	api.PUT("/users/:username/roles", Require("roles.manage"), s.setRoles)
	api.POST("/users/:username/unlock", Require("users.unlock"), s.unlock)
	s.mountOrgAdmin(api)
	s.mountRoleAdmin(api)
	api.GET("/posts", Require("users.read"), func(c *gin.Context) {
		ps, err := s.client.Post.Query().Order(ent.Asc(post.FieldKey)).All(c.Request.Context())
		if err != nil {
			server.Fail(c, err)
			return
		}
		c.JSON(http.StatusOK, gin.H{"posts": ps})
	})
}

func (s *Sessions) listUsers(c *gin.Context) {
	ctx := c.Request.Context()
	page, _ := strconv.Atoi(c.DefaultQuery("page", "1"))
	size, _ := strconv.Atoi(c.DefaultQuery("size", "20"))
	if page < 1 || size < 1 || size > 100 || len(c.Query("q")) > 64 {
		server.Fail(c, apierror.Invalid("page ≥ 1, size 1–100, q at most 64 bytes"))
		return
	}
	q := s.client.User.Query()
	if v := c.Query("q"); v != "" {
		q.Where(user.Or(user.UsernameContains(v), user.DisplayNameContains(v)))
	}
	if v := c.Query("org"); v != "" {
		o, err := s.client.Organization.Query().Where(organization.Code(v)).Only(ctx)
		if err != nil {
			server.Fail(c, apierror.Invalid("no such organisation"))
			return
		}
		q.Where(user.HasOrganizationWith(organization.Or(organization.Path(o.Path), organization.PathHasPrefix(o.Path+"/"))))
	}
	total, err := q.Clone().Count(ctx)
	if err != nil {
		server.Fail(c, err)
		return
	}
	us, err := q.WithOrganization().WithRoles().WithPosts().Order(ent.Asc(user.FieldUsername)).
		Offset((page - 1) * size).Limit(size).All(ctx)
	if err != nil {
		server.Fail(c, err)
		return
	}
	out := make([]UserInfo, len(us))
	for i, u := range us {
		out[i] = UserInfo{Username: u.Username, DisplayName: u.DisplayName, Status: string(u.Status), Roles: []string{}, Posts: []string{},
			LastLoginAt: u.LastLoginAt}
		if o := u.Edges.Organization; o != nil {
			out[i].OrgCode, out[i].OrgName = o.Code, o.Name
		}
		for _, r := range u.Edges.Roles {
			out[i].Roles = append(out[i].Roles, r.Key)
		}
		for _, p := range u.Edges.Posts {
			out[i].Posts = append(out[i].Posts, p.Key)
		}
	}
	c.JSON(http.StatusOK, gin.H{"items": out, "total": total, "page": page, "size": size})
}

func (s *Sessions) createUser(c *gin.Context) {
	var in struct {
		Username    string   `json:"username"`
		DisplayName string   `json:"display_name"`
		Password    string   `json:"password"`
		OrgCode     string   `json:"org_code"`
		Posts       []string `json:"posts"`
	}
	if !server.Decode(c, &in) {
		return
	}
	in.Username = strings.TrimSpace(in.Username)
	if !usernamePattern(in.Username) || strings.TrimSpace(in.DisplayName) == "" || len(in.DisplayName) > 64 || in.OrgCode == "" {
		server.Fail(c, apierror.Invalid("username: 3–64 lower-case letters, digits, _ or -; a display name; an organisation"))
		return
	}
	// Roles are granted separately, by the security administrator.
	_, err := CreateUser(c.Request.Context(), s.client, NewUser{Username: in.Username, DisplayName: in.DisplayName,
		Password: in.Password, OrgCode: in.OrgCode, Posts: in.Posts})
	switch {
	case errors.Is(err, ErrWeakPassword):
		server.Fail(c, apierror.New(http.StatusBadRequest, "auth.weak_password", map[string]any{"Detail": err.Error()}))
		return
	case ent.IsConstraintError(err):
		server.Fail(c, apierror.New(http.StatusConflict, "identity.user_exists", nil))
		return
	case errors.Is(err, ErrUnknownReference):
		server.Fail(c, apierror.Invalid(err.Error()))
		return
	case err != nil:
		server.Fail(c, err)
		return
	}
	s.adminAudit(c, "user.create", "user:"+in.Username, map[string]any{"org": in.OrgCode, "posts": in.Posts})
	c.JSON(http.StatusCreated, gin.H{"username": in.Username})
}

func usernamePattern(u string) bool {
	if len(u) < 3 || len(u) > 64 {
		return false
	}
	for _, r := range u {
		if !(r >= 'a' && r <= 'z' || r >= '0' && r <= '9' || r == '_' || r == '-') {
			return false
		}
	}
	return true
}

func (s *Sessions) setStatus(c *gin.Context) {
	var in struct {
		Status string `json:"status"`
	}
	if !server.Decode(c, &in) {
		return
	}
	if in.Status != "active" && in.Status != "disabled" {
		server.Fail(c, apierror.Invalid("status must be active or disabled"))
		return
	}
	if who := From(c.Request.Context()); who.Username == c.Param("username") {
		server.Fail(c, apierror.Invalid("you cannot change your own account's status"))
		return
	}
	n, err := s.client.User.Update().Where(user.Username(c.Param("username"))).SetStatus(user.Status(in.Status)).Save(c.Request.Context())
	if err != nil {
		server.Fail(c, err)
		return
	}
	if n == 0 {
		server.Fail(c, apierror.New(http.StatusNotFound, "identity.no_user", nil))
		return
	}
	if in.Status == "disabled" {
		// A disabled account's sessions end now.
		if _, err := s.client.Session.Update().Where(session.HasUserWith(user.Username(c.Param("username"))), session.RevokedAtIsNil()).
			SetRevokedAt(s.opts.Now().UTC()).Save(c.Request.Context()); err != nil {
			server.Fail(c, err)
			return
		}
	}
	s.adminAudit(c, "user.status", "user:"+c.Param("username"), map[string]any{"status": in.Status})
	c.JSON(http.StatusOK, gin.H{"status": in.Status})
}

func (s *Sessions) setRoles(c *gin.Context) {
	var in struct {
		Roles []string `json:"roles"`
	}
	if !server.Decode(c, &in) {
		return
	}
	if err := CheckSeparation(in.Roles); err != nil {
		server.Fail(c, apierror.New(http.StatusBadRequest, "identity.separation", nil))
		return
	}
	ctx := c.Request.Context()
	rs, err := s.client.Role.Query().Where(role.KeyIn(in.Roles...)).All(ctx)
	if err != nil {
		server.Fail(c, err)
		return
	}
	if len(rs) != len(in.Roles) {
		server.Fail(c, apierror.Invalid("unknown role"))
		return
	}
	u, err := s.client.User.Query().Where(user.Username(c.Param("username"))).Only(ctx)
	if ent.IsNotFound(err) {
		server.Fail(c, apierror.New(http.StatusNotFound, "identity.no_user", nil))
		return
	} else if err != nil {
		server.Fail(c, err)
		return
	}
	if err := u.Update().ClearRoles().AddRoles(rs...).Exec(ctx); err != nil {
		server.Fail(c, err)
		return
	}
	s.adminAudit(c, "user.roles", "user:"+u.Username, map[string]any{"roles": in.Roles})
	c.JSON(http.StatusOK, gin.H{"roles": in.Roles})
}

func (s *Sessions) unlock(c *gin.Context) {
	ctx := c.Request.Context()
	name := c.Param("username")
	if _, err := s.client.LoginThrottle.Delete().Where(loginthrottle.Username(name)).Exec(ctx); err != nil {
		server.Fail(c, err)
		return
	}
	if _, err := s.client.User.Update().Where(user.Username(name), user.StatusEQ(user.StatusLocked)).SetStatus(user.StatusActive).Save(ctx); err != nil {
		server.Fail(c, err)
		return
	}
	s.adminAudit(c, "user.unlock", "user:"+name, nil)
	c.Status(http.StatusNoContent)
}

// adminAudit records a successful administrative change to resource
// ("user:pd_li", "org:310115-S04", "role:inspector").
func (s *Sessions) adminAudit(c *gin.Context, action, resource string, detail map[string]any) {
	who := From(c.Request.Context())
	_, _ = s.audit.Write(c.Request.Context(), audit.Entry{Actor: who.Username, OrgPath: who.OrgPath, Action: action,
		Resource: resource, Outcome: audit.Success, RequestID: server.RequestID(c), IP: c.ClientIP(), Detail: detail})
}
