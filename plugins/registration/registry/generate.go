package registry

import (
	"fmt"
	"math"
	"math/rand/v2"
	"strconv"
	"strings"
	"time"
)

// The population's mix (shares of all entities). Companies and other
// enterprises are ~70 %, individual businesses ~30 %.
var kindWeights = []struct {
	k Kind
	w float64
}{
	{KindLLC, 38.05}, {KindLLCNaturalSole, 16}, {KindLLCCorporateSole, 3}, {KindLLCForeign, 2},
	{KindJSC, 1.2}, {KindJSCListed, 0.05}, {KindBranch, 4}, {KindLimitedPartnership, 2.5},
	{KindSoleProprietorship, 2.5}, {KindStateOwned, 0.3}, {KindCooperative, 0.4}, {KindIndividual, 30},
}

// Generation window: establishment dates run from 1990-01-01 to 2026-10-31.
var (
	generateFrom  = Date(1990, 1, 1)
	generateUntil = Date(2026, 10, 31)
	uscCutover    = Date(2015, 10, 1) // 统一社会信用代码 assigned to new registrations (MA… codes)
)

// GenerationWindow is the range of establishment dates Generate uses.
func GenerationWindow() (from, until time.Time) { return generateFrom, generateUntil }

const usccAlphabet = "0123456789ABCDEFGHJKLMNPQRTUWXY" // GB 32100, without I O Z S V

// Generate makes a synthetic population of n entities, deterministically
// from seed, and hands each to fn in order (fn may keep the pointer). The
// population is prefix-stable: the first k entities are the same for any
// n ≥ k, so a demo registry is just a small n. Every code is valid (GB 11714
// and GB 32100 check characters) and unique; names are unique. It stops at
// fn's first error and returns it.
func Generate(seed int64, n int, fn func(*Entity) error) error {
	g := newGenerator(seed)
	for i := range n {
		if err := fn(g.entity(i)); err != nil {
			return err
		}
	}
	return nil
}

// GenerateSlice is Generate into a slice.
func GenerateSlice(seed int64, n int) []*Entity {
	out := make([]*Entity, 0, n)
	_ = Generate(seed, n, func(e *Entity) error { out = append(out, e); return nil })
	return out
}

type picker struct {
	cum []float64
}

func newPicker(ws []float64) picker {
	p := picker{cum: make([]float64, len(ws))}
	s := 0.0
	for i, w := range ws {
		s += w
		p.cum[i] = s
	}
	for i := range p.cum {
		p.cum[i] /= s
	}
	return p
}

func (p picker) pick(r *rand.Rand) int {
	u := r.Float64()
	lo, hi := 0, len(p.cum)-1
	for lo < hi {
		m := (lo + hi) / 2
		if p.cum[m] < u {
			lo = m + 1
		} else {
			hi = m
		}
	}
	return lo
}

func industryPicker(xs []industry) picker {
	ws := make([]float64, len(xs))
	for i, x := range xs {
		ws[i] = x.weight
	}
	return newPicker(ws)
}

type generator struct {
	r                                  *rand.Rand
	seen                               map[uint64]struct{}
	kinds, districts, years, indYears  picker
	company, shop, coop, partner, fact picker
	agriDistricts                      picker
	yearList                           []int
}

var agriDistricts = []District{Chongming, Jinshan, Fengxian, Qingpu, Songjiang, Pudong, Jiading, Baoshan, Minhang}

