package main

import (
	"context"
	"database/sql"
	"encoding/json"
	"fmt"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"net/url"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/go-sql-driver/mysql"

	"github.com/shanghai-amr/portal/plugins/registration/registry"
	"github.com/shanghai-amr/portal/sdk"
	"github.com/shanghai-amr/portal/sdk/plugintest"
	"github.com/shanghai-amr/portal/sdk/storage"
)

// The demo entities' codes.
const (
	pudongActive  = "91310115MA1K4PTX8J" // 上海浦东示例科技有限公司, 存续, former name 上海张江星火软件有限公司
	pudongRevoked = "91310115MA1K4PTY5A" // 上海浦东恒远贸易有限公司, 吊销
)

// huangpuShop is the code of 上海市黄浦区南京东路小吃店 (个体工商户, 王芳).
func huangpuShop(t testing.TB) string {
	t.Helper()
	ents, _, err := demoEntities()
	if err != nil {
		t.Fatal(err)
	}
	return ents[2].Code
}

var (
	cityStaff = sdk.Caller{Audience: "staff", Subject: "chen", Username: "chen", OrgCode: "310000", OrgPath: "/310000",
		Jurisdiction: "city", Locale: "zh-CN"}
	pudongStaff   = plugintest.Staff("li", "310115")
	pudongStation = sdk.Caller{Audience: "staff", Subject: "zhou", Username: "zhou", OrgCode: "310115-S02",
		OrgPath: "/310000/310115/310115-S02", Jurisdiction: "station", Locale: "zh-CN"}
	publicPerson = sdk.Caller{Audience: "public", Subject: "oidc:suishenban:u1", Username: "suishenban:u1", Locale: "zh-CN"}
)

// get calls a route; while the index is still being built (a slow machine
// can take longer than start waits) it asks again, as Retry-After says.
func get(t *testing.T, h *plugintest.Harness, path string, c sdk.Caller) *httptest.ResponseRecorder {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for {
		rec := h.Do(t, "GET", path, "", c)
		if rec.Code != http.StatusServiceUnavailable || time.Now().After(deadline) {
			return rec
		}
		time.Sleep(20 * time.Millisecond)
	}
}

func list(t *testing.T, h *plugintest.Harness, path string, c sdk.Caller) enterpriseList {
	t.Helper()
	rec := get(t, h, path, c)
	if rec.Code != http.StatusOK {
		t.Fatalf("GET %s: %d %s", path, rec.Code, rec.Body)
	}
	var out enterpriseList
	if err := json.Unmarshal(rec.Body.Bytes(), &out); err != nil {
		t.Fatalf("GET %s: %v", path, err)
	}
	return out
}

func hit(l enterpriseList, code string) (enterpriseRow, bool) {
	i := slices.IndexFunc(l.Enterprises, func(r enterpriseRow) bool { return r.USCC == code })
	if i < 0 {
		return enterpriseRow{}, false
	}
	return l.Enterprises[i], true
}

func q(params ...string) string {
	v := url.Values{}
	for i := 0; i+1 < len(params); i += 2 {
		v.Add(params[i], params[i+1])
	}
	return v.Encode()
}

