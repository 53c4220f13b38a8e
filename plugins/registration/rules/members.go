package rules

import "strconv"

// checkMemberPositions: module 2 — every main member holds at least one
// position, and each from the position dictionary.
//
//	“职务字典调整：……按国家级技术方案，调整主要成员信息中的董事、监事、经理的职务字典选项。”
func checkMemberPositions(app Application) []Violation {
	var out []Violation
	for i, m := range app.Members {
		field := index("members", i) + ".positions"
		if len(m.Positions) == 0 {
			out = append(out, violation(RuleMemberPositions, field,
				"主要成员"+m.Name+"未选择职务",
				"main member "+m.Name+" has no position"))
		}
		for _, p := range m.Positions {
			if !p.known() {
				out = append(out, violation(RuleMemberPositions, field,
					"主要成员"+m.Name+"的职务“"+string(p)+"”不在字典中",
					"position “"+string(p)+"” of main member "+m.Name+" is not in the dictionary"))
			}
		}
	}
	return out
}

// checkDirectors: module 2, R4 — the number of directors depends on whether
// a board is set: a board has three or more directors (Company Law art. 68,
// 120) and exactly one chairman (art. 68, 122: “董事会设董事长一人”); without a
// board the company has one director (art. 75, 128: “可以不设董事会，设一名
// 董事”) and no chairman. The legacy position 执行董事 counts as a director,
// from a legacy enterprise only.
//
//	“董事成员校验：取消原董事人数的校验规则。新增校验规则，根据是否设董事会校验董事人数。
//	校验时兼容本次新增的董事职务和存量企业老的职务。选择设董事会的，校验主要成员界面应当有董事长。”
func checkDirectors(app Application) []Violation {
	var out []Violation
	directors, chairmen := 0, 0
	for i, m := range app.Members {
		if m.has(ExecutiveDirector) && !app.Legacy {
			out = append(out, violation(RuleDirectors, index("members", i)+".positions",
				"“执行董事”为原职务，仅存量企业未办理相关变更的可沿用（"+m.Name+"）",
				"“executive director” is a legacy position kept only by existing enterprises ("+m.Name+")"))
		}
		if m.isDirector() {
			directors++
		}
		if m.has(Chairman) {
			chairmen++
		}
	}
	n := strconv.Itoa(directors)
	if app.Board != nil {
		if directors < 3 {
			out = append(out, violation(RuleDirectors, "members",
				"设董事会的，董事会成员应当为三人以上，现有"+n+"人",
				"a board of directors needs three or more directors; there are "+n))
		}
		switch {
		case chairmen == 0:
			out = append(out, violation(RuleDirectors, "members",
				"选择设董事会的，主要成员中应当有董事长",
				"chairman required: a company with a board of directors must list a chairman among its main members"))
		case chairmen > 1:
			c := strconv.Itoa(chairmen)
			out = append(out, violation(RuleDirectors, "members",
				"董事会设董事长一人，现有"+c+"人",
				"a board of directors has one chairman; there are "+c))
		}
		return out
	}
	if directors != 1 {
		out = append(out, violation(RuleDirectors, "members",
			"不设董事会的，应当设一名董事，现有"+n+"人",
			"a company without a board of directors has one director; there are "+n))
	}
	for i, m := range app.Members {
		if m.has(Chairman) || m.has(ViceChairman) {
			out = append(out, violation(RuleDirectors, index("members", i)+".positions",
				"不设董事会的，不设董事长、副董事长（"+m.Name+"）",
				"a company without a board of directors has no chairman or vice chairman ("+m.Name+")"))
		}
	}
	return out
}

// checkSupervisors: module 2, R5 — the number of supervisors depends on the
// supervision form. A supervisory board has three or more members, at least
// one third of them employee representatives (Company Law art. 76, 130); a
// company without one has a single supervisor (art. 83, 133; a legacy LLC
// keeps the one or two of the old law, art. 51); a company whose board has an
// audit committee has no supervisor (art. 69, 121, 176); a small LLC may have
// none with the consent of all shareholders (art. 83: “经全体股东一致同意，也
// 可以不设监事”), a form the law gives neither a 股份有限公司 nor a 国有独资公司.
//
//	“监事成员校验：取消原监事人数的校验规则。新增校验规则，根据是否设监事会校验监事人数。”
func checkSupervisors(app Application) []Violation {
	supervisors, employees := 0, 0
	for _, m := range app.Members {
		if m.isSupervisor() {
			supervisors++
			if m.EmployeeRep {
				employees++
			}
		}
	}
	n := strconv.Itoa(supervisors)
	var out []Violation
	switch app.Supervision {
	case SupervisoryBoard:
		if supervisors < 3 {
			out = append(out, violation(RuleSupervisors, "members",
				"设监事会的，监事会成员应当为三人以上，现有"+n+"人",
				"a supervisory board needs three or more members; there are "+n))
		}
		if supervisors > 0 && 3*employees < supervisors {
			e := strconv.Itoa(employees)
			out = append(out, violation(RuleSupervisors, "members",
				"监事会中职工代表的比例不得低于三分之一，现有"+n+"名监事中职工代表"+e+"人",
				"employee representatives must be at least one third of the supervisory board; "+e+" of "+n))
		}
	case SingleSupervisor:
		if app.Legacy && app.Type.limited() {
			if supervisors < 1 || supervisors > 2 {
				out = append(out, violation(RuleSupervisors, "members",
					"存量有限责任公司不设监事会的，设一至二名监事，现有"+n+"人",
					"an existing LLC without a supervisory board has one or two supervisors; there are "+n))
			}
		} else if supervisors != 1 {
			out = append(out, violation(RuleSupervisors, "members",
				"不设监事会的，应当设一名监事，现有"+n+"人",
				"a company without a supervisory board has one supervisor; there are "+n))
		}
	case AuditCommittee:
		if app.Board == nil || !app.Board.AuditCommittee {
			field := "board"
			if app.Board != nil {
				field = "board.auditCommittee"
			}
			out = append(out, violation(RuleSupervisors, field,
				"由审计委员会行使监事会职权的，应当设董事会并在董事会中设置审计委员会",
				"an audit committee exercising the supervisory board's powers requires a board of directors with an audit committee"))
		}
		if supervisors > 0 {
			out = append(out, violation(RuleSupervisors, "members",
				"在董事会中设置审计委员会的，不设监事会或者监事，现有监事"+n+"人",
				"a company with an audit committee has no supervisory board or supervisor; there are "+n+" supervisors"))
		}
	case NoSupervisor:
		if app.Type != LLC && app.Type != OnePersonLLC {
			out = append(out, violation(RuleSupervisors, "supervision",
				"经全体股东一致同意不设监事的，仅限规模较小或者股东人数较少的有限责任公司",
				"only a small limited liability company may have no supervisor, with the consent of all shareholders"))
		}
		if supervisors > 0 {
			out = append(out, violation(RuleSupervisors, "members",
				"不设监事的，主要成员中不应有监事，现有"+n+"人",
				"a company without a supervisor lists none among its main members; there are "+n))
		}
	default:
		out = append(out, violation(RuleSupervisors, "supervision",
			"请选择监督机构：设监事会、设一名监事、董事会设审计委员会或经全体股东一致同意不设监事",
			"choose the supervision form: supervisory board, one supervisor, audit committee of the board, or none with all shareholders' consent"))
	}
	return out
}
