package rules

import "testing"

func TestTransferors(t *testing.T) {
	transfer := func(from Person) func(*Application) {
		return func(a *Application) {
			a.Change.Transfers = []EquityTransfer{{Transferor: from, Transferee: person("吴十", idWu)}}
		}
	}
	run(t, []ruleCase{
		{name: "A-7 R13 the transferor is a registered shareholder", app: legacyChange, mutate: transfer(person("李四", idLi))},
		{name: "A-7 R13 the transferor is not a registered shareholder", app: legacyChange, mutate: transfer(person("王五", idWang)),
			want: []want{{RuleTransferor, "change.transfers[0].transferor", "出让方王五不是登记在册的股东"}}},
		{name: "A-7 R13 the transferor's document must match, not only the name", app: legacyChange, mutate: transfer(person("李四", idWang)),
			want: []want{{RuleTransferor, "change.transfers[0].transferor", "出让方李四不是登记在册的股东"}}},
		{name: "A-7 R13 an enterprise transferor by its USCC", app: llcChange,
			mutate: transfer(Person{Name: "上海甲科技有限公司", IDType: USCC, IDNumber: usccA})},
	})
}

func TestJointVentureChange(t *testing.T) {
	jv := func(registered string, items ...ChangeItem) func(*Application) {
		return func(a *Application) { a.Change.RegisteredType, a.Change.Items = registered, items }
	}
	run(t, []ruleCase{
		{name: "A-18 R17 a joint venture filing main members alone", app: llcChange,
			mutate: jv("有限责任公司（中外合资）", ItemMainMembers),
			want: []want{
				{RuleJointVenture, "change.items", "应当同时变更企业类型"},
				{RuleJointVenture, "change.items", "应当同时调整最高权力机构"},
			}},
		{name: "A-18 R17 a joint venture changing its type but not its highest authority", app: llcChange,
			mutate: jv("有限责任公司（中外合资）", ItemMainMembers, ItemEnterpriseType),
			want:   []want{{RuleJointVenture, "change.items", "应当同时调整最高权力机构"}}},
		{name: "A-18 R17 a co-operative adjusting its highest authority but not its type", app: llcChange,
			mutate: jv("有限责任公司（中外合作）", ItemMainMembers, ItemHighestAuthority),
			want:   []want{{RuleJointVenture, "change.items", "应当同时变更企业类型"}}},
		{name: "A-18 R17 a joint venture changing all three", app: llcChange,
			mutate: jv("有限责任公司（中外合资）", ItemMainMembers, ItemEnterpriseType, ItemHighestAuthority)},
		{name: "A-18 R17 a joint venture not filing main members", app: llcChange,
			mutate: jv("有限责任公司（中外合资）")},
		{name: "A-18 R17 a domestic company filing main members", app: llcChange},
	})
}

func TestCapitalReduction(t *testing.T) {
	reduce := func(n *Announcement) func(*Application) {
		return func(a *Application) {
			a.Change.RegisteredCapitalFen = yuanFen(2_000_000)
			a.Change.ReductionNotice = n
		}
	}
	run(t, []ruleCase{
		{name: "A-25 R22 a reduction without an announcement", app: llcChange, mutate: reduce(nil),
			want: []want{{RuleCapitalReduction, "change.reductionNotice", "应当先在公示系统公告，公告期满后方可办理变更登记"}}},
		{name: "A-25 R22 a reduction filed on the last day of the period", app: llcChange,
			mutate: reduce(&Announcement{PublishedOn: date(2025, 4, 10), PeriodEnds: date(2025, 6, 1)}),
			want:   []want{{RuleCapitalReduction, "change.reductionNotice", "减资公告期至2025-06-01，公示期满后方可办理"}}},
		{name: "A-25 R22 a reduction filed after the period", app: llcChange,
			mutate: reduce(&Announcement{PublishedOn: date(2025, 4, 10), PeriodEnds: date(2025, 5, 31)})},
		{name: "A-25 R22 a reduction on a terminated announcement", app: llcChange,
			mutate: reduce(&Announcement{PublishedOn: date(2025, 4, 10), PeriodEnds: date(2025, 5, 25), Terminated: true}),
			want:   []want{{RuleCapitalReduction, "change.reductionNotice", "减资公告已终止"}}},
		{name: "A-25 R22 an announcement without its period", app: llcChange,
			mutate: reduce(&Announcement{PublishedOn: date(2025, 4, 10)}),
			want:   []want{{RuleCapitalReduction, "change.reductionNotice", "缺少减资公告期满日或申请日期"}}},
		{name: "A-25 R22 an increase needs no announcement", app: llcChange,
			mutate: func(a *Application) { a.Change.RegisteredCapitalFen = yuanFen(500_000) }},
	})
}
