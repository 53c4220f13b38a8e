// Package storetest opens throw-away host databases for tests, on both dialects.
//
// SQLite databases are files in t.TempDir(). MySQL databases are created on the
// server named by PORTAL_TEST_MYSQL_DSN (for example
// root@tcp(127.0.0.1:3306)/, as .ci/run sets it) with a name unique to the test
// and dropped when it ends. Without that variable the MySQL cases skip with a
// message saying so.
package storetest

import (
	"context"
	"crypto/rand"
	"database/sql"
	"encoding/hex"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/go-sql-driver/mysql"

	"github.com/shanghai-amr/portal/host/store"
)

// EnvMySQL names the MySQL server the tests use.
const EnvMySQL = "PORTAL_TEST_MYSQL_DSN"

// Dialects are the dialects every storage test runs on.
var Dialects = []string{"sqlite", "mysql"}

// DSN returns a fresh, empty database location of the dialect, skipping the test
// when MySQL is not configured.
func DSN(t testing.TB, dialect string) string {
	t.Helper()
	if dialect == "sqlite" {
		return "sqlite://" + filepath.Join(t.TempDir(), "portal.db")
	}
	base := os.Getenv(EnvMySQL)
	if base == "" {
		t.Skipf("%s is not set: MySQL suite skipped (set it to e.g. root@tcp(127.0.0.1:3306)/)", EnvMySQL)
	}
	base = strings.TrimPrefix(base, "mysql://")
	cfg, err := mysql.ParseDSN(base)
	if err != nil {
		t.Fatalf("%s: %v", EnvMySQL, err)
	}
	name := DatabaseName(t)
	cfg.DBName = ""
	admin, err := sql.Open("mysql", cfg.FormatDSN())
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	if _, err := admin.ExecContext(ctx, "CREATE DATABASE "+store.QuoteIdent(name)+" CHARACTER SET utf8mb4 COLLATE utf8mb4_unicode_ci"); err != nil {
		admin.Close()
		t.Fatalf("create test database: %v", err)
	}
	t.Cleanup(func() {
		// The test database, and the per-plugin databases the host
		// provisioned beside it (<name>__<plugin>).
		names := []string{name}
		if rows, err := admin.Query("SELECT schema_name FROM information_schema.schemata WHERE schema_name LIKE ?", strings.ReplaceAll(name, "_", `\_`)+`\_\_%`); err == nil {
			for rows.Next() {
				var n string
				if rows.Scan(&n) == nil {
					names = append(names, n)
				}
			}
			rows.Close()
		}
		for _, n := range names {
			_, _ = admin.Exec("DROP DATABASE IF EXISTS " + store.QuoteIdent(n))
		}
		admin.Close()
	})
	cfg.DBName = name
	return "mysql://" + cfg.FormatDSN()
}

var nonIdent = regexp.MustCompile(`[^a-z0-9]+`)

// DatabaseName is a MySQL database name unique to this test run.
func DatabaseName(t testing.TB) string {
	var b [4]byte
	_, _ = rand.Read(b[:])
	n := nonIdent.ReplaceAllString(strings.ToLower(t.Name()), "_")
	if len(n) > 40 {
		n = n[:40]
	}
	return "pt_" + n + "_" + hex.EncodeToString(b[:])
}

// Open returns a migrated store on a fresh database of the dialect.
func Open(t testing.TB, dialect string) *store.Store {
	t.Helper()
	dsn, err := store.ParseDSN(DSN(t, dialect))
	if err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	s, err := store.Open(ctx, dsn)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { s.Close() })
	if _, err := s.Migrate(ctx); err != nil {
		t.Fatal(err)
	}
	return s
}

// Each runs f as a subtest on every dialect.
func Each(t *testing.T, f func(t *testing.T, dialect string)) {
	for _, d := range Dialects {
		t.Run(d, func(t *testing.T) { f(t, d) })
	}
}
