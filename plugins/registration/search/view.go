package search

import (
	"strings"
	"unicode/utf8"

	"github.com/shanghai-amr/portal/plugins/registration/registry"
)

// Audience decides what a result shows.
type Audience uint8

const (
	// Public (公众, enterprises browsing other entities) sees the name,
	// code, status, district, establishment date and the legal
	// representative masked as 王*.
	Public Audience = iota
	// Staff (registration officers) sees everything.
	Staff
)

// Scope is the set of districts a caller may see — the jurisdiction. The
// zero Scope sees nothing.
type Scope struct{ mask uint32 }

const allDistricts = 1<<16 - 1

// CityScope is the whole city (the city bureau, the public).
func CityScope() Scope { return Scope{mask: allDistricts} }

// DistrictScope is the given districts (a district bureau and its offices:
// its own district). Codes that are not Shanghai districts are ignored.
func DistrictScope(ds ...registry.District) Scope {
	var s Scope
	for _, d := range ds {
		if i := d.Index(); i >= 0 {
			s.mask |= 1 << i
		}
	}
	return s
}

// Allows reports whether the scope includes d.
func (s Scope) Allows(d registry.District) bool {
	i := d.Index()
	return i >= 0 && s.mask&(1<<i) != 0
}

// City reports whether the scope is the whole city.
func (s Scope) City() bool { return s.mask == allDistricts }

// Districts lists the districts of the scope.
func (s Scope) Districts() []registry.District {
	var out []registry.District
	for i, d := range registry.Districts {
		if s.mask&(1<<i) != 0 {
			out = append(out, d)
		}
	}
	return out
}

// Caller is who asks: the audience decides the masking, the scope the
// districts whose entities can be returned at all.
type Caller struct {
	Audience Audience
	Scope    Scope
}

// View is an entity as shown to an audience. Public views carry the
// first group of fields only, with the legal representative masked.
type View struct {
	Code         string          `json:"code"`
	Name         string          `json:"name"`
	Status       registry.Status `json:"status"`
	District     string          `json:"district"`
	DistrictName string          `json:"district_name"`
	Established  string          `json:"established"` // YYYY-MM-DD
	LegalRep     string          `json:"legal_rep"`
	// Staff only.
	Kind        string           `json:"kind,omitempty"`
	Capital     int64            `json:"capital,omitempty"` // fen
	FormerNames []string         `json:"former_names,omitempty"`
	Entity      *registry.Entity `json:"entity,omitempty"` // the whole record (ViewEntity)
}

// ViewEntity shows a whole record to an audience: staff get all of it,
// the public the public fields with the legal representative masked.
func ViewEntity(e *registry.Entity, a Audience) View {
	v := View{
		Code: e.Code, Name: e.Name, Status: e.Status, District: e.District.String(),
		DistrictName: e.District.Name(), LegalRep: e.LegalRep,
	}
	if !e.Established.IsZero() {
		v.Established = e.Established.In(registry.CST).Format("2006-01-02")
	}
	if a == Staff {
		v.Kind, v.Capital, v.FormerNames, v.Entity = e.Kind.String(), e.Capital, e.FormerNames, e
		return v
	}
	v.LegalRep = MaskPerson(e.LegalRep)
	return v
}

// MaskPerson masks a natural person's name for the public: the surname
// stays (a compound surname such as 欧阳 whole), every other character
// becomes *: 王芳 → 王*, 欧阳娜娜 → 欧阳**. Names of organisations (a legal
// person acting as executive partner) and the court-removal text of R16
// (依人民法院协助执行通知书…涤除) are not personal names and stay as they are.
func MaskPerson(name string) string {
	n := utf8.RuneCountInString(name)
	if n <= 1 || strings.HasPrefix(name, "依人民法院") || isOrganisation(name) {
		return name
	}
	keep := 1
	for _, c := range registry.CompoundSurnames {
		if strings.HasPrefix(name, c) && n > 2 {
			keep = 2
		}
	}
	var b strings.Builder
	i := 0
	for _, r := range name {
		if i < keep {
			b.WriteRune(r)
		} else {
			b.WriteByte('*')
		}
		i++
	}
	return b.String()
}

var orgMarks = []string{"公司", "企业", "合伙", "委员会", "中心", "集团", "厂", "社", "局", "所", "（", "("}

func isOrganisation(name string) bool {
	if utf8.RuneCountInString(name) <= 4 {
		return false
	}
	for _, m := range orgMarks {
		if strings.Contains(name, m) {
			return true
		}
	}
	return false
}
