package policy

import (
	"context"
	"encoding/json"
	"errors"
	"slices"
	"strings"
	"testing"
	"time"
)

func subject(jurisdiction, orgPath string, perms ...string) Subject {
	return Subject{Audience: "staff", Username: "u", Permissions: perms, OrgPath: orgPath, Jurisdiction: jurisdiction}
}

var (
	city     = subject("city", "/310000/310000-D04", "notice.read")
	pudong   = subject("district", "/310000/310115/310115-D03", "notice.read")
	huangpu  = subject("district", "/310000/310101/310101-D03", "notice.read")
	zhangjia = subject("station", "/310000/310115/310115-S02", "notice.read")
)

// The access matrix of the base policy: role level × record's organisation.
func TestJurisdictionMatrix(t *testing.T) {
	e, err := New(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	records := map[string]string{
		"pudong bureau":      "/310000/310115",
		"pudong brigade":     "/310000/310115/310115-D03",
		"zhangjiang station": "/310000/310115/310115-S02",
		"chuansha station":   "/310000/310115/310115-S03",
		"huangpu brigade":    "/310000/310101/310101-D03",
		"pudong-like prefix": "/310000/3101150",
	}
	want := map[string]map[string]bool{
		"city":       {"pudong bureau": true, "pudong brigade": true, "zhangjiang station": true, "chuansha station": true, "huangpu brigade": true, "pudong-like prefix": true},
		"pudong":     {"pudong bureau": true, "pudong brigade": true, "zhangjiang station": true, "chuansha station": true},
		"huangpu":    {"huangpu brigade": true},
		"zhangjiang": {"zhangjiang station": true},
	}
	for name, s := range map[string]Subject{"city": city, "pudong": pudong, "huangpu": huangpu, "zhangjiang": zhangjia} {
		for rec, path := range records {
			d := e.Decide(context.Background(), Input{Subject: s, Action: "notice.read", Resource: map[string]any{"org_path": path}})
			if d.Allow != want[name][rec] {
				t.Errorf("%s reading %s: allow=%v (%s), want %v", name, rec, d.Allow, d.Reason, want[name][rec])
			}
		}
	}
}

func TestPermissionsAndReasons(t *testing.T) {
	e, _ := New(context.Background())
	ctx := context.Background()
	for _, tt := range []struct {
		s      Subject
		action string
		allow  bool
		reason string
	}{
		{pudong, "notice.read", true, "allowed"},
		{pudong, "notice.write", false, "missing permission notice.write"},
		{subject("city", "/310000", "notice.*"), "notice.write", true, "allowed"},
		{subject("city", "/310000", "*"), "anything", true, "allowed"},
		{Subject{Audience: "anonymous"}, "notice.read", false, "not signed in"},
	} {
		d := e.Decide(ctx, Input{Subject: tt.s, Action: tt.action})
		if d.Allow != tt.allow || d.Reason != tt.reason {
			t.Errorf("%v %s = %+v", tt.s.Permissions, tt.action, d)
		}
	}
}

func TestPluginModulesMayOnlyRestrictAndBadOnesAreRefused(t *testing.T) {
	e, _ := New(context.Background())
	ctx := context.Background()
	v := e.Version()
	err := e.SetPluginModules(ctx, "notice", map[string]string{"x.rego": "package plugins.notice\n\ndeny contains \"closed on Sundays\" if input.action == \"notice.write\""})
	if err != nil {
		t.Fatal(err)
	}
	d := e.Decide(ctx, Input{Subject: subject("city", "/310000", "*"), Action: "notice.write", Plugin: "notice"})
	if d.Allow || d.Reason != "closed on Sundays" {
		t.Fatalf("plugin deny: %+v", d)
	}
	if d := e.Decide(ctx, Input{Subject: subject("city", "/310000", "*"), Action: "notice.write", Plugin: "other"}); !d.Allow {
		t.Fatalf("another plugin's rule applied: %+v", d)
	}
	for _, bad := range []string{"package plugins.notice\n\ndeny contains x if {", "package portal.authz\n\nallow := true"} {
		if err := e.SetPluginModules(ctx, "notice", map[string]string{"bad.rego": bad}); !errors.Is(err, ErrCompile) {
			t.Fatalf("bad module accepted: %v", err)
		}
	}
	if e.Version() != v+1 {
		t.Fatalf("version %d after one good and two refused changes (from %d)", e.Version(), v)
	}
	if d := e.Decide(ctx, Input{Subject: subject("city", "/310000", "*"), Action: "notice.write", Plugin: "notice"}); d.Allow {
		t.Fatal("the previous modules are no longer active")
	}
}

func TestTimeDependentModulesAreNotCached(t *testing.T) {
	e, _ := New(context.Background())
	if !e.current.Load().cacheable {
		t.Fatal("the base policy should be cacheable")
	}
	err := e.SetPluginModules(context.Background(), "notice", map[string]string{"t.rego": "package plugins.notice\n\ndeny contains \"night\" if time.clock(time.now_ns())[0] > 25"})
	if err != nil {
		t.Fatal(err)
	}
	if e.current.Load().cacheable {
		t.Fatal("a module calling time.now_ns was marked cacheable")
	}
}

func TestListFilterIsCompiledPerJurisdiction(t *testing.T) {
	e, _ := New(context.Background())
	ctx := context.Background()
	f, err := e.ListFilter(ctx, city)
	if err != nil || !f.All {
		t.Fatalf("city filter = %+v, %v", f, err)
	}
	f, err = e.ListFilter(ctx, pudong)
	if err != nil || f.All || f.None || f.UCAST == nil {
		t.Fatalf("district filter = %+v, %v", f, err)
	}
	b, _ := json.Marshal(f.UCAST)
	if !strings.Contains(string(b), "/310000/310115") {
		t.Fatalf("district filter does not name the district: %s", b)
	}
	t.Logf("Pudong filter: %s", b)
	again, _ := e.ListFilter(ctx, pudong)
	if again != f {
		t.Fatal("filter not cached for the same subject shape")
	}
}

func BenchmarkDecide(b *testing.B) {
	e, _ := New(context.Background())
	ctx := context.Background()
	_ = e.SetPluginModules(ctx, "notice", map[string]string{"x.rego": "package plugins.notice\n\ndeny contains \"no\" if input.action == \"notice.purge\""})
	in := Input{Subject: pudong, Action: "notice.read", Resource: map[string]any{"org_path": "/310000/310115/310115-S02"}, Plugin: "notice"}
	lat := make([]time.Duration, 0, 1<<16)
	for b.Loop() {
		t0 := time.Now()
		if d := e.Decide(ctx, in); !d.Allow {
			b.Fatal(d.Reason)
		}
		lat = append(lat, time.Since(t0))
	}
	slices.Sort(lat)
	b.ReportMetric(float64(lat[len(lat)/2].Nanoseconds())/1000, "p50-µs")
	b.ReportMetric(float64(lat[len(lat)*99/100].Nanoseconds())/1000, "p99-µs")
}

// BenchmarkListFilter compares a cached filter (same policy version and
// subject shape) with a compilation.
func BenchmarkListFilter(b *testing.B) {
	ctx := context.Background()
	b.Run("cached", func(b *testing.B) {
		e, _ := New(ctx)
		_, _ = e.ListFilter(ctx, pudong)
		for b.Loop() {
			if _, err := e.ListFilter(ctx, pudong); err != nil {
				b.Fatal(err)
			}
		}
	})
	b.Run("compiled", func(b *testing.B) {
		e, _ := New(ctx)
		for b.Loop() {
			e.filters.Clear()
			if _, err := e.ListFilter(ctx, pudong); err != nil {
				b.Fatal(err)
			}
		}
	})
}

func TestRoleDataScopes(t *testing.T) {
	e, _ := New(context.Background())
	ctx := context.Background()
	brigade := "/310000/310115/310115-D03"
	with := func(scopes []string, custom ...string) Subject {
		s := subject("district", brigade, "notice.read")
		s.Username, s.DataScopes, s.CustomRoots = "pd_li", scopes, custom
		return s
	}
	recs := map[string]map[string]any{
		"own brigade, by pd_li": {"org_path": brigade, "owner": "pd_li"},
		"own brigade, by other": {"org_path": brigade, "owner": "other"},
		"pudong station":        {"org_path": "/310000/310115/310115-S02", "owner": "other"},
		"huangpu brigade":       {"org_path": "/310000/310101/310101-D03", "owner": "other"},
		"huangpu, by pd_li":     {"org_path": "/310000/310101/310101-D03", "owner": "pd_li"},
	}
	for _, tt := range []struct {
		name  string
		s     Subject
		allow []string
	}{
		{"all", with([]string{"all"}), []string{"own brigade, by pd_li", "own brigade, by other", "pudong station", "huangpu brigade", "huangpu, by pd_li"}},
		{"subtree", with([]string{"subtree"}), []string{"own brigade, by pd_li", "own brigade, by other", "pudong station"}},
		{"own level", with([]string{"own_level"}), []string{"own brigade, by pd_li", "own brigade, by other"}},
		{"own", with([]string{"own"}), []string{"own brigade, by pd_li", "huangpu, by pd_li"}},
		{"custom huangpu", with([]string{"custom"}, "/310000/310101"), []string{"huangpu brigade", "huangpu, by pd_li"}},
		{"own + own level", with([]string{"own", "own_level"}), []string{"own brigade, by pd_li", "own brigade, by other", "huangpu, by pd_li"}},
	} {
		for name, r := range recs {
			want := slices.Contains(tt.allow, name)
			if d := e.Decide(ctx, Input{Subject: tt.s, Action: "notice.read", Resource: r}); d.Allow != want {
				t.Errorf("%s reading %s: %v (%s), want %v", tt.name, name, d.Allow, d.Reason, want)
			}
		}
		f, err := e.ListFilter(ctx, tt.s)
		if err != nil {
			t.Fatalf("%s: filter: %v", tt.name, err)
		}
		if tt.name == "all" && !f.All {
			t.Errorf("all: filter %+v", f)
		}
	}
}
