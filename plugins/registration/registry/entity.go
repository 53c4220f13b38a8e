// Package registry is the market-entity model of the registration plugin
// (企业登记): enterprises and individual businesses (市场主体) with their
// unified social credit code (统一社会信用代码, GB 32100-2015), name and former
// names, type, legal representative, registered capital, establishment date,
// status, address and district, industry (GB/T 4754-2017), registration
// authority, main members and shareholders with subscribed contributions and
// instalments — and a deterministic generator of a realistic synthetic
// population (Generate) for development, demos and benchmarks.
//
// Money is in fen (分, 1/100 yuan) as int64; dates are time.Time at midnight
// in China Standard Time. Districts are GB/T 2260 codes of Shanghai's 16
// districts.
package registry

import (
	"errors"
	"fmt"
	"strconv"
	"strings"
	"time"

	"github.com/shanghai-amr/portal/sdk/idcode"
)

// CST is China Standard Time (UTC+8), the zone of every date in the registry.
var CST = time.FixedZone("CST", 8*3600)

// Date returns midnight CST of the given day.
func Date(y int, m time.Month, d int) time.Time { return time.Date(y, m, d, 0, 0, 0, 0, CST) }

// District is the GB/T 2260 administrative division code of a Shanghai
// district (e.g. 310115 浦东新区).
type District uint32

// The 16 districts of Shanghai.
const (
	Huangpu   District = 310101 // 黄浦区
	Xuhui     District = 310104 // 徐汇区
	Changning District = 310105 // 长宁区
	Jingan    District = 310106 // 静安区
	Putuo     District = 310107 // 普陀区
	Hongkou   District = 310109 // 虹口区
	Yangpu    District = 310110 // 杨浦区
	Minhang   District = 310112 // 闵行区
	Baoshan   District = 310113 // 宝山区
	Jiading   District = 310114 // 嘉定区
	Pudong    District = 310115 // 浦东新区
	Jinshan   District = 310116 // 金山区
	Songjiang District = 310117 // 松江区
	Qingpu    District = 310118 // 青浦区
	Fengxian  District = 310120 // 奉贤区
	Chongming District = 310151 // 崇明区
)

// Districts lists the 16 districts in GB/T 2260 order; a district's position
// here is its Index.
var Districts = [16]District{Huangpu, Xuhui, Changning, Jingan, Putuo, Hongkou, Yangpu, Minhang,
	Baoshan, Jiading, Pudong, Jinshan, Songjiang, Qingpu, Fengxian, Chongming}

var districtNames = [16]string{"黄浦区", "徐汇区", "长宁区", "静安区", "普陀区", "虹口区", "杨浦区", "闵行区",
	"宝山区", "嘉定区", "浦东新区", "金山区", "松江区", "青浦区", "奉贤区", "崇明区"}

var districtShort = [16]string{"黄浦", "徐汇", "长宁", "静安", "普陀", "虹口", "杨浦", "闵行",
	"宝山", "嘉定", "浦东", "金山", "松江", "青浦", "奉贤", "崇明"}

// Index is the district's position in Districts (0–15), or -1 when d is not
// a Shanghai district.
func (d District) Index() int {
	for i, x := range Districts {
		if x == d {
			return i
		}
	}
	return -1
}

// Valid reports whether d is one of the 16 districts.
func (d District) Valid() bool { return d.Index() >= 0 }

// Name is the full name, e.g. 浦东新区, 黄浦区.
func (d District) Name() string {
	if i := d.Index(); i >= 0 {
		return districtNames[i]
	}
	return ""
}

// Short is the name without 区/新区, e.g. 浦东, 黄浦.
func (d District) Short() string {
	if i := d.Index(); i >= 0 {
		return districtShort[i]
	}
	return ""
}

// String is the 6-digit code.
func (d District) String() string { return strconv.FormatUint(uint64(d), 10) }

// MarshalText writes the 6-digit code.
func (d District) MarshalText() ([]byte, error) { return []byte(d.String()), nil }

// UnmarshalText reads a 6-digit code (ParseDistrict).
func (d *District) UnmarshalText(b []byte) error {
	x, err := ParseDistrict(string(b))
	if err != nil {
		return err
	}
	*d = x
	return nil
}

