package rules

import (
	"slices"
	"strings"
)

// checkTransferors: module 7, R13 — in a shareholder change the transferor
// (出让方) of an equity transfer is chosen from the registered shareholders:
// no one else holds equity to transfer.
//
//	“外资企业股东变更时，股权转让的采集信息中，增加出让方信息，出让方名称可以从股东中选择。”
func checkTransferors(app Application) []Violation {
	if !app.IsChange() {
		return nil
	}
	var out []Violation
	for i, t := range app.Change.Transfers {
		if slices.ContainsFunc(app.Change.Shareholders, t.Transferor.same) {
			continue
		}
		out = append(out, violation(RuleTransferor, index("change.transfers", i)+".transferor",
			"出让方"+t.Transferor.Name+"不是登记在册的股东",
			"transferor "+t.Transferor.Name+" is not a registered shareholder"))
	}
	return out
}

// checkJointVentureChange: module 18, R17 — a company whose registered type
// contains 合资 or 合作 (a Sino-foreign joint venture or co-operative under
// the Foreign Investment Law's transition) that files its main members must
// change its enterprise type and adjust its highest authority body in the
// same application. The spec says so for the transition (to the end of
// 2024); the rule is applied whatever the date, since the law lets such a
// company register nothing else after it. Its branches are not modelled.
//
//	“因为外商投资法的5年过渡期（到今年年底），企业类型带合资合作字样的公司及其分公司，
//	在主要成员备案时，必须控制同时要求变更企业类型，调整最高权力机构。”
func checkJointVentureChange(app Application) []Violation {
	if !app.IsChange() || !app.Change.has(ItemMainMembers) {
		return nil
	}
	if t := app.Change.RegisteredType; !strings.Contains(t, "合资") && !strings.Contains(t, "合作") {
		return nil
	}
	var out []Violation
	if !app.Change.has(ItemEnterpriseType) {
		out = append(out, violation(RuleJointVenture, "change.items",
			"企业类型带合资、合作字样的公司备案主要成员时，应当同时变更企业类型",
			"a joint venture or co-operative filing its main members must change its enterprise type in the same application"))
	}
	if !app.Change.has(ItemHighestAuthority) {
		out = append(out, violation(RuleJointVenture, "change.items",
			"企业类型带合资、合作字样的公司备案主要成员时，应当同时调整最高权力机构",
			"a joint venture or co-operative filing its main members must adjust its highest authority body in the same application"))
	}
	return out
}

// checkCapitalReduction: module 25, R22 — a capital reduction (registered
// capital lower than registered before) is announced in the publicity system
// and registered only after the announcement period has expired: the
// application is filed after the period's last day, on an announcement that
// has not been terminated (R14).
//
//	“公司减少注册资本，应在公示系统中进行公示，并在公示期满后进行变更。”
func checkCapitalReduction(app Application) []Violation {
	if !app.IsChange() || app.RegisteredCapitalFen >= app.Change.RegisteredCapitalFen {
		return nil
	}
	n := app.Change.ReductionNotice
	const field = "change.reductionNotice"
	switch {
	case n == nil:
		return []Violation{violation(RuleCapitalReduction, field,
			"减少注册资本的，应当先在公示系统公告，公告期满后方可办理变更登记",
			"a capital reduction must first be announced in the publicity system and registered after the announcement period")}
	case n.Terminated:
		return []Violation{violation(RuleCapitalReduction, field,
			"减资公告已终止，不能据以办理减少注册资本变更登记",
			"the capital-reduction announcement was terminated and cannot support the change")}
	case n.PeriodEnds.IsZero() || app.FiledOn.IsZero():
		return []Violation{violation(RuleCapitalReduction, field,
			"缺少减资公告期满日或申请日期，无法确认公告期已满",
			"the announcement period's end or the filing day is missing; the expiry of the period cannot be confirmed")}
	case !day(app.FiledOn).After(day(n.PeriodEnds)):
		return []Violation{violation(RuleCapitalReduction, field,
			"减资公告期至"+ymd(n.PeriodEnds)+"，公示期满后方可办理减少注册资本变更登记",
			"the capital-reduction announcement period runs to "+ymd(n.PeriodEnds)+"; register the reduction after it")}
	}
	return nil
}
