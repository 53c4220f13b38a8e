package search

import (
	"bytes"
	"context"
	"errors"
	"math/rand/v2"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"
	"unicode/utf8"

	"golang.org/x/text/encoding/simplifiedchinese"

	"github.com/shanghai-amr/portal/plugins/registration/registry"
)

const popSize = 100_000

var (
	popOnce sync.Once
	popEnts []*registry.Entity
	popIx   *Index
)

// population is a 100,000-entity registry and its index, shared by the
// read-only tests.
func population(t *testing.T) ([]*registry.Entity, *Index) {
	t.Helper()
	popOnce.Do(func() {
		popEnts = registry.GenerateSlice(2026, popSize)
		ix, bad, err := Build(popEnts, Options{})
		if err != nil || bad != 0 {
			panic("build failed")
		}
		popIx = ix
	})
	return popEnts, popIx
}

var (
	staffCity = Caller{Audience: Staff, Scope: CityScope()}
	publicAll = Caller{Audience: Public, Scope: CityScope()}
)

func has(r *Result, code string) bool {
	return slices.ContainsFunc(r.Hits, func(h Hit) bool { return h.Code == code })
}

func mustSearch(t *testing.T, ix *Index, c Caller, q Query) *Result {
	t.Helper()
	r, err := ix.Search(c, q)
	if err != nil {
		t.Fatalf("%+v: %v", q, err)
	}
	return r
}

// narrow is a query for text limited to e's district, status and day of
// establishment: few candidates, so e must be among the hits.
func narrow(text string, e *registry.Entity) Query {
	return Query{Text: text, Districts: []registry.District{e.District}, Statuses: []registry.Status{e.Status},
		EstablishedFrom: e.Established, EstablishedTo: e.Established, Limit: 100}
}

func TestNormalize(t *testing.T) {
	for in, want := range map[string]string{
		"ＡＢＣ（上海）信息技术有限公司":        "abc(上海)信息技术有限公司",
		"恒瑞 【上海】 科技":             "恒瑞(上海)科技",
		"上海\u3000恒瑞［ＩＴ］":         "上海恒瑞(it)",
		"Hengrui (Shanghai) Ltd": "hengrui(shanghai)ltd.",
		"１２３":                    "123",
	} {
		if in == "Hengrui (Shanghai) Ltd" {
			want = "hengrui(shanghai)ltd"
		}
		if got := Normalize(in); got != want {
			t.Errorf("Normalize(%q) = %q, want %q", in, got, want)
		}
	}
	for name, core := range map[string]string{
		"上海恒瑞信息科技有限公司":       "恒瑞信息科技",
		"恒瑞(上海)信息科技有限公司":     "恒瑞(上海)信息科技",
		"上海市浦东新区张江镇恒瑞小吃店":    "恒瑞小吃店",
		"上海浦东新区张江恒瑞小吃店":      "恒瑞小吃店",
		"上海恒瑞信息科技有限公司徐汇区分公司": "恒瑞信息科技",
		"上海恒瑞投资管理合伙企业(有限合伙)": "恒瑞投资管理",
		"上海浦东恒瑞贸易股份有限公司":     "恒瑞贸易",
		"上海崇明恒瑞蔬菜专业合作社":      "恒瑞蔬菜",
		"上海恒瑞塑料制品厂":          "恒瑞塑料制品",
		"有限公司":               "有限公司",
	} {
		lo, hi := splitName(name)
		if got := name[lo:hi]; got != core {
			t.Errorf("core of %s = %s, want %s", name, got, core)
		}
	}
}

func TestPinyinInitials(t *testing.T) {
	enc := simplifiedchinese.GB18030.NewEncoder()
	for _, b := range gbBoundaries {
		got, err := enc.String(string(b.char))
		if err != nil || len(got) != 2 || uint16(got[0])<<8|uint16(got[1]) != b.code {
			t.Errorf("%c encodes to % X, the table says %04X", b.char, got, b.code)
		}
		if Initial(b.char) != b.initial {
			t.Errorf("Initial(%c) = %c, want %c", b.char, Initial(b.char), b.initial)
		}
	}
	for s, want := range map[string]string{
		"恒瑞信息": "hrxx", "上海浦东张江": "shpdzj", "鑫晟昊": "xsh", "华为": "hw", "ABC科技": "abckj",
		"欧阳": "oy", "长宁": "cn", "（上海）": "sh",
	} {
		if got := Initials(s); got != want {
			t.Errorf("Initials(%s) = %s, want %s", s, got, want)
		}
	}
	// Every character of every generated name has an initial.
	registry.Generate(5, 20_000, func(e *registry.Entity) error {
		for _, r := range e.Name {
			if r >= 0x4E00 && r <= 0x9FFF && Initial(r) == 0 {
				t.Errorf("%c (in %s) has no initial", r, e.Name)
			}
		}
		return nil
	})
}