func newGenerator(seed int64) *generator {
	g := &generator{
		r:    rand.New(rand.NewPCG(uint64(seed), 0x5348414d52534821)), // "SHAMRSH!"
		seen: make(map[uint64]struct{}),
	}
	kw := make([]float64, len(kindWeights))
	for i, k := range kindWeights {
		kw[i] = k.w
	}
	g.kinds = newPicker(kw)
	g.districts = newPicker(districtWeights[:])
	var yw, iyw []float64
	for y := 1990; y <= generateUntil.Year(); y++ {
		g.yearList = append(g.yearList, y)
		x := float64(y-1990) / 36
		w := 0.25 + 6*x*x // registrations grew roughly quadratically (2014 商事制度改革)
		if y >= 2014 {
			w *= 1.3
		}
		if y == generateUntil.Year() {
			w *= float64(generateUntil.YearDay()) / 365
		}
		yw = append(yw, w)
		if y < 1995 {
			w *= 0.2
		}
		iyw = append(iyw, w)
	}
	g.years, g.indYears = newPicker(yw), newPicker(iyw)
	g.company = industryPicker(companyIndustries)
	g.shop = industryPicker(shopIndustries)
	g.coop = industryPicker(coopIndustries)
	g.partner = industryPicker(partnershipWords)
	g.fact = industryPicker(factoryWords)
	g.agriDistricts = newPicker([]float64{30, 12, 15, 12, 10, 8, 5, 4, 4})
	return g
}

func (g *generator) chance(p float64) bool { return g.r.Float64() < p }
func (g *generator) intn(n int) int        { return g.r.IntN(n) }

// skewed picks from a list ordered by popularity.
func (g *generator) skewed(xs []string) string {
	u := g.r.Float64()
	return xs[int(float64(len(xs))*math.Pow(u, 1.8))]
}

func (g *generator) one(xs []string) string { return xs[g.intn(len(xs))] }

func (g *generator) tradeName(foreign bool) string {
	if foreign && g.chance(0.5) || g.chance(0.03) {
		return g.one(translitWords)
	}
	switch u := g.r.Float64(); {
	case u < 0.55:
		a := g.skewed(tradeChars)
		b := g.skewed(tradeChars)
		for b == a {
			b = g.skewed(tradeChars)
		}
		return a + b
	case u < 0.80:
		return g.one(tradeWords)
	case u < 0.95:
		return g.skewed(tradeChars) + g.skewed(tradeChars) + g.skewed(tradeChars)
	default:
		return g.skewed(tradeChars) + g.one(tradeWords)
	}
}

func (g *generator) shopTradeName() string {
	switch u := g.r.Float64(); {
	case u < 0.45:
		return g.tradeName(false)
	case u < 0.60:
		return g.surname() + "记"
	case u < 0.68:
		return "阿" + g.skewed(givenChars)
	case u < 0.75:
		s := g.surname()
		if len([]rune(s)) > 1 {
			s = "王"
		}
		return "老" + s
	case u < 0.80:
		return "小" + g.skewed(givenChars)
	default:
		return g.one(tradeWords)
	}
}

func (g *generator) surname() string { return g.skewed(surnames) }

func (g *generator) person() string {
	s := g.surname()
	if g.chance(0.3) {
		return s + g.skewed(givenChars)
	}
	return s + g.skewed(givenChars) + g.skewed(givenChars)
}

var idWeights = [17]int{7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2}

// residentID makes a valid GB 11643 number for someone born in [from, to].
func (g *generator) residentID(from, to int) string {
	area := "3101" + fmt.Sprintf("%02d", []int{1, 4, 5, 6, 7, 9, 10, 12, 13, 14, 15, 16, 17, 18, 20, 51}[g.intn(16)])
	if g.chance(0.4) {
		area = g.one(provinces)
	}
	birth := Date(from, 1, 1).AddDate(0, 0, g.intn((to-from+1)*365))
	b := []byte(area + birth.Format("20060102") + fmt.Sprintf("%03d", g.intn(1000)))
	sum := 0
	for i := range 17 {
		sum += int(b[i]-'0') * idWeights[i]
	}
	return string(append(b, "10X98765432"[sum%11]))
}

func shortTown(t string) string {
	for _, suf := range []string{"新村街道", "街道", "新镇", "镇", "乡"} {
		if s, ok := strings.CutSuffix(t, suf); ok && s != "" {
			return s
		}
	}
	return t
}

