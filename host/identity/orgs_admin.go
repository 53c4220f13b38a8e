package identity

// Organisation administration, the system administrator's: create a unit
// under a parent, rename one, delete an empty leaf. A unit never moves and its
// code never changes, so every path (/310000/310115/310115-S02) stays what
// host/org computed when the unit was created; nothing else needs rewriting.

import (
	"context"
	"fmt"
	"net/http"
	"regexp"
	"slices"
	"strconv"
	"strings"

	"github.com/gin-gonic/gin"

	"github.com/shanghai-amr/portal/host/apierror"
	"github.com/shanghai-amr/portal/host/org"
	"github.com/shanghai-amr/portal/host/server"
	"github.com/shanghai-amr/portal/host/store/ent"
	"github.com/shanghai-amr/portal/host/store/ent/document"
	"github.com/shanghai-amr/portal/host/store/ent/dossier"
	"github.com/shanghai-amr/portal/host/store/ent/organization"
	"github.com/shanghai-amr/portal/host/store/ent/processinstance"
	"github.com/shanghai-amr/portal/host/store/ent/role"
	"github.com/shanghai-amr/portal/host/store/ent/user"
)

// OrgInfo is an organisation as the admin console lists it.
type OrgInfo struct {
	Code         string `json:"code"`
	Name         string `json:"name"`
	NameEn       string `json:"name_en,omitempty"`
	Kind         string `json:"kind"`
	Path         string `json:"path"`
	Parent       string `json:"parent,omitempty"`
	DivisionCode string `json:"division_code,omitempty"`
	// MayAdd lists the kinds of unit that may be created under this one, with
	// the next free code where the portal can tell it (not for districts,
	// whose code is their GB/T 2260 division code).
	MayAdd []ChildKind `json:"may_add,omitempty"`
}

// ChildKind is a kind of unit that may be created under another.
type ChildKind struct {
	Kind          string `json:"kind"`
	SuggestedCode string `json:"suggested_code,omitempty"`
}

// childKinds are the kinds of unit that may be created under each kind: the
// city bureau has district bureaus and divisions (处室), a district bureau
// has market stations and sections (科室), a station has sections. The city
// bureau is the root and is never created here.
var childKinds = map[organization.Kind][]organization.Kind{
	organization.KindCity:     {organization.KindDistrict, organization.KindDepartment},
	organization.KindDistrict: {organization.KindStation, organization.KindDepartment},
	organization.KindStation:  {organization.KindDepartment},
}

// codeLetter marks a station's and a department's code after its parent's:
// 310115-S02, 310115-D01.
var codeLetter = map[organization.Kind]string{organization.KindStation: "S", organization.KindDepartment: "D"}

var (
	districtCode = regexp.MustCompile(`^[0-9]{6}$`)
	childNumber  = regexp.MustCompile(`^[0-9]{2,3}$`)
)

// checkOrgCode reports whether code fits a new unit of kind under parent. A
// district bureau's code is its six-digit GB/T 2260 division code in the
// parent's province; a station's or a department's is the parent's code,
// then -S or -D and two or three digits. When it does not fit, example shows
// what would.
func checkOrgCode(parent *ent.Organization, kind organization.Kind, code string) (example string, ok bool) {
	if kind == organization.KindDistrict {
		province := parent.Code[:min(2, len(parent.Code))]
		return province + "0101", districtCode.MatchString(code) && strings.HasPrefix(code, province) && code != parent.Code
	}
	prefix := parent.Code + "-" + codeLetter[kind]
	n, found := strings.CutPrefix(code, prefix)
	return prefix + "01", found && childNumber.MatchString(n) && len(code) <= 64
}

// suggestCode is the next free code for a station or department under parent,
// given the codes of its children.
func suggestCode(parent *ent.Organization, kind organization.Kind, siblings []string) string {
	letter, ok := codeLetter[kind]
	if !ok {
		return ""
	}
	prefix := parent.Code + "-" + letter
	next := 1
	for _, c := range siblings {
		if n, found := strings.CutPrefix(c, prefix); found && childNumber.MatchString(n) {
			v, _ := strconv.Atoi(n)
			next = max(next, v+1)
		}
	}
	return fmt.Sprintf("%s%02d", prefix, next)
}

