package rules

import (
	"strconv"
	"time"
)

// transitionDeadline is the latest contribution time of an LLC registered
// before 2024-07-01: its remaining term, counted from 2027-07-01, is at most
// five years (国务院关于实施《中华人民共和国公司法》注册资本登记管理制度的规定, art. 2).
var transitionDeadline = time.Date(2032, 6, 30, 0, 0, 0, 0, time.UTC)

// investor names the shareholders in messages: the promoters (发起人) of a
// 股份有限公司 being established, else the shareholders (股东).
func investor(app Application) label {
	if app.Type.jointStock() && !app.IsChange() {
		return label{"发起人", "promoter"}
	}
	return label{"股东", "shareholder"}
}

// checkShareholderCount: module 3, R8 — a company has one or more
// shareholders or promoters; the old rule that a 股份有限公司 needs two or
// more promoters is gone (Company Law art. 92: “一人以上二百人以下为发起人”).
//
//	“信息校验：删除股份有限公司发起人数量必须大于等于2人的限制。”
func checkShareholderCount(app Application) []Violation {
	if len(app.Shareholders) > 0 {
		return nil
	}
	who := investor(app)
	return []Violation{violation(RulePromoters, "shareholders",
		"应当有一名以上"+who.zh,
		"at least one "+who.en+" is required")}
}

// checkInstalments: module 3, R7 — each instalment has an amount and a time,
// and a shareholder's instalments add up exactly to its subscribed
// contribution, which is positive.
//
//	“增加分期录入出资信息功能，可以逐条添加每期出资额、出资时间。
//	校验股东/发起人的分期出资合计应当等于该股东出资额。”
func checkInstalments(app Application) []Violation {
	who := investor(app)
	var out []Violation
	for i, s := range app.Shareholders {
		path := index("shareholders", i)
		if s.SubscribedFen <= 0 {
			out = append(out, violation(RuleInstalments, path+".subscribedFen",
				who.zh+s.Name+"的认缴出资额应当大于零",
				who.en+" "+s.Name+"'s subscribed contribution must be positive"))
		}
		var sum int64
		for j, in := range s.Instalments {
			at, nth := index(path+".instalments", j), strconv.Itoa(j+1)
			if in.AmountFen <= 0 {
				out = append(out, violation(RuleInstalments, at+".amountFen",
					who.zh+s.Name+"第"+nth+"期出资额应当大于零",
					who.en+" "+s.Name+"'s instalment "+nth+" must have a positive amount"))
			}
			if in.Due.IsZero() {
				out = append(out, violation(RuleInstalments, at+".due",
					who.zh+s.Name+"第"+nth+"期出资时间不能为空",
					who.en+" "+s.Name+"'s instalment "+nth+" has no time"))
			}
			sum += in.AmountFen
		}
		if sum != s.SubscribedFen {
			out = append(out, violation(RuleInstalments, path+".instalments",
				who.zh+s.Name+"的分期出资合计"+yuan(sum)+"元不等于认缴出资额"+yuan(s.SubscribedFen)+"元",
				s.Name+"'s instalments total "+yuan(sum)+" ≠ subscribed "+yuan(s.SubscribedFen)))
		}
	}
	return out
}

// fiveYears is the last day of the five years from the day of
// establishment: its anniversary, or the month's last day when it has none
// (Civil Code art. 202, for 29 February).
func fiveYears(from time.Time) time.Time {
	from = day(from)
	to := from.AddDate(5, 0, 0)
	if to.Day() != from.Day() {
		to = to.AddDate(0, 0, -to.Day())
	}
	return to
}

// checkContributionTerm: module 3 — the contribution time of a limited
// liability company's unpaid instalments is at most five years from
// establishment (Company Law art. 47: “全体股东认缴的出资额由股东按照公司章程的
// 规定自公司成立之日起五年内缴足”). For an establishment the filing day stands
// in for the day of establishment. An LLC established before 2024-07-01 gets
// the statutory transition instead: its unpaid instalments are due by
// 2032-06-30. §3 of the spec states neither; module 3 only says the field
// changes.
//
//	“股东/发起人信息采集包括：出资时间采集项调整。”
func checkContributionTerm(app Application) []Violation {
	if !app.Type.limited() {
		return nil
	}
	from, field := app.FiledOn, "filedOn"
	if app.IsChange() {
		from, field = app.EstablishedOn, "establishedOn"
	}
	if from.IsZero() {
		return []Violation{violation(RuleContribution, field,
			"缺少成立日期（设立登记为申请日期），无法校验出资期限",
			"the day of establishment (the filing day, for an establishment) is missing; the contribution term cannot be checked")}
	}
	limit := fiveYears(from)
	zh, en := "超过自公司成立之日起五年（"+ymd(limit)+"）", "more than five years after establishment ("+ymd(limit)+")"
	if app.IsChange() && day(from).Before(legacyCutoff) {
		limit = transitionDeadline
		zh, en = "晚于存量有限责任公司出资期限调整的最晚时间（"+ymd(limit)+"）", "after "+ymd(limit)+", the latest term of an LLC registered before 2024-07-01"
	}
	var out []Violation
	for i, s := range app.Shareholders {
		for j, in := range s.Instalments {
			if in.Paid || in.Due.IsZero() || !day(in.Due).After(limit) {
				continue
			}
			nth := strconv.Itoa(j + 1)
			out = append(out, violation(RuleContribution, index(index("shareholders", i)+".instalments", j)+".due",
				"股东"+s.Name+"第"+nth+"期出资时间"+ymd(in.Due)+zh,
				"shareholder "+s.Name+"'s instalment "+nth+" is due "+ymd(in.Due)+", "+en))
		}
	}
	return out
}

// checkRegisteredCapital: module 3 — a limited liability company's
// registered capital is the sum of the contributions subscribed by all its
// shareholders (Company Law art. 47: “有限责任公司的注册资本为在公司登记机关登记的
// 全体股东认缴的出资额”). A 股份有限公司 is left out: its capital is the issued
// share capital, which its promoters alone need not subscribe.
//
//	“股东/发起人出资情况调整”
func checkRegisteredCapital(app Application) []Violation {
	if !app.Type.limited() {
		return nil
	}
	var sum int64
	for _, s := range app.Shareholders {
		sum += s.SubscribedFen
	}
	if sum == app.RegisteredCapitalFen {
		return nil
	}
	return []Violation{violation(RuleContribution, "registeredCapitalFen",
		"注册资本"+yuan(app.RegisteredCapitalFen)+"元应当等于全体股东认缴的出资额合计"+yuan(sum)+"元",
		"registered capital "+yuan(app.RegisteredCapitalFen)+" must equal the shareholders' subscribed contributions, "+yuan(sum))}
}
