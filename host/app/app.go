// Package app assembles the host from its parts — configuration, store, HTTP
// server — and runs it. cmd/portal is a thin shell around it; integration tests
// build an App directly.
package app

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"time"

	"entgo.io/ent/dialect"
	"github.com/gin-gonic/gin"
	"github.com/go-sql-driver/mysql"
	"github.com/spf13/afero"

	"github.com/shanghai-amr/portal/host/audit"
	"github.com/shanghai-amr/portal/host/clock"
	"github.com/shanghai-amr/portal/host/config"
	"github.com/shanghai-amr/portal/host/devidp"
	"github.com/shanghai-amr/portal/host/dict"
	"github.com/shanghai-amr/portal/host/document"
	"github.com/shanghai-amr/portal/host/dossier"
	"github.com/shanghai-amr/portal/host/event"
	"github.com/shanghai-amr/portal/host/files"
	"github.com/shanghai-amr/portal/host/i18n"
	"github.com/shanghai-amr/portal/host/identity"
	"github.com/shanghai-amr/portal/host/message"
	"github.com/shanghai-amr/portal/host/org"
	"github.com/shanghai-amr/portal/host/pii"
	"github.com/shanghai-amr/portal/host/plugins"
	"github.com/shanghai-amr/portal/host/policy"
	"github.com/shanghai-amr/portal/host/seal"
	"github.com/shanghai-amr/portal/host/server"
	"github.com/shanghai-amr/portal/host/store"
	"github.com/shanghai-amr/portal/host/store/ent/processdefinition"
	"github.com/shanghai-amr/portal/host/store/ent/setting"
	"github.com/shanghai-amr/portal/host/ui"
	"github.com/shanghai-amr/portal/host/workflow"
)

// Version is the host's version, set at build time with -ldflags.
var Version = "0.1.0-dev"

// App is a configured host.
type App struct {
	Config   config.Config
	Log      *slog.Logger
	Store    *store.Store
	Server   *server.Server
	Audit    *audit.Log
	Plugins  *plugins.Manager
	Workflow *workflow.Engine
	Messages *message.Center
	Events   *event.Bus
	Jobs     *event.Scheduler
	Calendar *clock.Calendar
	Files    *files.Store
	Docs     *document.Service
	Dossiers *dossier.Service
	// AdminTokenCreated reports that a new bootstrap token was written to
	// <data-dir>/admin.token at this start.
	AdminTokenCreated bool
	// AdminPassword is the generated password of the bootstrap "admin"
	// account, set only at the start that created it (shown once).
	AdminPassword string
	// DemoLogins are the demo accounts (with --demo).
	DemoLogins []identity.DemoLogin
}

// NewLogger builds the process logger from the configuration.
func NewLogger(c config.Config, w io.Writer) *slog.Logger {
	var level slog.Level
	_ = level.UnmarshalText([]byte(c.LogLevel))
	opts := &slog.HandlerOptions{Level: level}
	if c.LogFormat == "text" {
		return slog.New(slog.NewTextHandler(w, opts))
	}
	return slog.New(slog.NewJSONHandler(w, opts))
}

// OpenStore parses the DSN and connects, with a deadline so that an unreachable
// server fails fast.
func OpenStore(ctx context.Context, c config.Config) (*store.Store, error) {
	dsn, err := store.ParseDSN(c.DSN())
	if err != nil {
		return nil, err
	}
	// The MySQL driver prints some connection errors itself; they are reported
	// through our error instead.
	_ = mysql.SetLogger(log0{})
	return store.Open(ctx, dsn)
}

type log0 struct{}

func (log0) Print(...any) {}

