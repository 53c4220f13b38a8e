package rules

import "testing"

func TestCompleteValidApplicationsHaveNoViolations(t *testing.T) {
	run(t, []ruleCase{
		{name: "complete valid establishment: 有限责任公司", app: llc},
		{name: "complete valid establishment: 一人有限责任公司", app: onePerson},
		{name: "complete valid establishment: 国有独资公司", app: stateSole},
		{name: "complete valid establishment: 股份有限公司", app: jsc},
		{name: "complete valid change: 上市股份有限公司", app: listedChange},
		{name: "complete valid change: 有限责任公司 under the revised law", app: llcChange},
		{name: "complete valid change: 存量有限责任公司 keeping legacy values", app: legacyChange},
	})
}

func TestValidateReportsEveryViolationInRuleOrder(t *testing.T) {
	app := llc()
	app.LegalRep.AppointedBy = Hired                                // A-1 R1
	app.Members = app.Members[1:]                                   // no chairman: A-1 [2], A-2 R4 (2 directors, no chairman)
	app.Supervision = ""                                            // A-2 R5
	app.Shareholders[1].IDNumber = usccIndiv                        // A-4 R11 (a valid USCC of an individual business)
	app.Shareholders[0].Instalments[1].AmountFen = yuanFen(300_000) // A-3 R7
	app.Shareholders[0].Instalments[1].Due = date(2031, 1, 1)       // A-3 [1]
	app.Members[3].IDNumber = "310106198811110056"                  // A-2 ID
	expect(t, app,
		want{RuleLegalRepPosition, "legalRep", "应当列入主要成员"},
		want{RuleAppointment, "legalRep.appointedBy", "应为：选举、委派"},
		want{RuleDirectors, "members", "三人以上，现有2人"},
		want{RuleDirectors, "members", "应当有董事长"},
		want{RuleSupervisors, "supervision", "请选择监督机构"},
		want{RuleIndividualBiz, "shareholders[1].idNumber", "股东或发起人不能是个体工商户"},
		want{RuleInstalments, "shareholders[0].instalments", "合计500,000元不等于认缴出资额600,000元"},
		want{RuleContribution, "shareholders[0].instalments[1].due", "2031-01-01超过自公司成立之日起五年（2030-03-01）"},
		want{RuleMemberID, "members[3].idNumber", "校验位不符"},
	)
}

func TestYuan(t *testing.T) {
	for fen, s := range map[int64]string{0: "0", 150: "1.50", 100_000_000: "1,000,000", 12_345_678_905: "123,456,789.05", -100_000: "-1,000"} {
		if got := yuan(fen); got != s {
			t.Errorf("yuan(%d) = %q, want %q", fen, got, s)
		}
	}
}