func TestCodeLookup(t *testing.T) {
	ents, ix := population(t)
	for _, e := range ents[:2000] {
		for _, form := range []string{e.Code, strings.ToLower(e.Code), " " + fullWidthASCII(e.Code) + " "} {
			v, ok := ix.Lookup(staffCity, form)
			if !ok || v.Code != e.Code || v.Name != e.Name {
				t.Fatalf("Lookup(%q) = %+v, %v", form, v, ok)
			}
		}
		r := mustSearch(t, ix, publicAll, Query{Text: e.Code})
		if len(r.Hits) != 1 || r.Hits[0].Code != e.Code || r.Hits[0].Matched != "code" {
			t.Fatalf("search by code %s: %+v", e.Code, r.Hits)
		}
	}
	if _, ok := ix.Lookup(staffCity, "91310000MA1FL00000"); ok {
		t.Error("an unknown code was found")
	}
}

func fullWidthASCII(s string) string {
	var b strings.Builder
	for _, r := range s {
		switch {
		case r == '(':
			r = '（'
		case r == ')':
			r = '）'
		case r > ' ' && r < 0x7F:
			r += 0xFEE0
		}
		b.WriteRune(r)
	}
	return b.String()
}

func TestTwoCharacterQueries(t *testing.T) {
	ents, ix := population(t)
	r := rand.New(rand.NewPCG(1, 2))
	for range 500 {
		e := ents[r.IntN(len(ents))]
		name := []rune(e.Name)
		if len(e.FormerNames) > 0 && r.IntN(2) == 0 {
			name = []rune(e.FormerNames[0])
		}
		i := r.IntN(len(name) - 1)
		q := string(name[i : i+2])
		res := mustSearch(t, ix, staffCity, narrow(q, e))
		if !has(res, e.Code) {
			t.Fatalf("%q did not find %s %s (%d hits, total %d)", q, e.Code, e.Name, len(res.Hits), res.Total)
		}
		// Longer fragments too.
		if n := min(len(name)-i, 2+r.IntN(5)); n > 2 {
			if res := mustSearch(t, ix, staffCity, narrow(string(name[i:i+n]), e)); !has(res, e.Code) {
				t.Fatalf("%q did not find %s", string(name[i:i+n]), e.Name)
			}
		}
	}
	// A trade name alone, no filters: the entities carrying it come first.
	e := ents[12]
	lo, hi := splitName(Normalize(e.Name))
	core := []rune(Normalize(e.Name)[lo:hi])
	res := mustSearch(t, ix, staffCity, Query{Text: string(core[:2]), Limit: 100})
	if res.Total <= 100 && !has(res, e.Code) {
		t.Errorf("trade name %s did not find %s", string(core[:2]), e.Name)
	}
	for _, h := range res.Hits {
		if !strings.Contains(Normalize(h.Name), string(core[:2])) && !slices.ContainsFunc(h.FormerNames, func(f string) bool {
			return strings.Contains(Normalize(f), string(core[:2]))
		}) {
			t.Errorf("hit %s does not contain %s", h.Name, string(core[:2]))
		}
	}
	// Full names rank their entity first.
	for _, e := range ents[100:400] {
		res := mustSearch(t, ix, publicAll, Query{Text: e.Name, Limit: 3})
		if len(res.Hits) == 0 || res.Hits[0].Code != e.Code {
			t.Fatalf("full name %s: %+v", e.Name, res.Hits)
		}
	}
}

func TestFullWidthAndBrackets(t *testing.T) {
	ix := New(Options{})
	e := &registry.Entity{Code: mkCode(t, 1), Name: "ＡＢＣ（上海）信息技术有限公司", Kind: registry.KindLLCForeign,
		Status: registry.StatusActive, District: registry.Pudong, LegalRep: "张伟", Established: registry.Date(2020, 5, 1)}
	if err := ix.Upsert(e); err != nil {
		t.Fatal(err)
	}
	for _, q := range []string{"ＡＢＣ", "abc", "ABC（上海）", "abc(上海)", "（上海）信息", "[上海]信息技术", "ＡＢＣ （上海） 信息技术有限公司"} {
		res := mustSearch(t, ix, publicAll, Query{Text: q})
		if !has(res, e.Code) {
			t.Errorf("%q did not find %s", q, e.Name)
		} else if res.Hits[0].Name != e.Name {
			t.Errorf("the hit shows %q, not the registered name", res.Hits[0].Name)
		}
	}
	// Generated names carry full-width brackets; half-width queries find them.
	ents, pix := population(t)
	n := 0
	for _, e := range ents {
		if !strings.Contains(e.Name, "（上海）") || n == 50 {
			continue
		}
		n++
		half := strings.NewReplacer("（", "(", "）", ")").Replace(e.Name)
		if res := mustSearch(t, pix, publicAll, Query{Text: half, Limit: 3}); len(res.Hits) == 0 || res.Hits[0].Code != e.Code {
			t.Fatalf("%s did not find %s", half, e.Name)
		}
	}
}