// New opens the store, migrates it when configured to, and builds the server.
func New(ctx context.Context, c config.Config, log *slog.Logger) (*App, error) {
	st, err := OpenStore(ctx, c)
	if err != nil {
		return nil, err
	}
	pending, err := st.Pending(ctx)
	if err != nil {
		st.Close()
		return nil, err
	}
	if len(pending) > 0 {
		if !c.AutoMigrate {
			st.Close()
			return nil, fmt.Errorf("the database needs %d migration(s); review them with `portal migrate --dry-run` and apply with `portal migrate`", len(pending))
		}
		applied, err := st.Migrate(ctx)
		if err != nil {
			st.Close()
			return nil, err
		}
		for _, m := range applied {
			log.Info("migration applied", "version", m.Version, "description", m.Description)
		}
	}
	if c.Demo {
		created, err := org.SeedDemo(ctx, st.Client)
		if err != nil {
			st.Close()
			return nil, fmt.Errorf("demo data: %w", err)
		}
		if created {
			log.Info("demo data created", "organisations", "city bureau, 16 district bureaus, 48 market stations")
		}
	}
	cat, err := i18n.New()
	if err != nil {
		st.Close()
		return nil, err
	}
	srv := server.New(server.Options{
		Logger: log, Catalog: cat, BodyLimit: c.BodyLimit,
		RequestTimeout: c.RequestTimeout, ShutdownTimeout: c.ShutdownTimeout,
	})
	srv.AddReadinessCheck("database", st.Ping)

	tok, created, err := identity.LoadAdminToken(c.DataDir, os.Getenv("PORTAL_ADMIN_TOKEN"))
	if err != nil {
		st.Close()
		return nil, err
	}
	al := audit.New(st.Client, nil)
	pol, err := policy.New(ctx)
	if err != nil {
		st.Close()
		return nil, err
	}
	if err := identity.EnsureBuiltinRoles(ctx, st.Client); err != nil {
		st.Close()
		return nil, err
	}
	adminPassword, err := identity.EnsureBootstrapAdmin(ctx, st.Client, os.Getenv("PORTAL_ADMIN_PASSWORD"))
	if err != nil {
		st.Close()
		return nil, fmt.Errorf("bootstrap administrator: %w", err)
	}
	sealer, err := loadPIIKeys(c.DataDir, os.Getenv("PORTAL_PII_KEYS"), log)
	if err != nil {
		st.Close()
		return nil, err
	}
	var demo []identity.DemoLogin
	if c.Demo {
		if demo, err = identity.SeedDemoUsers(ctx, st.Client, sealer); err != nil {
			st.Close()
			return nil, fmt.Errorf("demo users: %w", err)
		}
	}
	pseudonyms, err := loadPersonKey(c.DataDir, os.Getenv("PORTAL_PERSON_KEY"), log)
	if err != nil {
		st.Close()
		return nil, fmt.Errorf("person pseudonym key: %w", err)
	}
	sessions := identity.NewSessions(st.Client, al, identity.Options{Sealer: sealer, Pseudonyms: pseudonyms,
		MaxFailures: c.LoginMaxFailures, FailureWindow: c.LoginWindow, LockFor: c.LoginLockout,
		IdleTimeout: c.SessionIdleTimeout, AbsoluteTimeout: c.SessionAbsoluteTTL})
	auth := identity.Middleware(identity.Guard{Policy: pol, Audit: al}, sessions, tok)
	sessions.MountAPI(srv, auth)
	sessions.MountAdminAPI(srv, auth)
	providers, err := externalProviders(c, srv, log)
	if err != nil {
		st.Close()
		return nil, err
	}
	identity.NewExternal(sessions, providers...).MountAPI(srv)
	al.MountAPI(srv, auth, identity.Require("audit.read"))
	if err := loadPublishedPolicies(ctx, st, pol, log); err != nil {
		st.Close()
		return nil, err
	}
	pol.MountAPI(srv, []gin.HandlerFunc{auth, identity.Require("policies.read")},
		[]gin.HandlerFunc{auth, identity.Require("policies.manage")}, publishPolicy(st, al))
	cal, err := clock.New()
	if err != nil {
		st.Close()
		return nil, err
	}
	if err := loadCalendars(ctx, st, cal, log); err != nil {
		st.Close()
		return nil, err
	}
	cal.MountAPI(srv, []gin.HandlerFunc{auth, identity.Require("workbench.use")},
		[]gin.HandlerFunc{auth, identity.Require("calendars.manage")}, persistCalendar(st, al))
	// External channels: SMS for 催办 and 督办, e-mail for deadline warnings.
	// The adapters here log what they would send (masked); a deployment
	// replaces them with its SMS gateway and mail relay.
	sms, mail := message.NewLogChannel("sms", log), message.NewLogChannel("email", log)
	msgs := message.New(message.Options{Client: st.Client, Catalog: cat, Log: log, OpenMobile: sealer.Open,
		Channels: map[string][]message.Channel{message.CategoryUrge: {sms}, message.CategorySupervise: {sms}, message.CategoryDeadline: {mail}}})
	msgs.MountAPI(srv, auth, identity.Require("workbench.use"))
	wf := workflow.New(workflow.Options{Client: st.Client, Calendar: cal, Audit: al, Messages: msgs,
		LockRows: st.DSN.Dialect == dialect.MySQL, Log: log})
	wf.MountAPI(srv, auth)
	if c.Demo {
		if err := seedDemoProcess(ctx, wf, st); err != nil {
			st.Close()
			return nil, fmt.Errorf("demo process: %w", err)
		}
	}
	dicts := dict.New(st.Client, al)
	if err := dicts.Seed(ctx, dict.Defaults()...); err != nil {
		st.Close()
		return nil, err
	}
	dicts.MountAPI(srv, auth)
	fileStore, docs, dossiers, err := openDocuments(c, st, al, pol, log)
	if err != nil {
		st.Close()
		return nil, err
	}
	fileStore.MountAPI(srv, auth)
	docs.MountAPI(srv, auth, pol)
	dossiers.MountAPI(srv, auth, pol, fileStore)
	srv.SetFallback(ui.Handler())
	var natsOpts *event.NATSOptions
	if c.NATSURL != "" {
		natsOpts = &event.NATSOptions{URL: c.NATSURL, Stream: c.NATSStream}
	}
	bus := event.NewBus(event.Options{Client: st.Client, Log: log, Audit: al, NATS: natsOpts})
	pm := plugins.New(plugins.Options{Calendar: cal, Events: bus,
		DataDir: c.DataDir, Store: st, Audit: al, Policy: pol, Log: log, HostVersion: Version,
		BodyLimit: c.BodyLimit, RouteTimeout: c.RequestTimeout, Workflow: wf, Messages: msgs,
		Files: fileStore, Documents: docs, Dossiers: dossiers, Pseudonyms: pseudonyms,
	})
	wf.SetCallbacks(pm.TaskCallbacks())
	bus.Attach(pm.Subscribers, pm)
	bus.MountAPI(srv, auth, identity.Require("plugins.manage"))
	jobs := event.NewScheduler(event.SchedulerOptions{Client: st.Client, Jobs: pm.Jobs, Deliverer: pm, Log: log, Location: clock.Shanghai})
	pm.Router().Mount(srv, auth)
	pm.MountAPI(srv, auth)
	if err := pm.Start(ctx); err != nil {
		st.Close()
		return nil, err
	}
	if c.Bundles != "" {
		pm.InstallDir(ctx, c.Bundles)
	}
	return &App{Config: c, Log: log, Store: st, Server: srv, Audit: al, Plugins: pm, Workflow: wf, Messages: msgs, Events: bus, Jobs: jobs,
		Calendar: cal, Files: fileStore, Docs: docs, Dossiers: dossiers, AdminTokenCreated: created,
		AdminPassword: adminPassword, DemoLogins: demo}, nil
}

