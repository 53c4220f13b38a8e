package rules

import (
	"slices"
	"testing"
)

func TestCompanyType(t *testing.T) {
	run(t, []ruleCase{
		{name: "A-4 unknown company type", app: llc,
			mutate: func(a *Application) { a.Type = "partnership" },
			want:   []want{{RuleCompanyType, "type", "公司类型“partnership”不在字典中"}}},
	})
}

func TestLegacy(t *testing.T) {
	run(t, []ruleCase{
		{name: "A-1 R2 an establishment is never legacy", app: llc,
			mutate: func(a *Application) { a.Legacy = true },
			want:   []want{{RuleLegacy, "legacy", "设立登记的公司不是存量企业"}}},
		{name: "A-1 R2 a company established on 2024-07-01 is not legacy", app: listedChange,
			mutate: func(a *Application) { a.Legacy, a.EstablishedOn = true, date(2024, 7, 1) },
			want:   []want{{RuleLegacy, "legacy", "成立于2024年7月1日以后的公司不是存量企业"}}},
		{name: "A-1 R2 a company established on 2024-06-30 may be legacy", app: listedChange,
			mutate: func(a *Application) { a.Legacy, a.EstablishedOn = true, date(2024, 6, 30) }},
		{name: "A-1 R2 legacy 执行董事 legal representative accepted", app: legacyChange},
		{name: "A-1 R2 执行董事 legal representative of a new company", app: onePerson,
			mutate: func(a *Application) {
				a.LegalRep.Position = ExecutiveDirector
				a.Members[0].Positions = []Position{ExecutiveDirector, Manager}
			},
			want: []want{
				{RuleLegacy, "legalRep.position", "“执行董事”为原职务"},
				{RuleDirectors, "members[0].positions", "“执行董事”为原职务"},
			}},
		{name: "A-1 R2 a legacy enterprise that filed the change uses the new codes", app: legacyChange,
			mutate: func(a *Application) {
				a.Legacy = false
				a.LegalRep.Position = Director
				a.Members[0].Positions = []Position{Director, Manager}
				a.Members = a.Members[:2]
			}},
	})
}

func TestLegalRepPosition(t *testing.T) {
	run(t, []ruleCase{
		{name: "A-1 [2] a supervisor cannot be legal representative", app: llc,
			mutate: func(a *Application) {
				a.LegalRep = LegalRep{Person: person("赵六", idZhao), Position: Supervisor, AppointedBy: Elected}
			},
			want: []want{{RuleLegalRepPosition, "legalRep.position", "代表公司执行公司事务的董事"}}},
		{name: "A-1 [2] a vice chairman cannot be legal representative", app: llc,
			mutate: func(a *Application) {
				a.Members[1].Positions = []Position{ViceChairman}
				a.LegalRep = LegalRep{Person: person("李四", idLi), Position: ViceChairman, AppointedBy: Elected}
			},
			want: []want{{RuleLegalRepPosition, "legalRep.position", "代表公司执行公司事务的董事"}}},
		{name: "A-1 [2] the manager as legal representative", app: llc,
			mutate: func(a *Application) {
				a.LegalRep = LegalRep{Person: person("钱七", idQian), Position: Manager, AppointedBy: Hired}
			}},
		{name: "A-1 [2] a director executing company affairs as legal representative", app: llc,
			mutate: func(a *Application) {
				a.LegalRep = LegalRep{Person: person("李四", idLi), Position: Director, AppointedBy: Elected}
			}},
		{name: "A-1 [2] the legal representative is not a main member", app: llc,
			mutate: func(a *Application) { a.LegalRep.Person = person("吴十", idWu) },
			want:   []want{{RuleLegalRepPosition, "legalRep", "法定代表人吴十应当列入主要成员"}}},
		{name: "A-1 [2] the legal representative does not hold the position", app: llc,
			mutate: func(a *Application) { a.LegalRep.Person = person("李四", idLi) },
			want:   []want{{RuleLegalRepPosition, "legalRep.position", "法定代表人李四在主要成员中未担任董事长"}}},
	})
}