func (g *generator) date(kind Kind) time.Time {
	var y int
	switch kind {
	case KindIndividual:
		y = g.yearList[g.indYears.pick(g.r)]
	case KindStateOwned:
		y = 1990 + g.intn(16)
	case KindJSCListed:
		y = 1990 + g.intn(30)
	default:
		y = g.yearList[g.years.pick(g.r)]
	}
	start := Date(y, 1, 1)
	end := Date(y+1, 1, 1)
	if end.After(generateUntil) {
		end = generateUntil.AddDate(0, 0, 1)
	}
	days := int(end.Sub(start).Hours() / 24)
	return start.AddDate(0, 0, g.intn(days))
}

func (g *generator) status(kind Kind) Status {
	switch u := g.r.Float64(); {
	case u < 0.85:
		if kind == KindIndividual {
			return StatusOperating
		}
		return StatusActive
	case u < 0.90:
		return StatusSuspended
	case u < 0.95:
		return StatusRevoked
	case u < 0.998:
		return StatusDeregistered
	case u < 0.9995:
		return StatusMovedOut
	default:
		return StatusCancelled
	}
}

// yuan amounts with their weights.
var llcCapital = []struct {
	yuan int64
	w    float64
}{
	{100_000, 5}, {500_000, 10}, {1_000_000, 25}, {2_000_000, 8}, {3_000_000, 8}, {5_000_000, 15},
	{10_000_000, 15}, {20_000_000, 4}, {30_000_000, 3}, {50_000_000, 3}, {100_000_000, 2},
}

var llcCapitalPicker = func() picker {
	ws := make([]float64, len(llcCapital))
	for i, c := range llcCapital {
		ws[i] = c.w
	}
	return newPicker(ws)
}()

func (g *generator) logUniform(lo, hi float64) int64 {
	v := math.Exp(math.Log(lo) + g.r.Float64()*(math.Log(hi)-math.Log(lo)))
	// round to a "nice" amount: two significant digits.
	mag := math.Pow(10, math.Floor(math.Log10(v))-1)
	return int64(math.Round(v/mag) * mag)
}

// capital in fen.
func (g *generator) capital(kind Kind) int64 {
	var yuan int64
	switch kind {
	case KindBranch:
		return 0
	case KindIndividual:
		yuan = []int64{10_000, 10_000, 30_000, 50_000, 50_000, 100_000, 100_000, 200_000, 300_000, 500_000}[g.intn(10)]
	case KindJSC:
		yuan = g.logUniform(5e6, 1e9)
	case KindJSCListed:
		yuan = g.logUniform(1e8, 2e10)
	case KindLimitedPartnership:
		yuan = g.logUniform(1e6, 1e9)
	case KindSoleProprietorship:
		yuan = g.logUniform(1e4, 1e6)
	case KindStateOwned:
		yuan = g.logUniform(1e6, 5e8)
	case KindCooperative:
		yuan = g.logUniform(1e5, 5e6)
	default:
		if g.chance(0.02) {
			yuan = g.logUniform(1e4, 1e9)
		} else {
			yuan = llcCapital[llcCapitalPicker.pick(g.r)].yuan
		}
	}
	return yuan * 100
}

func hash64(s string) uint64 {
	h := uint64(14695981039346656037)
	for i := 0; i < len(s); i++ {
		h ^= uint64(s[i])
		h *= 1099511628211
	}
	return h
}

// claim reserves a name; false if it is taken.
func (g *generator) claim(name string) bool {
	h := hash64(name)
	if _, ok := g.seen[h]; ok {
		return false
	}
	g.seen[h] = struct{}{}
	return true
}

type nameParts struct {
	name, trade, industryWord, industryCode string
}

