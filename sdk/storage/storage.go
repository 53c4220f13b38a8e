// Package storage opens a plugin's own database from the location the host
// provisioned (sdk.Env.Database): an SQLite file through the pure-Go driver, or
// a MySQL-compatible schema through go-sql-driver/mysql. Plugins hand the
// *sql.DB to ent (entsql.OpenDB(dialect, db)) or use it directly.
package storage

import (
	"context"
	"database/sql"
	"fmt"
	"time"

	_ "github.com/go-sql-driver/mysql" // the "mysql" driver
	"modernc.org/sqlite"
)

func init() {
	// The host names SQLite "sqlite3", as ent does; modernc registers "sqlite".
	sql.Register("sqlite3", &sqlite.Driver{})
}

// Open connects to the database and checks it answers.
func Open(ctx context.Context, dialect, dsn string) (*sql.DB, error) {
	switch dialect {
	case "sqlite3", "mysql":
	default:
		return nil, fmt.Errorf("storage: unknown dialect %q", dialect)
	}
	db, err := sql.Open(dialect, dsn)
	if err != nil {
		return nil, fmt.Errorf("storage: open: %w", err)
	}
	if dialect == "sqlite3" {
		db.SetMaxOpenConns(4)
	} else {
		db.SetMaxOpenConns(20)
		db.SetMaxIdleConns(20) // as many as may be open: no reconnecting under load
		db.SetConnMaxLifetime(30 * time.Minute)
	}
	if err := db.PingContext(ctx); err != nil {
		db.Close()
		return nil, fmt.Errorf("storage: ping: %w", err)
	}
	return db, nil
}

// AutoID is the definition of an auto-increment BIGINT primary key column
// in dialect: `CREATE TABLE t (id ` + storage.AutoID(dialect) + `, …)`.
func AutoID(dialect string) string {
	if dialect == "mysql" {
		return "BIGINT AUTO_INCREMENT PRIMARY KEY"
	}
	return "INTEGER PRIMARY KEY AUTOINCREMENT"
}

// AddColumn adds a column to a table unless it has it already: the
// expand-only step of a schema change, safe to run on every start. The probe
// reads no row, so it is the same on SQLite and MySQL; when two versions of a
// plugin start at once during an upgrade, the loser's ALTER fails and its
// second probe finds the column.
func AddColumn(ctx context.Context, db *sql.DB, table, column, decl string) error {
	probe := func() error {
		rows, err := db.QueryContext(ctx, "SELECT "+column+" FROM "+table+" WHERE 1 = 0")
		if err == nil {
			rows.Close()
		}
		return err
	}
	if probe() == nil {
		return nil
	}
	if _, err := db.ExecContext(ctx, "ALTER TABLE "+table+" ADD COLUMN "+column+" "+decl); err != nil && probe() != nil {
		return fmt.Errorf("storage: add column %s.%s: %w", table, column, err)
	}
	return nil
}