func mkCode(t *testing.T, i int) string {
	t.Helper()
	body := []byte("MA9ZZ000")
	body[2] = "123456789"[i/1000%9]
	body[5] = "0123456789"[i/100%10]
	body[6] = "0123456789"[i/10%10]
	body[7] = "0123456789"[i%10]
	body[3] = 'Y'
	body[4] = 'Y'
	c, err := registry.USCC(registry.CategoryEnterprise, "310115", string(body))
	if err != nil {
		t.Fatal(err)
	}
	return c
}

func TestFormDownWeighted(t *testing.T) {
	ents, ix := population(t)
	// 有限公司 only ever matches the organisation form: form scores, capped work.
	res := mustSearch(t, ix, staffCity, Query{Text: "有限公司", Limit: 50})
	if !res.Truncated || res.Examined > 2*ix.opts.MaxScan {
		t.Errorf("有限公司: truncated %v, examined %d", res.Truncated, res.Examined)
	}
	for _, h := range res.Hits {
		if h.Score >= scoreCore {
			t.Errorf("有限公司 ranked %s at %d, as if in the trade name", h.Name, h.Score)
		}
	}
	// A trade name containing a form word beats the many forms.
	small := New(Options{})
	core := &registry.Entity{Code: mkCode(t, 2), Name: "上海合伙人信息科技有限公司", Kind: registry.KindLLC,
		Status: registry.StatusActive, District: registry.Xuhui, LegalRep: "李雷", Established: registry.Date(2021, 1, 1)}
	small.Upsert(core)
	k := 0
	for _, e := range ents {
		if e.Kind == registry.KindLimitedPartnership && k < 300 {
			small.Upsert(e)
			k++
		}
	}
	res = mustSearch(t, small, staffCity, Query{Text: "合伙", Limit: 5})
	if len(res.Hits) == 0 || res.Hits[0].Code != core.Code || res.Total != k+1 {
		t.Errorf("合伙: %d hits, total %d, first %+v", len(res.Hits), res.Total, res.Hits)
	}
	// Region words rank below trade names too.
	res = mustSearch(t, ix, staffCity, Query{Text: "上海"})
	for _, h := range res.Hits {
		if h.Score >= scoreCore {
			t.Errorf("上海 ranked %s at %d", h.Name, h.Score)
		}
	}
}

func TestFormerNames(t *testing.T) {
	ents, ix := population(t)
	n := 0
	for _, e := range ents {
		if len(e.FormerNames) == 0 || n == 200 {
			continue
		}
		n++
		f := e.FormerNames[0]
		res := mustSearch(t, ix, staffCity, Query{Text: f, Limit: 5})
		if !has(res, e.Code) {
			t.Fatalf("former name %s did not find %s", f, e.Name)
		}
		if res.Hits[0].Code == e.Code && res.Hits[0].Matched != "former_name" && !strings.Contains(Normalize(e.Name), Normalize(f)) {
			t.Errorf("%s matched %s", f, res.Hits[0].Matched)
		}
	}
	if n < 100 {
		t.Fatalf("only %d entities with former names", n)
	}
}

func TestInitialsSearch(t *testing.T) {
	_, ix := population(t)
	e := &registry.Entity{Code: mkCode(t, 3), Name: "上海恒瑞信息科技有限公司", FormerNames: []string{"上海雅乐文化传播有限公司"},
		Kind: registry.KindLLC, Status: registry.StatusActive, District: registry.Jiading, LegalRep: "王芳",
		Established: registry.Date(2018, 3, 3)}
	small := New(Options{})
	small.Upsert(e)
	for _, ix := range []*Index{ix, small} {
		if err := ix.Upsert(e); err != nil {
			t.Fatal(err)
		}
		for _, q := range []string{"hrxx", "HRXX", "ｈｒｘｘ", "hrxxkj", "hr"} {
			res := mustSearch(t, ix, staffCity, narrow(q, e))
			if !has(res, e.Code) {
				t.Errorf("%q did not find %s", q, e.Name)
			} else if res.Hits[0].Code == e.Code && res.Hits[0].Matched != "initials" {
				t.Errorf("%q matched %s", q, res.Hits[0].Matched)
			}
		}
		res := mustSearch(t, ix, staffCity, narrow("ylwh", e)) // initials of the former name
		if !has(res, e.Code) {
			t.Error("initials of a former name did not find the entity")
		}
	}
	ix.Delete(e.Code)
}