// externalProviders configures enterprise (一网通办) and public (随申办)
// sign-in: the configured OIDC providers, and with --dev-idp the built-in
// development provider for any that is not configured.
func externalProviders(c config.Config, srv *server.Server, log *slog.Logger) ([]identity.ExternalProvider, error) {
	base := c.BaseURL()
	callback := func(name string) string { return base + "/api/v1/auth/oidc/" + name + "/callback" }
	var out []identity.ExternalProvider
	var dev []devidp.Client
	for _, p := range []struct{ name, audience, issuer, id, secret string }{
		{"yiwangtongban", identity.Enterprise, c.EnterpriseIssuer, c.EnterpriseClientID, c.EnterpriseClientSecret},
		{"suishenban", identity.Public, c.PublicIssuer, c.PublicClientID, c.PublicClientSecret},
	} {
		ep := identity.ExternalProvider{Name: p.name, Audience: p.audience, Issuer: p.issuer, ClientID: p.id,
			ClientSecret: p.secret, RedirectURL: callback(p.name)}
		if p.issuer == "" {
			if !c.DevIDP {
				continue
			}
			ep.Issuer, ep.ClientID, ep.ClientSecret, ep.Development = base+"/dev-idp", "portal-"+p.name, randomSecret(), true
			dev = append(dev, devidp.Client{ID: ep.ClientID, Secret: ep.ClientSecret, RedirectURI: ep.RedirectURL})
		}
		out = append(out, ep)
	}
	if len(dev) > 0 {
		idp, err := devidp.New(base+"/dev-idp", dev...)
		if err != nil {
			return nil, err
		}
		idp.Mount(srv.Engine(), "/dev-idp")
		log.Warn("the development identity provider is enabled: anyone can sign in as any enterprise or person; never enable it in production",
			"issuer", base+"/dev-idp")
	}
	return out, nil
}

