package store

import (
	"context"
	"crypto/sha256"
	"database/sql"
	"embed"
	"encoding/hex"
	"errors"
	"fmt"
	"io/fs"
	"path"
	"sort"
	"strings"
	"time"

	"ariga.io/atlas/sql/migrate"
	"entgo.io/ent/dialect"
)

//go:embed migrations
var migrationFS embed.FS

// migrationsTable records which migration files have been applied.
const migrationsTable = "portal_schema_migrations"

// Migration is one reviewed SQL file.
type Migration struct {
	Version     string // the file name's leading timestamp, e.g. 20261126170000
	Description string
	Checksum    string // sha256 of the file, hex
	Statements  []string
}

// Migrations returns the embedded migrations of a dialect in the order they apply.
// The folder's atlas.sum is checked first, so a file edited by hand after it was
// generated is refused.
func Migrations(dialectName string) ([]Migration, error) {
	folder := dialectName
	if dialectName == dialect.SQLite {
		folder = "sqlite" // ent calls the dialect "sqlite3"
	}
	dir := path.Join("migrations", folder)
	mem := migrate.OpenMemDir("portal-" + dialectName)
	defer mem.Close()
	mem.Reset()
	entries, err := fs.ReadDir(migrationFS, dir)
	if err != nil {
		return nil, fmt.Errorf("store: no migrations for %s: %w", dialectName, err)
	}
	for _, e := range entries {
		b, err := migrationFS.ReadFile(path.Join(dir, e.Name()))
		if err != nil {
			return nil, err
		}
		if err := mem.WriteFile(e.Name(), b); err != nil {
			return nil, err
		}
	}
	if err := migrate.Validate(mem); err != nil {
		return nil, fmt.Errorf("store: migrations/%s: %w (regenerate atlas.sum with make migration)", dialectName, err)
	}
	files, err := mem.Files()
	if err != nil {
		return nil, err
	}
	out := make([]Migration, 0, len(files))
	for _, f := range files {
		stmts, err := f.Stmts()
		if err != nil {
			return nil, fmt.Errorf("store: migrations/%s/%s: %w", dialectName, f.Name(), err)
		}
		sum := sha256.Sum256(f.Bytes())
		out = append(out, Migration{Version: f.Version(), Description: f.Desc(), Checksum: hex.EncodeToString(sum[:]), Statements: stmts})
	}
	sort.Slice(out, func(i, j int) bool { return out[i].Version < out[j].Version })
	return out, nil
}

// ErrMigrationEdited means a migration recorded as applied differs from the file
// shipped in this binary: someone edited history. Nothing is applied.
var ErrMigrationEdited = errors.New("store: an applied migration was changed")

// Pending returns the migrations not yet applied to this database, after checking
// that every applied one is unchanged.
func (s *Store) Pending(ctx context.Context) ([]Migration, error) {
	all, err := Migrations(s.DSN.Dialect)
	if err != nil {
		return nil, err
	}
	if err := s.ensureMigrationsTable(ctx); err != nil {
		return nil, err
	}
	applied := map[string]string{}
	rows, err := s.DB.QueryContext(ctx, "SELECT version, checksum FROM "+migrationsTable)
	if err != nil {
		return nil, fmt.Errorf("store: read %s: %w", migrationsTable, err)
	}
	defer rows.Close()
	for rows.Next() {
		var v, sum string
		if err := rows.Scan(&v, &sum); err != nil {
			return nil, err
		}
		applied[v] = sum
	}
	if err := rows.Err(); err != nil {
		return nil, err
	}
	var pending []Migration
	for _, m := range all {
		sum, ok := applied[m.Version]
		switch {
		case !ok:
			pending = append(pending, m)
		case sum != m.Checksum:
			return nil, fmt.Errorf("%w: %s_%s", ErrMigrationEdited, m.Version, m.Description)
		}
	}
	return pending, nil
}

func (s *Store) ensureMigrationsTable(ctx context.Context) error {
	ddl := "CREATE TABLE IF NOT EXISTS " + migrationsTable + " (version VARCHAR(32) NOT NULL PRIMARY KEY, description VARCHAR(255) NOT NULL, checksum CHAR(64) NOT NULL, applied_at TIMESTAMP NOT NULL)"
	if s.DSN.Dialect == dialect.MySQL {
		ddl += " CHARACTER SET utf8mb4"
	}
	if _, err := s.DB.ExecContext(ctx, ddl); err != nil {
		return fmt.Errorf("store: create %s: %w", migrationsTable, err)
	}
	return nil
}

// Migrate applies every pending migration in order and returns those it applied.
//
// On SQLite each file runs in one transaction. MySQL commits each DDL statement on
// its own, so a file that fails half-way leaves the statements before it applied;
// the error names the file and the statement so an operator can finish or revert
// it by hand. Concurrent migrators (several replicas starting at once) are
// serialised by a named lock on MySQL and by SQLite's write lock.
func (s *Store) Migrate(ctx context.Context) ([]Migration, error) {
	conn, err := s.DB.Conn(ctx)
	if err != nil {
		return nil, err
	}
	defer conn.Close()
	if s.DSN.Dialect == dialect.MySQL {
		var got sql.NullInt64
		if err := conn.QueryRowContext(ctx, "SELECT GET_LOCK('portal_schema_migrate', 120)").Scan(&got); err != nil || got.Int64 != 1 {
			return nil, fmt.Errorf("store: could not take the migration lock (another portal migrating?): %v", err)
		}
		defer conn.ExecContext(context.WithoutCancel(ctx), "SELECT RELEASE_LOCK('portal_schema_migrate')")
	}
	pending, err := s.Pending(ctx)
	if err != nil {
		return nil, err
	}
	for i, m := range pending {
		if err := s.apply(ctx, conn, m); err != nil {
			return pending[:i], err
		}
	}
	return pending, nil
}

func (s *Store) apply(ctx context.Context, conn *sql.Conn, m Migration) error {
	record := "INSERT INTO " + migrationsTable + " (version, description, checksum, applied_at) VALUES (?, ?, ?, ?)"
	now := time.Now().UTC()
	if s.DSN.Dialect == dialect.SQLite {
		tx, err := conn.BeginTx(ctx, nil)
		if err != nil {
			return err
		}
		defer tx.Rollback()
		for i, stmt := range m.Statements {
			if _, err := tx.ExecContext(ctx, stmt); err != nil {
				return fmt.Errorf("store: migration %s_%s statement %d: %w", m.Version, m.Description, i+1, err)
			}
		}
		if _, err := tx.ExecContext(ctx, record, m.Version, m.Description, m.Checksum, now); err != nil {
			return err
		}
		return tx.Commit()
	}
	for i, stmt := range m.Statements {
		if _, err := conn.ExecContext(ctx, stmt); err != nil {
			return fmt.Errorf("store: migration %s_%s statement %d of %d failed, earlier statements are applied: %w",
				m.Version, m.Description, i+1, len(m.Statements), err)
		}
	}
	_, err := conn.ExecContext(ctx, record, m.Version, m.Description, m.Checksum, now)
	return err
}

// SQL renders migrations as the script an operator reviews (portal migrate --dry-run).
func SQL(ms []Migration) string {
	var b strings.Builder
	for _, m := range ms {
		fmt.Fprintf(&b, "-- migration %s %s (sha256 %s)\n", m.Version, m.Description, m.Checksum)
		for _, st := range m.Statements {
			b.WriteString(strings.TrimSpace(st))
			b.WriteString("\n")
		}
	}
	return b.String()
}
