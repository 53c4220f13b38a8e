package main

import (
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"strings"
	"unicode/utf8"

	"github.com/shanghai-amr/portal/sdk"
	"github.com/shanghai-amr/portal/sdk/idcode"
	"github.com/shanghai-amr/portal/sdk/proto/pluginv1"
)

// The market-entity registry: the enterprises table, its demo slice, and the
// staff queries.

type enterprise struct {
	USCC        string   `json:"uscc"`
	Name        string   `json:"name"`
	Kind        string   `json:"kind"`
	Status      string   `json:"status"`
	PriorStatus string   `json:"prior_status,omitempty"`
	District    string   `json:"district"`
	LegalRep    string   `json:"legal_rep"`
	Address     string   `json:"address"`
	Established string   `json:"established"`
	Filings     []filing `json:"filings,omitempty"`
}

func (s *service) enterprise(ctx context.Context, uscc string) (*enterprise, error) {
	var e enterprise
	err := s.db.QueryRowContext(ctx, "SELECT uscc, name, kind, status, prior_status, district, legal_rep, address, established FROM enterprises WHERE uscc = ?", uscc).
		Scan(&e.USCC, &e.Name, &e.Kind, &e.Status, &e.PriorStatus, &e.District, &e.LegalRep, &e.Address, &e.Established)
	return &e, err
}

// migrateEnterprises creates the registry's tables (expand-only).
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
	} {
		if _, err := db.ExecContext(ctx, stmt); err != nil {
			return err
		}
	}
	return nil
}

// demo is a small registry for development and the tests; the synthetic
// population generator makes realistic ones at scale.
var demo = []struct{ first17, name, kind, status, district, rep, address, established string }{
	{"91310115MA1K4PTX8", "上海浦东示例科技有限公司", "有限责任公司", "存续", "310115", "张明", "上海市浦东新区张江路100号", "2019-05-20"},
	{"91310115MA1K4PTY5", "上海浦东恒远贸易有限公司", "有限责任公司", "吊销", "310115", "李华", "上海市浦东新区川沙路88号", "2012-03-02"},
	{"92310101MA1K4PTW3", "上海市黄浦区南京东路小吃店", "个体工商户", "存续", "310101", "王芳", "上海市黄浦区南京东路200号", "2020-08-11"},
}

func seedDemo(ctx context.Context, db *sql.DB) error {
	var n int
	if err := db.QueryRowContext(ctx, "SELECT COUNT(*) FROM enterprises").Scan(&n); err != nil || n > 0 {
		return err
	}
	for _, d := range demo {
		c, err := idcode.USCCCheck(d.first17)
		if err != nil {
			return fmt.Errorf("demo %s: %w", d.name, err)
		}
		if _, err := db.ExecContext(ctx, `INSERT INTO enterprises (uscc, name, kind, status, district, legal_rep, address, established)
			VALUES (?, ?, ?, ?, ?, ?, ?, ?)`, d.first17+string(c), d.name, d.kind, d.status, d.district, d.rep, d.address, d.established); err != nil {
			return err
		}
	}
	return nil
}

func (s *service) enterpriseRoutes(mux *http.ServeMux) {
	mux.HandleFunc("GET /enterprises", s.listEnterprises)
	mux.HandleFunc("GET /enterprises/{code}", s.getEnterprise)
}

// listEnterprises: exact code, or a name fragment, within the caller's
// district (the registry's search index at scale is package search).
func (s *service) listEnterprises(w http.ResponseWriter, r *http.Request) {
	q := strings.TrimSpace(r.URL.Query().Get("q"))
	if utf8.RuneCountInString(q) > 50 {
		refuse(w, r, http.StatusBadRequest, "registration.invalid", "查询条件过长", "The query is too long")
		return
	}
	who := sdk.CallerFrom(r.Context())
	query, args := "SELECT uscc FROM enterprises WHERE 1 = 1", []any{}
	if who.Jurisdiction != "city" {
		parts := strings.Split(strings.Trim(who.OrgPath, "/"), "/")
		if len(parts) < 2 {
			writeJSON(w, http.StatusOK, map[string]any{"enterprises": []any{}})
			return
		}
		query += " AND district = ?"
		args = append(args, parts[1])
	}
	if q != "" {
		query += " AND (uscc = ? OR name LIKE ? ESCAPE '!')"
		args = append(args, q, "%"+strings.NewReplacer("!", "!!", "%", "!%", "_", "!_").Replace(q)+"%")
	}
	rows, err := s.db.QueryContext(r.Context(), query+" ORDER BY uscc LIMIT 100", args...)
	if err != nil {
		internal(w, r, err)
		return
	}
	var codes []string
	for rows.Next() {
		var c string
		_ = rows.Scan(&c)
		codes = append(codes, c)
	}
	rows.Close()
	out := []*enterprise{}
	for _, c := range codes {
		if e, err := s.enterprise(r.Context(), c); err == nil {
			out = append(out, e)
		}
	}
	writeJSON(w, http.StatusOK, map[string]any{"enterprises": out})
}

func (s *service) getEnterprise(w http.ResponseWriter, r *http.Request) {
	e, err := s.enterprise(r.Context(), r.PathValue("code"))
	if err == nil {
		res, _ := json.Marshal(map[string]string{"org_path": "/310000/" + e.District})
		d, derr := sdk.HostFrom(r.Context()).Policy.Decide(r.Context(), &pluginv1.DecideRequest{Action: "registration.application.read", Resource: res})
		if derr != nil || !d.Allow {
			err = sql.ErrNoRows
		}
	}
	if errors.Is(err, sql.ErrNoRows) {
		refuse(w, r, http.StatusNotFound, "registration.not_found", "没有该市场主体", "No such entity")
		return
	} else if err != nil {
		internal(w, r, err)
		return
	}
	fs, _ := s.filings(r.Context(), "uscc = ?", e.USCC)
	e.Filings = fs
	writeJSON(w, http.StatusOK, e)
}
