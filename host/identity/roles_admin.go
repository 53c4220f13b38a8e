package identity

// Role administration, the security administrator's part of 三员分立.
//
// Built-in roles (BuiltinRoles) are read-only here: the host resets them at
// every start. Custom roles are made of permissions the portal knows — those
// of the built-in roles and those the serving plugins' manifests declare on
// their staff routes and menus — minus the administrator-exclusive ones, so
// that no custom role can hand an account a part of the system, security or
// audit administrator's power (that would undo CheckSeparation).
//
// A changed role takes effect on its holders' next request: the change
// raises the access epoch, under which sessions cache identities (see
// identities), and the policy engine caches decisions by their complete
// input, permissions included.

import (
	"context"
	"net/http"
	"regexp"
	"slices"
	"strings"

	"github.com/gin-gonic/gin"

	"github.com/shanghai-amr/portal/host/apierror"
	"github.com/shanghai-amr/portal/host/server"
	"github.com/shanghai-amr/portal/host/store/ent"
	"github.com/shanghai-amr/portal/host/store/ent/organization"
	"github.com/shanghai-amr/portal/host/store/ent/pluginbundle"
	"github.com/shanghai-amr/portal/host/store/ent/role"
	"github.com/shanghai-amr/portal/sdk/manifest"
)

// RoleInfo is a role as the admin console lists it.
type RoleInfo struct {
	Key         string   `json:"key"`
	Name        string   `json:"name"`
	NameEn      string   `json:"name_en,omitempty"`
	Builtin     bool     `json:"builtin"`
	Permissions []string `json:"permissions"`
	DataScope   string   `json:"data_scope"`
	CustomScope []string `json:"custom_scope"`
	// Users is how many accounts hold the role.
	Users int `json:"users"`
}

// Permission is one permission the role editor knows.
type Permission struct {
	Key string `json:"key"`
	// Sources say where it comes from: "host" (a built-in role holds it) and
	// the ids of plugins whose manifests declare it.
	Sources []string `json:"sources"`
	// Administrator marks a permission only the separated administrator roles
	// hold; no custom role may carry it.
	Administrator bool `json:"administrator"`
}

// Role administration errors.
var (
	errRoleExists   = apierror.New(http.StatusConflict, "identity.role_exists", nil)
	errNoRole       = apierror.New(http.StatusNotFound, "identity.no_role", nil)
	errRoleBadKey   = apierror.New(http.StatusBadRequest, "identity.role_bad_key", nil)
	errRoleBuiltin  = apierror.New(http.StatusConflict, "identity.role_builtin", nil)
	errRoleEmpty    = apierror.New(http.StatusBadRequest, "identity.role_empty", nil)
	errRoleBadScope = apierror.New(http.StatusBadRequest, "identity.role_bad_scope", nil)
)

// roleKeyPattern: a custom role's key, like the built-in ones (case_lead).
var roleKeyPattern = regexp.MustCompile(`^[a-z][a-z0-9_]{2,63}$`)

// Names are stored in columns of at most this many bytes (the ent schema's
// MaxLen): a Chinese character takes three.
const (
	roleNameBytes = 64
	orgNameBytes  = 128
)

// badName is the answer for a missing or too long name.
func badName(maxBytes int) *apierror.Error {
	return apierror.New(http.StatusBadRequest, "identity.bad_name", map[string]any{"MaxZh": maxBytes / 3, "MaxEn": maxBytes})
}

// checkNames trims and checks a name pair: the Chinese name is required.
func checkNames(name, nameEn *string, maxBytes int) error {
	*name, *nameEn = strings.TrimSpace(*name), strings.TrimSpace(*nameEn)
	if *name == "" || len(*name) > maxBytes || len(*nameEn) > maxBytes {
		return badName(maxBytes)
	}
	return nil
}

// AdministratorPermissions are the permissions that only the separated
// administrator roles (IsAdministratorRole) hold among the built-in roles.
func AdministratorPermissions() map[string]bool {
	admin, other := map[string]bool{}, map[string]bool{}
	for _, r := range BuiltinRoles {
		for _, p := range r.Permissions {
			if IsAdministratorRole(r.Key) {
				admin[p] = true
			} else {
				other[p] = true
			}
		}
	}
	for p := range other {
		delete(admin, p)
	}
	return admin
}