func (g *generator) regionName(d District, trade, ind, form string, foreign bool) string {
	u := g.r.Float64()
	if foreign && u >= 0.3 {
		u = 0.82 + 0.18*u // mostly 字号（上海）…
	}
	lp, rp := "（", "）"
	if g.chance(0.01) {
		lp, rp = "(", ")" // legacy data with half-width brackets
	}
	switch {
	case u < 0.68:
		return "上海" + trade + ind + form
	case u < 0.76:
		return "上海市" + trade + ind + form
	case u < 0.82:
		return "上海" + d.Short() + trade + ind + form
	case u < 0.94:
		return trade + lp + "上海" + rp + ind + form
	default:
		return trade + ind + lp + "上海" + rp + form
	}
}

func (g *generator) name(kind Kind, d District, town string, attempt int) nameParts {
	var p nameParts
	var ind industry
	switch kind {
	case KindIndividual:
		ind = shopIndustries[g.shop.pick(g.r)]
		p.trade = g.shopTradeName()
	case KindCooperative:
		ind = coopIndustries[g.coop.pick(g.r)]
		p.trade = g.tradeName(false)
	case KindLimitedPartnership:
		ind = partnershipWords[g.partner.pick(g.r)]
		p.trade = g.tradeName(false)
	default:
		ind = companyIndustries[g.company.pick(g.r)]
		p.trade = g.tradeName(kind == KindLLCForeign)
	}
	if attempt > 4 { // crowded: a longer trade name
		p.trade += g.skewed(tradeChars)
	}
	p.industryWord, p.industryCode = ind.word, ind.code
	t, w := p.trade, ind.word
	switch kind {
	case KindIndividual:
		switch u := g.r.Float64(); {
		case u < 0.35:
			p.name = "上海市" + d.Name() + t + w
		case u < 0.60:
			p.name = d.Name() + town + t + w
		case u < 0.80:
			p.name = "上海" + d.Name() + shortTown(town) + t + w
		case u < 0.95:
			p.name = d.Name() + t + w
		default:
			p.name = "上海" + d.Short() + t + w
		}
	case KindCooperative:
		if g.chance(0.5) {
			p.name = "上海" + d.Short() + t + w
		} else {
			p.name = "上海" + shortTown(town) + t + w
		}
	case KindLimitedPartnership:
		p.name = "上海" + t + w + "合伙企业（有限合伙）"
	case KindSoleProprietorship:
		p.name = "上海" + t + w + g.one(soleSuffixes)
	case KindStateOwned:
		if g.chance(0.6) {
			f := factoryWords[g.fact.pick(g.r)]
			p.industryWord, p.industryCode = f.word, f.code
			p.name = "上海" + t + f.word + "厂"
		} else {
			p.name = "上海市" + t + w + "公司"
		}
	case KindJSC, KindJSCListed:
		p.name = "上海" + t + w + "股份有限公司"
	case KindBranch:
		parent := g.regionName(d, t, w, "有限公司", false)
		switch u := g.r.Float64(); {
		case u < 0.6:
			p.name = parent + d.Name() + "分公司"
		case u < 0.85:
			p.name = parent + "第" + []string{"一", "二", "三", "四", "五"}[g.intn(5)] + "分公司"
		default:
			p.name = parent + shortTown(town) + "分公司"
		}
	default:
		form := "有限公司"
		if g.chance(0.06) {
			form = "有限责任公司"
		}
		p.name = g.regionName(d, t, w, form, kind == KindLLCForeign)
	}
	return p
}

// formerName derives an earlier name from the current one.
func (g *generator) formerName(kind Kind, p nameParts) string {
	switch u := g.r.Float64(); {
	case u < 0.45: // another industry expression
		var w string
		if kind == KindIndividual {
			w = shopIndustries[g.shop.pick(g.r)].word
		} else {
			w = companyIndustries[g.company.pick(g.r)].word
		}
		if w != p.industryWord {
			return strings.Replace(p.name, p.industryWord, w, 1)
		}
		fallthrough
	case u < 0.85: // another trade name
		return strings.Replace(p.name, p.trade, g.tradeName(false), 1)
	default: // another region form
		if s, ok := strings.CutPrefix(p.name, "上海市"); ok {
			return "上海" + s
		}
		if s, ok := strings.CutPrefix(p.name, "上海"); ok && !strings.HasPrefix(s, "市") {
			return "上海市" + s
		}
		return strings.Replace(p.name, p.trade, g.tradeName(false), 1)
	}
}

