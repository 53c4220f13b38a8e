package rules

import "testing"

func TestIndividualBusiness(t *testing.T) {
	run(t, []ruleCase{
		{name: "A-4 R11 an individual business as JSC promoter (scenario 2)", app: jsc,
			mutate: func(a *Application) {
				a.Shareholders[0].Kind, a.Shareholders[0].Name, a.Shareholders[0].IDNumber = IndividualBusiness, "黄浦区某某小吃店", usccIndiv
			},
			want: []want{{RuleIndividualBiz, "shareholders[0].kind", "股东或发起人不能是个体工商户（黄浦区某某小吃店）"}}},
		{name: "A-4 R11 an individual business as LLC shareholder (scenario 2)", app: llc,
			mutate: func(a *Application) { a.Shareholders[1].Kind = IndividualBusiness },
			want:   []want{{RuleIndividualBiz, "shareholders[1].kind", "股东或发起人不能是个体工商户"}}},
		{name: "A-4 R11 an individual business recognised by its USCC", app: stateSole,
			mutate: func(a *Application) { a.Shareholders[0].Kind, a.Shareholders[0].IDNumber = Enterprise, usccIndiv },
			want:   []want{{RuleIndividualBiz, "shareholders[0].idNumber", "股东或发起人不能是个体工商户"}}},
		{name: "A-4 R11 an enterprise USCC (91…) is not an individual business", app: llc},
	})
}

func TestIDs(t *testing.T) {
	run(t, []ruleCase{
		{name: "A-2 ID a resident ID with a wrong check digit", app: llc,
			mutate: func(a *Application) { a.Members[4].IDNumber = "310106198811110056" },
			want:   []want{{RuleMemberID, "members[4].idNumber", "钱七的居民身份证号码无效：校验位不符"}}},
		{name: "A-2 ID a resident ID with no such birth date", app: llc,
			mutate: func(a *Application) { a.Members[3].IDNumber = "310112197502300040" },
			want:   []want{{RuleMemberID, "members[3].idNumber", "出生日期无效"}}},
		{name: "A-2 ID a resident ID of the wrong length", app: llc,
			mutate: func(a *Application) { a.Members[3].IDNumber = "31011219750310004" },
			want:   []want{{RuleMemberID, "members[3].idNumber", "位数不对"}}},
		{name: "A-2 ID the standard's example with X", app: llc,
			mutate: func(a *Application) { a.Members[3].IDNumber = "11010519491231002X" }},
		{name: "A-2 ID a missing number", app: llc,
			mutate: func(a *Application) { a.Members[3].IDNumber = "" },
			want:   []want{{RuleMemberID, "members[3].idNumber", "赵六的证件号码不能为空"}}},
		{name: "A-2 ID a main member is a natural person", app: llc,
			mutate: func(a *Application) { a.Members[3].IDType = USCC },
			want:   []want{{RuleMemberID, "members[3].idType", "自然人应当使用居民身份证、护照等个人证件"}}},
		{name: "A-2 ID a passport is checked for presence only", app: llc,
			mutate: func(a *Application) {
				a.Members[3].Person = Person{Name: "John Smith", IDType: Passport, IDNumber: "E12345678"}
			}},
		{name: "A-1 ID the legal representative's resident ID", app: llc,
			mutate: func(a *Application) {
				a.LegalRep.IDNumber = "310101198001010019"
				a.Members[0].IDNumber = "310101198001010019"
			},
			want: []want{
				{RuleLegalRepID, "legalRep.idNumber", "张三的居民身份证号码无效：校验位不符"},
				{RuleMemberID, "members[0].idNumber", "张三的居民身份证号码无效：校验位不符"},
			}},
		{name: "A-3 ID an enterprise shareholder's USCC with a wrong check character", app: llc,
			mutate: func(a *Application) { a.Shareholders[1].IDNumber = "91310000MA1FL0001X" },
			want:   []want{{RuleShareholderID, "shareholders[1].idNumber", "上海甲科技有限公司的统一社会信用代码无效：校验位不符"}}},
		{name: "A-3 ID a USCC with a letter outside its alphabet", app: llc,
			mutate: func(a *Application) { a.Shareholders[1].IDNumber = "91310000MA1FL000IR" },
			want:   []want{{RuleShareholderID, "shareholders[1].idNumber", "含有不允许的字符"}}},
		{name: "A-3 ID a natural-person shareholder's resident ID", app: llc,
			mutate: func(a *Application) { a.Shareholders[0].IDNumber = "310101198001010010" },
			want:   []want{{RuleShareholderID, "shareholders[0].idNumber", "张三的居民身份证号码无效"}}},
		{name: "A-3 ID an enterprise shareholder with a personal document", app: llc,
			mutate: func(a *Application) { a.Shareholders[1].IDType = ResidentID },
			want:   []want{{RuleShareholderID, "shareholders[1].idType", "组织应当使用统一社会信用代码或境外主体资格证明"}}},
		{name: "A-3 ID a natural person with a USCC", app: llc,
			mutate: func(a *Application) { a.Shareholders[0].IDType = USCC },
			want:   []want{{RuleShareholderID, "shareholders[0].idType", "自然人应当使用居民身份证、护照等个人证件"}}},
		{name: "A-3 ID a foreign enterprise's proof of existence", app: llc,
			mutate: func(a *Application) {
				a.Shareholders[1].Person = Person{Name: "ACME Ltd.", IDType: OverseasEntityProof, IDNumber: "HK-1234567"}
			}},
		{name: "A-3 ID an unknown shareholder kind", app: llc,
			mutate: func(a *Application) { a.Shareholders[1].Kind = "trust" },
			want:   []want{{RuleShareholderID, "shareholders[1].kind", "类型“trust”不在字典中"}}},
	})
}