// ParseDistrict reads a 6-digit code or a district name (浦东新区, 浦东).
func ParseDistrict(s string) (District, error) {
	s = strings.TrimSpace(s)
	if n, err := strconv.ParseUint(s, 10, 32); err == nil {
		if d := District(n); d.Valid() {
			return d, nil
		}
	}
	for i := range Districts {
		if s == districtNames[i] || s == districtShort[i] {
			return Districts[i], nil
		}
	}
	return 0, fmt.Errorf("registry: %q is not a Shanghai district", s)
}

// Status is the registration status (登记状态).
type Status uint8

// Statuses. StatusActive (存续) is what companies show while in business;
// individual businesses show StatusOperating (在业).
const (
	StatusUnknown      Status = iota
	StatusActive              // 存续
	StatusOperating           // 在业
	StatusSuspended           // 歇业 (备案歇业, 市场主体登记管理条例第三十条)
	StatusRevoked             // 吊销 (营业执照被吊销)
	StatusDeregistered        // 注销
	StatusMovedOut            // 迁出
	StatusCancelled           // 撤销 (登记被撤销)
)

var statusNames = [...]string{"", "存续", "在业", "歇业", "吊销", "注销", "迁出", "撤销"}

// Statuses lists the known statuses.
var Statuses = []Status{StatusActive, StatusOperating, StatusSuspended, StatusRevoked, StatusDeregistered, StatusMovedOut, StatusCancelled}

// String is the Chinese label.
func (s Status) String() string {
	if int(s) < len(statusNames) {
		return statusNames[s]
	}
	return ""
}

// InBusiness reports 存续 and 在业.
func (s Status) InBusiness() bool { return s == StatusActive || s == StatusOperating }

// Exists reports whether the entity still exists as a registered subject
// (存续, 在业, 歇业, 吊销 — a revoked entity exists until it is deregistered).
func (s Status) Exists() bool { return s >= StatusActive && s <= StatusRevoked }

// MarshalText writes the Chinese label.
func (s Status) MarshalText() ([]byte, error) { return []byte(s.String()), nil }

// UnmarshalText reads a Chinese label.
func (s *Status) UnmarshalText(b []byte) error {
	x, err := ParseStatus(string(b))
	*s = x
	return err
}

// ParseStatus reads a Chinese label (存续, 在业, …).
func ParseStatus(v string) (Status, error) {
	for i, n := range statusNames {
		if i > 0 && n == v {
			return Status(i), nil
		}
	}
	return StatusUnknown, fmt.Errorf("registry: unknown status %q", v)
}

// Category is the 机构类别代码 of GB 32100 for the 工商 registration
// department ('9'): the second character of the code.
type Category byte

// Categories under 登记管理部门代码 '9' (市场监管/工商).
const (
	CategoryEnterprise  Category = '1' // 企业
	CategoryIndividual  Category = '2' // 个体工商户
	CategoryCooperative Category = '3' // 农民专业合作社
)

// Kind is the entity type (企业类型 / 市场主体类型).
type Kind uint8

// Kinds; the labels are those of the registration dictionaries.
const (
	KindUnknown            Kind = iota
	KindLLC                     // 有限责任公司（自然人投资或控股）
	KindLLCNaturalSole          // 有限责任公司（自然人独资）
	KindLLCCorporateSole        // 有限责任公司（非自然人投资或控股的法人独资）
	KindLLCForeign              // 有限责任公司（外国法人独资）
	KindJSC                     // 股份有限公司（非上市、自然人投资或控股）
	KindJSCListed               // 股份有限公司（上市）
	KindBranch                  // 有限责任公司分公司（自然人投资或控股）
	KindLimitedPartnership      // 有限合伙企业
	KindSoleProprietorship      // 个人独资企业
	KindStateOwned              // 全民所有制
	KindCooperative             // 农民专业合作社
	KindIndividual              // 个体工商户
)

var kindNames = [...]string{"", "有限责任公司（自然人投资或控股）", "有限责任公司（自然人独资）",
	"有限责任公司（非自然人投资或控股的法人独资）", "有限责任公司（外国法人独资）",
	"股份有限公司（非上市、自然人投资或控股）", "股份有限公司（上市）", "有限责任公司分公司（自然人投资或控股）",
	"有限合伙企业", "个人独资企业", "全民所有制", "农民专业合作社", "个体工商户"}