// The demo registry: the three hand-written entities as they were, and the
// synthetic slice across all 16 districts.
func TestDemoRegistry(t *testing.T) {
	h := plugintest.Start(t, Plugin())
	all := list(t, h, "/enterprises?limit=1", cityStaff)
	if all.Total != len(demo)+syntheticSize {
		t.Fatalf("%d entities, want %d", all.Total, len(demo)+syntheticSize)
	}
	for _, d := range registry.Districts {
		if l := list(t, h, "/enterprises?limit=1&district="+d.String(), cityStaff); l.Total == 0 {
			t.Errorf("no entity in %s", d.Name())
		}
	}
	rec := get(t, h, "/enterprises/"+pudongActive, cityStaff)
	var d struct { // enterpriseDetail, decoded
		enterprise
		DistrictName string           `json:"district_name"`
		Entity       *registry.Entity `json:"entity"`
	}
	if err := json.Unmarshal(rec.Body.Bytes(), &d); rec.Code != 200 || err != nil {
		t.Fatalf("%d %s", rec.Code, rec.Body)
	}
	if d.Name != "上海浦东示例科技有限公司" || d.Status != "存续" || d.District != "310115" || d.DistrictName != "浦东新区" ||
		d.Entity == nil || d.Entity.Kind != registry.KindLLC || d.Entity.Capital != 10_000_000_00 ||
		len(d.Entity.Members) != 3 || len(d.Entity.Shareholders) != 2 || d.Entity.Shareholders[0].Instalments[1].Amount != 3_000_000_00 ||
		!slices.Equal(d.Entity.FormerNames, []string{"上海张江星火软件有限公司"}) {
		t.Fatalf("detail: %s", rec.Body)
	}
	// The enterprise's own page still reads the columns.
	rec = h.Do(t, "GET", "/my/enterprise", "", enterpriseCaller(pudongActive))
	if rec.Code != 200 || !strings.Contains(rec.Body.String(), `"name":"上海浦东示例科技有限公司"`) {
		t.Fatalf("/my/enterprise: %d %s", rec.Code, rec.Body)
	}
}

func TestEnterpriseSearch(t *testing.T) {
	h := plugintest.Start(t, Plugin())
	shop := huangpuShop(t)
	for _, c := range []struct {
		name, query string
		want        string // a code among the hits
		matched     string
		absent      string // a code not among them
	}{
		{"two characters", q("q", "示例"), pudongActive, "name", ""},
		{"whole name, first", q("q", "上海浦东示例科技有限公司", "limit", "1"), pudongActive, "name", ""},
		{"full-width brackets and spaces fold", q("q", " 示例　科技 "), pudongActive, "name", ""},
		{"former name", q("q", "星火软件"), pudongActive, "former_name", ""},
		{"pinyin initials", q("q", "slkj"), pudongActive, "initials", ""},
		{"code", q("q", pudongActive, "limit", "1"), pudongActive, "code", ""},
		{"code in lower case", q("q", strings.ToLower(pudongActive)), pudongActive, "code", ""},
		{"status and district", q("q", "恒远", "status", "吊销", "district", "浦东"), pudongRevoked, "name", ""},
		{"status excludes", q("q", "恒远", "status", "存续,在业"), "", "", pudongRevoked},
		{"kind", q("q", "小吃店", "kind", "个体工商户", "district", "310101"), shop, "name", ""},
		{"kind excludes", q("q", "南京东路小吃店", "kind", "有限责任公司（自然人投资或控股）"), "", "", shop},
		{"established on the day", q("q", "示例", "established_from", "2019-05-20", "established_to", "2019-05-20"), pudongActive, "name", ""},
		{"established after", q("q", "示例", "established_from", "2019-05-21"), "", "", pudongActive},
		{"capital range", q("q", "示例", "capital_min", "1000000000", "capital_max", "1000000000"), pudongActive, "name", ""},
		{"capital above", q("q", "示例", "capital_min", "1000000001"), "", "", pudongActive},
	} {
		t.Run(c.name, func(t *testing.T) {
			l := list(t, h, "/enterprises?"+c.query, cityStaff)
			if c.want != "" {
				r, ok := hit(l, c.want)
				if !ok || r.Matched != c.matched {
					t.Fatalf("%s: %s not found (matched %q), hits %+v", c.query, c.want, r.Matched, l.Enterprises)
				}
				if r.LegalRep == "" || strings.Contains(r.LegalRep, "*") || r.Kind == "" {
					t.Errorf("staff see the whole row: %+v", r)
				}
			}
			if _, ok := hit(l, c.absent); c.absent != "" && ok {
				t.Fatalf("%s: %s found", c.query, c.absent)
			}
		})
	}
	// Every hit passes the filters.
	l := list(t, h, "/enterprises?"+q("kind", "个体工商户", "district", "黄浦区", "status", "在业", "established_from", "2020-01-01", "limit", "100"), cityStaff)
	if len(l.Enterprises) == 0 {
		t.Fatal("no 个体工商户 in 黄浦 since 2020")
	}
	for _, r := range l.Enterprises {
		if r.Kind != "个体工商户" || r.District != "310101" || r.Status != "在业" || r.Established < "2020-01-01" {
			t.Fatalf("hit outside the filters: %+v", r)
		}
	}
	// Pages follow each other.
	p1 := list(t, h, "/enterprises?"+q("q", "科技", "limit", "5"), cityStaff)
	p2 := list(t, h, fmt.Sprintf("/enterprises?q=%s&limit=5&offset=%d", url.QueryEscape("科技"), p1.NextOffset), cityStaff)
	if p1.NextOffset != 5 || len(p1.Enterprises) != 5 || len(p2.Enterprises) == 0 || p2.Offset != 5 {
		t.Fatalf("paging: %+v then %+v", p1, p2)
	}
	for _, r := range p2.Enterprises {
		if _, dup := hit(p1, r.USCC); dup {
			t.Fatalf("%s on both pages", r.USCC)
		}
	}
}

