package main

// The registry's storage: the enterprises table, its in-place upgrade, the
// demo registry, and reading rows back as registry.Entity.
//
// The columns uscc, name, kind, status, prior_status, district, legal_rep,
// address and established are the ones the filings code reads and changes
// with SQL (a status change is an UPDATE of status and prior_status), so
// they are authoritative for what they hold. The data column holds the rest
// of the entity as JSON (entityData): former names, the typed kind, the
// legal representative's title and identity number, capital, industry,
// registration authority, members and shareholders. A row without data (a
// row written before the column existed) reads as an entity made of its
// columns alone.

import (
	"context"
	"database/sql"
	"encoding/json"
	"fmt"
	"strings"
	"time"

	"github.com/shanghai-amr/portal/plugins/registration/registry"
	"github.com/shanghai-amr/portal/sdk/idcode"
	"github.com/shanghai-amr/portal/sdk/storage"
)

// The demo registry's synthetic slice: the first syntheticSize entities of
// the generator's population for syntheticSeed (registry.Generate is
// prefix-stable), all 16 districts, the real type and status mix.
const (
	syntheticSeed = 1
	syntheticSize = 3000
)

// insertBatch is the rows per multi-row INSERT while seeding: ten
// placeholders a row stays far below both dialects' limits, and the batch
// saves MySQL a round trip per row.
const insertBatch = 200

// entityColumns are the enterprises table's columns, in entityRow's order.
const entityColumns = "uscc, name, kind, status, prior_status, district, legal_rep, address, established, data"

// migrateEnterprises creates the registry's tables and upgrades an existing
// one in place (expand-only: columns are added, never changed or dropped).
func migrateEnterprises(ctx context.Context, db *sql.DB, dialect string) error {
	for _, stmt := range []string{
		`CREATE TABLE IF NOT EXISTS enterprises (
			uscc VARCHAR(18) NOT NULL PRIMARY KEY,
			name VARCHAR(200) NOT NULL,
			kind VARCHAR(32) NOT NULL,
			status VARCHAR(16) NOT NULL,
			prior_status VARCHAR(16) NOT NULL DEFAULT '',
			district VARCHAR(6) NOT NULL,
			legal_rep VARCHAR(64) NOT NULL,
			address VARCHAR(200) NOT NULL,
			established VARCHAR(10) NOT NULL)`,
		// Which one-off seeds have been applied (seedSynthetic).
		`CREATE TABLE IF NOT EXISTS registry_seeds (
			name VARCHAR(64) NOT NULL PRIMARY KEY,
			applied_at BIGINT NOT NULL)`,
	} {
		if _, err := db.ExecContext(ctx, stmt); err != nil {
			return fmt.Errorf("registration: migrate: %w", err)
		}
	}
	return storage.AddColumn(ctx, db, "enterprises", "data", "TEXT")
}

// entityData is the part of a registry.Entity that has no column of its
// own: the JSON in enterprises.data.
type entityData struct {
	FormerNames   []string               `json:"former_names,omitempty"`
	Kind          registry.Kind          `json:"kind"`
	LegalRepTitle string                 `json:"legal_rep_title,omitempty"`
	LegalRepID    string                 `json:"legal_rep_id,omitempty"`
	Capital       int64                  `json:"capital"` // fen
	Industry      string                 `json:"industry,omitempty"`
	Authority     string                 `json:"authority,omitempty"`
	Members       []registry.Member      `json:"members,omitempty"`
	Shareholders  []registry.Shareholder `json:"shareholders,omitempty"`
}

func dataOf(e *registry.Entity) ([]byte, error) {
	return json.Marshal(entityData{FormerNames: e.FormerNames, Kind: e.Kind, LegalRepTitle: e.LegalRepTitle,
		LegalRepID: e.LegalRepID, Capital: e.Capital, Industry: e.Industry, Authority: e.Authority,
		Members: e.Members, Shareholders: e.Shareholders})
}

// indexData is what the search index needs of entityData: decoding only
// these fields skips the members' and shareholders' allocations when the
// whole table is read at start.
type indexData struct {
	FormerNames []string      `json:"former_names"`
	Kind        registry.Kind `json:"kind"`
	Capital     int64         `json:"capital"`
}

// entityRow is one row of the enterprises table.
type entityRow struct {
	uscc, name, kind, status, priorStatus, district, legalRep, address, established string
	data                                                                            sql.NullString
}