func TestFilters(t *testing.T) {
	ents, ix := population(t)
	from, to := registry.Date(2016, 1, 1), registry.Date(2019, 12, 31)
	for _, q := range []Query{
		{Districts: []registry.District{registry.Hongkou}, Statuses: []registry.Status{registry.StatusRevoked}},
		{Districts: []registry.District{registry.Jinshan}, Kinds: []registry.Kind{registry.KindIndividual}, EstablishedFrom: from, EstablishedTo: to},
		{Text: "科技", Districts: []registry.District{registry.Changning}, CapitalMin: 1_000_000_00, CapitalMax: 5_000_000_00},
		{Text: "小吃", Statuses: []registry.Status{registry.StatusSuspended}, EstablishedFrom: from},
		{Text: "贸易", Districts: []registry.District{registry.Yangpu, registry.Hongkou}, Kinds: []registry.Kind{registry.KindLLCNaturalSole}, EstablishedTo: to},
	} {
		q.Limit = 100
		res := mustSearch(t, ix, staffCity, q)
		want := 0
		for _, e := range ents {
			if matches(e, q) {
				want++
			}
		}
		if res.Truncated || res.Total != want {
			t.Errorf("%+v: total %d (truncated %v), want %d", q, res.Total, res.Truncated, want)
		}
		for _, h := range res.Hits {
			e := byCode(ents, h.Code)
			if !matches(e, q) {
				t.Errorf("%+v: hit %s %s does not pass", q, e.Code, e.Name)
			}
		}
	}
	if _, err := ix.Search(staffCity, Query{CapitalMin: 10, CapitalMax: 5}); err == nil {
		t.Error("an empty capital range was accepted")
	}
	if _, err := ix.Search(staffCity, Query{Districts: []registry.District{320102}}); err == nil {
		t.Error("a district outside Shanghai was accepted")
	}
}

// Pages of a query, offset by offset, are the slices of its ranking.
func TestPaging(t *testing.T) {
	_, ix := population(t)
	for _, q := range []Query{{Text: "科技"}, {Text: "小吃"}, {Statuses: []registry.Status{registry.StatusRevoked}}} {
		q.Limit = 100
		all := mustSearch(t, ix, staffCity, q)
		var paged []string
		for off := 0; off < 100; off += 30 {
			q.Limit, q.Offset = 30, off
			for _, h := range mustSearch(t, ix, staffCity, q).Hits {
				paged = append(paged, h.Code)
			}
		}
		paged = paged[:min(len(paged), 100)]
		if len(paged) != len(all.Hits) {
			t.Fatalf("%q: %d paged hits, %d in one page", q.Text, len(paged), len(all.Hits))
		}
		for i, h := range all.Hits {
			if paged[i] != h.Code {
				t.Fatalf("%q: hit %d is %s paged, %s in one page", q.Text, i, paged[i], h.Code)
			}
		}
	}
	for _, off := range []int{-1, MaxOffset + 1} {
		if _, err := ix.Search(staffCity, Query{Text: "科技", Offset: off}); !errors.Is(err, ErrQuery) {
			t.Errorf("offset %d: %v, want ErrQuery", off, err)
		}
	}
}

var codeIndex sync.Map

func byCode(ents []*registry.Entity, code string) *registry.Entity {
	if v, ok := codeIndex.Load(code); ok {
		return v.(*registry.Entity)
	}
	for _, e := range ents {
		codeIndex.Store(e.Code, e)
	}
	v, _ := codeIndex.Load(code)
	return v.(*registry.Entity)
}

func matches(e *registry.Entity, q Query) bool {
	if q.Text != "" && !strings.Contains(Normalize(e.Name), Normalize(q.Text)) &&
		!slices.ContainsFunc(e.FormerNames, func(f string) bool { return strings.Contains(Normalize(f), Normalize(q.Text)) }) {
		return false
	}
	if len(q.Districts) > 0 && !slices.Contains(q.Districts, e.District) ||
		len(q.Statuses) > 0 && !slices.Contains(q.Statuses, e.Status) ||
		len(q.Kinds) > 0 && !slices.Contains(q.Kinds, e.Kind) {
		return false
	}
	if !q.EstablishedFrom.IsZero() && e.Established.Before(q.EstablishedFrom) || !q.EstablishedTo.IsZero() && e.Established.After(q.EstablishedTo) {
		return false
	}
	if q.CapitalMin > 0 && e.Capital < q.CapitalMin || q.CapitalMax > 0 && e.Capital > q.CapitalMax {
		return false
	}
	return true
}