// A district officer sees their district only, by list and by code; city
// staff see all.
func TestDistrictScope(t *testing.T) {
	h := plugintest.Start(t, Plugin())
	shop := huangpuShop(t)
	for _, c := range []sdk.Caller{pudongStaff, pudongStation} {
		if _, ok := hit(list(t, h, "/enterprises?"+q("q", "南京东路小吃店"), c), shop); ok {
			t.Fatalf("%s found the Huangpu shop by name", c.OrgPath)
		}
		if l := list(t, h, "/enterprises?"+q("q", shop), c); len(l.Enterprises) != 0 {
			t.Fatalf("%s found the Huangpu shop by code: %+v", c.OrgPath, l.Enterprises)
		}
		if l := list(t, h, "/enterprises?district=310101", c); l.Total != 0 {
			t.Fatalf("%s listed Huangpu: %d", c.OrgPath, l.Total)
		}
		if rec := get(t, h, "/enterprises/"+shop, c); rec.Code != http.StatusNotFound {
			t.Fatalf("%s read the Huangpu shop: %d %s", c.OrgPath, rec.Code, rec.Body)
		}
		l := list(t, h, "/enterprises?limit=100", c)
		if l.Total == 0 {
			t.Fatalf("%s sees nothing", c.OrgPath)
		}
		for _, r := range l.Enterprises {
			if r.District != "310115" {
				t.Fatalf("%s sees %s in %s", c.OrgPath, r.USCC, r.DistrictName)
			}
		}
		if rec := get(t, h, "/enterprises/"+pudongActive, c); rec.Code != 200 || !strings.Contains(rec.Body.String(), `"shareholders"`) {
			t.Fatalf("%s cannot read its own entity: %d %s", c.OrgPath, rec.Code, rec.Body)
		}
	}
	if _, ok := hit(list(t, h, "/enterprises?"+q("q", "南京东路小吃店"), cityStaff), shop); !ok {
		t.Fatal("city staff do not find the Huangpu shop")
	}
	if rec := get(t, h, "/enterprises/"+shop, cityStaff); rec.Code != 200 {
		t.Fatalf("city staff cannot read the Huangpu shop: %d", rec.Code)
	}
	// Staff without a district in their organisation see nothing.
	nowhere := sdk.Caller{Audience: "staff", Subject: "x", OrgPath: "/310000", Jurisdiction: "district"}
	if l := list(t, h, "/enterprises", nowhere); l.Total != 0 {
		t.Fatalf("staff without a district see %d", l.Total)
	}
}

