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
// the security administrator grants roles and unlocks accounts):
//
//	GET  /api/v1/admin/users?q=&org=&page=&size=   users.read
//	POST /api/v1/admin/users                       users.manage   {username, display_name, password, org_code, posts}
//	PUT  /api/v1/admin/users/:username/status      users.manage   {status: active|disabled}
//	PUT  /api/v1/admin/users/:username/roles       roles.manage   {roles: [...]}
//	POST /api/v1/admin/users/:username/unlock      users.unlock
//	GET  /api/v1/admin/orgs                        org.read
//	GET  /api/v1/admin/roles, /api/v1/admin/posts  users.read
func (s *Sessions) MountAdminAPI(srv *server.Server, auth gin.HandlerFunc) {
	api := srv.API().Group("/v1/admin", auth)
	api.GET("/users", Require("users.read"), s.listUsers)
	api.POST("/users", Require("users.manage"), s.createUser)
	api.PUT("/users/:username/status", Require("users.manage"), s.setStatus)
	api.PUT("/users/:username/roles", Require("roles.manage"), s.setRoles)
	api.POST("/users/:username/unlock", Require("users.unlock"), s.unlock)
	api.GET("/orgs", Require("org.read"), func(c *gin.Context) {
		os, err := s.client.Organization.Query().WithParent().Order(ent.Asc(organization.FieldPath)).All(c.Request.Context())
		if err != nil {
			server.Fail(c, err)
			return
		}
		type org struct {
			Code   string `json:"code"`
			Name   string `json:"name"`
			NameEn string `json:"name_en,omitempty"`
			Kind   string `json:"kind"`
			Path   string `json:"path"`
			Parent string `json:"parent,omitempty"`
		}
		out := make([]org, len(os))
		for i, o := range os {
			out[i] = org{Code: o.Code, Name: o.Name, NameEn: o.NameEn, Kind: string(o.Kind), Path: o.Path}
			if o.Edges.Parent != nil {
				out[i].Parent = o.Edges.Parent.Code
			}
		}
		c.JSON(http.StatusOK, gin.H{"orgs": out})
	})
	api.GET("/roles", Require("users.read"), func(c *gin.Context) {
		rs, err := s.client.Role.Query().Order(ent.Asc(role.FieldKey)).All(c.Request.Context())
		if err != nil {
			server.Fail(c, err)
			return
		}
		c.JSON(http.StatusOK, gin.H{"roles": rs})
	})
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
	s.adminAudit(c, "user.create", in.Username, map[string]any{"org": in.OrgCode, "posts": in.Posts})
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
	s.adminAudit(c, "user.status", c.Param("username"), map[string]any{"status": in.Status})
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
	s.adminAudit(c, "user.roles", u.Username, map[string]any{"roles": in.Roles})
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
	s.adminAudit(c, "user.unlock", name, nil)
	c.Status(http.StatusNoContent)
}

func (s *Sessions) adminAudit(c *gin.Context, action, username string, detail map[string]any) {
	who := From(c.Request.Context())
	_, _ = s.audit.Write(c.Request.Context(), audit.Entry{Actor: who.Username, OrgPath: who.OrgPath, Action: action,
		Resource: "user:" + username, Outcome: audit.Success, RequestID: server.RequestID(c), IP: c.ClientIP(), Detail: detail})
}
