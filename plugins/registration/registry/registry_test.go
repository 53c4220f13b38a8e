package registry

import (
	"reflect"
	"strings"
	"testing"

	"github.com/shanghai-amr/portal/sdk/idcode"
)

func TestOrgCodeCheck(t *testing.T) {
	// Organisation codes inside published USCCs of real enterprises.
	for _, uscc := range []string{"914403001922038216", "91330100716105852F", "91110000802100433B"} {
		if err := ValidOrgCode(uscc[8:17]); err != nil {
			t.Errorf("%s: %v", uscc, err)
		}
	}
	if err := ValidOrgCode("192203822"); err == nil {
		t.Error("a wrong check character passed")
	}
	code, err := USCC(CategoryIndividual, "310115", "MA1K4PTX")
	if err != nil || idcode.ValidUSCC(code) != nil || !strings.HasPrefix(code, "92310115MA1K4PTX") {
		t.Fatalf("USCC = %s, %v", code, err)
	}
}

func TestGenerateDeterministic(t *testing.T) {
	a := GenerateSlice(7, 2000)
	b := GenerateSlice(7, 500) // prefix-stable: the demo slice is the start of the population
	for i := range b {
		if !reflect.DeepEqual(a[i], b[i]) {
			t.Fatalf("entity %d differs between runs:\n%+v\n%+v", i, a[i], b[i])
		}
	}
	c := GenerateSlice(8, 10)
	if c[0].Code == a[0].Code && c[0].Name == a[0].Name {
		t.Error("another seed gave the same population")
	}
}

func TestGeneratePopulation(t *testing.T) {
	const n = 100_000
	codes := make(map[string]bool, n)
	names := make(map[string]bool, n)
	kinds := map[Kind]int{}
	statuses := map[Status]int{}
	districts := map[District]int{}
	var formers, individuals, fullWidth int
	err := Generate(2026, n, func(e *Entity) error {
		if err := e.Validate(); err != nil {
			t.Fatalf("%+v: %v", e, err)
		}
		if err := idcode.ValidUSCC(e.Code); err != nil {
			t.Fatalf("%s: %v", e.Code, err)
		}
		if codes[e.Code] {
			t.Fatalf("duplicate code %s", e.Code)
		}
		if names[e.Name] {
			t.Fatalf("duplicate name %s", e.Name)
		}
		codes[e.Code], names[e.Name] = true, true
		if !e.District.Valid() || !strings.Contains(e.Address, e.District.Name()) {
			t.Fatalf("%s: district %v, address %s", e.Code, e.District, e.Address)
		}
		if from, until := GenerationWindow(); e.Established.Before(from) || e.Established.After(until) {
			t.Fatalf("%s: established %v", e.Code, e.Established)
		}
		if IndustrySections[e.Industry[0]] == "" || len(e.Industry) != 3 {
			t.Fatalf("%s: industry %q", e.Code, e.Industry)
		}
		if e.LegalRep == "" || e.Authority == "" {
			t.Fatalf("%s: legal rep or authority missing", e.Code)
		}
		if e.Kind.Company() && e.Kind != KindBranch && len(e.Shareholders) == 0 {
			t.Fatalf("%s: company without shareholders", e.Code)
		}
		if e.Kind == KindIndividual {
			individuals++
		}
		if strings.Contains(e.Name, "（") {
			fullWidth++
		}
		kinds[e.Kind]++
		statuses[e.Status]++
		districts[e.District]++
		if len(e.FormerNames) > 0 {
			formers++
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	share := func(k int) float64 { return float64(k) / n }
	within := func(what string, got, want, tol float64) {
		if got < want-tol || got > want+tol {
			t.Errorf("%s: %.3f, want %.3f±%.3f", what, got, want, tol)
		}
	}
	within("individual businesses", share(individuals), 0.30, 0.01)
	within("存续/在业", share(statuses[StatusActive]+statuses[StatusOperating]), 0.85, 0.01)
	within("歇业", share(statuses[StatusSuspended]), 0.05, 0.005)
	within("吊销", share(statuses[StatusRevoked]), 0.05, 0.005)
	within("注销", share(statuses[StatusDeregistered]+statuses[StatusMovedOut]+statuses[StatusCancelled]), 0.05, 0.005)
	within("浦东新区", share(districts[Pudong]), 0.22, 0.01)
	within("with former names", share(formers), 0.07, 0.02)
	if len(districts) != 16 {
		t.Errorf("%d districts populated", len(districts))
	}
	if len(kinds) != len(Kinds) {
		t.Errorf("%d of %d kinds generated: %v", len(kinds), len(Kinds), kinds)
	}
	if fullWidth == 0 {
		t.Error("no name with full-width brackets")
	}
	t.Logf("kinds %v", kinds)
	t.Logf("statuses %v", statuses)
}

func TestValidateRules(t *testing.T) {
	var e *Entity
	for _, x := range GenerateSlice(3, 100) {
		if x.Kind == KindLLC {
			e = x.Clone()
			break
		}
	}
	if err := e.Validate(); err != nil {
		t.Fatal(err)
	}
	bad := e.Clone()
	bad.Shareholders[0].Instalments = []Instalment{{Amount: bad.Shareholders[0].Subscribed - 100, Due: bad.Established}}
	if err := bad.Validate(); err == nil || !strings.Contains(err.Error(), "instalments") {
		t.Errorf("R7: %v", err)
	}
	bad = e.Clone()
	ind, _ := USCC(CategoryIndividual, "310115", "MA1K4PTX")
	bad.Shareholders[0].Code = ind
	if err := bad.Validate(); err == nil {
		t.Error("R11: an individual business as shareholder passed")
	}
	bad = e.Clone()
	bad.Code = bad.Code[:17] + "0"
	if bad.Code != e.Code && bad.Validate() == nil {
		t.Error("a wrong check character passed")
	}
	bad = e.Clone()
	bad.District = 320102
	if bad.Validate() == nil {
		t.Error("a district outside Shanghai passed")
	}
}

func TestDistricts(t *testing.T) {
	for i, d := range Districts {
		if d.Index() != i || d.Name() == "" {
			t.Errorf("%d", d)
		}
		p, err := ParseDistrict(d.Short())
		if err != nil || p != d {
			t.Errorf("ParseDistrict(%s) = %v, %v", d.Short(), p, err)
		}
	}
	if Pudong.Name() != "浦东新区" || Chongming.String() != "310151" {
		t.Error("names")
	}
}