// The public lookup shows the public fields, personal names masked.
func TestPublicLookupMasks(t *testing.T) {
	h := plugintest.Start(t, Plugin())
	shop := huangpuShop(t)
	for _, c := range []struct {
		path   string
		caller sdk.Caller
		code   string
		rep    string
	}{
		{"/lookup?" + q("q", shop), publicPerson, shop, "王*"},
		{"/lookup?" + q("q", "南京东路小吃店"), publicPerson, shop, "王*"},
		{"/my/lookup?" + q("q", "示例科技"), enterpriseCaller(pudongRevoked), pudongActive, "张*"},
		{"/my/lookup?" + q("q", "星火软件"), enterpriseCaller(pudongRevoked), pudongActive, "张*"},
	} {
		rec := get(t, h, c.path, c.caller)
		var l enterpriseList
		if err := json.Unmarshal(rec.Body.Bytes(), &l); rec.Code != 200 || err != nil {
			t.Fatalf("%s: %d %s", c.path, rec.Code, rec.Body)
		}
		r, ok := hit(l, c.code)
		if !ok || r.LegalRep != c.rep || r.Name == "" || r.Status == "" || r.DistrictName == "" || r.Established == "" {
			t.Fatalf("%s: %+v", c.path, l.Enterprises)
		}
		body := rec.Body.String()
		for _, private := range []string{`"kind"`, `"capital"`, `"former_names"`, `"entity"`, `"members"`, `"shareholders"`, `"legal_rep_id"`,
			"王芳", "张明", "310101198204152040", "310115198503124013"} {
			if strings.Contains(body, private) {
				t.Errorf("%s shows %s: %s", c.path, private, body)
			}
		}
	}
}

// registryPlugin is the plugin with the registry's routes only, and its
// service, for the tests that drive the index directly; build false leaves
// the index unbuilt.
func registryPlugin(t *testing.T, build bool) (*plugintest.Harness, *service) {
	t.Helper()
	var s *service
	h := plugintest.Start(t, sdk.Plugin{Manifest: manifestYAML, Start: func(ctx context.Context, env *sdk.Env) (http.Handler, error) {
		db, err := storage.Open(ctx, env.Database.Dialect, env.Database.DSN)
		if err != nil {
			return nil, err
		}
		// The filings' tables too: a record shows its filings.
		for _, migrate := range []func(context.Context, *sql.DB, string) error{migrateEnterprises, migrateFilings} {
			if err := migrate(ctx, db, env.Database.Dialect); err != nil {
				return nil, err
			}
		}
		if err := seedDemo(ctx, db); err != nil {
			return nil, err
		}
		s = &service{db: db, host: env.Host, log: env.Log}
		if build {
			s.index = startRegistryIndex(db, env.Log, "")
		} else {
			s.index = newRegistryIndex(db, env.Log)
		}
		mux := http.NewServeMux()
		s.enterpriseRoutes(mux)
		return mux, nil
	}})
	return h, s
}

// After a record changes in the table, registryChanged brings the index up
// to date: a status change, a new name, a record that is gone.
func TestRegistryChangedUpdatesIndex(t *testing.T) {
	h, s := registryPlugin(t, true)
	ctx := context.Background()
	suspended := "/enterprises?" + q("q", "示例", "status", "歇业")
	if _, ok := hit(list(t, h, suspended, cityStaff), pudongActive); ok {
		t.Fatal("suspended before the change")
	}
	if _, err := s.db.ExecContext(ctx, "UPDATE enterprises SET prior_status = status, status = '歇业' WHERE uscc = ?", pudongActive); err != nil {
		t.Fatal(err)
	}
	s.registryChanged(ctx, pudongActive)
	r, ok := hit(list(t, h, suspended, cityStaff), pudongActive)
	if !ok || r.Status != "歇业" {
		t.Fatalf("after the change: %+v", r)
	}
	if _, ok := hit(list(t, h, "/enterprises?"+q("q", "示例", "status", "存续"), cityStaff), pudongActive); ok {
		t.Fatal("still found as 存续")
	}
	if _, err := s.db.ExecContext(ctx, "UPDATE enterprises SET name = '上海浦东新样板科技有限公司' WHERE uscc = ?", pudongActive); err != nil {
		t.Fatal(err)
	}
	s.registryChanged(ctx, pudongActive)
	if _, ok := hit(list(t, h, "/enterprises?"+q("q", "新样板"), cityStaff), pudongActive); !ok {
		t.Fatal("not found by the new name")
	}
	if _, ok := hit(list(t, h, "/enterprises?"+q("q", "浦东示例"), cityStaff), pudongActive); ok {
		t.Fatal("still found by the old name")
	}
	if _, err := s.db.ExecContext(ctx, "DELETE FROM enterprises WHERE uscc = ?", pudongRevoked); err != nil {
		t.Fatal(err)
	}
	s.registryChanged(ctx, pudongRevoked)
	if l := list(t, h, "/enterprises?"+q("q", pudongRevoked), cityStaff); len(l.Enterprises) != 0 {
		t.Fatalf("a deleted record is still indexed: %+v", l.Enterprises)
	}
}