func randomSecret() string {
	b := make([]byte, 24)
	_, _ = rand.Read(b)
	return hex.EncodeToString(b)
}

// LoadPIIKeys is loadPIIKeys for commands (portal pii reseal).
func LoadPIIKeys(dataDir string, log *slog.Logger) (*pii.Sealer, error) {
	return loadPIIKeys(dataDir, os.Getenv("PORTAL_PII_KEYS"), log)
}

// loadPIIKeys returns the sealer for personal data. Keys come from
// PORTAL_PII_KEYS; without it a key is generated once into
// <data-dir>/pii.keys (mode 0600) so that a single machine works out of the
// box — production deployments set the variable from their secret store and
// back the key up, since data sealed with a lost key cannot be read.
func loadPIIKeys(dataDir, env string, log *slog.Logger) (*pii.Sealer, error) {
	if env != "" {
		return pii.ParseKeys(env)
	}
	path := filepath.Join(dataDir, "pii.keys")
	b, err := os.ReadFile(path)
	if errors.Is(err, os.ErrNotExist) {
		spec := pii.NewKeySpec("k" + time.Now().UTC().Format("20060102"))
		if err := os.MkdirAll(dataDir, 0o750); err != nil {
			return nil, err
		}
		if err := os.WriteFile(path, []byte(spec+"\n"), 0o600); err != nil {
			return nil, err
		}
		log.Warn("generated a personal-data key; set PORTAL_PII_KEYS in production and back it up", "file", path)
		b = []byte(spec)
	} else if err != nil {
		return nil, err
	}
	return pii.ParseKeys(strings.TrimSpace(string(b)))
}

// loadPersonKey returns the pseudonyms of people's identity numbers
// (pii.Pseudonyms). The key comes from PORTAL_PERSON_KEY (hex, ≥ 16 bytes);
// without it one is generated once into <data-dir>/person.key (mode 0600).
// Changing it changes every pseudonym: signatures recorded by plugins would
// no longer match their signers, so production keeps it in its secret store.
func loadPersonKey(dataDir, env string, log *slog.Logger) (*pii.Pseudonyms, error) {
	spec := strings.TrimSpace(env)
	if spec == "" {
		path := filepath.Join(dataDir, "person.key")
		b, err := os.ReadFile(path)
		spec = strings.TrimSpace(string(b))
		if errors.Is(err, os.ErrNotExist) {
			spec = randomSecret() + randomSecret()[:16] // 32 bytes, hex
			if err := os.MkdirAll(dataDir, 0o750); err != nil {
				return nil, err
			}
			if err := os.WriteFile(path, []byte(spec+"\n"), 0o600); err != nil {
				return nil, err
			}
			log.Warn("generated a person pseudonym key; set PORTAL_PERSON_KEY in production and back it up", "file", path)
		} else if err != nil {
			return nil, err
		}
	}
	key, err := hex.DecodeString(spec)
	if err != nil {
		return nil, fmt.Errorf("PORTAL_PERSON_KEY is not hex: %w", err)
	}
	return pii.NewPseudonyms(key)
}

// policyScope is the settings scope of host policy modules published at run time.
const policyScope = "host.policy"

