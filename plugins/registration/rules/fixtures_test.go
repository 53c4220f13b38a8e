package rules

import (
	"encoding/json"
	"regexp"
	"strconv"
	"strings"
	"testing"
	"time"
)

// Valid identity numbers (check characters computed per GB 11643 / GB 32100).
const (
	idZhang = "310101198001010018"
	idLi    = "310115198512150029"
	idWang  = "310104199006300034"
	idZhao  = "310112197503100042"
	idQian  = "310106198811110055"
	idSun   = "310105199202290060"
	idZhou  = "440306197007070078"
	idWu    = "310115199505050083"
	idZheng = "310110198308080092"
	idFeng  = "310113197811200105"

	usccA     = "91310000MA1FL0001R" // enterprise
	usccB     = "91310115MA1K000029" // enterprise
	usccIndiv = "92310101MA1AB0003X" // individual business (92…)
	usccSASAC = "11310000002411006C" // government body
)

func date(y, m, d int) time.Time { return time.Date(y, time.Month(m), d, 0, 0, 0, 0, time.UTC) }

func yuanFen(y int64) int64 { return y * 100 }

func person(name, id string) Person { return Person{Name: name, IDType: ResidentID, IDNumber: id} }

func member(name, id string, pos ...Position) Member {
	return Member{Person: person(name, id), Positions: pos}
}

func natural(name, id string, yuan int64, in ...Instalment) Shareholder {
	return Shareholder{Person: person(name, id), Kind: NaturalPerson, SubscribedFen: yuanFen(yuan), Instalments: in}
}

func entity(kind ShareholderKind, name, code string, yuan int64, in ...Instalment) Shareholder {
	return Shareholder{Person: Person{Name: name, IDType: USCC, IDNumber: code}, Kind: kind, SubscribedFen: yuanFen(yuan), Instalments: in}
}

func due(yuan int64, on time.Time) Instalment { return Instalment{AmountFen: yuanFen(yuan), Due: on} }

func paid(yuan int64, on time.Time) Instalment {
	return Instalment{AmountFen: yuanFen(yuan), Due: on, Paid: true}
}

// llc is a complete, valid establishment of a 有限责任公司 with a board, one
// supervisor, the chairman as legal representative and two shareholders.
func llc() Application {
	return Application{
		FiledOn: date(2025, 3, 1),
		Company: Company{
			Type:                 LLC,
			RegisteredCapitalFen: yuanFen(1_000_000),
			Board:                &Board{},
			Supervision:          SingleSupervisor,
			LegalRep:             LegalRep{Person: person("张三", idZhang), Position: Chairman, AppointedBy: Elected},
			Members: []Member{
				member("张三", idZhang, Chairman),
				member("李四", idLi, Director),
				member("王五", idWang, Director),
				member("赵六", idZhao, Supervisor),
				member("钱七", idQian, Manager),
			},
			Shareholders: []Shareholder{
				natural("张三", idZhang, 600_000, due(200_000, date(2025, 6, 30)), due(400_000, date(2029, 12, 31))),
				entity(Enterprise, "上海甲科技有限公司", usccA, 400_000, due(400_000, date(2028, 3, 1))),
			},
		},
	}
}

// onePerson is a complete, valid establishment of a 一人有限责任公司: one
// director who is also manager and legal representative, no supervisor by
// the sole shareholder's consent, the contribution due on the last day of
// the five years.
func onePerson() Application {
	return Application{
		FiledOn: date(2025, 3, 1),
		Company: Company{
			Type:                 OnePersonLLC,
			RegisteredCapitalFen: yuanFen(100_000),
			Supervision:          NoSupervisor,
			LegalRep:             LegalRep{Person: person("张三", idZhang), Position: Director, AppointedBy: Appointed},
			Members:              []Member{member("张三", idZhang, Director, Manager)},
			Shareholders:         []Shareholder{natural("张三", idZhang, 100_000, due(100_000, date(2030, 3, 1)))},
		},
	}
}

