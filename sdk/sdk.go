// Package sdk is what a plugin team builds against: Serve runs a plugin process
// that the portal host starts, and the request helpers give a handler the
// caller's verified identity and a client for the host's services.
//
// A plugin is a main package that embeds its plugin.yaml and calls Serve:
//
//	//go:embed plugin.yaml
//	var manifestYAML []byte
//
//	func main() {
//		sdk.Serve(sdk.Plugin{Manifest: manifestYAML, Start: start})
//	}
//
//	func start(ctx context.Context, env *sdk.Env) (http.Handler, error) {
//		// open env.Database, migrate, build routes with any router
//		mux := http.NewServeMux()
//		mux.HandleFunc("GET /hello", hello)
//		return mux, nil
//	}
//
// Routes are ordinary http.Handlers, mounted by the host under
// /api/plugins/<id>/; only the routes declared in plugin.yaml are reachable,
// and the host has checked each route's audience and permission before the
// handler runs. The lifecycle, in order: Describe, Start (once), CheckHealth
// until ready, HandleHTTP/HandleTask/DeliverEvent (concurrently), Drain, Stop.
package sdk

import (
	"context"
	"fmt"
	"log/slog"
	"net/http"
	"os"
	"time"

	goplugin "github.com/hashicorp/go-plugin"
	"google.golang.org/grpc"

	"github.com/shanghai-amr/portal/sdk/manifest"
	"github.com/shanghai-amr/portal/sdk/wire"
)

// Version is the SDK's version, reported to the host in Describe.
const Version = "0.1.0"

// buildVersion is stamped by `portalctl bundle build --version V` with
// -ldflags -X; it overrides the version written in plugin.yaml so that the
// binary and its bundle always agree.
var buildVersion string

// Plugin is a plugin's implementation. Only Manifest and Start are required.
type Plugin struct {
	// Manifest is the plugin.yaml, usually embedded with go:embed.
	Manifest []byte
	// Start runs once when the host starts the process: open env.Database,
	// migrate the schema (expand-only, so the previous version keeps working
	// during a blue/green upgrade), and return the HTTP handler.
	Start func(ctx context.Context, env *Env) (http.Handler, error)
	// Ready reports application readiness; nil means ready once Start returned.
	Ready func(ctx context.Context) error
	// OnTask is called when a task of one of the plugin's task types changes.
	OnTask func(ctx context.Context, t TaskEvent) error
	// OnEvent is called for each event the plugin subscribed to; at least once.
	// Make its effect idempotent by event id, e.g. with Once.
	OnEvent func(ctx context.Context, e Event) error
	// OnJob runs one of the plugin's scheduled jobs (manifest jobs) for the
	// scheduled time slot; once per slot across all host replicas, not
	// retried. A nil error records the run as succeeded.
	OnJob func(ctx context.Context, name string, slot time.Time) error
	// Drain is called when the host has stopped routing to this process: stop
	// background work. The process is stopped after.
	Drain func(ctx context.Context) error
}

// Env is what the host hands a plugin at start.
type Env struct {
	// Manifest is the parsed manifest (with the build-stamped version).
	Manifest *manifest.Manifest
	// Database is the plugin's own database, provisioned by the host.
	Database Database
	// Settings are the plugin's settings at start.
	Settings map[string]string
	// Host is the client for the host's services.
	Host *Host
	// Log writes structured logs that the host collects, tagged with the
	// plugin's id and version.
	Log *slog.Logger
	// ScratchDir is a private folder for temporary files.
	ScratchDir string
	// HostVersion is the version of the host that started the plugin.
	HostVersion string
}

// Database locates the plugin's own database.
type Database struct {
	// Dialect is "sqlite3" or "mysql", as ent names them.
	Dialect string
	// DSN is for database/sql with that dialect's driver.
	DSN string
}

// Serve runs the plugin until the host stops it. It never returns; a manifest
// that does not parse ends the process with a message on stderr.
func Serve(p Plugin) {
	m, raw, err := loadManifest(p.Manifest)
	if err != nil {
		fmt.Fprintln(os.Stderr, "plugin:", err)
		os.Exit(1)
	}
	if p.Start == nil {
		fmt.Fprintln(os.Stderr, "plugin: sdk.Plugin.Start is required")
		os.Exit(1)
	}
	log := newLogger(os.Stderr)
	srv := newServer(p, m, raw, log)
	go exitWithParent()
	goplugin.Serve(&goplugin.ServeConfig{
		HandshakeConfig: wire.Handshake,
		Plugins: goplugin.PluginSet{wire.Name: &wire.GRPCPlugin{
			Impl: srv.withBroker,
		}},
		GRPCServer: func(opts []grpc.ServerOption) *grpc.Server {
			return grpc.NewServer(append(opts, wire.ServerOptions()...)...)
		},
	})
	os.Exit(0)
}

// loadManifest parses the embedded manifest and applies the stamped version.
func loadManifest(b []byte) (*manifest.Manifest, []byte, error) {
	m, err := manifest.Parse(b)
	if err != nil {
		return nil, nil, err
	}
	if buildVersion != "" && buildVersion != m.Version {
		m.Version = buildVersion
		if b, err = m.Marshal(); err != nil {
			return nil, nil, err
		}
	}
	return m, b, nil
}
