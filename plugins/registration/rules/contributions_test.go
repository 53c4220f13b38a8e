package rules

import (
	"testing"
	"time"
)

func TestShareholderCount(t *testing.T) {
	run(t, []ruleCase{
		{name: "A-3 R8 a JSC with a single promoter", app: jsc,
			mutate: func(a *Application) { a.Shareholders = a.Shareholders[:1] }},
		{name: "A-3 R8 a JSC without promoters", app: jsc,
			mutate: func(a *Application) { a.Shareholders = nil },
			want:   []want{{RulePromoters, "shareholders", "应当有一名以上发起人"}}},
		{name: "A-3 R8 an LLC without shareholders", app: llc,
			mutate: func(a *Application) { a.Shareholders = nil },
			want: []want{
				{RulePromoters, "shareholders", "应当有一名以上股东"},
				{RuleContribution, "registeredCapitalFen", "注册资本1,000,000元应当等于全体股东认缴的出资额合计0元"},
			}},
	})
}

func TestInstalments(t *testing.T) {
	scenario1 := func(second int64) func(*Application) {
		return func(a *Application) {
			a.Shareholders[0] = natural("A", idZhang, 1_000_000, due(300_000, date(2025, 6, 30)), due(second, date(2027, 6, 30)))
			a.RegisteredCapitalFen = yuanFen(1_400_000)
		}
	}
	run(t, []ruleCase{
		{name: "A-3 R7 instalments short of the subscription (scenario 1)", app: llc, mutate: scenario1(600_000),
			want: []want{{RuleInstalments, "shareholders[0].instalments", "股东A的分期出资合计900,000元不等于认缴出资额1,000,000元"}}},
		{name: "A-3 R7 instalments equal to the subscription (scenario 1, corrected)", app: llc, mutate: scenario1(700_000)},
		{name: "A-3 R7 instalments above the subscription", app: llc,
			mutate: func(a *Application) {
				a.Shareholders[1].Instalments = append(a.Shareholders[1].Instalments, due(1, date(2026, 1, 1)))
			},
			want: []want{{RuleInstalments, "shareholders[1].instalments", "合计400,001元不等于认缴出资额400,000元"}}},
		{name: "A-3 R7 no instalment at all", app: llc,
			mutate: func(a *Application) { a.Shareholders[1].Instalments = nil },
			want:   []want{{RuleInstalments, "shareholders[1].instalments", "股东上海甲科技有限公司的分期出资合计0元不等于认缴出资额400,000元"}}},
		{name: "A-3 R7 an instalment without an amount", app: llc,
			mutate: func(a *Application) {
				a.Shareholders[1].Instalments = append(a.Shareholders[1].Instalments, due(0, date(2026, 1, 1)))
			},
			want: []want{{RuleInstalments, "shareholders[1].instalments[1].amountFen", "第2期出资额应当大于零"}}},
		{name: "A-3 R7 an instalment without a time", app: llc,
			mutate: func(a *Application) { a.Shareholders[1].Instalments[0].Due = time.Time{} },
			want:   []want{{RuleInstalments, "shareholders[1].instalments[0].due", "第1期出资时间不能为空"}}},
		{name: "A-3 R7 a subscription of zero", app: llc,
			mutate: func(a *Application) { a.Shareholders[1].SubscribedFen, a.Shareholders[1].Instalments = 0, nil },
			want: []want{
				{RuleInstalments, "shareholders[1].subscribedFen", "认缴出资额应当大于零"},
				{RuleContribution, "registeredCapitalFen", "注册资本1,000,000元应当等于全体股东认缴的出资额合计600,000元"},
			}},
		{name: "A-3 R7 a promoter's instalments in fen", app: jsc,
			mutate: func(a *Application) {
				a.Shareholders[1].SubscribedFen = 150
				a.Shareholders[1].Instalments = []Instalment{{AmountFen: 100, Due: date(2025, 2, 1), Paid: true}}
			},
			want: []want{{RuleInstalments, "shareholders[1].instalments", "发起人吴十的分期出资合计1元不等于认缴出资额1.50元"}}},
	})
}