func (r *entityRow) scan(row interface{ Scan(...any) error }) error {
	return row.Scan(&r.uscc, &r.name, &r.kind, &r.status, &r.priorStatus, &r.district, &r.legalRep, &r.address, &r.established, &r.data)
}

// enterprise is the row's columns, as the filings code uses them.
func (r *entityRow) enterprise() *enterprise {
	return &enterprise{USCC: r.uscc, Name: r.name, Kind: r.kind, Status: r.status, PriorStatus: r.priorStatus,
		District: r.district, LegalRep: r.legalRep, Address: r.address, Established: r.established}
}

// entity assembles the registry entity: data, then the columns over it.
// full reads everything; without it only what the index needs (no address,
// members or shareholders: a rebuild holds every entity at once). An unreadable data column gives the columns' entity and the
// error.
func (r *entityRow) entity(full bool) (*registry.Entity, error) {
	e := &registry.Entity{Code: r.uscc, Name: r.name, LegalRep: r.legalRep}
	if full {
		e.Address = r.address
	}
	var err error
	if r.data.Valid && r.data.String != "" {
		if full {
			var d entityData
			if err = json.Unmarshal([]byte(r.data.String), &d); err == nil {
				e.FormerNames, e.Kind, e.LegalRepTitle, e.LegalRepID, e.Capital = d.FormerNames, d.Kind, d.LegalRepTitle, d.LegalRepID, d.Capital
				e.Industry, e.Authority, e.Members, e.Shareholders = d.Industry, d.Authority, d.Members, d.Shareholders
			}
		} else {
			var d indexData
			if err = json.Unmarshal([]byte(r.data.String), &d); err == nil {
				e.FormerNames, e.Kind, e.Capital = d.FormerNames, d.Kind, d.Capital
			}
		}
		if err != nil {
			err = fmt.Errorf("registration: %s: data: %w", r.uscc, err)
		}
	}
	e.Status, _ = registry.ParseStatus(r.status)
	e.District, _ = registry.ParseDistrict(r.district)
	if t, perr := time.ParseInLocation(time.DateOnly, r.established, registry.CST); perr == nil {
		e.Established = t
	}
	// The kind column holds a dictionary label; the demo rows hold a short
	// one (有限责任公司), for which the typed kind in data stands.
	var k registry.Kind
	if k.UnmarshalText([]byte(r.kind)) == nil {
		e.Kind = k
	} else if e.Kind == registry.KindUnknown {
		e.Kind = kindByPrefix(r.kind)
	}
	return e, err
}

// kindByPrefix is the first kind whose label starts with label (有限责任公司
// → 有限责任公司（自然人投资或控股）), for rows written before data existed.
func kindByPrefix(label string) registry.Kind {
	if label == "" {
		return registry.KindUnknown
	}
	for _, k := range registry.Kinds {
		if strings.HasPrefix(k.String(), label) {
			return k
		}
	}
	return registry.KindUnknown
}

// readEntity reads one row; sql.ErrNoRows when there is none.
func readEntity(ctx context.Context, db *sql.DB, uscc string) (*entityRow, error) {
	var r entityRow
	err := r.scan(db.QueryRowContext(ctx, "SELECT "+entityColumns+" FROM enterprises WHERE uscc = ?", uscc))
	return &r, err
}

// readEntities reads up to limit rows after the code after, in code order
// (keyset paging: no long-running read holds the table), decoded for the
// index. bad counts the rows whose data could not be read; they come as
// their columns.
func readEntities(ctx context.Context, db *sql.DB, after string, limit int) (ents []*registry.Entity, bad int, err error) {
	rows, err := db.QueryContext(ctx, "SELECT "+entityColumns+" FROM enterprises WHERE uscc > ? ORDER BY uscc LIMIT ?", after, limit)
	if err != nil {
		return nil, 0, err
	}
	defer rows.Close()
	for rows.Next() {
		var r entityRow
		if err := r.scan(rows); err != nil {
			return nil, 0, err
		}
		e, derr := r.entity(false)
		if derr != nil {
			bad++
		}
		ents = append(ents, e)
	}
	return ents, bad, rows.Err()
}

// demoEntity is one hand-written entity of the demo registry; kindLabel is
// what its kind column has always held.
type demoEntity struct {
	first17, kindLabel string
	e                  registry.Entity
}

