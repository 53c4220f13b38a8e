// Package store opens the host database and keeps its schema current.
//
// Two dialects are supported and exercised by the tests: an embedded SQLite file
// (pure Go, no cgo; the zero-set-up default) and MySQL-compatible servers
// (MySQL 8, MariaDB 10.11, TiDB, OceanBase) through go-sql-driver/mysql.
//
// The schema is changed only by the reviewed SQL files under migrations/<dialect>,
// applied in order by Migrate and recorded in the portal_schema_migrations table.
// The ent schema in ./schema is the source those files are generated from
// (make migration NAME=...); TestMigrationsMatchSchema fails when they drift.
package store

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"time"

	"entgo.io/ent/dialect"
	entsql "entgo.io/ent/dialect/sql"
	"github.com/go-sql-driver/mysql"
	"modernc.org/sqlite"

	"github.com/shanghai-amr/portal/host/store/ent"
)

func init() {
	// ent and Atlas look SQLite up under the name "sqlite3"; modernc registers
	// itself as "sqlite". Register the pure-Go driver under the name they expect.
	sql.Register("sqlite3", &sqlite.Driver{})
}

// DSN is a parsed database location.
type DSN struct {
	Dialect string // dialect.SQLite or dialect.MySQL
	// Driver is the data source name handed to the database/sql driver.
	Driver string
	// Database is the MySQL schema name, or the SQLite file path.
	Database string
	// redacted is the DSN for messages, with any password removed.
	redacted string
}

// String returns the DSN with its password removed; safe to log.
func (d DSN) String() string { return d.redacted }

// ErrBadDSN is returned by ParseDSN for a location it cannot understand.
var ErrBadDSN = errors.New("store: bad database DSN")

// ParseDSN understands:
//
//	sqlite:///abs/path.db, sqlite://rel/path.db, a bare file path  → embedded SQLite
//	mysql://user:pass@tcp(host:port)/db?param=value                → MySQL-compatible server
//
// For MySQL, parseTime, UTC and utf8mb4 are always set: the schema relies on them.
func ParseDSN(raw string) (DSN, error) {
	raw = strings.TrimSpace(raw)
	switch {
	case raw == "":
		return DSN{}, fmt.Errorf("%w: empty", ErrBadDSN)
	case strings.HasPrefix(raw, "mysql://"):
		cfg, err := mysql.ParseDSN(strings.TrimPrefix(raw, "mysql://"))
		if err != nil {
			return DSN{}, fmt.Errorf("%w: mysql: %s", ErrBadDSN, redactErr(err, raw))
		}
		if cfg.DBName == "" {
			return DSN{}, fmt.Errorf("%w: mysql: no database name (mysql://user:pass@tcp(host:port)/DBNAME)", ErrBadDSN)
		}
		cfg.ParseTime = true
		cfg.Loc = time.UTC
		if cfg.Params == nil {
			cfg.Params = map[string]string{}
		}
		cfg.Collation = "utf8mb4_unicode_ci"
		// One round trip per query instead of prepare, execute and close: the
		// driver escapes arguments itself, which is safe with utf8mb4.
		cfg.InterpolateParams = true
		if cfg.Timeout == 0 {
			cfg.Timeout = 5 * time.Second
		}
		redacted := *cfg
		if redacted.Passwd != "" {
			redacted.Passwd = "***"
		}
		return DSN{Dialect: dialect.MySQL, Driver: cfg.FormatDSN(), Database: cfg.DBName, redacted: "mysql://" + redacted.FormatDSN()}, nil
	case strings.Contains(raw, "://") && !strings.HasPrefix(raw, "sqlite://"):
		scheme, _, _ := strings.Cut(raw, "://")
		return DSN{}, fmt.Errorf("%w: unknown scheme %q (want sqlite:// or mysql://)", ErrBadDSN, scheme)
	}
	path := strings.TrimPrefix(raw, "sqlite://")
	if path == "" {
		return DSN{}, fmt.Errorf("%w: sqlite: no file path", ErrBadDSN)
	}
	q := url.Values{}
	for _, p := range []string{"foreign_keys(1)", "journal_mode(WAL)", "busy_timeout(10000)", "synchronous(NORMAL)"} {
		q.Add("_pragma", p)
	}
	q.Set("_txlock", "immediate")
	return DSN{Dialect: dialect.SQLite, Driver: "file:" + path + "?" + q.Encode(), Database: path, redacted: "sqlite://" + path}, nil
}