func TestInstalmentMismatchMessageOfScenario1(t *testing.T) {
	app := llc()
	app.Shareholders[0] = natural("A", idZhang, 1_000_000, due(300_000, date(2025, 6, 30)), due(600_000, date(2027, 6, 30)))
	app.RegisteredCapitalFen = yuanFen(1_400_000)
	got := Validate(app)
	if len(got) != 1 || got[0].Message["en"] != "A's instalments total 900,000 ≠ subscribed 1,000,000" {
		t.Fatalf("violations:\n%s", dump(got))
	}
}

func TestContributionTerm(t *testing.T) {
	run(t, []ruleCase{
		{name: "A-3 [1] due on the last day of the five years", app: onePerson},
		{name: "A-3 [1] due a day after the five years", app: onePerson,
			mutate: func(a *Application) { a.Shareholders[0].Instalments[0].Due = date(2030, 3, 2) },
			want:   []want{{RuleContribution, "shareholders[0].instalments[0].due", "股东张三第1期出资时间2030-03-02超过自公司成立之日起五年（2030-03-01）"}}},
		{name: "A-3 [1] a paid instalment is not held to the term", app: onePerson,
			mutate: func(a *Application) { a.Shareholders[0].Instalments[0] = paid(100_000, date(2030, 3, 2)) }},
		{name: "A-3 [1] an establishment without a filing day", app: llc,
			mutate: func(a *Application) { a.FiledOn = time.Time{} },
			want:   []want{{RuleContribution, "filedOn", "缺少成立日期"}}},
		{name: "A-3 [1] a change counts from the day of establishment", app: llcChange,
			mutate: func(a *Application) { a.Shareholders[0].Instalments[1].Due = date(2029, 9, 16) },
			want:   []want{{RuleContribution, "shareholders[0].instalments[1].due", "2029-09-16超过自公司成立之日起五年（2029-09-15）"}}},
		{name: "A-3 [1] a change without a day of establishment", app: legacyChange,
			mutate: func(a *Application) { a.EstablishedOn = time.Time{} },
			want:   []want{{RuleContribution, "establishedOn", "缺少成立日期"}}},
		{name: "A-3 [1] an existing LLC due by 2032-06-30", app: legacyChange},
		{name: "A-3 [1] an existing LLC due after 2032-06-30", app: legacyChange,
			mutate: func(a *Application) { a.Shareholders[0].Instalments[1].Due = date(2032, 7, 1) },
			want:   []want{{RuleContribution, "shareholders[0].instalments[1].due", "股东张三第2期出资时间2032-07-01晚于存量有限责任公司出资期限调整的最晚时间（2032-06-30）"}}},
		{name: "A-3 [1] the transition follows the day of establishment, not the legacy flag", app: legacyChange,
			mutate: func(a *Application) {
				a.Legacy = false
				a.LegalRep.Position = Director
				a.Members[0].Positions = []Position{Director, Manager}
				a.Members = a.Members[:2]
			}},
		{name: "A-3 [1] a JSC is not held to the LLC term", app: jsc,
			mutate: func(a *Application) { a.Shareholders[0].Instalments[0] = due(8_000_000, date(2040, 1, 1)) }},
	})
}

func TestFiveYears(t *testing.T) {
	for from, to := range map[time.Time]time.Time{
		date(2025, 3, 1):   date(2030, 3, 1),
		date(2024, 2, 29):  date(2029, 2, 28),
		date(2028, 2, 29):  date(2033, 2, 28),
		date(2025, 12, 31): date(2030, 12, 31),
		time.Date(2025, 3, 1, 23, 30, 0, 0, time.FixedZone("CST", 8*3600)): date(2030, 3, 1),
	} {
		if got := fiveYears(from); !got.Equal(to) {
			t.Errorf("fiveYears(%s) = %s, want %s", from, got, to)
		}
	}
}

func TestRegisteredCapital(t *testing.T) {
	run(t, []ruleCase{
		{name: "A-3 [1] LLC registered capital above the subscriptions", app: llc,
			mutate: func(a *Application) { a.RegisteredCapitalFen = yuanFen(1_200_000) },
			want:   []want{{RuleContribution, "registeredCapitalFen", "注册资本1,200,000元应当等于全体股东认缴的出资额合计1,000,000元"}}},
		{name: "A-3 [1] a JSC's capital is not the promoters' sum", app: jsc,
			mutate: func(a *Application) { a.RegisteredCapitalFen = yuanFen(20_000_000) }},
	})
}