// KnownPermissions lists, sorted, the permissions of the built-in roles and
// those the serving version of every installed plugin declares on routes and
// menus open to staff.
func (s *Sessions) KnownPermissions(ctx context.Context) ([]Permission, error) {
	sources := map[string][]string{}
	add := func(p, from string) {
		if p != "" && !slices.Contains(sources[p], from) {
			sources[p] = append(sources[p], from)
		}
	}
	for _, r := range BuiltinRoles {
		for _, p := range r.Permissions {
			add(p, "host")
		}
	}
	plugins, err := s.client.Plugin.Query().All(ctx)
	if err != nil {
		return nil, err
	}
	for _, p := range plugins {
		b, err := s.client.PluginBundle.Query().Where(pluginbundle.PluginID(p.PluginID), pluginbundle.Version(p.Version)).Only(ctx)
		if ent.IsNotFound(err) {
			continue
		} else if err != nil {
			return nil, err
		}
		// The manifest passed Parse at install; one that no longer does
		// offers nothing.
		m, err := manifest.Parse(b.Manifest)
		if err != nil {
			continue
		}
		for _, rt := range m.Routes {
			if slices.Contains(rt.Audience, manifest.AudienceStaff) {
				add(rt.Permission, m.ID)
			}
		}
		for _, mn := range m.Menus {
			if len(mn.Audience) == 0 || slices.Contains(mn.Audience, manifest.AudienceStaff) {
				add(mn.Permission, m.ID)
			}
		}
	}
	admin := AdministratorPermissions()
	out := make([]Permission, 0, len(sources))
	for p, from := range sources {
		out = append(out, Permission{Key: p, Sources: from, Administrator: admin[p]})
	}
	slices.SortFunc(out, func(a, b Permission) int { return strings.Compare(a.Key, b.Key) })
	return out, nil
}

// roleFields is what a custom role is made of, besides its key.
type roleFields struct {
	Name        string   `json:"name"`
	NameEn      string   `json:"name_en"`
	Permissions []string `json:"permissions"`
	DataScope   string   `json:"data_scope"`
	CustomScope []string `json:"custom_scope"`
}

// checkRole normalises f (trimmed names, sorted unique lists, subtree by default)
// and checks it: names, permissions known and not administrator-exclusive, a
// data scope, and for the custom scope existing organisations.
func (s *Sessions) checkRole(ctx context.Context, f *roleFields) error {
	if err := checkNames(&f.Name, &f.NameEn, roleNameBytes); err != nil {
		return err
	}
	slices.Sort(f.Permissions)
	f.Permissions = slices.Compact(f.Permissions)
	if len(f.Permissions) == 0 {
		return errRoleEmpty
	}
	if len(f.Permissions) > 200 {
		return apierror.Invalid("at most 200 permissions")
	}
	known, err := s.KnownPermissions(ctx)
	if err != nil {
		return err
	}
	var exclusive, unknown []string
	for _, p := range f.Permissions {
		i := slices.IndexFunc(known, func(k Permission) bool { return k.Key == p })
		switch {
		case i < 0:
			unknown = append(unknown, p)
		case known[i].Administrator:
			exclusive = append(exclusive, p)
		}
	}
	if len(exclusive) > 0 {
		return apierror.New(http.StatusBadRequest, "identity.role_admin_permission", map[string]any{"Permissions": strings.Join(exclusive, ", ")})
	}
	if len(unknown) > 0 {
		return apierror.New(http.StatusBadRequest, "identity.role_unknown_permission", map[string]any{"Permissions": strings.Join(unknown, ", ")})
	}
	if f.DataScope == "" {
		f.DataScope = string(role.DefaultDataScope)
	}
	if role.DataScopeValidator(role.DataScope(f.DataScope)) != nil {
		return errRoleBadScope
	}
	slices.Sort(f.CustomScope)
	f.CustomScope = slices.Compact(f.CustomScope)
	if f.DataScope != string(role.DataScopeCustom) {
		if len(f.CustomScope) > 0 {
			return errRoleBadScope
		}
		return nil
	}
	if len(f.CustomScope) == 0 || len(f.CustomScope) > 100 {
		return errRoleBadScope
	}
	n, err := s.client.Organization.Query().Where(organization.CodeIn(f.CustomScope...)).Count(ctx)
	if err != nil {
		return err
	}
	if n != len(f.CustomScope) {
		return errRoleBadScope
	}
	return nil
}

// mountRoleAdmin registers the role routes on the admin group.
func (s *Sessions) mountRoleAdmin(api *gin.RouterGroup) {
	api.GET("/roles", Require("users.read"), s.listRoles)
	api.GET("/permissions", Require("roles.manage"), func(c *gin.Context) {
		ps, err := s.KnownPermissions(c.Request.Context())
		if err != nil {
			server.Fail(c, err)
			return
		}
		c.JSON(http.StatusOK, gin.H{"permissions": ps})
	})
	api.POST("/roles", Require("roles.manage"), s.createRole)
	api.PUT("/roles/:key", Require("roles.manage"), s.updateRole)
	api.DELETE("/roles/:key", Require("roles.manage"), s.deleteRole)
}

func (s *Sessions) listRoles(c *gin.Context) {
	ctx := c.Request.Context()
	rs, err := s.client.Role.Query().Order(ent.Asc(role.FieldKey)).All(ctx)
	if err != nil {
		server.Fail(c, err)
		return
	}
	out := make([]RoleInfo, len(rs))
	for i, r := range rs {
		n, err := r.QueryUsers().Count(ctx)
		if err != nil {
			server.Fail(c, err)
			return
		}
		out[i] = roleInfo(r, n)
	}
	c.JSON(http.StatusOK, gin.H{"roles": out})
}