// redactErr renders a driver error without echoing a password that it might quote.
func redactErr(err error, raw string) string {
	msg := err.Error()
	if cfg, perr := mysql.ParseDSN(strings.TrimPrefix(raw, "mysql://")); perr == nil && cfg.Passwd != "" {
		msg = strings.ReplaceAll(msg, cfg.Passwd, "***")
	}
	if u, _, ok := strings.Cut(strings.TrimPrefix(raw, "mysql://"), "@"); ok {
		if _, pw, ok := strings.Cut(u, ":"); ok && pw != "" {
			msg = strings.ReplaceAll(msg, pw, "***")
		}
	}
	return msg
}

// Store is an open host database.
type Store struct {
	DSN    DSN
	DB     *sql.DB
	Client *ent.Client
}

// Open connects to the database, creating it when it does not exist yet (the
// SQLite file and its folder, or the MySQL schema with utf8mb4), and checks that
// it answers within the context's deadline. It does not migrate.
func Open(ctx context.Context, dsn DSN) (*Store, error) {
	switch dsn.Dialect {
	case dialect.SQLite:
		if dir := filepath.Dir(dsn.Database); dir != "" {
			if err := os.MkdirAll(dir, 0o750); err != nil {
				return nil, fmt.Errorf("store: create data folder: %w", err)
			}
		}
	case dialect.MySQL:
		if err := ensureMySQLDatabase(ctx, dsn); err != nil {
			return nil, err
		}
	}
	db, err := sql.Open(driverName(dsn.Dialect), dsn.Driver)
	if err != nil {
		return nil, fmt.Errorf("store: open %s: %w", dsn, err)
	}
	if dsn.Dialect == dialect.SQLite {
		// One writer at a time is SQLite's model; a small pool avoids lock churn.
		db.SetMaxOpenConns(4)
	} else {
		db.SetMaxOpenConns(50)
		db.SetMaxIdleConns(50) // as many as may be open: no reconnecting under load
		db.SetConnMaxLifetime(30 * time.Minute)
	}
	if err := db.PingContext(ctx); err != nil {
		db.Close()
		return nil, fmt.Errorf("store: cannot reach %s: %s", dsn, redactErr(err, dsn.Driver))
	}
	client := ent.NewClient(ent.Driver(entsql.OpenDB(dsn.Dialect, db)))
	useAccessEpoch(client)
	return &Store{DSN: dsn, DB: db, Client: client}, nil
}

func driverName(d string) string {
	if d == dialect.SQLite {
		return "sqlite3"
	}
	return "mysql"
}

// ensureMySQLDatabase creates the schema named in the DSN if it is missing.
func ensureMySQLDatabase(ctx context.Context, dsn DSN) error {
	cfg, err := mysql.ParseDSN(dsn.Driver)
	if err != nil {
		return fmt.Errorf("%w: %v", ErrBadDSN, err)
	}
	name := cfg.DBName
	cfg.DBName = ""
	db, err := sql.Open("mysql", cfg.FormatDSN())
	if err != nil {
		return fmt.Errorf("store: open %s: %w", dsn, err)
	}
	defer db.Close()
	if err := db.PingContext(ctx); err != nil {
		return fmt.Errorf("store: cannot reach %s: %s", dsn, redactErr(err, dsn.Driver))
	}
	if _, err := db.ExecContext(ctx, "CREATE DATABASE IF NOT EXISTS "+QuoteIdent(name)+" CHARACTER SET utf8mb4 COLLATE utf8mb4_unicode_ci"); err != nil {
		return fmt.Errorf("store: create database %q on %s: %s", name, dsn, redactErr(err, dsn.Driver))
	}
	return nil
}

// QuoteIdent quotes a MySQL identifier.
func QuoteIdent(name string) string { return "`" + strings.ReplaceAll(name, "`", "``") + "`" }

// Ping checks the database answers; used by the readiness probe.
func (s *Store) Ping(ctx context.Context) error { return s.DB.PingContext(ctx) }

// Close closes the ent client and the pool.
func (s *Store) Close() error { return s.Client.Close() }