// Organisation administration errors.
var (
	errOrgExists      = apierror.New(http.StatusConflict, "identity.org_exists", nil)
	errNoOrg          = apierror.New(http.StatusNotFound, "identity.no_org", nil)
	errOrgNoParent    = apierror.New(http.StatusBadRequest, "identity.org_no_parent", nil)
	errOrgBadKind     = apierror.New(http.StatusBadRequest, "identity.org_bad_kind", nil)
	errOrgRoot        = apierror.New(http.StatusConflict, "identity.org_root", nil)
	errOrgHasChildren = apierror.New(http.StatusConflict, "identity.org_has_children", nil)
	errOrgInUse       = apierror.New(http.StatusConflict, "identity.org_in_use", nil)
)

func errOrgBadCode(example string) *apierror.Error {
	return apierror.New(http.StatusBadRequest, "identity.org_bad_code", map[string]any{"Example": example})
}

func errOrgHasUsers(n int) *apierror.Error {
	return apierror.New(http.StatusConflict, "identity.org_has_users", map[string]any{"Count": n})
}

// mountOrgAdmin registers the organisation routes on the admin group.
func (s *Sessions) mountOrgAdmin(api *gin.RouterGroup) {
	// The security administrator reads the tree too: custom data scopes
	// name units.
	api.GET("/orgs", requireEither("org.read", "roles.manage"), s.listOrgs)
	api.POST("/orgs", Require("org.manage"), s.createOrg)
	api.PUT("/orgs/:code", Require("org.manage"), s.renameOrg)
	api.DELETE("/orgs/:code", Require("org.manage"), s.deleteOrg)
}

// requireEither is Require for callers the policy allows a or b; a refusal
// is Require(b)'s (401 or 403, audited).
func requireEither(a, b string) gin.HandlerFunc {
	return func(c *gin.Context) {
		if Can(c, []string{a})[a] {
			Require(a)(c)
			return
		}
		Require(b)(c)
	}
}

func (s *Sessions) listOrgs(c *gin.Context) {
	os, err := s.client.Organization.Query().WithParent().Order(ent.Asc(organization.FieldPath)).All(c.Request.Context())
	if err != nil {
		server.Fail(c, err)
		return
	}
	children := map[string][]string{}
	for _, o := range os {
		if o.Edges.Parent != nil {
			children[o.Edges.Parent.Code] = append(children[o.Edges.Parent.Code], o.Code)
		}
	}
	out := make([]OrgInfo, len(os))
	for i, o := range os {
		out[i] = orgInfo(o)
		for _, k := range childKinds[o.Kind] {
			out[i].MayAdd = append(out[i].MayAdd, ChildKind{Kind: string(k), SuggestedCode: suggestCode(o, k, children[o.Code])})
		}
	}
	c.JSON(http.StatusOK, gin.H{"orgs": out})
}

// orgByCode loads a unit, with its parent, by code; when there is none it
// answers notFound.
func (s *Sessions) orgByCode(c *gin.Context, code string, notFound *apierror.Error) (*ent.Organization, bool) {
	o, err := s.client.Organization.Query().Where(organization.Code(code)).WithParent().Only(c.Request.Context())
	switch {
	case ent.IsNotFound(err):
		server.Fail(c, notFound)
		return nil, false
	case err != nil:
		server.Fail(c, err)
		return nil, false
	}
	return o, true
}

func orgInfo(o *ent.Organization) OrgInfo {
	oi := OrgInfo{Code: o.Code, Name: o.Name, NameEn: o.NameEn, Kind: string(o.Kind), Path: o.Path, DivisionCode: o.DivisionCode}
	if o.Edges.Parent != nil {
		oi.Parent = o.Edges.Parent.Code
	}
	return oi
}

func (s *Sessions) createOrg(c *gin.Context) {
	var in struct {
		Parent string `json:"parent"`
		Code   string `json:"code"`
		Kind   string `json:"kind"`
		Name   string `json:"name"`
		NameEn string `json:"name_en"`
	}
	if !server.Decode(c, &in) {
		return
	}
	ctx := c.Request.Context()
	in.Code = strings.TrimSpace(in.Code)
	if err := checkNames(&in.Name, &in.NameEn, orgNameBytes); err != nil {
		server.Fail(c, err)
		return
	}
	parent, ok := s.orgByCode(c, in.Parent, errOrgNoParent)
	if !ok {
		return
	}
	kind := organization.Kind(in.Kind)
	if !slices.Contains(childKinds[parent.Kind], kind) {
		server.Fail(c, errOrgBadKind)
		return
	}
	if example, ok := checkOrgCode(parent, kind, in.Code); !ok {
		server.Fail(c, errOrgBadCode(example))
		return
	}
	if exists, err := s.client.Organization.Query().Where(organization.Code(in.Code)).Exist(ctx); err != nil {
		server.Fail(c, err)
		return
	} else if exists {
		server.Fail(c, errOrgExists)
		return
	}
	n := org.Node{Code: in.Code, Name: in.Name, NameEn: in.NameEn, Kind: kind}
	switch kind {
	case organization.KindDistrict:
		n.DivisionCode = in.Code
	case organization.KindStation:
		n.DivisionCode = parent.DivisionCode
	}
	// The unique code decides a race between two creations.
	if err := org.Create(ctx, s.client, parent, n); ent.IsConstraintError(err) {
		server.Fail(c, errOrgExists)
		return
	} else if err != nil {
		server.Fail(c, err)
		return
	}
	s.adminAudit(c, "org.create", "org:"+in.Code, map[string]any{"parent": parent.Code, "kind": in.Kind, "name": in.Name, "name_en": in.NameEn})
	c.JSON(http.StatusCreated, OrgInfo{Code: n.Code, Name: n.Name, NameEn: n.NameEn, Kind: in.Kind,
		Path: parent.Path + "/" + n.Code, Parent: parent.Code, DivisionCode: n.DivisionCode})
}