func roleInfo(r *ent.Role, users int) RoleInfo {
	ri := RoleInfo{Key: r.Key, Name: r.Name, NameEn: r.NameEn, Builtin: r.Builtin, Permissions: r.Permissions,
		DataScope: string(r.DataScope), CustomScope: r.CustomScope, Users: users}
	if ri.Permissions == nil {
		ri.Permissions = []string{}
	}
	if ri.CustomScope == nil {
		ri.CustomScope = []string{}
	}
	return ri
}

func (s *Sessions) createRole(c *gin.Context) {
	var in struct {
		Key string `json:"key"`
		roleFields
	}
	if !server.Decode(c, &in) {
		return
	}
	ctx := c.Request.Context()
	if in.Key = strings.TrimSpace(in.Key); !roleKeyPattern.MatchString(in.Key) {
		server.Fail(c, errRoleBadKey)
		return
	}
	if err := s.checkRole(ctx, &in.roleFields); err != nil {
		server.Fail(c, err)
		return
	}
	r, err := s.client.Role.Create().SetKey(in.Key).SetName(in.Name).SetNameEn(in.NameEn).SetBuiltin(false).
		SetPermissions(in.Permissions).SetDataScope(role.DataScope(in.DataScope)).SetCustomScope(in.CustomScope).Save(ctx)
	if ent.IsConstraintError(err) {
		server.Fail(c, errRoleExists)
		return
	} else if err != nil {
		server.Fail(c, err)
		return
	}
	s.adminAudit(c, "role.create", "role:"+in.Key, map[string]any{"name": in.Name, "permissions": in.Permissions,
		"data_scope": in.DataScope, "custom_scope": in.CustomScope})
	c.JSON(http.StatusCreated, roleInfo(r, 0))
}

// customRole loads the role the path names and refuses a built-in one.
func (s *Sessions) customRole(c *gin.Context) (*ent.Role, bool) {
	r, err := s.client.Role.Query().Where(role.Key(c.Param("key"))).Only(c.Request.Context())
	switch {
	case ent.IsNotFound(err):
		server.Fail(c, errNoRole)
		return nil, false
	case err != nil:
		server.Fail(c, err)
		return nil, false
	case r.Builtin:
		server.Fail(c, errRoleBuiltin)
		return nil, false
	}
	return r, true
}

func (s *Sessions) updateRole(c *gin.Context) {
	var in roleFields
	if !server.Decode(c, &in) {
		return
	}
	ctx := c.Request.Context()
	r, ok := s.customRole(c)
	if !ok {
		return
	}
	if err := s.checkRole(ctx, &in); err != nil {
		server.Fail(c, err)
		return
	}
	// Only a custom role is updated, even if it changed since it was read.
	n, err := s.client.Role.Update().Where(role.ID(r.ID), role.Builtin(false)).SetName(in.Name).SetNameEn(in.NameEn).
		SetPermissions(in.Permissions).SetDataScope(role.DataScope(in.DataScope)).SetCustomScope(in.CustomScope).Save(ctx)
	if err != nil {
		server.Fail(c, err)
		return
	}
	if n == 0 {
		server.Fail(c, errNoRole)
		return
	}
	s.adminAudit(c, "role.update", "role:"+r.Key, map[string]any{"name": in.Name, "permissions": in.Permissions,
		"data_scope": in.DataScope, "custom_scope": in.CustomScope,
		"before": map[string]any{"name": r.Name, "permissions": r.Permissions, "data_scope": string(r.DataScope), "custom_scope": r.CustomScope}})
	users, err := r.QueryUsers().Count(ctx)
	if err != nil {
		server.Fail(c, err)
		return
	}
	r.Name, r.NameEn, r.Permissions, r.DataScope, r.CustomScope = in.Name, in.NameEn, in.Permissions, role.DataScope(in.DataScope), in.CustomScope
	c.JSON(http.StatusOK, roleInfo(r, users))
}

func (s *Sessions) deleteRole(c *gin.Context) {
	ctx := c.Request.Context()
	r, ok := s.customRole(c)
	if !ok {
		return
	}
	// Deleted only while nobody holds it, checked in the same statement.
	n, err := s.client.Role.Delete().Where(role.ID(r.ID), role.Builtin(false), role.Not(role.HasUsers())).Exec(ctx)
	if err != nil {
		server.Fail(c, err)
		return
	}
	if n == 0 {
		users, err := r.QueryUsers().Count(ctx)
		if err != nil {
			server.Fail(c, err)
			return
		}
		server.Fail(c, apierror.New(http.StatusConflict, "identity.role_in_use", map[string]any{"Count": users}))
		return
	}
	s.adminAudit(c, "role.delete", "role:"+r.Key, map[string]any{"permissions": r.Permissions})
	c.Status(http.StatusNoContent)
}
