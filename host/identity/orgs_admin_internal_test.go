package identity

import (
	"testing"

	"github.com/shanghai-amr/portal/host/store/ent"
	"github.com/shanghai-amr/portal/host/store/ent/organization"
)

func TestOrganisationCodesFollowTheirParents(t *testing.T) {
	city := &ent.Organization{Code: "310000", Kind: organization.KindCity}
	pudong := &ent.Organization{Code: "310115", Kind: organization.KindDistrict}
	tests := []struct {
		parent *ent.Organization
		kind   organization.Kind
		code   string
		ok     bool
	}{
		{city, organization.KindDistrict, "310199", true},
		{city, organization.KindDistrict, "320101", false}, // another province
		{city, organization.KindDistrict, "310000", false}, // the city itself
		{city, organization.KindDistrict, "31019a", false},
		{city, organization.KindDepartment, "310000-D05", true},
		{city, organization.KindDepartment, "310000-S05", false},
		{pudong, organization.KindStation, "310115-S04", true},
		{pudong, organization.KindStation, "310115-S104", true},
		{pudong, organization.KindStation, "310115-S4", false},
		{pudong, organization.KindStation, "310115-S0004", false},
		{pudong, organization.KindStation, "310101-S04", false},
		{pudong, organization.KindDepartment, "310115-D04", true},
		{pudong, organization.KindDepartment, "310115-D04 ", false},
	}
	for _, tt := range tests {
		if _, ok := checkOrgCode(tt.parent, tt.kind, tt.code); ok != tt.ok {
			t.Errorf("%s %s under %s: ok = %v, want %v", tt.kind, tt.code, tt.parent.Code, ok, tt.ok)
		}
	}
}

func TestSuggestedCodeIsTheNextNumber(t *testing.T) {
	pudong := &ent.Organization{Code: "310115", Kind: organization.KindDistrict}
	siblings := []string{"310115-D01", "310115-D03", "310115-S01", "310115-S02", "310115-S03", "310115-Sx"}
	if got := suggestCode(pudong, organization.KindStation, siblings); got != "310115-S04" {
		t.Errorf("station: %s", got)
	}
	if got := suggestCode(pudong, organization.KindDepartment, siblings); got != "310115-D04" {
		t.Errorf("department: %s", got)
	}
	if got := suggestCode(pudong, organization.KindDepartment, nil); got != "310115-D01" {
		t.Errorf("first department: %s", got)
	}
	if got := suggestCode(&ent.Organization{Code: "310000"}, organization.KindDistrict, nil); got != "" {
		t.Errorf("district: %q (its code is its division code)", got)
	}
}

func TestAdministratorPermissionsAreTheSeparatedRolesOwn(t *testing.T) {
	admin := AdministratorPermissions()
	for _, p := range []string{"org.manage", "users.manage", "plugins.manage", "roles.manage", "sessions.manage", "policies.manage", "users.unlock", "audit.read", "audit.verify", "users.read"} {
		if !admin[p] {
			t.Errorf("%s is not an administrator's permission", p)
		}
	}
	for _, p := range []string{"workbench.use", "documents.read", "notice.read", "dossiers.check"} {
		if admin[p] {
			t.Errorf("%s, which other roles hold, is an administrator's permission", p)
		}
	}
}