func (s *Sessions) renameOrg(c *gin.Context) {
	var in struct {
		Name   string `json:"name"`
		NameEn string `json:"name_en"`
	}
	if !server.Decode(c, &in) {
		return
	}
	ctx := c.Request.Context()
	if err := checkNames(&in.Name, &in.NameEn, orgNameBytes); err != nil {
		server.Fail(c, err)
		return
	}
	o, ok := s.orgByCode(c, c.Param("code"), errNoOrg)
	if !ok {
		return
	}
	if err := o.Update().SetName(in.Name).SetNameEn(in.NameEn).Exec(ctx); err != nil {
		server.Fail(c, err)
		return
	}
	s.adminAudit(c, "org.rename", "org:"+o.Code, map[string]any{"name": in.Name, "name_en": in.NameEn,
		"before": map[string]any{"name": o.Name, "name_en": o.NameEn}})
	c.JSON(http.StatusOK, gin.H{"code": o.Code, "name": in.Name, "name_en": in.NameEn})
}

func (s *Sessions) deleteOrg(c *gin.Context) {
	ctx := c.Request.Context()
	o, ok := s.orgByCode(c, c.Param("code"), errNoOrg)
	if !ok {
		return
	}
	if o.Edges.Parent == nil {
		server.Fail(c, errOrgRoot)
		return
	}
	if err := s.orgRemovable(ctx, o); err != nil {
		server.Fail(c, err)
		return
	}
	// Users are checked again in the statement, so that an account created
	// meanwhile is never left without its organisation.
	n, err := s.client.Organization.Delete().Where(organization.ID(o.ID), organization.Not(organization.HasUsers())).Exec(ctx)
	if err != nil {
		server.Fail(c, err)
		return
	}
	if n == 0 {
		server.Fail(c, errOrgHasUsers(1))
		return
	}
	s.adminAudit(c, "org.delete", "org:"+o.Code, map[string]any{"parent": o.Edges.Parent.Code, "name": o.Name, "kind": string(o.Kind)})
	c.Status(http.StatusNoContent)
}

// orgRemovable refuses to delete a unit that has units under it, accounts in
// it, a custom role's data scope naming it, or host records (documents,
// dossiers, processes) filed under it — their organisation must keep meaning
// what it meant.
func (s *Sessions) orgRemovable(ctx context.Context, o *ent.Organization) error {
	if n, err := o.QueryChildren().Count(ctx); err != nil {
		return err
	} else if n > 0 {
		return errOrgHasChildren
	}
	if n, err := s.client.User.Query().Where(user.HasOrganizationWith(organization.ID(o.ID))).Count(ctx); err != nil {
		return err
	} else if n > 0 {
		return errOrgHasUsers(n)
	}
	custom, err := s.client.Role.Query().Where(role.DataScopeEQ(role.DataScopeCustom)).All(ctx)
	if err != nil {
		return err
	}
	for _, r := range custom {
		if slices.Contains(r.CustomScope, o.Code) {
			return errOrgInUse
		}
	}
	for _, exists := range []func() (bool, error){
		func() (bool, error) { return s.client.Document.Query().Where(document.OrgPath(o.Path)).Exist(ctx) },
		func() (bool, error) { return s.client.Dossier.Query().Where(dossier.OrgPath(o.Path)).Exist(ctx) },
		func() (bool, error) {
			return s.client.ProcessInstance.Query().Where(processinstance.OrgPath(o.Path)).Exist(ctx)
		},
	} {
		if found, err := exists(); err != nil {
			return err
		} else if found {
			return errOrgInUse
		}
	}
	return nil
}
