package identity

import (
	"context"

	"github.com/shanghai-amr/portal/host/pii"
	"github.com/shanghai-amr/portal/host/store/ent"
)

// DemoPassword is the password of every demo account. Demo data is for
// demonstration machines only (portal serve --demo).
const DemoPassword = "Demo@2026!"

// DemoLogin is one demo account, for the start-up banner.
type DemoLogin struct{ Username, Who string }

var demoUsers = []struct {
	NewUser
	who, mobile string
}{
	{NewUser{Username: "secadmin", DisplayName: "安全管理员", OrgCode: "310000", Roles: []string{RoleSecurityAdmin}}, "security administrator, city bureau", "13800010001"},
	{NewUser{Username: "auditadmin", DisplayName: "审计管理员", OrgCode: "310000", Roles: []string{RoleAuditAdmin}}, "audit administrator, city bureau", "13800010002"},
	{NewUser{Username: "city_zhang", DisplayName: "张伟", OrgCode: "310000-D04", Roles: []string{"handler"}, Posts: []string{"enforcement"}}, "case handler, city enforcement division", "13916620003"},
	{NewUser{Username: "pd_li", DisplayName: "李娜", OrgCode: "310115-D03", Roles: []string{"handler"}, Posts: []string{"enforcement"}}, "case handler, Pudong enforcement brigade", "13817750004"},
	{NewUser{Username: "pd_wang", DisplayName: "王强", OrgCode: "310115", Roles: []string{"case_lead"}, Posts: []string{"unit_head"}}, "head of unit, Pudong bureau", "13601880005"},
	{NewUser{Username: "pd_legal", DisplayName: "陈静", OrgCode: "310115-D01", Roles: []string{"legal_reviewer"}, Posts: []string{"legal_review"}}, "legal reviewer, Pudong bureau", "13764210006"},
	{NewUser{Username: "zj_zhao", DisplayName: "赵磊", OrgCode: "310115-S02", Roles: []string{"handler"}, Posts: []string{"enforcement"}}, "case handler, Zhangjiang station (Pudong)", "15021390007"},
	{NewUser{Username: "hp_liu", DisplayName: "刘洋", OrgCode: "310101-D03", Roles: []string{"handler"}, Posts: []string{"enforcement"}}, "case handler, Huangpu enforcement brigade", "18621550008"},
	{NewUser{Username: "hp_reg", DisplayName: "周敏", OrgCode: "310101-D02", Roles: []string{"registration_reviewer"}, Posts: []string{"registration_review"}}, "registration reviewer, Huangpu bureau", "13524670009"},
	{NewUser{Username: "pd_reg", DisplayName: "郑洁", OrgCode: "310115-D02", Roles: []string{"registration_reviewer"}, Posts: []string{"registration_review"}}, "registration reviewer, Pudong bureau", "13916620012"},
	{NewUser{Username: "pd_head", DisplayName: "吴刚", OrgCode: "310115", Roles: []string{"agency_head"}}, "head of the agency, Pudong bureau", "13916620011"},
	{NewUser{Username: "pd_arch", DisplayName: "孙丽", OrgCode: "310115-D01", Roles: []string{"archivist"}}, "archivist, Pudong bureau", "13916620010"},
}

// SeedDemoUsers creates the demo accounts that do not exist yet (the demo
// organisation tree must exist), their mobile numbers sealed with sealer
// (nil: none stored), and returns every demo login.
func SeedDemoUsers(ctx context.Context, c *ent.Client, sealer *pii.Sealer) ([]DemoLogin, error) {
	out := make([]DemoLogin, 0, len(demoUsers))
	for _, d := range demoUsers {
		nu := d.NewUser
		nu.Password = DemoPassword
		if sealer != nil {
			var err error
			if nu.MobileSealed, err = sealer.Seal(d.mobile); err != nil {
				return nil, err
			}
		}
		if _, err := CreateUser(ctx, c, nu); err != nil && !ent.IsConstraintError(err) {
			return nil, err
		}
		out = append(out, DemoLogin{Username: nu.Username, Who: d.who})
	}
	return out, nil
}
