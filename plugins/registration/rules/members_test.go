package rules

import "testing"

func TestMemberPositions(t *testing.T) {
	run(t, []ruleCase{
		{name: "A-2 [1] a main member without a position", app: llc,
			mutate: func(a *Application) { a.Members = append(a.Members, member("吴十", idWu)) },
			want:   []want{{RuleMemberPositions, "members[5].positions", "主要成员吴十未选择职务"}}},
		{name: "A-2 [1] a position outside the dictionary", app: llc,
			mutate: func(a *Application) { a.Members[4].Positions = []Position{"secretary"} },
			want:   []want{{RuleMemberPositions, "members[4].positions", "职务“secretary”不在字典中"}}},
	})
}

func TestDirectors(t *testing.T) {
	managerAsLegalRep := LegalRep{Person: person("钱七", idQian), Position: Manager, AppointedBy: Hired}
	run(t, []ruleCase{
		{name: "A-2 R4 board of three without a chairman (scenario 3)", app: llc,
			mutate: func(a *Application) {
				a.Members[0].Positions = []Position{Director}
				a.LegalRep = managerAsLegalRep
			},
			want: []want{{RuleDirectors, "members", "选择设董事会的，主要成员中应当有董事长"}}},
		{name: "A-2 R4 board of three with a chairman (scenario 3, corrected)", app: llc},
		{name: "A-2 R4 a board needs three directors", app: llc,
			mutate: func(a *Application) { a.Members = append(a.Members[:2], a.Members[3:]...) },
			want:   []want{{RuleDirectors, "members", "设董事会的，董事会成员应当为三人以上，现有2人"}}},
		{name: "A-2 R4 a board has one chairman", app: llc,
			mutate: func(a *Application) { a.Members[1].Positions = []Position{Chairman} },
			want:   []want{{RuleDirectors, "members", "董事会设董事长一人，现有2人"}}},
		{name: "A-2 R4 a vice chairman counts as a director", app: llc,
			mutate: func(a *Application) { a.Members[2].Positions = []Position{ViceChairman} }},
		{name: "A-2 R4 without a board, one director", app: onePerson,
			mutate: func(a *Application) { a.Members = append(a.Members, member("李四", idLi, Director)) },
			want:   []want{{RuleDirectors, "members", "不设董事会的，应当设一名董事，现有2人"}}},
		{name: "A-2 R4 without a board, no director at all", app: onePerson,
			mutate: func(a *Application) {
				a.Members[0].Positions = []Position{Manager}
				a.LegalRep.Position, a.LegalRep.AppointedBy = Manager, Hired
			},
			want: []want{{RuleDirectors, "members", "不设董事会的，应当设一名董事，现有0人"}}},
		{name: "A-2 R4 without a board, no chairman", app: onePerson,
			mutate: func(a *Application) {
				a.Members[0].Positions = []Position{Chairman, Manager}
				a.LegalRep.Position = Chairman
			},
			want: []want{{RuleDirectors, "members[0].positions", "不设董事会的，不设董事长、副董事长（张三）"}}},
		{name: "A-2 R4 legacy 执行董事 counts as the single director", app: legacyChange},
		{name: "A-2 R4 legacy 执行董事 counts on a legacy board", app: legacyChange,
			mutate: func(a *Application) {
				a.Board = &Board{}
				a.Members = append(a.Members, member("李四", idLi, Chairman), member("王五", idWang, Director))
			}},
		{name: "A-2 R4 执行董事 in a new company", app: onePerson,
			mutate: func(a *Application) {
				a.Members[0].Positions = []Position{ExecutiveDirector, Manager}
				a.LegalRep.Position, a.LegalRep.AppointedBy = Manager, Hired
			},
			want: []want{{RuleDirectors, "members[0].positions", "“执行董事”为原职务，仅存量企业未办理相关变更的可沿用（张三）"}}},
	})
}