// Kinds lists the known kinds.
var Kinds = []Kind{KindLLC, KindLLCNaturalSole, KindLLCCorporateSole, KindLLCForeign, KindJSC, KindJSCListed,
	KindBranch, KindLimitedPartnership, KindSoleProprietorship, KindStateOwned, KindCooperative, KindIndividual}

// String is the Chinese label.
func (k Kind) String() string {
	if int(k) < len(kindNames) {
		return kindNames[k]
	}
	return ""
}

// MarshalText writes the Chinese label.
func (k Kind) MarshalText() ([]byte, error) { return []byte(k.String()), nil }

// UnmarshalText reads a Chinese label.
func (k *Kind) UnmarshalText(b []byte) error {
	for i, n := range kindNames {
		if i > 0 && n == string(b) {
			*k = Kind(i)
			return nil
		}
	}
	return fmt.Errorf("registry: unknown kind %q", b)
}

// Category is the GB 32100 机构类别 of the kind.
func (k Kind) Category() Category {
	switch k {
	case KindIndividual:
		return CategoryIndividual
	case KindCooperative:
		return CategoryCooperative
	}
	return CategoryEnterprise
}

// Company reports the company kinds (有限责任公司, 股份有限公司 and their branches).
func (k Kind) Company() bool { return k >= KindLLC && k <= KindBranch }

// Member is a main member (主要成员): director, supervisor, manager.
type Member struct {
	Name     string `json:"name"`
	Position string `json:"position"` // 董事长, 董事, 执行董事, 监事会主席, 监事, 经理, 总经理, 财务负责人 …
}

// Instalment is one instalment of a subscribed contribution (分期出资).
type Instalment struct {
	Amount int64     `json:"amount"` // fen
	Due    time.Time `json:"due"`    // 出资时间
}

// Shareholder is a shareholder, promoter (发起人) or partner (合伙人).
type Shareholder struct {
	Name        string       `json:"name"`
	Type        string       `json:"type"`           // 自然人股东, 企业法人, 外国(地区)企业, 普通合伙人, 有限合伙人
	Code        string       `json:"code,omitempty"` // USCC of a legal-person shareholder
	Subscribed  int64        `json:"subscribed"`     // 认缴出资额, fen
	Method      string       `json:"method"`         // 出资方式: 货币, 实物, 知识产权, 土地使用权 …
	Instalments []Instalment `json:"instalments,omitempty"`
}

// Entity is a market entity (市场主体).
type Entity struct {
	Code          string        `json:"code"` // 统一社会信用代码, 18 characters
	Name          string        `json:"name"`
	FormerNames   []string      `json:"former_names,omitempty"` // 曾用名, most recent first
	Kind          Kind          `json:"kind"`
	LegalRep      string        `json:"legal_rep"`       // 法定代表人 / 负责人 / 经营者 / 执行事务合伙人 / 投资人
	LegalRepTitle string        `json:"legal_rep_title"` // the position the legal rep holds
	LegalRepID    string        `json:"legal_rep_id,omitempty"`
	Capital       int64         `json:"capital"` // 注册资本 (资金数额 / 出资额) in fen; 0 for branches
	Established   time.Time     `json:"established"`
	Status        Status        `json:"status"`
	District      District      `json:"district"` // where the entity is domiciled
	Address       string        `json:"address"`  // 住所 / 经营场所
	Industry      string        `json:"industry"` // GB/T 4754-2017 section letter and division, e.g. "I65"
	Authority     string        `json:"authority"`
	Members       []Member      `json:"members,omitempty"`
	Shareholders  []Shareholder `json:"shareholders,omitempty"`
}

// Category is the GB 32100 机构类别 of the entity's code.
func (e *Entity) Category() Category {
	if len(e.Code) == 18 {
		return Category(e.Code[1])
	}
	return e.Kind.Category()
}

// Clone returns a deep copy.
func (e *Entity) Clone() *Entity {
	c := *e
	c.FormerNames = append([]string(nil), e.FormerNames...)
	c.Members = append([]Member(nil), e.Members...)
	c.Shareholders = make([]Shareholder, len(e.Shareholders))
	for i, s := range e.Shareholders {
		s.Instalments = append([]Instalment(nil), s.Instalments...)
		c.Shareholders[i] = s
	}
	if e.Shareholders == nil {
		c.Shareholders = nil
	}
	return &c
}