func waitBuilt(t *testing.T, s *service) {
	t.Helper()
	select {
	case <-s.index.built:
	case <-time.After(10 * time.Second):
		t.Fatal("the index was not built")
	}
}

// A change made while the index is being built is in the built index,
// whichever of the two finishes first.
func TestChangeDuringBuildIsKept(t *testing.T) {
	h, s := registryPlugin(t, false)
	ctx := context.Background()
	s.index.build()
	if _, err := s.db.ExecContext(ctx, "UPDATE enterprises SET prior_status = status, status = '歇业' WHERE uscc = ?", pudongActive); err != nil {
		t.Fatal(err)
	}
	s.registryChanged(ctx, pudongActive)
	waitBuilt(t, s)
	if r, ok := hit(list(t, h, "/enterprises?"+q("q", pudongActive), cityStaff), pudongActive); !ok || r.Status != "歇业" {
		t.Fatalf("after the build: %+v", r)
	}
}

// Until the first build is in, name queries answer 503 with Retry-After;
// a credit code is answered from the table.
func TestIndexNotReady(t *testing.T) {
	h, s := registryPlugin(t, false)
	rec := h.Do(t, "GET", "/enterprises?"+q("q", "示例"), "", cityStaff)
	if rec.Code != http.StatusServiceUnavailable || rec.Header().Get("Retry-After") == "" ||
		!strings.Contains(rec.Body.String(), `"code":"registration.index_building"`) {
		t.Fatalf("name query before the build: %d %v %s", rec.Code, rec.Header(), rec.Body)
	}
	rec = h.Do(t, "GET", "/lookup?"+q("q", pudongActive), "", publicPerson)
	var l enterpriseList
	if err := json.Unmarshal(rec.Body.Bytes(), &l); rec.Code != 200 || err != nil || len(l.Enterprises) != 1 || l.Enterprises[0].LegalRep != "张*" {
		t.Fatalf("code lookup before the build: %d %s", rec.Code, rec.Body)
	}
	rec = h.Do(t, "GET", "/enterprises?"+q("q", huangpuShop(t)), "", pudongStaff)
	if err := json.Unmarshal(rec.Body.Bytes(), &l); rec.Code != 200 || err != nil || len(l.Enterprises) != 0 {
		t.Fatalf("out-of-scope code before the build: %d %s", rec.Code, rec.Body)
	}
	if rec := h.Do(t, "GET", "/enterprises/"+pudongActive, "", pudongStaff); rec.Code != 200 {
		t.Fatalf("a record before the build: %d", rec.Code)
	}
	s.index.build()
	waitBuilt(t, s)
	if _, ok := hit(list(t, h, "/enterprises?"+q("q", "示例"), cityStaff), pudongActive); !ok {
		t.Fatal("not found after the build")
	}
}