// permute is a bijection on [0, n) for n ≤ 2^bits: an invertible mix on
// [0, 2^bits) walked until it lands below n (cycle walking).
func permute(x, n uint64, bits uint) uint64 {
	mask := uint64(1)<<bits - 1
	for {
		x = (x*0x9E3779B1 + 0x7F4A7C15) & mask // odd multiplier: invertible mod 2^bits
		x ^= x >> (bits / 2)
		x = (x * 0x85EBCA6B) & mask
		x ^= x >> (bits / 3)
		if x < n {
			return x
		}
	}
}

// orgBody makes the 8-character body of the organisation code (主体标识码)
// of entity i: "MA" + a series character + 5 characters for codes assigned
// since 2015, 8 digits for organisation codes of the old system. Distinct i
// give distinct bodies.
func (g *generator) orgBody(i int, modern bool) string {
	if modern {
		const m5 = 31 * 31 * 31 * 31 * 31
		v := permute(uint64(i%m5), m5, 25)
		b := []byte{'M', 'A', usccAlphabet[1+i/m5], 0, 0, 0, 0, 0}
		for k := 7; k >= 3; k-- {
			b[k] = usccAlphabet[v%31]
			v /= 31
		}
		return string(b)
	}
	return fmt.Sprintf("%08d", permute(uint64(i), 100_000_000, 27))
}

func (g *generator) address(kind Kind, d District, town string) string {
	di := d.Index()
	if kind != KindIndividual {
		if ps := parks[d]; ps != nil && g.chance(0.3) {
			return "上海市" + d.Name() + fmt.Sprintf(g.one(ps), 1+g.intn(40), 100+g.intn(30000))
		}
	}
	road := g.one(roads[di])
	no := 1 + g.intn(2000)
	prefix := "上海市" + d.Name()
	if g.chance(0.5) {
		prefix += town
	}
	if kind == KindIndividual {
		return prefix + road + strconv.Itoa(no) + []string{"号", "号一层", "号底层", "号1层", "号102室", "号-1"}[g.intn(6)]
	}
	switch g.intn(4) {
	case 0:
		return prefix + road + fmt.Sprintf("%d号%d幢%d室", no, 1+g.intn(20), 101+g.intn(20)+100*g.intn(20))
	case 1:
		return prefix + road + fmt.Sprintf("%d弄%d号%d室", no, 1+g.intn(60), 101+g.intn(10)+100*g.intn(12))
	case 2:
		return prefix + road + fmt.Sprintf("%d号%d层", no, 1+g.intn(30))
	default:
		return prefix + road + fmt.Sprintf("%d号%d号楼%d层%d室", no, 1+g.intn(12), 1+g.intn(20), 1+g.intn(40))
	}
}

func (g *generator) instalments(amount int64, est time.Time) []Instalment {
	if est.Before(Date(2014, 3, 1)) { // paid in full at establishment (实缴制)
		return []Instalment{{Amount: amount, Due: est}}
	}
	if amount < 200 || g.chance(0.65) {
		return []Instalment{{Amount: amount, Due: est.AddDate(1+g.intn(5), 0, 0)}}
	}
	first := amount * int64(30+g.intn(21)) / 100
	return []Instalment{
		{Amount: first, Due: est.AddDate(1, 0, 0)},
		{Amount: amount - first, Due: est.AddDate(3+g.intn(3), 0, 0)},
	}
}