// loadPublishedPolicies applies the host modules administrators published; one
// that no longer compiles (after an upgrade, say) is skipped with an error log,
// and the shipped module stays in force.
func loadPublishedPolicies(ctx context.Context, st *store.Store, pol *policy.Engine, log *slog.Logger) error {
	rows, err := st.Client.Setting.Query().Where(setting.Scope(policyScope)).All(ctx)
	if err != nil {
		return err
	}
	for _, r := range rows {
		if err := pol.SetHostModule(ctx, r.Key, r.Value); err != nil {
			log.Error("published policy module no longer compiles; the shipped one stays in force", "module", r.Key, "err", err)
		}
	}
	return nil
}

// publishPolicy stores a published module and audits it.
func publishPolicy(st *store.Store, al *audit.Log) policy.Publisher {
	return func(ctx context.Context, name, src string) error {
		err := st.Client.Setting.Create().SetScope(policyScope).SetKey(name).SetValue(src).
			OnConflictColumns(setting.FieldScope, setting.FieldKey).UpdateValue().UpdateUpdatedAt().Exec(ctx)
		if err != nil {
			return err
		}
		who := identity.From(ctx)
		_, err = al.Write(ctx, audit.Entry{Actor: who.Username, OrgPath: who.OrgPath, Action: "policy.publish",
			Resource: "policy:host/" + name, Outcome: audit.Success, Detail: map[string]any{"bytes": len(src)}})
		return err
	}
}

// demoProcess is a general approval (通用审批) any staff member can start
// from the workbench: the initiator's leader approves, a copy goes to the
// legal reviewers of the bureau for amounts over 10,000.
const demoProcess = `{"title":{"zh-CN":"通用审批","en":"General approval"},"nodes":[
 {"id":"leader","type":"approval","name":"负责人审批","name_en":"Head of unit","approvers":{"type":"initiator_leader"},
  "empty":"admin","deadline":{"unit":"working_days","amount":3,"start_rule":"next_day"}},
 {"id":"amount","type":"condition","branches":[
  {"when":"form.amount > 10000","nodes":[{"id":"legal","type":"cc","approvers":{"type":"role","role":"legal_reviewer"}}]},
  {"nodes":[]}]}]}`

func seedDemoProcess(ctx context.Context, wf *workflow.Engine, st *store.Store) error {
	exists, err := st.Client.ProcessDefinition.Query().Where(processdefinition.Key("general_approval")).Exist(ctx)
	if err != nil || exists {
		return err
	}
	_, err = wf.Publish(ctx, "general_approval", "", "", "admin", []byte(demoProcess), "system")
	return err
}

// calendarScope is the settings scope of holiday schedules loaded by administrators.
const calendarScope = "host.calendar"

// loadCalendars loads the schedules administrators published (they replace
// a shipped year of the same number).
func loadCalendars(ctx context.Context, st *store.Store, cal *clock.Calendar, log *slog.Logger) error {
	rows, err := st.Client.Setting.Query().Where(setting.Scope(calendarScope)).All(ctx)
	if err != nil {
		return err
	}
	for _, r := range rows {
		y, err := clock.ParseYear([]byte(r.Value))
		if err == nil {
			err = cal.Load(y)
		}
		if err != nil {
			log.Error("a stored holiday schedule no longer loads; the shipped one (if any) stays in force", "year", r.Key, "err", err)
		}
	}
	return nil
}

// persistCalendar stores a loaded schedule and audits it.
func persistCalendar(st *store.Store, al *audit.Log) clock.Persist {
	return func(ctx context.Context, y clock.Year) error {
		b, err := json.Marshal(y)
		if err != nil {
			return err
		}
		err = st.Client.Setting.Create().SetScope(calendarScope).SetKey(strconv.Itoa(y.Year)).SetValue(string(b)).
			OnConflictColumns(setting.FieldScope, setting.FieldKey).UpdateValue().UpdateUpdatedAt().Exec(ctx)
		if err != nil {
			return err
		}
		who := identity.From(ctx)
		_, err = al.Write(ctx, audit.Entry{Actor: who.Username, OrgPath: who.OrgPath, Action: "calendar.load",
			Resource: fmt.Sprintf("calendar:%d", y.Year), Outcome: audit.Success,
			Detail: map[string]any{"holidays": len(y.Holidays), "workdays": len(y.Workdays)}})
		return err
	}
}