func TestBadInput(t *testing.T) {
	h := plugintest.Start(t, Plugin())
	long := strings.Repeat("企", 61)
	for _, c := range []struct {
		path   string
		caller sdk.Caller
		want   string
	}{
		{"/enterprises?limit=0", cityStaff, "limit 应为 1 到 100 之间的整数"},
		{"/enterprises?limit=101", cityStaff, "limit 应为 1 到 100 之间的整数"},
		{"/enterprises?limit=ten", cityStaff, "limit 应为"},
		{"/enterprises?offset=-1", cityStaff, "offset 应为 0 到 1000 之间的整数"},
		{"/enterprises?offset=1001", cityStaff, "offset 应为"},
		{"/enterprises?" + q("district", "北京"), cityStaff, "不是上海市的区：北京"},
		{"/enterprises?district=320102", cityStaff, "不是上海市的区"},
		{"/enterprises?" + q("status", "营业"), cityStaff, "未知的登记状态：营业"},
		{"/enterprises?" + q("kind", "公司"), cityStaff, "未知的市场主体类型：公司"},
		{"/enterprises?established_from=2020-13-01", cityStaff, "established_from 应为日期"},
		{"/enterprises?established_from=2021-01-01&established_to=2020-01-01", cityStaff, "起始日期晚于截止日期"},
		{"/enterprises?capital_min=-1", cityStaff, "capital_min 应为不小于0的整数"},
		{"/enterprises?capital_max=1e6", cityStaff, "capital_max 应为不小于0的整数"},
		{"/enterprises?capital_min=10&capital_max=5", cityStaff, "注册资本下限大于上限"},
		{"/enterprises?distrct=310115", cityStaff, "不支持的查询参数：distrct"},
		{"/enterprises?" + q("q", "示例", "q", "科技"), cityStaff, "查询参数 q 只能给一次"},
		{"/enterprises?" + q("q", long), cityStaff, "查询条件过长"},
		{"/enterprises/NOTACODE", cityStaff, "统一社会信用代码不正确"},
		{"/enterprises/91310115MA1K4PTX8A", cityStaff, "统一社会信用代码不正确"},
		{"/lookup", publicPerson, "请输入企业名称（至少2个字）或统一社会信用代码"},
		{"/lookup?" + q("q", "示"), publicPerson, "至少2个字"},
		{"/lookup?" + q("q", "示例", "limit", "21"), publicPerson, "limit 应为 1 到 20 之间的整数"},
		{"/lookup?" + q("q", "示例", "offset", "81"), publicPerson, "offset 应为 0 到 80 之间的整数"},
		{"/lookup?" + q("q", "示例", "status", "存续"), publicPerson, "不支持的查询参数：status"},
		{"/my/lookup?" + q("q", "示例", "district", "310115"), enterpriseCaller(pudongActive), "不支持的查询参数：district"},
	} {
		t.Run(c.path, func(t *testing.T) {
			rec := h.Do(t, "GET", c.path, "", c.caller)
			var e struct{ Code, Message string }
			if err := json.Unmarshal(rec.Body.Bytes(), &e); rec.Code != http.StatusBadRequest || err != nil ||
				e.Code != "registration.invalid" || !strings.Contains(e.Message, c.want) {
				t.Fatalf("%d %s, want 400 registration.invalid %q", rec.Code, rec.Body, c.want)
			}
		})
	}
	en := cityStaff
	en.Locale = "en"
	if rec := h.Do(t, "GET", "/enterprises?"+q("status", "营业"), "", en); rec.Code != 400 || !strings.Contains(rec.Body.String(), "Unknown status 营业") {
		t.Fatalf("in English: %d %s", rec.Code, rec.Body)
	}
}

// testDatabase is an empty database of the dialect: an SQLite file, or a
// MariaDB/MySQL schema on the server PORTAL_TEST_MYSQL_DSN names (as the
// host's storage tests use it), dropped at the end; without it the MySQL
// case skips.
func testDatabase(t *testing.T, dialect string) *sql.DB {
	t.Helper()
	ctx := context.Background()
	dsn := "file:" + filepath.Join(t.TempDir(), "data.db")
	if dialect == "mysql" {
		base := os.Getenv("PORTAL_TEST_MYSQL_DSN")
		if base == "" {
			t.Skip("PORTAL_TEST_MYSQL_DSN is not set")
		}
		cfg, err := mysql.ParseDSN(strings.TrimPrefix(base, "mysql://"))
		if err != nil {
			t.Fatal(err)
		}
		admin, err := sql.Open("mysql", cfg.FormatDSN())
		if err != nil {
			t.Fatal(err)
		}
		name := fmt.Sprintf("regtest_%d", time.Now().UnixNano())
		if _, err := admin.ExecContext(ctx, "CREATE DATABASE "+name+" CHARACTER SET utf8mb4"); err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { _, _ = admin.Exec("DROP DATABASE " + name); admin.Close() })
		cfg.DBName = name
		dsn = cfg.FormatDSN()
	}
	db, err := storage.Open(ctx, dialect, dsn)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	return db
}