// Validation errors.
var (
	ErrInstalments           = errors.New("registry: instalments do not add up to the subscribed contribution")
	ErrIndividualShareholder = errors.New("registry: 股东或发起人不能是个体工商户")
)

// Validate checks the record: a valid code (GB 32100 check character and the
// GB 11714 check character of the organisation code), a Shanghai district,
// a name, the category matching the kind, instalments adding up to each
// shareholder's subscribed contribution (R7) and no individual business as a
// shareholder (R11).
func (e *Entity) Validate() error {
	if err := idcode.ValidUSCC(e.Code); err != nil {
		return fmt.Errorf("registry: code %s: %w", e.Code, err)
	}
	if e.Code[0] != '9' {
		return fmt.Errorf("registry: code %s: registration department %q is not 9 (市场监管)", e.Code, e.Code[0])
	}
	if Category(e.Code[1]) != e.Kind.Category() {
		return fmt.Errorf("registry: code %s: category %q does not fit kind %s", e.Code, e.Code[1], e.Kind)
	}
	if err := ValidOrgCode(e.Code[8:17]); err != nil {
		return fmt.Errorf("registry: code %s: %w", e.Code, err)
	}
	if !e.District.Valid() {
		return fmt.Errorf("registry: %s: district %d is not in Shanghai", e.Code, e.District)
	}
	if strings.TrimSpace(e.Name) == "" {
		return fmt.Errorf("registry: %s: empty name", e.Code)
	}
	if e.Status == StatusUnknown || e.Kind == KindUnknown {
		return fmt.Errorf("registry: %s: status or kind missing", e.Code)
	}
	for _, s := range e.Shareholders {
		if len(s.Code) == 18 && Category(s.Code[1]) == CategoryIndividual {
			return fmt.Errorf("%w: %s", ErrIndividualShareholder, s.Name)
		}
		if len(s.Instalments) == 0 {
			continue
		}
		var sum int64
		for _, in := range s.Instalments {
			sum += in.Amount
		}
		if sum != s.Subscribed {
			return fmt.Errorf("%w: %s subscribed %d, instalments total %d", ErrInstalments, s.Name, s.Subscribed, sum)
		}
	}
	return nil
}

// orgAlphabet are the characters GB 11714 allows in an organisation code;
// a character's value is its position (A = 10 … Z = 35).
const orgAlphabet = "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZ"

var orgWeights = [8]int{3, 7, 9, 10, 5, 8, 4, 2}

// OrgCodeCheck returns the GB 11714-1997 check character of an 8-character
// organisation code body: C9 = 11 − (Σ Ci·Wi mod 11), with 10 written X and
// 11 written 0.
func OrgCodeCheck(body string) (byte, error) {
	if len(body) != 8 {
		return 0, fmt.Errorf("registry: organisation code body must be 8 characters, got %d", len(body))
	}
	sum := 0
	for i := range 8 {
		v := strings.IndexByte(orgAlphabet, body[i])
		if v < 0 {
			return 0, fmt.Errorf("registry: organisation code: %q not allowed", body[i])
		}
		sum += v * orgWeights[i]
	}
	switch c := 11 - sum%11; c {
	case 10:
		return 'X', nil
	case 11:
		return '0', nil
	default:
		return byte('0' + c), nil
	}
}

// ValidOrgCode checks a 9-character organisation code (主体标识码).
func ValidOrgCode(code string) error {
	if len(code) != 9 {
		return fmt.Errorf("registry: organisation code must be 9 characters, got %d", len(code))
	}
	want, err := OrgCodeCheck(code[:8])
	if err != nil {
		return err
	}
	if code[8] != want {
		return fmt.Errorf("registry: organisation code %s: check character %q, want %q", code, code[8], want)
	}
	return nil
}

// USCC assembles a unified social credit code from its parts: the category,
// the 6-digit division code of the registration authority and the 8-character
// organisation code body; it appends the GB 11714 and GB 32100 check
// characters. The registration department is '9' (市场监管).
func USCC(cat Category, division string, orgBody string) (string, error) {
	if len(division) != 6 {
		return "", fmt.Errorf("registry: division code must be 6 digits, got %q", division)
	}
	oc, err := OrgCodeCheck(orgBody)
	if err != nil {
		return "", err
	}
	first := "9" + string(cat) + division + orgBody + string(oc)
	c, err := idcode.USCCCheck(first)
	if err != nil {
		return "", err
	}
	return first + string(c), nil
}