// demo is the hand-written part of the demo registry, used by the tests and
// the development identity provider: an active company in Pudong (with a
// former name, members and shareholders), a revoked one, and an individual
// business in Huangpu. Their codes end with the GB 32100 check character of
// first17.
var demo = []demoEntity{
	{"91310115MA1K4PTX8", "有限责任公司", registry.Entity{
		Name: "上海浦东示例科技有限公司", FormerNames: []string{"上海张江星火软件有限公司"}, Kind: registry.KindLLC,
		LegalRep: "张明", LegalRepTitle: "执行董事", LegalRepID: "310115198503120012", Capital: 10_000_000_00,
		Established: registry.Date(2019, 5, 20), Status: registry.StatusActive, District: registry.Pudong,
		Address: "上海市浦东新区张江路100号", Industry: "I65", Authority: "上海市浦东新区市场监督管理局",
		Members: []registry.Member{{Name: "张明", Position: "执行董事"}, {Name: "刘洋", Position: "监事"}, {Name: "张明", Position: "经理"}},
		Shareholders: []registry.Shareholder{
			{Name: "张明", Type: "自然人股东", Subscribed: 6_000_000_00, Method: "货币", Instalments: []registry.Instalment{
				{Amount: 3_000_000_00, Due: registry.Date(2020, 5, 20)}, {Amount: 3_000_000_00, Due: registry.Date(2029, 5, 19)}}},
			{Name: "陈静", Type: "自然人股东", Subscribed: 4_000_000_00, Method: "货币", Instalments: []registry.Instalment{
				{Amount: 4_000_000_00, Due: registry.Date(2024, 5, 20)}}},
		},
	}},
	{"91310115MA1K4PTY5", "有限责任公司", registry.Entity{
		Name: "上海浦东恒远贸易有限公司", Kind: registry.KindLLC,
		LegalRep: "李华", LegalRepTitle: "执行董事", LegalRepID: "310115197809071538", Capital: 500_000_00,
		Established: registry.Date(2012, 3, 2), Status: registry.StatusRevoked, District: registry.Pudong,
		Address: "上海市浦东新区川沙路88号", Industry: "F51", Authority: "上海市浦东新区市场监督管理局",
		Members: []registry.Member{{Name: "李华", Position: "执行董事"}, {Name: "赵磊", Position: "监事"}},
		Shareholders: []registry.Shareholder{
			{Name: "李华", Type: "自然人股东", Subscribed: 300_000_00, Method: "货币", Instalments: []registry.Instalment{
				{Amount: 300_000_00, Due: registry.Date(2012, 3, 2)}}},
			{Name: "赵磊", Type: "自然人股东", Subscribed: 200_000_00, Method: "货币", Instalments: []registry.Instalment{
				{Amount: 200_000_00, Due: registry.Date(2012, 3, 2)}}},
		},
	}},
	{"92310101MA1K4PTW3", "个体工商户", registry.Entity{
		Name: "上海市黄浦区南京东路小吃店", Kind: registry.KindIndividual,
		LegalRep: "王芳", LegalRepTitle: "经营者", LegalRepID: "310101198204152040", Capital: 50_000_00,
		Established: registry.Date(2020, 8, 11), Status: registry.StatusActive, District: registry.Huangpu,
		Address: "上海市黄浦区南京东路200号", Industry: "H62", Authority: "上海市黄浦区市场监督管理局",
	}},
}

// demoEntities are the hand-written entities with their codes.
func demoEntities() ([]*registry.Entity, []string, error) {
	ents := make([]*registry.Entity, len(demo))
	labels := make([]string, len(demo))
	for i, d := range demo {
		c, err := idcode.USCCCheck(d.first17)
		if err != nil {
			return nil, nil, fmt.Errorf("registration: demo %s: %w", d.e.Name, err)
		}
		e := d.e.Clone()
		e.Code = d.first17 + string(c)
		ents[i], labels[i] = e, d.kindLabel
	}
	return ents, labels, nil
}

// seedDemo fills the demo registry: the hand-written entities into an empty
// table, their data into rows written before the data column existed, and
// the synthetic slice once (seedSynthetic).
func seedDemo(ctx context.Context, db *sql.DB) error {
	ents, labels, err := demoEntities()
	if err != nil {
		return err
	}
	var n int
	if err := db.QueryRowContext(ctx, "SELECT COUNT(*) FROM enterprises").Scan(&n); err != nil {
		return fmt.Errorf("registration: seed: %w", err)
	}
	if n == 0 {
		if err := insertEntities(ctx, db, ents, labels); err != nil {
			return err
		}
	}
	for _, e := range ents {
		b, err := dataOf(e)
		if err != nil {
			return err
		}
		if _, err := db.ExecContext(ctx, "UPDATE enterprises SET data = ? WHERE uscc = ? AND data IS NULL", string(b), e.Code); err != nil {
			return fmt.Errorf("registration: seed: %w", err)
		}
	}
	return seedSynthetic(ctx, db)
}