// split divides amount (fen) into n whole-yuan shares that add up exactly.
func (g *generator) split(amount int64, n int) []int64 {
	out := make([]int64, n)
	left := amount
	for i := 0; i < n-1; i++ {
		share := amount * int64(10+g.intn(50)) / 100 / 100 * 100
		if share >= left {
			share = left / 2 / 100 * 100
		}
		out[i] = share
		left -= share
	}
	out[n-1] = left
	return out
}

func (g *generator) people(kind Kind, e *Entity, est time.Time) {
	rep := g.person()
	e.LegalRep = rep
	e.LegalRepID = g.residentID(1950, 2003)
	method := func() string {
		if g.chance(0.95) {
			return "货币"
		}
		return []string{"实物", "知识产权", "土地使用权", "股权"}[g.intn(4)]
	}
	natural := func(name string, amount int64) Shareholder {
		return Shareholder{Name: name, Type: "自然人股东", Subscribed: amount, Method: method(), Instalments: g.instalments(amount, est)}
	}
	corporate := func(typ string, amount int64) Shareholder {
		code, _ := USCC(CategoryEnterprise, "310000", g.orgBody(40_000_000+g.intn(20_000_000), true))
		name := "上海" + g.tradeName(false) + companyIndustries[g.company.pick(g.r)].word + "有限公司"
		return Shareholder{Name: name, Type: typ, Code: code, Subscribed: amount, Method: "货币", Instalments: g.instalments(amount, est)}
	}
	switch kind {
	case KindIndividual:
		e.LegalRepTitle = "经营者"
	case KindBranch:
		e.LegalRepTitle = "负责人"
	case KindSoleProprietorship:
		e.LegalRepTitle = "投资人"
		e.Shareholders = []Shareholder{{Name: rep, Type: "自然人投资人", Subscribed: e.Capital, Method: "货币"}}
	case KindLimitedPartnership:
		e.LegalRepTitle = "执行事务合伙人"
		shares := g.split(e.Capital, 2+g.intn(3))
		gp := corporate("普通合伙人", shares[0])
		gp.Name = strings.Replace(gp.Name, "有限公司", "投资管理有限公司", 1)
		e.LegalRep, e.LegalRepID = gp.Name, ""
		e.Shareholders = append(e.Shareholders, gp)
		for _, s := range shares[1:] {
			lp := natural(g.person(), s)
			lp.Type = "有限合伙人"
			e.Shareholders = append(e.Shareholders, lp)
		}
	case KindStateOwned:
		e.LegalRepTitle = "厂长"
		if !strings.HasSuffix(e.Name, "厂") {
			e.LegalRepTitle = "总经理"
		}
		e.Shareholders = []Shareholder{{Name: "上海市国有资产监督管理委员会", Type: "机关法人", Subscribed: e.Capital, Method: "货币"}}
	case KindCooperative:
		e.LegalRepTitle = "理事长"
		for _, s := range g.split(e.Capital, 5) {
			e.Shareholders = append(e.Shareholders, Shareholder{Name: g.person(), Type: "农民成员", Subscribed: s, Method: "货币"})
		}
		e.Shareholders[0].Name = rep
	case KindJSC, KindJSCListed:
		e.LegalRepTitle = "董事长"
		e.Members = []Member{{rep, "董事长"}}
		for range 2 + g.intn(5) {
			e.Members = append(e.Members, Member{g.person(), "董事"})
		}
		e.Members = append(e.Members, Member{g.person(), "监事会主席"})
		for range 1 + g.intn(2) {
			e.Members = append(e.Members, Member{g.person(), "监事"})
		}
		e.Members = append(e.Members, Member{g.person(), "总经理"}, Member{g.person(), "财务负责人"})
		n := 3 + g.intn(4)
		if kind == KindJSCListed {
			n = 5
		}
		for i, s := range g.split(e.Capital, n) {
			if i == 0 {
				e.Shareholders = append(e.Shareholders, natural(rep, s))
			} else if g.chance(0.3) {
				e.Shareholders = append(e.Shareholders, corporate("企业法人", s))
			} else {
				e.Shareholders = append(e.Shareholders, natural(g.person(), s))
			}
		}
	default: // limited liability companies
		title := "执行董事"
		if est.After(Date(2024, 7, 1)) && g.chance(0.5) {
			title = "董事" // 新公司法: 不设董事会的可设一名董事
		}
		e.LegalRepTitle = title
		e.Members = []Member{{rep, title}, {g.person(), "监事"}}
		if g.chance(0.5) {
			e.Members = append(e.Members, Member{rep, "经理"})
		} else {
			e.Members = append(e.Members, Member{g.person(), "经理"})
		}
		switch kind {
		case KindLLCNaturalSole:
			e.Shareholders = []Shareholder{natural(rep, e.Capital)}
		case KindLLCCorporateSole:
			e.Shareholders = []Shareholder{corporate("企业法人", e.Capital)}
		case KindLLCForeign:
			t := g.one(translitWords)
			e.Shareholders = []Shareholder{{Name: t + "国际有限公司（" + g.one(foreignRegions) + "）", Type: "外国(地区)企业",
				Subscribed: e.Capital, Method: "货币", Instalments: g.instalments(e.Capital, est)}}
		default:
			for i, s := range g.split(e.Capital, 2+g.intn(2)) {
				if i == 0 {
					e.Shareholders = append(e.Shareholders, natural(rep, s))
				} else {
					e.Shareholders = append(e.Shareholders, natural(g.person(), s))
				}
			}
		}
	}
}