// stateSole is a complete, valid establishment of a 国有独资公司 whose board's
// audit committee replaces the supervisors.
func stateSole() Application {
	emp := member("王五", idWang, Director)
	emp.EmployeeRep = true
	return Application{
		FiledOn: date(2025, 3, 1),
		Company: Company{
			Type:                 StateSoleLLC,
			RegisteredCapitalFen: yuanFen(50_000_000),
			Board:                &Board{AuditCommittee: true},
			Supervision:          AuditCommittee,
			LegalRep:             LegalRep{Person: person("张三", idZhang), Position: Chairman, AppointedBy: Appointed},
			Members: []Member{
				member("张三", idZhang, Chairman),
				member("李四", idLi, Director),
				emp,
				member("钱七", idQian, Manager),
			},
			Shareholders: []Shareholder{
				entity(Organisation, "上海市国有资产监督管理委员会", usccSASAC, 50_000_000, paid(50_000_000, date(2025, 2, 20))),
			},
		},
	}
}

// jsc is a complete, valid establishment of a 股份有限公司 with a board, a
// supervisory board of three (one employee representative), the manager as
// legal representative and two promoters that paid in full.
func jsc() Application {
	emp := member("周九", idZhou, Supervisor)
	emp.EmployeeRep = true
	wu := Shareholder{ // a Hong Kong resident
		Person:        Person{Name: "吴十", IDType: HKMacaoPermit, IDNumber: "H12345678"},
		Kind:          NaturalPerson,
		SubscribedFen: yuanFen(2_000_000),
		Instalments:   []Instalment{paid(2_000_000, date(2025, 2, 1))},
	}
	return Application{
		FiledOn: date(2025, 3, 1),
		Company: Company{
			Type:                 JSC,
			RegisteredCapitalFen: yuanFen(10_000_000),
			Board:                &Board{},
			Supervision:          SupervisoryBoard,
			LegalRep:             LegalRep{Person: person("钱七", idQian), Position: Manager, AppointedBy: Hired},
			Members: []Member{
				member("张三", idZhang, Chairman),
				member("李四", idLi, Director),
				member("王五", idWang, Director),
				member("钱七", idQian, Manager),
				member("赵六", idZhao, SupervisorChair),
				member("孙八", idSun, Supervisor),
				emp,
			},
			Shareholders: []Shareholder{
				entity(Enterprise, "上海乙投资有限公司", usccB, 8_000_000, paid(8_000_000, date(2025, 2, 1))),
				wu,
			},
		},
	}
}

// listedChange is a complete, valid change of a 上市股份有限公司 filing its
// main members (a listed company is never established as such).
func listedChange() Application {
	app := jsc()
	app.Type = ListedJSC
	app.EstablishedOn = date(2020, 5, 1)
	app.FiledOn = date(2025, 3, 1)
	app.Change = &Change{
		RegisteredType:       "股份有限公司（上市）",
		RegisteredCapitalFen: app.RegisteredCapitalFen,
		Items:                []ChangeItem{ItemMainMembers},
	}
	return app
}

// llcChange is a complete, valid change of a 有限责任公司 established under
// the revised law: contributions due within five years of 2024-09-15.
func llcChange() Application {
	app := llc()
	app.EstablishedOn = date(2024, 9, 15)
	app.FiledOn = date(2025, 6, 1)
	app.Shareholders[0].Instalments[1].Due = date(2029, 9, 15)
	app.Change = &Change{
		RegisteredType:       "有限责任公司（自然人投资或控股）",
		RegisteredCapitalFen: app.RegisteredCapitalFen,
		Shareholders:         []Person{person("张三", idZhang), {Name: "上海甲科技有限公司", IDType: USCC, IDNumber: usccA}},
		Items:                []ChangeItem{ItemMainMembers},
	}
	return app
}

