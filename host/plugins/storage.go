package plugins

import (
	"context"
	"crypto/rand"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"net/url"
	"os"
	"path/filepath"
	"regexp"
	"strings"

	"entgo.io/ent/dialect"
	"github.com/go-sql-driver/mysql"

	"github.com/shanghai-amr/portal/host/store"
	"github.com/shanghai-amr/portal/host/store/ent"
	"github.com/shanghai-amr/portal/host/store/ent/setting"
	"github.com/shanghai-amr/portal/sdk/proto/pluginv1"
)

// provisioner gives each plugin a database of its own, never the host's:
//   - SQLite: <data-dir>/plugins/data/<id>/data.db
//   - MySQL: a schema <host-db>__<id> and an account that may use only that
//     schema, with a random password kept in the host's settings (scope
//     "host.plugin-db"). The host's own credentials never leave the host.
type provisioner struct {
	hostDSN store.DSN
	st      *store.Store
	dataDir string
}

var nonIdent = regexp.MustCompile(`[^a-z0-9_]`)

// DatabaseName is the MySQL schema of plugin id next to host database hostDB.
func DatabaseName(hostDB, id string) string {
	return hostDB + "__" + nonIdent.ReplaceAllString(strings.ToLower(id), "_")
}

func (p *provisioner) provision(ctx context.Context, id string) (*pluginv1.Database, error) {
	if p.hostDSN.Dialect == dialect.SQLite {
		dir := filepath.Join(p.dataDir, "plugins", "data", id)
		if err := os.MkdirAll(dir, 0o750); err != nil {
			return nil, fmt.Errorf("plugin database: %w", err)
		}
		q := url.Values{}
		for _, pr := range []string{"foreign_keys(1)", "journal_mode(WAL)", "busy_timeout(10000)"} {
			q.Add("_pragma", pr)
		}
		return &pluginv1.Database{Dialect: dialect.SQLite, Dsn: "file:" + filepath.Join(dir, "data.db") + "?" + q.Encode()}, nil
	}
	host, err := mysql.ParseDSN(p.hostDSN.Driver)
	if err != nil {
		return nil, err
	}
	schema := DatabaseName(host.DBName, id)
	sum := sha256.Sum256([]byte(schema))
	account := "pp_" + hex.EncodeToString(sum[:])[:16]
	password, err := p.password(ctx, id)
	if err != nil {
		return nil, err
	}
	for _, stmt := range []string{
		"CREATE DATABASE IF NOT EXISTS " + store.QuoteIdent(schema) + " CHARACTER SET utf8mb4 COLLATE utf8mb4_unicode_ci",
		"CREATE USER IF NOT EXISTS '" + account + "'@'%' IDENTIFIED BY '" + password + "'",
		"ALTER USER '" + account + "'@'%' IDENTIFIED BY '" + password + "'",
		"GRANT ALL PRIVILEGES ON " + store.QuoteIdent(schema) + ".* TO '" + account + "'@'%'",
	} {
		if _, err := p.st.DB.ExecContext(ctx, stmt); err != nil {
			// The statement holds the generated password; name only its verb.
			verb, _, _ := strings.Cut(stmt, " '")
			return nil, fmt.Errorf("plugin database for %s: %s…: %w", id, verb, err)
		}
	}
	cfg := mysql.NewConfig()
	cfg.User, cfg.Passwd, cfg.Net, cfg.Addr, cfg.DBName = account, password, host.Net, host.Addr, schema
	cfg.ParseTime, cfg.Loc, cfg.Collation, cfg.Timeout = true, host.Loc, "utf8mb4_unicode_ci", host.Timeout
	return &pluginv1.Database{Dialect: dialect.MySQL, Dsn: cfg.FormatDSN()}, nil
}

// password returns the plugin account's password, creating it once.
func (p *provisioner) password(ctx context.Context, id string) (string, error) {
	const scope = "host.plugin-db"
	s, err := p.st.Client.Setting.Query().Where(setting.Scope(scope), setting.Key(id)).Only(ctx)
	if err == nil {
		return s.Value, nil
	}
	if !ent.IsNotFound(err) {
		return "", err
	}
	var b [18]byte
	if _, err := rand.Read(b[:]); err != nil {
		return "", err
	}
	pw := hex.EncodeToString(b[:])
	if err := p.st.Client.Setting.Create().SetScope(scope).SetKey(id).SetValue(pw).Exec(ctx); err != nil {
		return "", err
	}
	return pw, nil
}
