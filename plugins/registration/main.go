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
	"path/filepath"

	"github.com/shanghai-amr/portal/plugins/registration/departments"
	"github.com/shanghai-amr/portal/sdk"
	"github.com/shanghai-amr/portal/sdk/storage"
)

//go:embed plugin.yaml
var manifestYAML []byte

func main() { sdk.Serve(Plugin()) }

// Plugin is the plugin, exported for its tests.
func Plugin() sdk.Plugin {
	s := &service{}
	return sdk.Plugin{Manifest: manifestYAML, Start: s.start, Drain: s.drain}
}

type service struct {
	db    *sql.DB
	host  *sdk.Host
	log   *slog.Logger
	index *registryIndex // the registry's name index (enterprises_index.go)
	// exchange pushes approved filings to the other departments (exchange.go).
	exchange *departments.Channel
}

func (s *service) start(ctx context.Context, env *sdk.Env) (http.Handler, error) {
	db, err := storage.Open(ctx, env.Database.Dialect, env.Database.DSN)
	if err != nil {
		return nil, err
	}
	for _, migrate := range []func(context.Context, *sql.DB, string) error{migrateEnterprises, migrateFilings, migrateEstablishments} {
		if err := migrate(ctx, db, env.Database.Dialect); err != nil {
			return nil, err
		}
	}
	// The demo registry, unless the operator turns it off for a real one
	// (docs/operator-guide.md).
	if env.Settings["registry.demo"] != "off" {
		if err := seedDemo(ctx, db); err != nil {
			return nil, err
		}
	}
	s.db, s.host, s.log = db, env.Host, env.Log
	snapshot := ""
	if env.ScratchDir != "" {
		snapshot = filepath.Join(env.ScratchDir, "registry.idx")
	}
	s.index = startRegistryIndex(db, env.Log, snapshot)
	if err := s.startExchange(env.Settings); err != nil {
		return nil, err
	}
	mux := http.NewServeMux()
	s.enterpriseRoutes(mux)
	s.filingRoutes(mux)
	s.establishmentRoutes(mux)
	return mux, nil
}

// drain waits, as long as ctx allows, for a running index build to end and
// write its snapshot.
func (s *service) drain(ctx context.Context) error {
	if s.index == nil {
		return nil
	}
	done := make(chan struct{})
	go func() { s.index.wait(); close(done) }()
	select {
	case <-done:
	case <-ctx.Done():
	}
	return nil
}