func TestScope(t *testing.T) {
	ents, ix := population(t)
	xuhui := Caller{Audience: Staff, Scope: DistrictScope(registry.Xuhui)}
	for _, text := range []string{"", "科技", "上海", "有限公司", "小吃店", "hr", "鑫"} {
		res := mustSearch(t, ix, xuhui, Query{Text: text, Limit: 100})
		if len(res.Hits) == 0 {
			t.Errorf("%q: no hits in 徐汇", text)
		}
		for _, h := range res.Hits {
			if h.District != registry.Xuhui.String() {
				t.Fatalf("%q: a 徐汇 officer got %s in %s", text, h.Code, h.DistrictName)
			}
		}
		// Asking for another district inside a district scope yields nothing.
		if res := mustSearch(t, ix, xuhui, Query{Text: text, Districts: []registry.District{registry.Pudong}}); len(res.Hits) != 0 {
			t.Errorf("%q: a 徐汇 officer got 浦东 entities", text)
		}
	}
	for _, e := range ents[:500] {
		_, ok := ix.Lookup(xuhui, e.Code)
		if ok != (e.District == registry.Xuhui) {
			t.Fatalf("Lookup of %s (%s) from 徐汇: %v", e.Code, e.District.Name(), ok)
		}
		res := mustSearch(t, ix, xuhui, Query{Text: e.Name})
		if e.District != registry.Xuhui && has(res, e.Code) {
			t.Fatalf("a 徐汇 officer found %s of %s by name", e.Name, e.District.Name())
		}
	}
	if res := mustSearch(t, ix, Caller{Audience: Staff}, Query{Text: "科技"}); len(res.Hits) != 0 {
		t.Error("the zero scope saw entities")
	}
	two := DistrictScope(registry.Xuhui, registry.Minhang)
	if !two.Allows(registry.Minhang) || two.Allows(registry.Pudong) || two.City() || len(two.Districts()) != 2 {
		t.Error("DistrictScope")
	}
}

func TestMasking(t *testing.T) {
	for in, want := range map[string]string{
		"王芳": "王*", "张伟明": "张**", "欧阳娜娜": "欧阳**", "李": "李",
		"上海明德投资管理有限公司":                   "上海明德投资管理有限公司",
		"依人民法院协助执行通知书(2024)沪0115执123号涤除": "依人民法院协助执行通知书(2024)沪0115执123号涤除",
	} {
		if got := MaskPerson(in); got != want {
			t.Errorf("MaskPerson(%s) = %s, want %s", in, got, want)
		}
	}
	ents, ix := population(t)
	res := mustSearch(t, ix, publicAll, Query{Text: "科技", Limit: 100})
	for _, h := range res.Hits {
		e := byCode(ents, h.Code)
		if h.LegalRep != MaskPerson(e.LegalRep) || h.Kind != "" || h.Capital != 0 || h.FormerNames != nil || h.Entity != nil {
			t.Fatalf("public hit not masked: %+v", h.View)
		}
		if h.Name != e.Name || h.Status != e.Status || h.Established != e.Established.Format("2006-01-02") || h.District != e.District.String() {
			t.Fatalf("public hit lost a public field: %+v vs %+v", h.View, e)
		}
		if utf8.RuneCountInString(e.LegalRep) <= 3 && !strings.Contains(h.LegalRep, "*") {
			t.Fatalf("legal rep %s shown as %s", e.LegalRep, h.LegalRep)
		}
	}
	res = mustSearch(t, ix, staffCity, Query{Text: "科技", Limit: 100})
	for _, h := range res.Hits {
		e := byCode(ents, h.Code)
		if h.LegalRep != e.LegalRep || h.Kind != e.Kind.String() || h.Capital != e.Capital || !slices.Equal(h.FormerNames, e.FormerNames) {
			t.Fatalf("staff hit incomplete: %+v", h.View)
		}
	}
	e := ents[0]
	if v := ViewEntity(e, Public); v.Entity != nil || v.LegalRep == e.LegalRep || v.Capital != 0 {
		t.Errorf("public ViewEntity: %+v", v)
	}
	if v := ViewEntity(e, Staff); v.Entity != e || v.LegalRep != e.LegalRep {
		t.Errorf("staff ViewEntity: %+v", v)
	}
}

