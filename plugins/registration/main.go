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
	"log/slog"
	"net/http"

	"github.com/shanghai-amr/portal/sdk"
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
	for _, migrate := range []func(context.Context, *sql.DB, string) error{migrateEnterprises, migrateFilings} {
		if err := migrate(ctx, db, env.Database.Dialect); err != nil {
			return nil, err
		}
	}
	if err := seedDemo(ctx, db); err != nil {
		return nil, err
	}
	s := &service{db: db, host: env.Host, log: env.Log}
	mux := http.NewServeMux()
	s.enterpriseRoutes(mux)
	s.filingRoutes(mux)
	return mux, nil
}

// migrateFilings creates the filings' tables (expand-only).
func migrateFilings(ctx context.Context, db *sql.DB, dialect string) error {
	id := "INTEGER PRIMARY KEY AUTOINCREMENT"
	if dialect == "mysql" {
		id = "BIGINT AUTO_INCREMENT PRIMARY KEY"
	}
	for _, stmt := range []string{
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