// A database of the previous version — the table without data, a demo
// entity suspended by a filing — upgrades in place: the column is added,
// the demo rows get their data, their columns stay as they were, and the
// synthetic slice is added once.
func TestUpgradeInPlace(t *testing.T) {
	for _, dialect := range []string{"sqlite3", "mysql"} {
		t.Run(dialect, func(t *testing.T) {
			ctx := context.Background()
			db := testDatabase(t, dialect)
			for _, stmt := range []string{
				`CREATE TABLE enterprises (uscc VARCHAR(18) NOT NULL PRIMARY KEY, name VARCHAR(200) NOT NULL, kind VARCHAR(32) NOT NULL,
					status VARCHAR(16) NOT NULL, prior_status VARCHAR(16) NOT NULL DEFAULT '', district VARCHAR(6) NOT NULL,
					legal_rep VARCHAR(64) NOT NULL, address VARCHAR(200) NOT NULL, established VARCHAR(10) NOT NULL)`,
				`INSERT INTO enterprises (uscc, name, kind, status, prior_status, district, legal_rep, address, established) VALUES
					('91310115MA1K4PTX8J', '上海浦东示例科技有限公司', '有限责任公司', '歇业', '存续', '310115', '张明', '上海市浦东新区张江路100号', '2019-05-20'),
					('91310104MA1K4PTZ1X', '上海徐汇旧数据咨询有限公司', '有限责任公司', '存续', '', '310104', '孙伟', '上海市徐汇区漕溪北路1号', '2018-01-02')`,
			} {
				if _, err := db.ExecContext(ctx, stmt); err != nil {
					t.Fatal(err)
				}
			}
			for range 2 { // the second start finds everything done
				if err := migrateEnterprises(ctx, db, dialect); err != nil {
					t.Fatal(err)
				}
				if err := seedDemo(ctx, db); err != nil {
					t.Fatal(err)
				}
			}
			var n int
			if err := db.QueryRowContext(ctx, "SELECT COUNT(*) FROM enterprises").Scan(&n); err != nil || n != 2+syntheticSize {
				t.Fatalf("%d rows (%v), want %d: the demo is not re-seeded into a table that has rows", n, err, 2+syntheticSize)
			}
			row, err := readEntity(ctx, db, pudongActive)
			if err != nil {
				t.Fatal(err)
			}
			e, err := row.entity(true)
			if err != nil || e.Status != registry.StatusSuspended || row.priorStatus != "存续" || e.Kind != registry.KindLLC ||
				len(e.Shareholders) != 2 || e.FormerNames[0] != "上海张江星火软件有限公司" {
				t.Fatalf("upgraded demo row: %+v %+v %v", row, e, err)
			}
			// A row nobody wrote data for reads from its columns.
			row, err = readEntity(ctx, db, "91310104MA1K4PTZ1X")
			if err != nil {
				t.Fatal(err)
			}
			if e, err := row.entity(true); err != nil || e.Kind != registry.KindLLC || e.District != registry.Xuhui || e.Established != registry.Date(2018, 1, 2) {
				t.Fatalf("row without data: %+v %v", e, err)
			}
			ix := newRegistryIndex(db, slog.New(slog.DiscardHandler))
			if err := ix.rebuild(ctx); err != nil {
				t.Fatal(err)
			}
			if got := ix.ix.Len(); got != 2+syntheticSize {
				t.Fatalf("%d indexed, want %d", got, 2+syntheticSize)
			}
		})
	}
}