// Run serves until ctx ends, then shuts down gracefully and closes the store.
func (a *App) Run(ctx context.Context) error {
	defer a.Close()
	ctx, stop := context.WithCancel(ctx)
	defer stop()
	var busErr error
	busDone := make(chan struct{})
	go func() {
		defer close(busDone)
		// In NATS mode the bus fails at once when the server cannot be
		// reached: the portal then stops rather than run without events.
		if err := a.Events.Run(ctx); err != nil && ctx.Err() == nil {
			busErr = fmt.Errorf("event bus: %w", err)
			stop()
		}
	}()
	go func() {
		if err := a.Jobs.Run(ctx); err != nil && ctx.Err() == nil {
			a.Log.Error("job scheduler stopped", "err", err)
		}
	}()
	go a.purgeAudit(ctx)
	go a.Workflow.RunSweeper(ctx, time.Minute)
	go func() {
		// Live message streams never end by themselves: close them when
		// shutdown begins so that it does not wait for them.
		<-ctx.Done()
		a.Messages.Close()
	}()
	err := a.Server.Run(ctx, a.Config.Addr)
	stop()
	<-busDone // deliveries in flight finish before plugins and the store close
	if busErr != nil {
		return busErr
	}
	return err
}

// purgeAudit applies the audit retention at start and then daily.
func (a *App) purgeAudit(ctx context.Context) {
	t := time.NewTicker(24 * time.Hour)
	defer t.Stop()
	for {
		n, err := a.Audit.Purge(ctx, a.Config.AuditRetention)
		switch {
		case err != nil && ctx.Err() == nil:
			a.Log.Error("audit retention", "err", err)
		case n > 0:
			a.Log.Info("audit entries past retention purged", "count", n, "retention", a.Config.AuditRetention.String())
		}
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
	}
}

// Close stops the plugins and closes the store; Run calls it after the last
// request has finished.
func (a *App) Close() error {
	a.Plugins.Close()
	a.Messages.Close()
	return a.Store.Close()
}

// Fatal prints err as one line on stderr and exits 1. Used by commands for
// start-up failures, which an operator reads, not a log collector.
func Fatal(prog string, err error) {
	var exit interface{ ExitCode() int }
	code := 1
	if errors.As(err, &exit) {
		code = exit.ExitCode()
	}
	fmt.Fprintf(os.Stderr, "%s: %v\n", prog, err)
	os.Exit(code)
}

// openDocuments builds the file store (<data-dir>/files), the seal key store
// (<data-dir>/keys/seal), the document service and the electronic dossier.
func openDocuments(c config.Config, st *store.Store, al *audit.Log, pol *policy.Engine, log *slog.Logger) (*files.Store, *document.Service, *dossier.Service, error) {
	osFs := afero.NewOsFs()
	filesDir := filepath.Join(c.DataDir, "files")
	if err := os.MkdirAll(filesDir, 0o700); err != nil {
		return nil, nil, nil, fmt.Errorf("files: %w", err)
	}
	fs := files.New(files.Options{Client: st.Client, Fs: afero.NewBasePathFs(osFs, filesDir), Audit: al, Policy: pol})
	keys, err := seal.OpenKeystore(osFs, seal.Dir(c.DataDir), seal.KeystoreOptions{})
	if err != nil {
		return nil, nil, nil, fmt.Errorf("seal keys: %w", err)
	}
	docs, err := document.New(document.Options{Client: st.Client, Audit: al, Files: fs, Keys: keys, Log: log,
		VerifyURL: c.BaseURL() + "/verify/"})
	if err != nil {
		return nil, nil, nil, err
	}
	ds := dossier.New(dossier.Options{Client: st.Client, Audit: al, Blobs: fs, Scanner: files.EICARScanner{},
		Notary: seal.Notary{Keys: keys, Subject: seal.ArchiveSubject}, Kinds: dossier.DefaultKinds,
		LockRows: st.DSN.Dialect == dialect.MySQL, Log: log})
	return fs, docs, ds, nil
}