// legacyChange is a complete, valid change of an existing (存量) LLC that
// keeps its legacy values: an 执行董事 as legal representative, no board,
// two supervisors, contributions due by the transition deadline.
func legacyChange() Application {
	return Application{
		FiledOn: date(2025, 6, 1),
		Company: Company{
			Type:                 LLC,
			Legacy:               true,
			EstablishedOn:        date(2015, 6, 1),
			RegisteredCapitalFen: yuanFen(5_000_000),
			Supervision:          SingleSupervisor,
			LegalRep:             LegalRep{Person: person("张三", idZhang), Position: ExecutiveDirector, AppointedBy: Elected},
			Members: []Member{
				member("张三", idZhang, ExecutiveDirector, Manager),
				member("赵六", idZhao, Supervisor),
				member("孙八", idSun, Supervisor),
			},
			Shareholders: []Shareholder{
				natural("张三", idZhang, 3_000_000, paid(1_000_000, date(2016, 1, 1)), due(2_000_000, date(2032, 6, 30))),
				natural("李四", idLi, 2_000_000, due(2_000_000, date(2030, 12, 31))),
			},
		},
		Change: &Change{
			RegisteredType:       "有限责任公司（自然人投资或控股）",
			RegisteredCapitalFen: yuanFen(5_000_000),
			Shareholders:         []Person{person("张三", idZhang), person("李四", idLi)},
			Items:                []ChangeItem{ItemMainMembers},
		},
	}
}

// want is an expected violation: its rule, its field and a substring of its
// zh-CN message.
type want struct{ rule, field, zh string }

// ruleCase is a table case: a fixture, a change to it, the violations.
type ruleCase struct {
	name   string
	app    func() Application
	mutate func(*Application)
	want   []want
}

func run(t *testing.T, cases []ruleCase) {
	t.Helper()
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			app := c.app()
			if c.mutate != nil {
				c.mutate(&app)
			}
			expect(t, app, c.want...)
		})
	}
}

// expect validates app and asserts exactly the wanted violations, in order;
// each has both messages and a field path that exists in app's JSON.
func expect(t *testing.T, app Application, wants ...want) {
	t.Helper()
	got := Validate(app)
	ok := len(got) == len(wants)
	for i := 0; ok && i < len(got); i++ {
		g, w := got[i], wants[i]
		ok = g.Rule == w.rule && g.Field == w.field && strings.Contains(g.Message["zh-CN"], w.zh) && g.Message["en"] != ""
	}
	if !ok {
		t.Fatalf("violations:\n%s\nwant:\n%v", dump(got), wants)
	}
	for _, g := range got {
		if !resolves(t, app, g.Field) {
			t.Errorf("field %q of %s is not a path in the application's JSON", g.Field, g.Rule)
		}
	}
}

func dump(vs []Violation) string {
	var b strings.Builder
	for _, v := range vs {
		b.WriteString("  " + v.Rule + " " + v.Field + ": " + v.Message["zh-CN"] + " | " + v.Message["en"] + "\n")
	}
	return b.String()
}

var segment = regexp.MustCompile(`^(\w+)(?:\[(\d+)\])?$`)

// resolves reports whether path names a value in app's JSON encoding.
func resolves(t *testing.T, app Application, path string) bool {
	raw, err := json.Marshal(app)
	if err != nil {
		t.Fatal(err)
	}
	var v any
	if err := json.Unmarshal(raw, &v); err != nil {
		t.Fatal(err)
	}
	for _, part := range strings.Split(path, ".") {
		m := segment.FindStringSubmatch(part)
		obj, isObj := v.(map[string]any)
		if m == nil || !isObj {
			return false
		}
		next, found := obj[m[1]]
		if !found {
			return false
		}
		v = next
		if m[2] != "" {
			arr, isArr := v.([]any)
			i, _ := strconv.Atoi(m[2])
			if !isArr || i >= len(arr) {
				return false
			}
			v = arr[i]
		}
	}
	return true
}