func TestIncremental(t *testing.T) {
	ents := registry.GenerateSlice(11, 5000)
	ix, _, err := Build(ents, Options{CompactRatio: -1})
	if err != nil {
		t.Fatal(err)
	}
	e := ents[42].Clone()
	if r := mustSearch(t, ix, staffCity, Query{Text: e.Name}); !has(r, e.Code) {
		t.Fatal("not found before the update")
	}
	old := e.Name
	e.FormerNames = append([]string{old}, e.FormerNames...)
	e.Name = "上海鲸舟瀚海数据科技有限公司"
	e.Status = registry.StatusSuspended
	if err := ix.Upsert(e); err != nil {
		t.Fatal(err)
	}
	r := mustSearch(t, ix, staffCity, Query{Text: "鲸舟瀚海"})
	if len(r.Hits) != 1 || r.Hits[0].Code != e.Code || r.Hits[0].Status != registry.StatusSuspended {
		t.Fatalf("renamed entity: %+v", r.Hits)
	}
	if r := mustSearch(t, ix, staffCity, Query{Text: old}); len(r.Hits) == 0 || r.Hits[0].Code != e.Code || r.Hits[0].Matched != "former_name" {
		t.Fatalf("old name: %+v", r.Hits)
	}
	if r := mustSearch(t, ix, staffCity, Query{Statuses: []registry.Status{registry.StatusSuspended}, Limit: 100, Districts: []registry.District{e.District}}); !has(r, e.Code) {
		t.Fatal("the status filter does not see the update")
	}
	n := &registry.Entity{Code: mkCode(t, 7), Name: "上海鲸舟远洋物流有限公司", Kind: registry.KindLLC, Status: registry.StatusActive,
		District: registry.Baoshan, LegalRep: "赵敏", Established: registry.Date(2026, 11, 1), Capital: 1_000_000_00}
	ix.Upsert(n)
	if r := mustSearch(t, ix, staffCity, Query{Text: "鲸舟"}); r.Total != 2 {
		t.Fatalf("鲸舟: total %d", r.Total)
	}
	if r := mustSearch(t, ix, Caller{Audience: Staff, Scope: DistrictScope(registry.Baoshan)}, Query{Text: "鲸舟"}); r.Total != 1 || r.Hits[0].Code != n.Code {
		t.Fatalf("鲸舟 in 宝山: %+v", r.Hits)
	}
	if r := mustSearch(t, ix, staffCity, Query{Text: "jzyy"}); !has(r, n.Code) {
		t.Fatal("initials of a new entity")
	}
	if !ix.Delete(n.Code) || ix.Delete(n.Code) {
		t.Fatal("Delete")
	}
	if _, ok := ix.Lookup(staffCity, n.Code); ok {
		t.Fatal("deleted entity still found by code")
	}
	if r := mustSearch(t, ix, staffCity, Query{Text: "鲸舟"}); r.Total != 1 {
		t.Fatalf("after delete: total %d", r.Total)
	}
	st := ix.Stats()
	if st.Docs != 5000 || st.Tombstones != 2 || st.Incremental != 2 {
		t.Fatalf("stats %+v", st)
	}
	if err := ix.Compact(context.Background()); err != nil {
		t.Fatal(err)
	}
	st = ix.Stats()
	if st.Docs != 5000 || st.Tombstones != 0 || st.Incremental != 0 || st.Generation != 2 {
		t.Fatalf("stats after compaction %+v", st)
	}
	if r := mustSearch(t, ix, staffCity, Query{Text: "鲸舟瀚海"}); len(r.Hits) != 1 {
		t.Fatal("lost the update in compaction")
	}
	if err := ix.Upsert(&registry.Entity{Code: "123", Name: "x", District: registry.Pudong}); err == nil {
		t.Error("a bad code was indexed")
	}
}

func TestAutoCompaction(t *testing.T) {
	ents := registry.GenerateSlice(12, 2000)
	ix, _, _ := Build(ents, Options{CompactRatio: 0.1})
	for _, e := range ents[:300] {
		ix.Delete(e.Code)
	}
	// Deletes that arrive during the compaction are replayed onto the new
	// generation as tombstones, below the threshold.
	deadline := time.Now().Add(10 * time.Second)
	for ix.Stats().Generation < 2 && time.Now().Before(deadline) {
		time.Sleep(10 * time.Millisecond)
	}
	ix.Compact(context.Background()) // waits for a running compaction, then compacts the rest
	if st := ix.Stats(); st.Generation < 3 || st.Tombstones != 0 || st.Docs != 1700 {
		t.Fatalf("no compaction: %+v", st)
	}
}

// store is the registry's source of truth in the rebuild tests: writers
// update it first, then the index, as the plugin does.
type store struct {
	mu   sync.Mutex
	m    map[string]*registry.Entity
	keys []string
}

func newStore(ents []*registry.Entity) *store {
	s := &store{m: map[string]*registry.Entity{}}
	for _, e := range ents {
		s.put(e)
	}
	return s
}

func (s *store) put(e *registry.Entity) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if _, ok := s.m[e.Code]; !ok {
		s.keys = append(s.keys, e.Code)
	}
	s.m[e.Code] = e
}

func (s *store) del(code string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	delete(s.m, code)
}

// all reads the store the way a rebuild reads the database: a snapshot.
func (s *store) all(yield func(*registry.Entity) bool) {
	s.mu.Lock()
	var snap []*registry.Entity
	for _, k := range s.keys {
		if e, ok := s.m[k]; ok {
			snap = append(snap, e)
		}
	}
	s.mu.Unlock()
	for _, e := range snap {
		if !yield(e) {
			return
		}
	}
}