func TestSupervisors(t *testing.T) {
	run(t, []ruleCase{
		{name: "A-2 R5 a supervisory board needs three members", app: jsc,
			mutate: func(a *Application) { a.Members = append(a.Members[:5], a.Members[6]) },
			want:   []want{{RuleSupervisors, "members", "设监事会的，监事会成员应当为三人以上，现有2人"}}},
		{name: "A-2 R5 a supervisory board without employee representatives", app: jsc,
			mutate: func(a *Application) { a.Members[6].EmployeeRep = false },
			want:   []want{{RuleSupervisors, "members", "职工代表的比例不得低于三分之一，现有3名监事中职工代表0人"}}},
		{name: "A-2 R5 one employee representative among four is under one third", app: jsc,
			mutate: func(a *Application) { a.Members = append(a.Members, member("吴十", idWu, Supervisor)) },
			want:   []want{{RuleSupervisors, "members", "现有4名监事中职工代表1人"}}},
		{name: "A-2 R5 two employee representatives among six are one third", app: jsc,
			mutate: func(a *Application) {
				emp := member("吴十", idWu, Supervisor)
				emp.EmployeeRep = true
				a.Members = append(a.Members, emp, member("郑十一", idZheng, Supervisor), member("冯十二", idFeng, Supervisor))
			}},
		{name: "A-2 R5 a single supervisor, not two", app: llc,
			mutate: func(a *Application) { a.Members = append(a.Members, member("孙八", idSun, Supervisor)) },
			want:   []want{{RuleSupervisors, "members", "不设监事会的，应当设一名监事，现有2人"}}},
		{name: "A-2 R5 a single supervisor, not none", app: llc,
			mutate: func(a *Application) { a.Members = append(a.Members[:3], a.Members[4]) },
			want:   []want{{RuleSupervisors, "members", "不设监事会的，应当设一名监事，现有0人"}}},
		{name: "A-2 R5 a legacy LLC keeps two supervisors", app: legacyChange},
		{name: "A-2 R5 a legacy LLC has at most two supervisors", app: legacyChange,
			mutate: func(a *Application) { a.Members = append(a.Members, member("周九", idZhou, Supervisor)) },
			want:   []want{{RuleSupervisors, "members", "存量有限责任公司不设监事会的，设一至二名监事，现有3人"}}},
		{name: "A-2 R5 an audit committee needs a board", app: onePerson,
			mutate: func(a *Application) { a.Supervision = AuditCommittee },
			want:   []want{{RuleSupervisors, "board", "应当设董事会并在董事会中设置审计委员会"}}},
		{name: "A-2 R5 an audit committee in the board", app: stateSole,
			mutate: func(a *Application) { a.Board.AuditCommittee = false },
			want:   []want{{RuleSupervisors, "board.auditCommittee", "应当设董事会并在董事会中设置审计委员会"}}},
		{name: "A-2 R5 an audit committee replaces the supervisors", app: stateSole,
			mutate: func(a *Application) { a.Members = append(a.Members, member("赵六", idZhao, Supervisor)) },
			want:   []want{{RuleSupervisors, "members", "不设监事会或者监事，现有监事1人"}}},
		{name: "A-2 R5 a JSC with an audit committee", app: jsc,
			mutate: func(a *Application) {
				a.Board.AuditCommittee, a.Supervision = true, AuditCommittee
				a.Members = a.Members[:4]
			}},
		{name: "A-2 R5 a JSC cannot do without supervisors by consent", app: jsc,
			mutate: func(a *Application) { a.Supervision, a.Members = NoSupervisor, a.Members[:4] },
			want:   []want{{RuleSupervisors, "supervision", "仅限规模较小或者股东人数较少的有限责任公司"}}},
		{name: "A-2 R5 a 国有独资公司 cannot do without supervisors by consent", app: stateSole,
			mutate: func(a *Application) { a.Supervision = NoSupervisor },
			want:   []want{{RuleSupervisors, "supervision", "仅限规模较小或者股东人数较少的有限责任公司"}}},
		{name: "A-2 R5 an LLC without supervisor by consent", app: llc,
			mutate: func(a *Application) { a.Supervision, a.Members = NoSupervisor, append(a.Members[:3], a.Members[4]) }},
		{name: "A-2 R5 no supervisor means none listed", app: llc,
			mutate: func(a *Application) { a.Supervision = NoSupervisor },
			want:   []want{{RuleSupervisors, "members", "不设监事的，主要成员中不应有监事，现有1人"}}},
		{name: "A-2 R5 the supervision form is required", app: llc,
			mutate: func(a *Application) { a.Supervision = "" },
			want:   []want{{RuleSupervisors, "supervision", "请选择监督机构"}}},
	})
}