// seedSynthetic adds the synthetic slice once; registry_seeds records that
// it was applied, so later starts cost one query. Entities whose code is in
// the table already are skipped.
func seedSynthetic(ctx context.Context, db *sql.DB) error {
	name := fmt.Sprintf("synthetic seed=%d n=%d", syntheticSeed, syntheticSize)
	applied := func() (bool, error) {
		var n int
		err := db.QueryRowContext(ctx, "SELECT COUNT(*) FROM registry_seeds WHERE name = ?", name).Scan(&n)
		return n > 0, err
	}
	if ok, err := applied(); err != nil || ok {
		return err
	}
	err := inTx(ctx, db, func(tx *sql.Tx) error {
		// The marker first: a second process seeding at the same time waits
		// for this transaction and then fails on the key.
		if _, err := tx.ExecContext(ctx, "INSERT INTO registry_seeds (name, applied_at) VALUES (?, ?)", name, time.Now().UnixMilli()); err != nil {
			return err
		}
		ents := registry.GenerateSlice(syntheticSeed, syntheticSize)
		labels := make([]string, len(ents))
		for i, e := range ents {
			labels[i] = e.Kind.String()
		}
		return insertEntities(ctx, tx, ents, labels)
	})
	if err != nil {
		if ok, _ := applied(); ok {
			return nil // the other process seeded
		}
		return fmt.Errorf("registration: seed: %w", err)
	}
	return nil
}

func inTx(ctx context.Context, db *sql.DB, fn func(*sql.Tx) error) error {
	tx, err := db.BeginTx(ctx, nil)
	if err != nil {
		return err
	}
	if err := fn(tx); err != nil {
		_ = tx.Rollback()
		return err
	}
	return tx.Commit()
}

type execQuerier interface {
	ExecContext(ctx context.Context, query string, args ...any) (sql.Result, error)
	QueryContext(ctx context.Context, query string, args ...any) (*sql.Rows, error)
}

// insertEntities writes entities whose code is not in the table yet, in
// multi-row INSERTs; kindLabels[i] goes to the kind column of ents[i].
func insertEntities(ctx context.Context, db execQuerier, ents []*registry.Entity, kindLabels []string) error {
	for lo := 0; lo < len(ents); lo += insertBatch {
		batch := ents[lo:min(lo+insertBatch, len(ents))]
		have, err := existingCodes(ctx, db, batch)
		if err != nil {
			return err
		}
		var sb strings.Builder
		sb.WriteString("INSERT INTO enterprises (" + entityColumns + ") VALUES ")
		args := make([]any, 0, 10*len(batch))
		for i, e := range batch {
			if have[e.Code] {
				continue
			}
			b, err := dataOf(e)
			if err != nil {
				return err
			}
			if len(args) > 0 {
				sb.WriteString(", ")
			}
			sb.WriteString("(?, ?, ?, ?, '', ?, ?, ?, ?, ?)")
			args = append(args, e.Code, e.Name, kindLabels[lo+i], e.Status.String(), e.District.String(), e.LegalRep, e.Address,
				e.Established.In(registry.CST).Format(time.DateOnly), string(b))
		}
		if len(args) == 0 {
			continue
		}
		if _, err := db.ExecContext(ctx, sb.String(), args...); err != nil {
			return fmt.Errorf("registration: seed: %w", err)
		}
	}
	return nil
}

func existingCodes(ctx context.Context, db execQuerier, ents []*registry.Entity) (map[string]bool, error) {
	args := make([]any, len(ents))
	for i, e := range ents {
		args[i] = e.Code
	}
	rows, err := db.QueryContext(ctx, "SELECT uscc FROM enterprises WHERE uscc IN (?"+strings.Repeat(", ?", len(ents)-1)+")", args...)
	if err != nil {
		return nil, fmt.Errorf("registration: seed: %w", err)
	}
	defer rows.Close()
	have := map[string]bool{}
	for rows.Next() {
		var c string
		if err := rows.Scan(&c); err != nil {
			return nil, err
		}
		have[c] = true
	}
	return have, rows.Err()
}