// TestRebuildUnderLoad swaps generations while queries and writes run:
// queries never fail or miss a stable entity, and no write is lost. Run
// with -race.
func TestRebuildUnderLoad(t *testing.T) {
	ents := registry.GenerateSlice(13, 3000)
	ix, _, _ := Build(ents, Options{CompactRatio: -1})
	db := newStore(ents)
	stable := ents[7]
	var stop atomic.Bool
	var queries, failures atomic.Int64
	var wg sync.WaitGroup
	for w := range 4 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := 0; !stop.Load(); i++ {
				r, err := ix.Search(publicAll, Query{Text: stable.Name, Limit: 3})
				if err != nil || len(r.Hits) == 0 || r.Hits[0].Code != stable.Code {
					failures.Add(1)
				}
				if _, ok := ix.Lookup(staffCity, stable.Code); !ok {
					failures.Add(1)
				}
				if _, err := ix.Search(publicAll, Query{Text: []string{"科技", "hr", "", "小吃店"}[(i+w)%4]}); err != nil {
					failures.Add(1)
				}
				queries.Add(1)
			}
		}()
	}
	var added, deleted []string
	var writing sync.WaitGroup
	writing.Add(1)
	go func() {
		defer writing.Done()
		for i := range 200 {
			e := &registry.Entity{Code: mkCode(t, 100+i), Name: "上海重建测试" + string(rune('甲'+i%10)) + string(rune('子'+i/10)) + "科技有限公司",
				Kind: registry.KindLLC, Status: registry.StatusActive, District: registry.Districts[i%16], LegalRep: "测试", Established: registry.Date(2026, 1, 1)}
			db.put(e)
			if err := ix.Upsert(e); err != nil {
				t.Error(err)
			}
			added = append(added, e.Code)
			if i%20 == 0 {
				code := ents[100+i].Code
				db.del(code)
				ix.Delete(code)
				deleted = append(deleted, code)
			}
			time.Sleep(500 * time.Microsecond)
		}
	}()
	swaps := 0
	written := waitCh(&writing)
	for done := false; !done; {
		if err := ix.Rebuild(context.Background(), db.all); err != nil {
			t.Fatal(err)
		}
		if err := ix.Compact(context.Background()); err != nil {
			t.Fatal(err)
		}
		swaps += 2
		select {
		case <-written:
			done = true
		default:
		}
	}
	stop.Store(true)
	wg.Wait()
	if failures.Load() != 0 {
		t.Fatalf("%d of %d queries failed during rebuilds", failures.Load(), queries.Load())
	}
	for _, c := range added {
		if _, ok := ix.Lookup(staffCity, c); !ok {
			t.Errorf("write %s lost", c)
		}
	}
	for _, c := range deleted {
		if _, ok := ix.Lookup(staffCity, c); ok {
			t.Errorf("delete %s lost", c)
		}
	}
	if r := mustSearch(t, ix, staffCity, Query{Text: "重建测试"}); r.Total != 200 {
		t.Errorf("重建测试: total %d", r.Total)
	}
	if st := ix.Stats(); st.Docs != 3000+200-len(deleted) {
		t.Errorf("docs %d", st.Docs)
	}
	t.Logf("%d queries during %d generation swaps", queries.Load(), swaps)
}

func waitCh(wg *sync.WaitGroup) <-chan struct{} {
	c := make(chan struct{})
	go func() { wg.Wait(); close(c) }()
	return c
}

func TestRebuildKeepsConcurrentWrites(t *testing.T) {
	ents := registry.GenerateSlice(14, 2000)
	ix, _, _ := Build(ents, Options{CompactRatio: -1})
	e := &registry.Entity{Code: mkCode(t, 900), Name: "上海并发写入科技有限公司", Kind: registry.KindLLC, Status: registry.StatusActive,
		District: registry.Pudong, LegalRep: "钱七", Established: registry.Date(2026, 2, 2)}
	// The source yields slowly; the write lands while the rebuild reads it.
	src := func(yield func(*registry.Entity) bool) {
		for i, x := range ents {
			if i == 1000 {
				if err := ix.Upsert(e); err != nil {
					t.Error(err)
				}
				ix.Delete(ents[0].Code)
			}
			if !yield(x) {
				return
			}
		}
	}
	if err := ix.Rebuild(context.Background(), src); err != nil {
		t.Fatal(err)
	}
	if _, ok := ix.Lookup(staffCity, e.Code); !ok {
		t.Error("an upsert made during the rebuild was lost")
	}
	if _, ok := ix.Lookup(staffCity, ents[0].Code); ok {
		t.Error("a delete made during the rebuild was lost")
	}
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	if err := ix.Rebuild(ctx, slices.Values(ents)); err == nil {
		t.Error("a cancelled rebuild succeeded")
	}
	if _, ok := ix.Lookup(staffCity, e.Code); !ok {
		t.Error("a cancelled rebuild changed the index")
	}
}

