// Command registration is the registration plugin (企业登记): the market-entity
// registry and the business-suspension filing (歇业备案一口办理, cluster D,
// modules 40–70). An enterprise files online; the review is a to-do for its
// district's registration reviewers in the workbench; on approval the
// entity's status becomes 歇业, the signed 歇业备案通知书 is issued by the host
// and enterprise.status_changed is published. Extension within the 30 days
// before expiry (R32/47); termination restores the prior status (R39).
package main

import (
	"context"
	"database/sql"
	_ "embed"
	"fmt"
	"log/slog"
	"net/http"

	"github.com/shanghai-amr/portal/sdk"
	"github.com/shanghai-amr/portal/sdk/idcode"
	"github.com/shanghai-amr/portal/sdk/storage"
)

//go:embed plugin.yaml
var manifestYAML []byte

func main() { sdk.Serve(Plugin()) }

// Plugin is the plugin, exported for its tests.
func Plugin() sdk.Plugin { return sdk.Plugin{Manifest: manifestYAML, Start: start} }

type service struct {
	db   *sql.DB
	host *sdk.Host
	log  *slog.Logger
}

func start(ctx context.Context, env *sdk.Env) (http.Handler, error) {
	db, err := storage.Open(ctx, env.Database.Dialect, env.Database.DSN)
	if err != nil {
		return nil, err
	}
	if err := migrate(ctx, db, env.Database.Dialect); err != nil {
		return nil, err
	}
	if err := seedDemo(ctx, db); err != nil {
		return nil, err
	}
	s := &service{db: db, host: env.Host, log: env.Log}
	mux := http.NewServeMux()
	mux.HandleFunc("GET /enterprises", s.listEnterprises)
	mux.HandleFunc("GET /enterprises/{code}", s.getEnterprise)
	mux.HandleFunc("GET /suspensions", s.listFilings)
	mux.HandleFunc("GET /suspensions/{id}", s.getFiling)
	mux.HandleFunc("POST /suspensions/{id}/approve", s.decide(true))
	mux.HandleFunc("POST /suspensions/{id}/reject", s.decide(false))
	mux.HandleFunc("GET /my/enterprise", s.myEnterprise)
	mux.HandleFunc("POST /my/suspensions", s.file)
	mux.HandleFunc("POST /my/suspensions/{id}/extend", s.extend)
	mux.HandleFunc("POST /my/suspensions/{id}/terminate", s.terminate)
	return mux, nil
}

// migrate creates the plugin's tables (expand-only).
func migrate(ctx context.Context, db *sql.DB, dialect string) error {
	id := "INTEGER PRIMARY KEY AUTOINCREMENT"
	if dialect == "mysql" {
		id = "BIGINT AUTO_INCREMENT PRIMARY KEY"
	}
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
		`CREATE TABLE IF NOT EXISTS filings (
			id ` + id + `,
			kind VARCHAR(16) NOT NULL,
			parent_id BIGINT NOT NULL DEFAULT 0,
			uscc VARCHAR(18) NOT NULL,
			district VARCHAR(6) NOT NULL,
			org_path VARCHAR(64) NOT NULL,
			reason TEXT NOT NULL,
			start_date VARCHAR(10) NOT NULL,
			end_date VARCHAR(10) NOT NULL,
			service_address VARCHAR(200) NOT NULL,
			status VARCHAR(16) NOT NULL,
			task_id VARCHAR(32) NOT NULL DEFAULT '',
			document_id VARCHAR(32) NOT NULL DEFAULT '',
			number VARCHAR(128) NOT NULL DEFAULT '',
			note TEXT,
			created_at BIGINT NOT NULL)`,
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
