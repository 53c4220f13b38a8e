// Command enforcement is the administrative-penalty plugin (行政处罚): case
// leads (线索, C11) under the 15-working-day check clock, filing approval
// through the host's process engine (P2 joint review), general-procedure
// cases (C12) under the 90-natural-day clock with pauses and extensions, the
// notice of intended penalty with the party's statement window (R-NOT-1),
// the decision, delivery, and archiving into the electronic dossier (C19).
// Documents, numbers, clocks, approvals and the dossier are host services;
// this plugin keeps the case records in its own database.
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
func Plugin() sdk.Plugin {
	return sdk.Plugin{Manifest: manifestYAML, Start: start, OnTask: onTask, OnJob: onJob}
}

// svc is the started service; process callbacks arrive after Start.
var svc *service

type service struct {
	db   *sql.DB
	host *sdk.Host
	log  *slog.Logger
	pay  *payments
}

func start(ctx context.Context, env *sdk.Env) (http.Handler, error) {
	db, err := storage.Open(ctx, env.Database.Dialect, env.Database.DSN)
	if err != nil {
		return nil, err
	}
	for _, m := range []func(context.Context, *sql.DB, string) error{migrate, migrateSummary, migrateSupervision, migrateChanges, migrateExecution, migrateLeadOutcomes} {
		if err := m(ctx, db, env.Database.Dialect); err != nil {
			return nil, err
		}
	}
	s := &service{db: db, host: env.Host, log: env.Log}
	if s.pay, err = s.startPayments(ctx, env.Settings); err != nil {
		return nil, err
	}
	svc = s
	mux := http.NewServeMux()
	mux.HandleFunc("GET /leads", s.listLeads)
	mux.HandleFunc("POST /leads", s.createLead)
	mux.HandleFunc("GET /leads/{id}", s.getLead)
	mux.HandleFunc("POST /leads/{id}/pause", s.requestLeadChange("pause"))
	mux.HandleFunc("POST /leads/{id}/resume", s.requestLeadChange("resume"))
	mux.HandleFunc("POST /leads/{id}/extend", s.requestLeadChange("extend"))
	mux.HandleFunc("POST /leads/{id}/file", s.fileLead)
	mux.HandleFunc("POST /leads/{id}/return", s.returnLead)
	mux.HandleFunc("GET /cases", s.listCases)
	mux.HandleFunc("GET /cases/{id}", s.getCase)
	mux.HandleFunc("POST /cases/{id}/evidence", s.addEvidence)
	mux.HandleFunc("POST /cases/{id}/notice", s.notice)
	s.caseChangeRoutes(mux)
	s.publicationRoutes(mux)
	s.executionRoutes(mux)
	mux.HandleFunc("POST /cases/{id}/hearing/arrange", s.arrangeHearing)
	mux.HandleFunc("POST /cases/{id}/hearing/record", s.recordHearing)
	mux.HandleFunc("POST /cases/{id}/decision", s.decide)
	mux.HandleFunc("POST /cases/{id}/delivery", s.deliver)
	mux.HandleFunc("POST /cases/{id}/close", s.closeCase)
	mux.HandleFunc("GET /my/cases", s.myCases)
	mux.HandleFunc("POST /my/cases/{id}/receipt", s.receipt)
	mux.HandleFunc("POST /my/cases/{id}/statement", s.statement)
	mux.HandleFunc("POST /my/cases/{id}/pay", s.payFine)
	mux.HandleFunc("POST /my/cases/{id}/sandbox-pay", s.sandboxPay)
	mux.HandleFunc("POST /payment/notify", s.notify)
	s.summaryRoutes(mux)
	s.supervisionRoutes(mux)
	return mux, nil
}

// migrate creates the plugin's tables. Changes are expand-only (new tables,
// new nullable columns), so the previous version keeps working while a new
// one starts beside it.
func migrate(ctx context.Context, db *sql.DB, dialect string) error {
	id := storage.AutoID(dialect)
	for _, stmt := range []string{
		`CREATE TABLE IF NOT EXISTS leads (
			id ` + id + `,
			source VARCHAR(32) NOT NULL,
			party_name VARCHAR(100) NOT NULL,
			party_id VARCHAR(18) NOT NULL,
			party_address VARCHAR(200) NOT NULL,
			summary TEXT NOT NULL,
			org_code VARCHAR(64) NOT NULL,
			org_path VARCHAR(512) NOT NULL,
			status VARCHAR(16) NOT NULL,
			track TEXT NOT NULL,
			instance_id VARCHAR(32) NOT NULL DEFAULT '',
			case_id BIGINT NOT NULL DEFAULT 0,
			created_by VARCHAR(64) NOT NULL,
			created_at BIGINT NOT NULL)`,
		`CREATE TABLE IF NOT EXISTS cases (
			id ` + id + `,
			lead_id BIGINT NOT NULL UNIQUE,
			number VARCHAR(64) NOT NULL,
			cause VARCHAR(200) NOT NULL,
			party_name VARCHAR(100) NOT NULL,
			party_id VARCHAR(18) NOT NULL,
			party_address VARCHAR(200) NOT NULL,
			org_code VARCHAR(64) NOT NULL,
			org_path VARCHAR(512) NOT NULL,
			status VARCHAR(16) NOT NULL,
			track TEXT NOT NULL,
			window_days INT NOT NULL DEFAULT 0,
			notice_received_at BIGINT NOT NULL DEFAULT 0,
			fine_fen BIGINT NOT NULL DEFAULT 0,
			findings TEXT,
			delivered_at BIGINT NOT NULL DEFAULT 0,
			created_at BIGINT NOT NULL)`,
		`CREATE TABLE IF NOT EXISTS case_documents (
			id ` + id + `,
			case_id BIGINT NOT NULL,
			type VARCHAR(64) NOT NULL,
			document_id VARCHAR(32) NOT NULL,
			file_id VARCHAR(32) NOT NULL,
			number VARCHAR(128) NOT NULL,
			created_at BIGINT NOT NULL)`,
		`CREATE TABLE IF NOT EXISTS payments (
			id ` + id + `,
			order_no VARCHAR(64) NOT NULL UNIQUE,
			case_id BIGINT NOT NULL,
			amount_fen BIGINT NOT NULL,
			surcharge_fen BIGINT NOT NULL,
			paid_at BIGINT NOT NULL,
			trade_no VARCHAR(64) NOT NULL,
			created_at BIGINT NOT NULL)`,
		`CREATE TABLE IF NOT EXISTS statements (
			id ` + id + `,
			case_id BIGINT NOT NULL,
			party VARCHAR(64) NOT NULL,
			kind VARCHAR(16) NOT NULL,
			body TEXT NOT NULL,
			filed_at BIGINT NOT NULL)`,
	} {
		if _, err := db.ExecContext(ctx, stmt); err != nil {
			return err
		}
	}
	return nil
}