// BenchmarkRegistryStart measures what the registry adds to the plugin's
// start, on SQLite: seeding a new database (migrate, the demo entities and
// the synthetic slice), building the index from the seeded table, and a
// restart (migrate, find the seeds applied, build).
//
//	go test ./plugins/registration -run '^$' -bench RegistryStart -benchtime 20x
func BenchmarkRegistryStart(b *testing.B) {
	ctx := context.Background()
	open := func(b *testing.B) *sql.DB {
		db, err := storage.Open(ctx, "sqlite3", "file:"+filepath.Join(b.TempDir(), "data.db"))
		if err != nil {
			b.Fatal(err)
		}
		b.Cleanup(func() { db.Close() })
		return db
	}
	seed := func(b *testing.B, db *sql.DB) {
		if err := migrateEnterprises(ctx, db, "sqlite3"); err != nil {
			b.Fatal(err)
		}
		if err := seedDemo(ctx, db); err != nil {
			b.Fatal(err)
		}
	}
	build := func(b *testing.B, db *sql.DB) {
		if err := newRegistryIndex(db, slog.New(slog.DiscardHandler)).rebuild(ctx); err != nil {
			b.Fatal(err)
		}
	}
	b.Run("seed", func(b *testing.B) {
		for range b.N {
			b.StopTimer()
			db := open(b)
			b.StartTimer()
			seed(b, db)
		}
	})
	seeded := open(b)
	seed(b, seeded)
	b.Run("build", func(b *testing.B) {
		for range b.N {
			build(b, seeded)
		}
	})
	b.Run("restart", func(b *testing.B) {
		for range b.N {
			seed(b, seeded)
			build(b, seeded)
		}
	})
}

// A restart answers from the snapshot the last build wrote, at once, and the
// build from the table behind it brings the index up to date.
func TestRegistryIndexSnapshot(t *testing.T) {
	ctx := context.Background()
	dir := t.TempDir()
	db, err := storage.Open(ctx, "sqlite3", "file:"+filepath.Join(dir, "data.db"))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() }) // after the builds below have ended
	if err := migrateEnterprises(ctx, db, "sqlite3"); err != nil {
		t.Fatal(err)
	}
	if err := seedDemo(ctx, db); err != nil {
		t.Fatal(err)
	}
	log := slog.New(slog.DiscardHandler)
	snapshot := filepath.Join(dir, "registry.idx")
	first := startRegistryIndex(db, log, snapshot)
	t.Cleanup(first.wait) // before the folder is removed: a build may still write its snapshot
	<-first.built
	waitFor := func(what string, ok func() bool) {
		t.Helper()
		for i := 0; !ok(); i++ {
			if i == 200 {
				t.Fatalf("%s: not after 10 s", what)
			}
			time.Sleep(50 * time.Millisecond)
		}
	}
	waitFor("the snapshot", func() bool { _, err := os.Stat(snapshot); return err == nil })
	want := first.ix.Len()

	// The table loses a record while the plugin is down.
	if _, err := db.ExecContext(ctx, "DELETE FROM enterprises WHERE uscc = ?", "91310115MA1K4PTX8J"); err != nil {
		t.Fatal(err)
	}
	second := startRegistryIndex(db, log, snapshot)
	t.Cleanup(second.wait)
	if !second.ready.Load() || second.ix.Len() != want {
		t.Fatalf("after a restart: ready %v, %d indexed, want %d from the snapshot", second.ready.Load(), second.ix.Len(), want)
	}
	waitFor("the rebuild behind the snapshot", func() bool { return second.ix.Len() == want-1 })

	// A snapshot that cannot be read: built from the table instead.
	if err := os.WriteFile(snapshot, []byte("not a snapshot"), 0o600); err != nil {
		t.Fatal(err)
	}
	third := startRegistryIndex(db, log, snapshot)
	t.Cleanup(third.wait)
	<-third.built
	if third.ix.Len() != want-1 {
		t.Fatalf("after a broken snapshot: %d indexed, want %d", third.ix.Len(), want-1)
	}
}