func TestTruncatedQueriesStayBounded(t *testing.T) {
	_, ix := population(t)
	for _, q := range []Query{
		{Text: "有限公司", Statuses: []registry.Status{registry.StatusRevoked}},
		{Text: "上海", Kinds: []registry.Kind{registry.KindBranch}},
		{Text: "科技"},
	} {
		res := mustSearch(t, ix, staffCity, q)
		if len(res.Hits) == 0 {
			t.Errorf("%+v: no hits", q)
		}
		if res.Examined > ix.opts.MaxScan+64 {
			t.Errorf("%+v: examined %d", q, res.Examined)
		}
	}
}

func TestSnapshot(t *testing.T) {
	ents := registry.GenerateSlice(15, 5000)
	ix, _, _ := Build(ents, Options{CompactRatio: -1})
	e := &registry.Entity{Code: mkCode(t, 950), Name: "上海快照测试科技有限公司", Kind: registry.KindLLC, Status: registry.StatusActive,
		District: registry.Songjiang, LegalRep: "孙八", Established: registry.Date(2026, 3, 3)}
	ix.Upsert(e)
	ix.Delete(ents[3].Code)
	var buf bytes.Buffer
	n, err := ix.WriteTo(&buf)
	if err != nil || n != int64(buf.Len()) {
		t.Fatalf("WriteTo: %d, %v (buffer %d)", n, err, buf.Len())
	}
	snap := bytes.Clone(buf.Bytes())
	loaded, err := Load(&buf, Options{})
	if err != nil {
		t.Fatal(err)
	}
	a, b := ix.Stats(), loaded.Stats()
	if a.Docs != b.Docs || a.Tombstones != b.Tombstones || a.Terms != b.Terms || a.Postings != b.Postings || a.DeltaPostings != b.DeltaPostings {
		t.Fatalf("stats differ:\n%+v\n%+v", a, b)
	}
	for _, q := range []Query{{Text: "快照"}, {Text: "科技", Limit: 50}, {Text: "hr"}, {Statuses: []registry.Status{registry.StatusRevoked}}, {Text: ents[3].Name}} {
		ra, rb := mustSearch(t, ix, staffCity, q), mustSearch(t, loaded, staffCity, q)
		if ra.Total != rb.Total || len(ra.Hits) != len(rb.Hits) {
			t.Fatalf("%+v: %d/%d vs %d/%d", q, ra.Total, len(ra.Hits), rb.Total, len(rb.Hits))
		}
		for i := range ra.Hits {
			if ra.Hits[i].Code != rb.Hits[i].Code || ra.Hits[i].Score != rb.Hits[i].Score {
				t.Fatalf("%+v: hit %d differs", q, i)
			}
		}
	}
	// ReadFrom swaps a snapshot into a live index.
	other := New(Options{})
	if _, err := other.ReadFrom(bytes.NewReader(snap)); err != nil {
		t.Fatal(err)
	}
	if _, ok := other.Lookup(staffCity, e.Code); !ok || other.Len() != ix.Len() {
		t.Fatal("ReadFrom")
	}
	for _, at := range []int{len(snap) / 2, len(snapshotMagic) + 3, len(snap) - 3} {
		bad := bytes.Clone(snap)
		bad[at] ^= 0x40
		if _, err := Load(bytes.NewReader(bad), Options{}); !errors.Is(err, ErrSnapshot) {
			t.Fatalf("a snapshot damaged at %d loaded: %v", at, err)
		}
	}
	if _, err := Load(bytes.NewReader(snap[:len(snap)-100]), Options{}); !errors.Is(err, ErrSnapshot) {
		t.Fatalf("a truncated snapshot loaded: %v", err)
	}
	if _, err := Load(strings.NewReader("not a snapshot at all"), Options{}); !errors.Is(err, ErrSnapshot) {
		t.Fatalf("garbage loaded: %v", err)
	}
}

func TestRepeatedBigrams(t *testing.T) {
	ix := New(Options{})
	mk := func(i int, name string) *registry.Entity {
		e := &registry.Entity{Code: mkCode(t, 960+i), Name: name, Kind: registry.KindLLC, Status: registry.StatusActive,
			District: registry.Putuo, LegalRep: "周九", Established: registry.Date(2025, 5, 5)}
		if err := ix.Upsert(e); err != nil {
			t.Fatal(err)
		}
		return e
	}
	a := mk(0, "上海哈哈贸易有限公司")
	b := mk(1, "上海哈哈哈食品有限公司")
	c := mk(2, "上海上达实业有限公司")
	for q, want := range map[string][]string{
		"哈哈哈": {b.Code}, "哈哈": {a.Code, b.Code}, "上海上海": nil, "上海上": {c.Code}, "哈哈贸易": {a.Code},
	} {
		r := mustSearch(t, ix, staffCity, Query{Text: q})
		var got []string
		for _, h := range r.Hits {
			got = append(got, h.Code)
		}
		slices.Sort(got)
		slices.Sort(want)
		if !slices.Equal(got, want) || r.Total != len(want) {
			t.Errorf("%s: %v (total %d), want %v", q, got, r.Total, want)
		}
	}
}
