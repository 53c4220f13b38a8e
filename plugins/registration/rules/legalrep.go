package rules

import (
	"slices"
	"strings"
	"time"
)

// legacyCutoff is the day the revised Company Law took effect: enterprises
// registered before it are existing (存量) enterprises.
var legacyCutoff = time.Date(2024, 7, 1, 0, 0, 0, 0, time.UTC)

// checkCompanyType: module 4 (企业类型相关调整) — the company type must be one
// of the dictionary's; every other rule depends on it.
//
//	“企业类型相关调整涉及的业务功能，包括：设立、变更全程网办系统（内资、外资）；移动端（内资设立）；
//	内网登记审核系统（内资、外资）；内网名称审核系统。”
func checkCompanyType(app Application) []Violation {
	switch app.Type {
	case LLC, OnePersonLLC, StateSoleLLC, JSC, ListedJSC:
		return nil
	}
	return []Violation{violation(RuleCompanyType, "type",
		"公司类型“"+string(app.Type)+"”不在字典中",
		"company type “"+string(app.Type)+"” is not in the dictionary")}
}

// checkLegacy: module 1, R2 — only an existing enterprise keeps legacy
// values, so the legacy flag is wrong on an establishment or on a company
// established under the revised law, and the legacy legal-representative
// position 执行董事 is accepted only from a legacy enterprise.
//
//	“存量企业容错处理：对于调整前的存量企业，没有办理相关变更的，企业数据不做修改。
//	在内网查询功能中显示的职务、产生方式应显示为原来的内容。”
func checkLegacy(app Application) []Violation {
	var out []Violation
	switch {
	case app.Legacy && !app.IsChange():
		out = append(out, violation(RuleLegacy, "legacy",
			"设立登记的公司不是存量企业，不能沿用原职务、产生方式",
			"a company being established is not an existing enterprise and cannot keep legacy values"))
	case app.Legacy && !app.EstablishedOn.IsZero() && !day(app.EstablishedOn).Before(legacyCutoff):
		out = append(out, violation(RuleLegacy, "legacy",
			"成立于2024年7月1日以后的公司不是存量企业",
			"a company established on or after 2024-07-01 is not an existing enterprise"))
	}
	if app.LegalRep.Position == ExecutiveDirector && !app.Legacy {
		out = append(out, violation(RuleLegacy, "legalRep.position",
			"“执行董事”为原职务，仅存量企业未办理相关变更的可沿用；请选择董事长、董事或经理",
			"“executive director” is a legacy position kept only by existing enterprises; choose chairman, director or manager"))
	}
	return out
}

// checkLegalRepPosition: module 1 — the legal representative is a director
// who executes company affairs (董事长, or the director 代表公司执行公司事务) or
// the manager, and is listed among the main members in that position. The
// position dictionary changed with the revised Company Law, art. 10: “公司的
// 法定代表人按照公司章程的规定，由代表公司执行公司事务的董事或者经理担任。”
//
//	“法定代表人信息采集：1）修改法定代表人职务、法定代表人产生方式的字典选项。”
func checkLegalRepPosition(app Application) []Violation {
	lr := app.LegalRep
	switch lr.Position {
	case Chairman, Director, Manager, ExecutiveDirector:
	default:
		return []Violation{violation(RuleLegalRepPosition, "legalRep.position",
			"法定代表人应当由代表公司执行公司事务的董事（董事长、董事）或者经理担任",
			"the legal representative must be the director who executes company affairs (chairman, director) or the manager")}
	}
	i := slices.IndexFunc(app.Members, func(m Member) bool { return m.same(lr.Person) })
	if i < 0 {
		return []Violation{violation(RuleLegalRepPosition, "legalRep",
			"法定代表人"+lr.Name+"应当列入主要成员",
			"the legal representative "+lr.Name+" must be listed among the main members")}
	}
	if !app.Members[i].has(lr.Position) {
		pos := lr.Position.label()
		return []Violation{violation(RuleLegalRepPosition, "legalRep.position",
			"法定代表人"+lr.Name+"在主要成员中未担任"+pos.zh,
			"the legal representative "+lr.Name+" is not "+pos.en+" among the main members")}
	}
	return nil
}

// AppointmentMethods returns the appointment methods (产生方式) that apply to
// a legal representative of the position in a company of the type, so that
// the form can hide the others (R1); nil if the position cannot be the
// legal representative's.
//
// The spec leaves the table to the national bureau's dictionary, which it
// does not include; this one follows the Company Law: the chairman is
// elected by the board of a 股份有限公司 (art. 122), produced as the articles
// say in a 有限责任公司 (art. 68), designated by the state investor in a
// 国有独资公司 (art. 173); directors are elected by the shareholders' meeting
// (art. 59) or appointed by a sole shareholder (art. 60, 112) or the state
// investor (art. 173); the manager is hired by the board (art. 74, 126).
func AppointmentMethods(t CompanyType, p Position) []AppointmentMethod {
	if p == ExecutiveDirector {
		p = Director
	}
	switch {
	case p == Manager:
		return []AppointmentMethod{Hired}
	case p != Chairman && p != Director:
		return nil
	case t == StateSoleLLC:
		return []AppointmentMethod{Appointed}
	case t == OnePersonLLC && p == Director:
		return []AppointmentMethod{Appointed}
	case t.jointStock() && p == Chairman:
		return []AppointmentMethod{Elected}
	case t.limited() || t.jointStock():
		return []AppointmentMethod{Elected, Appointed}
	}
	return nil
}

// checkAppointmentMethod: module 1, R1 — the appointment method must be one
// that applies to the legal representative's position and the company type.
//
//	“设立网办系统，调整逻辑规则，产生方式和法定代表人的职务、公司类型做关联逻辑，不适用的产生方式不再显示。”
func checkAppointmentMethod(app Application) []Violation {
	allowed := AppointmentMethods(app.Type, app.LegalRep.Position)
	if allowed == nil || slices.Contains(allowed, app.LegalRep.AppointedBy) {
		return nil // unknown type or position: reported by their own rules
	}
	var zh, en []string
	for _, m := range allowed {
		zh, en = append(zh, m.label().zh), append(en, m.label().en)
	}
	pos, typ, got := app.LegalRep.Position.label(), app.Type.label(), app.LegalRep.AppointedBy.label()
	return []Violation{violation(RuleAppointment, "legalRep.appointedBy",
		"产生方式“"+got.zh+"”不适用于"+typ.zh+"的"+pos.zh+"，应为："+strings.Join(zh, "、"),
		"appointment method “"+got.en+"” does not apply to the "+pos.en+" of a "+typ.en+"; use: "+strings.Join(en, ", "))}
}