func TestAppointmentMethod(t *testing.T) {
	run(t, []ruleCase{
		{name: "A-1 R1 an LLC chairman is not hired", app: llc,
			mutate: func(a *Application) { a.LegalRep.AppointedBy = Hired },
			want:   []want{{RuleAppointment, "legalRep.appointedBy", "产生方式“聘任”不适用于有限责任公司的董事长，应为：选举、委派"}}},
		{name: "A-1 R1 a JSC chairman is elected by the board", app: jsc,
			mutate: func(a *Application) {
				a.LegalRep = LegalRep{Person: person("张三", idZhang), Position: Chairman, AppointedBy: Appointed}
			},
			want: []want{{RuleAppointment, "legalRep.appointedBy", "不适用于股份有限公司的董事长，应为：选举"}}},
		{name: "A-1 R1 a 国有独资公司 chairman is designated by the state investor", app: stateSole,
			mutate: func(a *Application) { a.LegalRep.AppointedBy = Elected },
			want:   []want{{RuleAppointment, "legalRep.appointedBy", "不适用于国有独资公司的董事长，应为：委派"}}},
		{name: "A-1 R1 a one-person company's director is appointed by the shareholder", app: onePerson,
			mutate: func(a *Application) { a.LegalRep.AppointedBy = Elected },
			want:   []want{{RuleAppointment, "legalRep.appointedBy", "不适用于一人有限责任公司的董事，应为：委派"}}},
		{name: "A-1 R1 a manager is hired", app: jsc,
			mutate: func(a *Application) { a.LegalRep.AppointedBy = Elected },
			want:   []want{{RuleAppointment, "legalRep.appointedBy", "应为：聘任"}}},
		{name: "A-1 R1 a method is required", app: llc,
			mutate: func(a *Application) { a.LegalRep.AppointedBy = "" },
			want:   []want{{RuleAppointment, "legalRep.appointedBy", "应为：选举、委派"}}},
	})
}

func TestAppointmentMethodsHidesInapplicableMethods(t *testing.T) {
	for _, c := range []struct {
		name string
		t    CompanyType
		p    Position
		want []AppointmentMethod
	}{
		{"A-1 R1 LLC chairman", LLC, Chairman, []AppointmentMethod{Elected, Appointed}},
		{"A-1 R1 LLC director", LLC, Director, []AppointmentMethod{Elected, Appointed}},
		{"A-1 R1 legacy 执行董事 as director", LLC, ExecutiveDirector, []AppointmentMethod{Elected, Appointed}},
		{"A-1 R1 one-person LLC chairman", OnePersonLLC, Chairman, []AppointmentMethod{Elected, Appointed}},
		{"A-1 R1 one-person LLC director", OnePersonLLC, Director, []AppointmentMethod{Appointed}},
		{"A-1 R1 国有独资 chairman", StateSoleLLC, Chairman, []AppointmentMethod{Appointed}},
		{"A-1 R1 国有独资 director", StateSoleLLC, Director, []AppointmentMethod{Appointed}},
		{"A-1 R1 JSC chairman", JSC, Chairman, []AppointmentMethod{Elected}},
		{"A-1 R1 listed JSC director", ListedJSC, Director, []AppointmentMethod{Elected, Appointed}},
		{"A-1 R1 manager", StateSoleLLC, Manager, []AppointmentMethod{Hired}},
		{"A-1 R1 a supervisor has none", LLC, Supervisor, nil},
		{"A-1 R1 an unknown type has none", "partnership", Chairman, nil},
	} {
		if got := AppointmentMethods(c.t, c.p); !slices.Equal(got, c.want) {
			t.Errorf("%s: AppointmentMethods(%s, %s) = %v, want %v", c.name, c.t, c.p, got, c.want)
		}
	}
}
