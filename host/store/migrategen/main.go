// Command migrategen writes the next reviewed migration files for the host
// schema, one per dialect, by diffing the ent schema against the replay of the
// existing files on a clean development database.
//
//	go run ./host/store/migrategen -name add_widgets
//
// SQLite needs nothing; MySQL uses a scratch database on the server named by
// PORTAL_DEV_MYSQL_DSN (default: root@tcp(127.0.0.1:3306)), created and dropped here.
package main

import (
	"context"
	"crypto/rand"
	"database/sql"
	"encoding/hex"
	"flag"
	"fmt"
	"os"
	"path/filepath"

	"ariga.io/atlas/sql/migrate"
	"entgo.io/ent/dialect"
	entsql "entgo.io/ent/dialect/sql"
	"entgo.io/ent/dialect/sql/schema"
	"github.com/go-sql-driver/mysql"
	"modernc.org/sqlite"

	entmigrate "github.com/shanghai-amr/portal/host/store/ent/migrate"
)

// migrategen must not import host/store (whose embedded folder it fills), so it
// registers the pure-Go SQLite driver under ent's name itself.
func init() { sql.Register("sqlite3", &sqlite.Driver{}) }

func main() {
	name := flag.String("name", "", "short snake_case description of the change")
	dir := flag.String("dir", "host/store/migrations", "migrations root")
	flag.Parse()
	if *name == "" {
		fmt.Fprintln(os.Stderr, "migrategen: -name is required")
		os.Exit(2)
	}
	ctx := context.Background()
	if err := diff(ctx, dialect.SQLite, filepath.Join(*dir, "sqlite"), *name); err != nil {
		fmt.Fprintln(os.Stderr, "migrategen: sqlite:", err)
		os.Exit(1)
	}
	if err := diff(ctx, dialect.MySQL, filepath.Join(*dir, "mysql"), *name); err != nil {
		fmt.Fprintln(os.Stderr, "migrategen: mysql:", err)
		os.Exit(1)
	}
}

func diff(ctx context.Context, d, path, name string) error {
	db, cleanup, err := devDB(ctx, d)
	if err != nil {
		return err
	}
	defer cleanup()
	if err := os.MkdirAll(path, 0o755); err != nil {
		return err
	}
	local, err := migrate.NewLocalDir(path)
	if err != nil {
		return err
	}
	s := entmigrate.NewSchema(entsql.OpenDB(d, db))
	return s.NamedDiff(ctx, name,
		schema.WithDir(local),
		schema.WithMigrationMode(schema.ModeReplay),
		schema.WithDialect(d),
		schema.WithFormatter(migrate.DefaultFormatter),
		schema.WithDropIndex(true),
		schema.WithDropColumn(true),
	)
}

func devDB(ctx context.Context, d string) (*sql.DB, func(), error) {
	if d == dialect.SQLite {
		db, err := sql.Open("sqlite3", "file:migrategen?mode=memory&_pragma=foreign_keys(1)")
		return db, func() { db.Close() }, err
	}
	base := os.Getenv("PORTAL_DEV_MYSQL_DSN")
	if base == "" {
		base = "root@tcp(127.0.0.1:3306)/"
	}
	cfg, err := mysql.ParseDSN(base)
	if err != nil {
		return nil, nil, err
	}
	var rnd [4]byte
	_, _ = rand.Read(rnd[:])
	cfg.DBName = ""
	admin, err := sql.Open("mysql", cfg.FormatDSN())
	if err != nil {
		return nil, nil, err
	}
	scratch := "portal_migrategen_" + hex.EncodeToString(rnd[:])
	if _, err := admin.ExecContext(ctx, "CREATE DATABASE "+scratch+" CHARACTER SET utf8mb4 COLLATE utf8mb4_unicode_ci"); err != nil {
		admin.Close()
		return nil, nil, err
	}
	cfg.DBName = scratch
	cfg.ParseTime = true
	db, err := sql.Open("mysql", cfg.FormatDSN())
	return db, func() {
		db.Close()
		admin.ExecContext(ctx, "DROP DATABASE "+scratch)
		admin.Close()
	}, err
}