func (g *generator) entity(i int) *Entity {
	kind := kindWeights[g.kinds.pick(g.r)].k
	var d District
	if kind == KindCooperative {
		d = agriDistricts[g.agriDistricts.pick(g.r)]
	} else {
		d = Districts[g.districts.pick(g.r)]
	}
	town := g.one(towns[d.Index()])
	est := g.date(kind)
	e := &Entity{Kind: kind, District: d, Established: est, Status: g.status(kind)}

	var p nameParts
	for attempt := 0; ; attempt++ {
		p = g.name(kind, d, town, attempt)
		if g.claim(p.name) {
			break
		}
	}
	e.Name, e.Industry = p.name, p.industryCode
	formers := 0
	switch {
	case kind == KindIndividual && g.chance(0.02):
		formers = 1
	case kind != KindIndividual && g.chance(0.09):
		formers = 1
		if g.chance(0.2) {
			formers = 2
		}
	}
	for range formers {
		if f := g.formerName(kind, p); f != e.Name && f != "" {
			e.FormerNames = append(e.FormerNames, f)
		}
	}

	// Registration authority and the code's division.
	division := d.String()
	e.Authority = "上海市" + d.Name() + "市场监督管理局"
	cityP := 0.06
	switch kind {
	case KindLLCForeign:
		cityP = 0.6
	case KindJSC:
		cityP = 0.3
	case KindJSCListed:
		cityP = 1
	case KindIndividual, KindCooperative, KindBranch, KindSoleProprietorship:
		cityP = 0
	}
	if g.chance(cityP) {
		division, e.Authority = "310000", "上海市市场监督管理局"
	} else if d == Chongming && est.Before(Date(2016, 7, 22)) {
		division = "310230" // 崇明县, before it became a district
	} else if d == Jingan && est.Before(Date(2015, 11, 4)) && g.chance(0.5) {
		division = "310108" // 闸北区, merged into 静安 in 2015
	}
	modern := kind == KindIndividual || !est.Before(uscCutover)
	code, err := USCC(kind.Category(), division, g.orgBody(i, modern))
	if err != nil {
		panic(err) // the generator only makes valid parts
	}
	e.Code = code
	e.Capital = g.capital(kind)
	e.Address = g.address(kind, d, town)
	g.people(kind, e, est)
	return e
}
