// Package plugins runs the business plugins: it verifies and stores bundles,
// starts each plugin as a go-plugin process, routes /api/plugins/<id>/… to it,
// serves the host's services back to it, and installs, upgrades, rolls back,
// enables, disables and uninstalls plugins while the host keeps serving.
//
// Invariants:
//   - a request is served by exactly one generation, which cannot stop until
//     the request has finished (in-flight leases; see generation);
//   - an upgrade or rollback switches traffic only to a generation that has
//     started, migrated and reported ready; on any failure the serving
//     generation keeps serving and the error says why;
//   - a plugin's host calls are checked against its declared capabilities and,
//     on behalf of a user, against that user's rights; both fail closed;
//   - every lifecycle change is persisted in the host database and audited.
package plugins

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"os"
	"path/filepath"
	"runtime"
	"slices"
	"sort"
	"sync"
	"sync/atomic"
	"time"

	"github.com/shanghai-amr/portal/host/pii"

	"google.golang.org/grpc"

	"github.com/shanghai-amr/portal/host/apierror"
	"github.com/shanghai-amr/portal/host/audit"
	"github.com/shanghai-amr/portal/host/clock"
	"github.com/shanghai-amr/portal/host/document"
	"github.com/shanghai-amr/portal/host/dossier"
	"github.com/shanghai-amr/portal/host/event"
	"github.com/shanghai-amr/portal/host/files"
	"github.com/shanghai-amr/portal/host/message"
	"github.com/shanghai-amr/portal/host/policy"
	"github.com/shanghai-amr/portal/host/store"
	"github.com/shanghai-amr/portal/host/store/ent"
	"github.com/shanghai-amr/portal/host/store/ent/plugin"
	"github.com/shanghai-amr/portal/host/store/ent/pluginbundle"
	"github.com/shanghai-amr/portal/host/store/ent/role"
	"github.com/shanghai-amr/portal/host/store/ent/user"
	"github.com/shanghai-amr/portal/host/workflow"
	"github.com/shanghai-amr/portal/sdk/bundle"
	"github.com/shanghai-amr/portal/sdk/manifest"
)

// Options configures the Manager. Zero durations take the defaults given.
type Options struct {
	DataDir string
	Store   *store.Store
	Audit   *audit.Log
	// Policy decides routes, menus and plugin→host calls; plugins' Rego
	// modules are loaded into it. Required.
	Policy *policy.Engine
	// Calendar answers plugins' deadline questions (Clocks service); nil
	// answers Unavailable.
	Calendar *clock.Calendar
	// Workflow serves the Tasks, Processes and Messages services and takes
	// the processes plugins declare; nil answers Unavailable.
	Workflow *workflow.Engine
	// Messages takes the message templates of plugins' manifests (i18n); nil: none.
	Messages *message.Center
	// Events is the host's event bus: plugins publish to it (Events service)
	// and it delivers to them through Manager.Deliver; nil answers Unavailable.
	Events *event.Bus
	// Files, Documents and Dossiers serve the services of the same names
	// (and Numbering); nil answers Unavailable.
	Files     *files.Store
	Documents *document.Service
	Dossiers  *dossier.Service
	// Pseudonyms give each plugin its own pseudonym of a signed-in person
	// (Caller.person_key, Identity.PersonKey); nil: none.
	Pseudonyms  *pii.Pseudonyms
	Log         *slog.Logger
	HostVersion string
	// BodyLimit is the default body limit of plugin routes (a route may set its own).
	BodyLimit int64
	// RouteTimeout bounds a plugin call unless the route sets its own. Default 30 s.
	RouteTimeout time.Duration
	// StartTimeout bounds process start, the plugin's migrations and readiness. Default 60 s.
	StartTimeout time.Duration
	// DrainTimeout bounds the wait for in-flight calls before an old generation stops. Default 30 s.
	DrainTimeout time.Duration
	// CrashBudget crashes within CrashWindow park a plugin as failed. Defaults 5 and 5 min.
	CrashBudget int
	CrashWindow time.Duration
	// RestartDelay is the first back-off after a crash, doubled up to 10 s. Default 100 ms.
	RestartDelay time.Duration
}

// Manager owns the plugins of one host process.
type Manager struct {
	opts   Options
	log    *slog.Logger
	router *Router
	prov   *provisioner
	gens   atomic.Uint64

	sockets string // private folder for the plugins' Unix sockets

	mu      sync.Mutex // serialises lifecycle changes
	running map[string]*running
	logs    map[string]*logRing
	// personKeys bounds each plugin's Identity.PersonKey calls across its
	// generations (hostapi.go).
	personKeys map[string]*rateLimit
}

// running is the serving state of one installed, enabled plugin.
type running struct {
	ref     *storedBundle
	gen     *generation // nil while restarting or parked
	epoch   uint64      // bumped by every lifecycle change; stale restarts give up
	crashes []time.Time
	state   string
	lastErr string
}

// storedBundle is a verified bundle kept under <data-dir>/plugins/bundles/<digest>.
type storedBundle struct {
	manifest *manifest.Manifest
	raw      []byte
	dir      string
	binary   string
	checksum []byte
	digest   string
	keyID    string
}

// New returns a manager; call Start to bring up the enabled plugins.
func New(o Options) *Manager {
	def := func(d *time.Duration, v time.Duration) {
		if *d <= 0 {
			*d = v
		}
	}
	def(&o.RouteTimeout, 30*time.Second)
	def(&o.StartTimeout, 60*time.Second)
	def(&o.DrainTimeout, 30*time.Second)
	def(&o.CrashWindow, 5*time.Minute)
	def(&o.RestartDelay, 100*time.Millisecond)
	if o.CrashBudget <= 0 {
		o.CrashBudget = 5
	}
	if o.BodyLimit <= 0 {
		o.BodyLimit = 1 << 20
	}
	if o.Policy == nil || o.Store == nil || o.Audit == nil || o.Log == nil {
		panic("plugins.New: Store, Audit, Policy and Log are required")
	}
	// Plugin processes run in their own folder: every path handed to them
	// must be absolute.
	if abs, err := filepath.Abs(o.DataDir); err == nil {
		o.DataDir = abs
	}
	sockets, err := os.MkdirTemp("", "portal-plugins-")
	if err != nil {
		// The plugins then use the system's temporary folder, which Close
		// must not remove.
		sockets = ""
	}
	return &Manager{
		opts: o, log: o.Log, router: newRouter(o.Audit, o.Policy, o.Pseudonyms, o.BodyLimit, o.RouteTimeout), sockets: sockets,
		prov:    &provisioner{hostDSN: o.Store.DSN, st: o.Store, dataDir: o.DataDir},
		running: map[string]*running{}, logs: map[string]*logRing{}, personKeys: map[string]*rateLimit{},
	}
}

// Router is the dispatcher to mount on the server.
func (m *Manager) Router() *Router { return m.router }

// API errors of plugin management.
var (
	ErrRefused        = apierror.New(http.StatusBadRequest, "plugin.bundle_refused", nil)
	ErrIncompatible   = apierror.New(http.StatusConflict, "plugin.incompatible", nil)
	ErrExists         = apierror.New(http.StatusConflict, "plugin.exists", nil)
	ErrNotFound       = apierror.New(http.StatusNotFound, "plugin.not_found", nil)
	ErrSameVersion    = apierror.New(http.StatusConflict, "plugin.same_version", nil)
	ErrStartFailed    = apierror.New(http.StatusUnprocessableEntity, "plugin.start_failed", nil)
	ErrNoPrevious     = apierror.New(http.StatusConflict, "plugin.no_previous_version", nil)
	ErrAlreadyInState = apierror.New(http.StatusConflict, "plugin.already_in_state", nil)
)

// Actor is who asks for a lifecycle change, for the audit log.
type Actor struct{ Username, OrgPath, RequestID, IP string }

// Start brings up every plugin recorded as enabled. A plugin that fails to
// start is marked failed; the host serves on.
func (m *Manager) Start(ctx context.Context) error {
	rows, err := m.opts.Store.Client.Plugin.Query().Where(plugin.Enabled(true)).All(ctx)
	if err != nil {
		return fmt.Errorf("plugins: %w", err)
	}
	m.mu.Lock()
	defer m.mu.Unlock()
	for _, p := range rows {
		ref, err := m.loadStored(ctx, p.PluginID, p.Version)
		if err == nil {
			var g *generation
			if g, err = m.startGen(ctx, ref); err == nil {
				m.serve(p.PluginID, ref, g)
				m.setState(ctx, p.PluginID, plugin.StateRunning, "")
				continue
			}
		}
		m.log.Error("plugin failed to start", "plugin", p.PluginID, "version", p.Version, "err", err)
		m.running[p.PluginID] = &running{state: "failed", lastErr: err.Error()}
		m.router.set(p.PluginID, &entry{down: "failed"})
		m.setState(ctx, p.PluginID, plugin.StateFailed, err.Error())
	}
	return nil
}

// Close drains and stops every plugin.
func (m *Manager) Close() {
	m.mu.Lock()
	defer m.mu.Unlock()
	var wg sync.WaitGroup
	for id, r := range m.running {
		r.epoch++
		m.router.set(id, nil)
		if r.gen != nil {
			wg.Add(1)
			go func(g *generation) { defer wg.Done(); g.stop(m.opts.DrainTimeout) }(r.gen)
		}
	}
	wg.Wait()
	if m.sockets != "" {
		_ = os.RemoveAll(m.sockets)
	}
}

// Install verifies a bundle, starts the plugin and routes to it.
func (m *Manager) Install(ctx context.Context, path string, a Actor) (*Info, error) {
	v, err := m.open(path)
	if err != nil {
		return nil, m.audited(ctx, a, "plugin.install", "bundle", err)
	}
	defer v.Close()
	id := v.Manifest.ID
	m.mu.Lock()
	defer m.mu.Unlock()
	if n, err := m.opts.Store.Client.Plugin.Query().Where(plugin.PluginID(id)).Count(ctx); err != nil {
		return nil, err
	} else if n > 0 {
		return nil, m.audited(ctx, a, "plugin.install", "plugin:"+id, ErrExists.WithDetails(map[string]string{"plugin": id}))
	}
	ref, err := m.keep(v)
	if err != nil {
		return nil, err
	}
	g, err := m.startGen(ctx, ref)
	if err != nil {
		return nil, m.audited(ctx, a, "plugin.install", "plugin:"+id+"@"+ref.manifest.Version, startFailed(err))
	}
	err = m.tx(ctx, func(tx *ent.Tx) error {
		if err := m.recordBundle(ctx, tx, ref, a); err != nil {
			return err
		}
		return tx.Plugin.Create().SetPluginID(id).SetVersion(ref.manifest.Version).SetEnabled(true).
			SetState(plugin.StateRunning).Exec(ctx)
	})
	if err != nil {
		g.stop(time.Second)
		return nil, err
	}
	m.serve(id, ref, g)
	_ = m.audited(ctx, a, "plugin.install", "plugin:"+id+"@"+ref.manifest.Version, nil)
	return m.info(ctx, id)
}

// Upgrade starts the bundle's version beside the serving one and switches to
// it once ready; the old generation then drains and stops. If the new version
// fails to start, the old one keeps serving and the error says why.
func (m *Manager) Upgrade(ctx context.Context, id, path string, a Actor) (*Info, error) {
	v, err := m.open(path)
	if err != nil {
		return nil, m.audited(ctx, a, "plugin.upgrade", "plugin:"+id, err)
	}
	defer v.Close()
	if v.Manifest.ID != id {
		return nil, m.audited(ctx, a, "plugin.upgrade", "plugin:"+id,
			ErrRefused.WithDetails(map[string]string{"reason": "id_mismatch"}).Wrap(fmt.Errorf("bundle is for plugin %q, not %q", v.Manifest.ID, id)))
	}
	m.mu.Lock()
	defer m.mu.Unlock()
	p, err := m.pluginRow(ctx, id)
	if err != nil {
		return nil, err
	}
	if p.Version == v.Manifest.Version {
		return nil, ErrSameVersion.WithDetails(map[string]string{"version": p.Version})
	}
	ref, err := m.keep(v)
	if err != nil {
		return nil, err
	}
	return m.replace(ctx, p, ref, a, "plugin.upgrade")
}

// Rollback returns a plugin to the version it ran before its last upgrade.
func (m *Manager) Rollback(ctx context.Context, id string, a Actor) (*Info, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	p, err := m.pluginRow(ctx, id)
	if err != nil {
		return nil, err
	}
	if p.PreviousVersion == "" {
		return nil, ErrNoPrevious
	}
	ref, err := m.loadStored(ctx, id, p.PreviousVersion)
	if err != nil {
		return nil, err
	}
	return m.replace(ctx, p, ref, a, "plugin.rollback")
}

// replace switches plugin p to the stored bundle ref with a blue/green swap.
func (m *Manager) replace(ctx context.Context, p *ent.Plugin, ref *storedBundle, a Actor, action string) (*Info, error) {
	res := fmt.Sprintf("plugin:%s %s→%s", p.PluginID, p.Version, ref.manifest.Version)
	if !p.Enabled {
		return nil, m.audited(ctx, a, action, res, ErrAlreadyInState.WithDetails(map[string]string{"state": "disabled"}))
	}
	g, err := m.startGen(ctx, ref)
	if err != nil {
		return nil, m.audited(ctx, a, action, res, startFailed(err).WithDetails(map[string]string{
			"serving_version": p.Version, "failed_version": ref.manifest.Version, "reason": err.Error()}))
	}
	err = m.tx(ctx, func(tx *ent.Tx) error {
		if err := m.recordBundle(ctx, tx, ref, a); err != nil {
			return err
		}
		return tx.Plugin.UpdateOne(p).SetVersion(ref.manifest.Version).SetPreviousVersion(p.Version).
			SetState(plugin.StateRunning).SetLastError("").Exec(ctx)
	})
	if err != nil {
		g.stop(time.Second)
		return nil, err
	}
	old := m.serve(p.PluginID, ref, g)
	if old != nil {
		old.stop(m.opts.DrainTimeout)
	}
	_ = m.audited(ctx, a, action, res, nil)
	return m.info(ctx, p.PluginID)
}

// Disable stops routing to a plugin and stops its process; its data stays.
func (m *Manager) Disable(ctx context.Context, id string, a Actor) (*Info, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	p, err := m.pluginRow(ctx, id)
	if err != nil {
		return nil, err
	}
	if !p.Enabled {
		return nil, ErrAlreadyInState.WithDetails(map[string]string{"state": "disabled"})
	}
	m.halt(id, &entry{down: "disabled"})
	if err := p.Update().SetEnabled(false).SetState(plugin.StateStopped).Exec(ctx); err != nil {
		return nil, err
	}
	_ = m.audited(ctx, a, "plugin.disable", "plugin:"+id, nil)
	return m.info(ctx, id)
}

// Enable starts a disabled (or failed) plugin again.
func (m *Manager) Enable(ctx context.Context, id string, a Actor) (*Info, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	p, err := m.pluginRow(ctx, id)
	if err != nil {
		return nil, err
	}
	if r := m.running[id]; p.Enabled && r != nil && r.gen != nil {
		return nil, ErrAlreadyInState.WithDetails(map[string]string{"state": "enabled"})
	}
	ref, err := m.loadStored(ctx, id, p.Version)
	if err != nil {
		return nil, err
	}
	g, err := m.startGen(ctx, ref)
	if err != nil {
		m.setState(ctx, id, plugin.StateFailed, err.Error())
		return nil, m.audited(ctx, a, "plugin.enable", "plugin:"+id, startFailed(err))
	}
	if err := p.Update().SetEnabled(true).SetState(plugin.StateRunning).SetLastError("").Exec(ctx); err != nil {
		g.stop(time.Second)
		return nil, err
	}
	m.serve(id, ref, g)
	_ = m.audited(ctx, a, "plugin.enable", "plugin:"+id, nil)
	return m.info(ctx, id)
}

// Uninstall stops a plugin and removes its bundles and records. Its database is
// kept (records are evidence); an operator drops it by hand if wanted.
func (m *Manager) Uninstall(ctx context.Context, id string, a Actor) error {
	m.mu.Lock()
	defer m.mu.Unlock()
	if _, err := m.pluginRow(ctx, id); err != nil {
		return err
	}
	m.halt(id, nil)
	delete(m.running, id)
	bundles, err := m.opts.Store.Client.PluginBundle.Query().Where(pluginbundle.PluginID(id)).All(ctx)
	if err != nil {
		return err
	}
	err = m.tx(ctx, func(tx *ent.Tx) error {
		if _, err := tx.PluginBundle.Delete().Where(pluginbundle.PluginID(id)).Exec(ctx); err != nil {
			return err
		}
		_, err := tx.Plugin.Delete().Where(plugin.PluginID(id)).Exec(ctx)
		return err
	})
	if err != nil {
		return err
	}
	for _, b := range bundles {
		_ = os.RemoveAll(m.bundleDir(b.Digest))
	}
	if err := m.opts.Policy.SetPluginModules(ctx, id, nil); err != nil {
		m.log.Error("remove plugin policies", "plugin", id, "err", err)
	}
	return m.audited(ctx, a, "plugin.uninstall", "plugin:"+id, nil)
}

// halt takes a plugin out of the router (replacing its entry with e) and stops
// its generation after draining.
func (m *Manager) halt(id string, e *entry) {
	m.router.set(id, e)
	if r := m.running[id]; r != nil {
		r.epoch++
		if r.gen != nil {
			r.gen.stop(m.opts.DrainTimeout)
			r.gen = nil
		}
	}
}

// serve publishes g as the generation of ref's plugin, starts watching it for
// crashes, and returns the generation it replaced.
func (m *Manager) serve(id string, ref *storedBundle, g *generation) *generation {
	r := m.running[id]
	if r == nil {
		r = &running{}
		m.running[id] = r
	}
	old := r.gen
	r.ref, r.gen, r.state, r.lastErr = ref, g, "running", ""
	r.epoch++
	m.router.set(id, &entry{gen: g})
	go m.watch(id, g, r.epoch)
	return old
}

// watch restarts a generation that exits on its own, with exponential
// back-off, and parks the plugin after CrashBudget crashes in CrashWindow.
func (m *Manager) watch(id string, g *generation, epoch uint64) {
	<-g.exited()
	if g.stopping.Load() {
		return
	}
	m.log.Error("plugin process exited unexpectedly", "plugin", id, "version", g.version, "generation", g.n)
	_, _ = m.opts.Audit.Write(context.Background(), audit.Entry{Action: "plugin.crashed",
		Resource: "plugin:" + id + "@" + g.version, Outcome: audit.Failure})
	delay := m.opts.RestartDelay
	for {
		m.mu.Lock()
		r := m.running[id]
		if r == nil || r.epoch != epoch {
			m.mu.Unlock()
			return // someone changed the plugin meanwhile
		}
		now := time.Now()
		r.crashes = append(r.crashes, now)
		recent := r.crashes[:0]
		for _, t := range r.crashes {
			if now.Sub(t) < m.opts.CrashWindow {
				recent = append(recent, t)
			}
		}
		r.crashes = recent
		r.gen = nil
		if len(recent) >= m.opts.CrashBudget {
			r.state, r.lastErr = "failed", fmt.Sprintf("crashed %d times within %s; parked", len(recent), m.opts.CrashWindow)
			m.router.set(id, &entry{down: "failed"})
			m.setState(context.Background(), id, plugin.StateFailed, r.lastErr)
			_, _ = m.opts.Audit.Write(context.Background(), audit.Entry{Action: "plugin.parked",
				Resource: "plugin:" + id + "@" + g.version, Outcome: audit.Failure, Detail: map[string]string{"reason": r.lastErr}})
			m.log.Error("plugin parked after repeated crashes; an administrator must enable it again", "plugin", id, "reason", r.lastErr)
			m.mu.Unlock()
			m.tellAdministrators(context.Background(), id, g.version)
			return
		}
		r.state = "restarting"
		m.router.set(id, &entry{down: "restarting"})
		m.mu.Unlock()

		time.Sleep(delay)
		delay = min(delay*2, 10*time.Second)

		m.mu.Lock()
		if r := m.running[id]; r == nil || r.epoch != epoch {
			m.mu.Unlock()
			return
		}
		ng, err := m.startGen(context.Background(), r.ref)
		if err == nil {
			m.serve(id, r.ref, ng)
			m.setState(context.Background(), id, plugin.StateRunning, "")
			m.log.Info("plugin restarted", "plugin", id, "version", ng.version, "generation", ng.n)
			m.mu.Unlock()
			return
		}
		m.log.Error("plugin restart failed", "plugin", id, "err", err)
		r.lastErr = err.Error()
		m.mu.Unlock()
	}
}

// startGen loads the plugin's policies, provisions its database and starts a
// generation of ref. During an upgrade the new version's policies apply from
// here on (they may only restrict, so the old version never gains rights);
// if the new version does not start, the previous policies are restored.
func (m *Manager) startGen(ctx context.Context, ref *storedBundle) (g *generation, err error) {
	id := ref.manifest.ID
	mods := map[string]string{}
	for _, p := range ref.manifest.Policies {
		mods[p.Name+".rego"] = p.Rego
	}
	prev := m.opts.Policy.PluginModules(id)
	if err := m.opts.Policy.SetPluginModules(ctx, id, mods); err != nil {
		return nil, fmt.Errorf("plugin policy: %w", err)
	}
	defer func() {
		if err != nil {
			if rerr := m.opts.Policy.SetPluginModules(context.WithoutCancel(ctx), id, prev); rerr != nil {
				m.log.Error("restore plugin policies", "plugin", id, "err", rerr)
			}
		}
	}()
	db, err := m.prov.provision(ctx, id)
	if err != nil {
		return nil, err
	}
	settings, err := pluginSettings(ctx, m.opts.Store.Client, id)
	if err != nil {
		return nil, err
	}
	scratch := filepath.Join(m.opts.DataDir, "plugins", "scratch", id)
	if err := os.MkdirAll(scratch, 0o700); err != nil {
		return nil, err
	}
	ring := m.logs[id]
	if ring == nil {
		ring = newLogRing()
		m.logs[id] = ring
	}
	personKeys := m.personKeys[id]
	if personKeys == nil {
		personKeys = newRateLimit(personKeyRate, personKeyBurst)
		m.personKeys[id] = personKeys
	}
	if err := m.publishProcesses(ctx, ref.manifest); err != nil {
		return nil, err
	}
	if m.opts.Messages != nil {
		m.opts.Messages.RegisterTemplates(id, ref.manifest.I18n)
	}
	hs := &hostServices{client: m.opts.Store.Client, audit: m.opts.Audit, policy: m.opts.Policy, calendar: m.opts.Calendar, plugin: id,
		manifest: ref.manifest, workflow: m.opts.Workflow, messages: m.opts.Messages, events: m.pluginEvents(ref.manifest),
		files: m.opts.Files, documents: m.opts.Documents, dossiers: m.opts.Dossiers, pseudonyms: m.opts.Pseudonyms, personKeys: personKeys}
	return startGeneration(ctx, spec{
		manifest: ref.manifest, binary: ref.binary, web: filepath.Join(ref.dir, "web"), checksum: ref.checksum, n: m.gens.Add(1),
		database: db, settings: settings.Values, scratchDir: scratch, socketDir: m.sockets, logs: ring, log: m.log,
		startTimeout: m.opts.StartTimeout, hostVersion: m.opts.HostVersion, policy: m.opts.Policy,
		services: func(s *grpc.Server) { registerHostServices(s, hs) },
	})
}

// open verifies a bundle against the trusted keys in <data-dir>/trust and
// checks it suits this host.
func (m *Manager) open(path string) (*bundle.Verified, error) {
	ring, err := bundle.LoadKeyRing(filepath.Join(m.opts.DataDir, "trust"))
	if err != nil {
		return nil, fmt.Errorf("plugins: trusted keys: %w", err)
	}
	work := filepath.Join(m.opts.DataDir, "plugins", "tmp")
	if err := os.MkdirAll(work, 0o700); err != nil {
		return nil, err
	}
	v, err := bundle.OpenIn(path, work, ring, bundle.Limits{})
	if err != nil {
		return nil, ErrRefused.WithDetails(map[string]string{"reason": refusalReason(err), "message": err.Error()}).Wrap(err)
	}
	if err := v.Manifest.CheckCompatible(m.opts.HostVersion, manifest.ProtocolVersion); err != nil {
		v.Close()
		return nil, ErrIncompatible.WithDetails(map[string]string{"message": err.Error()}).Wrap(err)
	}
	for _, mn := range v.Manifest.Menus {
		if mn.Module == "" {
			continue
		}
		if f, err := os.Stat(filepath.Join(v.Dir, "web", filepath.FromSlash(mn.Module))); err != nil || !f.Mode().IsRegular() {
			v.Close()
			msg := fmt.Sprintf("menu %q: module web/%s is not in the bundle", mn.Key, mn.Module)
			return nil, ErrRefused.WithDetails(map[string]string{"reason": "missing_module", "message": msg})
		}
	}
	return v, nil
}

// refusalReason names a bundle refusal for machines.
func refusalReason(err error) string {
	for _, r := range []struct {
		err  error
		name string
	}{
		{bundle.ErrUnsigned, "unsigned"}, {bundle.ErrUnknownKey, "unknown_key"}, {bundle.ErrBadSignature, "bad_signature"},
		{bundle.ErrTampered, "tampered"}, {bundle.ErrUnsafePath, "unsafe_path"}, {bundle.ErrLinkEntry, "link_entry"},
		{bundle.ErrTooLarge, "too_large"}, {bundle.ErrManifestMismatch, "manifest_mismatch"}, {bundle.ErrMalformed, "malformed"},
	} {
		if errors.Is(err, r.err) {
			return r.name
		}
	}
	return "invalid"
}

func startFailed(err error) *apierror.Error {
	return ErrStartFailed.WithDetails(map[string]string{"reason": err.Error()}).Wrap(err)
}

func (m *Manager) bundleDir(digest string) string {
	return filepath.Join(m.opts.DataDir, "plugins", "bundles", digest)
}

// keep moves a verified bundle's files to their content-addressed home.
func (m *Manager) keep(v *bundle.Verified) (*storedBundle, error) {
	bin, sum, err := v.Binary(runtime.GOOS, runtime.GOARCH)
	if err != nil {
		return nil, ErrRefused.WithDetails(map[string]string{"reason": "no_binary_for_platform", "message": err.Error()}).Wrap(err)
	}
	rel, err := filepath.Rel(v.Dir, bin)
	if err != nil {
		return nil, err
	}
	dir := m.bundleDir(v.Digest)
	if _, err := os.Stat(dir); errors.Is(err, os.ErrNotExist) {
		if err := os.MkdirAll(filepath.Dir(dir), 0o750); err != nil {
			return nil, err
		}
		if err := os.Rename(v.Dir, dir); err != nil {
			return nil, fmt.Errorf("plugins: store bundle: %w", err)
		}
	}
	return &storedBundle{manifest: v.Manifest, raw: v.ManifestRaw, dir: dir, binary: filepath.Join(dir, rel),
		checksum: sum, digest: v.Digest, keyID: v.KeyID}, nil
}

// loadStored rebuilds a stored bundle's reference from its database record.
func (m *Manager) loadStored(ctx context.Context, id, version string) (*storedBundle, error) {
	b, err := m.opts.Store.Client.PluginBundle.Query().Where(pluginbundle.PluginID(id), pluginbundle.Version(version)).Only(ctx)
	if ent.IsNotFound(err) {
		return nil, ErrNotFound.WithDetails(map[string]string{"plugin": id, "version": version})
	} else if err != nil {
		return nil, err
	}
	mf, err := manifest.Parse(b.Manifest)
	if err != nil {
		return nil, fmt.Errorf("plugins: stored manifest of %s %s: %w", id, version, err)
	}
	sum, err := hexBytes(b.BinarySha256)
	if err != nil {
		return nil, err
	}
	dir := m.bundleDir(b.Digest)
	return &storedBundle{manifest: mf, raw: b.Manifest, dir: dir,
		binary: filepath.Join(dir, "bin", runtime.GOOS+"_"+runtime.GOARCH, "plugin"), checksum: sum,
		digest: b.Digest, keyID: b.Signer}, nil
}

func (m *Manager) recordBundle(ctx context.Context, tx *ent.Tx, ref *storedBundle, a Actor) error {
	n, err := tx.PluginBundle.Query().Where(pluginbundle.PluginID(ref.manifest.ID), pluginbundle.Version(ref.manifest.Version)).Count(ctx)
	if err != nil || n > 0 {
		return err
	}
	return tx.PluginBundle.Create().SetPluginID(ref.manifest.ID).SetVersion(ref.manifest.Version).
		SetDigest(ref.digest).SetSigner(ref.keyID).SetBinarySha256(fmt.Sprintf("%x", ref.checksum)).
		SetManifest(ref.raw).SetInstalledBy(a.Username).Exec(ctx)
}

func (m *Manager) pluginRow(ctx context.Context, id string) (*ent.Plugin, error) {
	p, err := m.opts.Store.Client.Plugin.Query().Where(plugin.PluginID(id)).Only(ctx)
	if ent.IsNotFound(err) {
		return nil, ErrNotFound.WithDetails(map[string]string{"plugin": id})
	}
	return p, err
}

func (m *Manager) setState(ctx context.Context, id string, s plugin.State, lastErr string) {
	if len(lastErr) > 1000 {
		lastErr = lastErr[:1000]
	}
	if err := m.opts.Store.Client.Plugin.Update().Where(plugin.PluginID(id)).SetState(s).SetLastError(lastErr).Exec(ctx); err != nil {
		m.log.Error("record plugin state", "plugin", id, "err", err)
	}
}

func (m *Manager) tx(ctx context.Context, f func(*ent.Tx) error) error {
	tx, err := m.opts.Store.Client.Tx(ctx)
	if err != nil {
		return err
	}
	if err := f(tx); err != nil {
		_ = tx.Rollback()
		return err
	}
	return tx.Commit()
}

// audited records a lifecycle action's outcome and returns err unchanged.
func (m *Manager) audited(ctx context.Context, a Actor, action, resource string, err error) error {
	e := audit.Entry{Actor: a.Username, Action: action, Resource: resource, Outcome: audit.Success, RequestID: a.RequestID, IP: a.IP, OrgPath: a.OrgPath}
	if err != nil {
		e.Outcome, e.Detail = audit.Failure, map[string]string{"error": err.Error()}
	}
	if _, aerr := m.opts.Audit.Write(context.WithoutCancel(ctx), e); aerr != nil {
		m.log.Error("audit write failed", "action", action, "err", aerr)
	}
	return err
}

// Info is a plugin's state as the admin API shows it.
type Info struct {
	ID              string    `json:"id"`
	Name            string    `json:"name"`
	Version         string    `json:"version"`
	PreviousVersion string    `json:"previous_version,omitempty"`
	Enabled         bool      `json:"enabled"`
	State           string    `json:"state"`
	LastError       string    `json:"last_error,omitempty"`
	Generation      uint64    `json:"generation,omitempty"`
	InFlight        int64     `json:"in_flight"`
	Signer          string    `json:"signer,omitempty"`
	Routes          int       `json:"routes"`
	UpdatedAt       time.Time `json:"updated_at"`
}

// List returns every installed plugin.
func (m *Manager) List(ctx context.Context) ([]*Info, error) {
	rows, err := m.opts.Store.Client.Plugin.Query().Order(ent.Asc(plugin.FieldPluginID)).All(ctx)
	if err != nil {
		return nil, err
	}
	out := make([]*Info, 0, len(rows))
	m.mu.Lock()
	defer m.mu.Unlock()
	for _, p := range rows {
		out = append(out, m.describe(p))
	}
	return out, nil
}

func (m *Manager) info(ctx context.Context, id string) (*Info, error) {
	p, err := m.pluginRow(ctx, id)
	if err != nil {
		return nil, err
	}
	return m.describe(p), nil
}

// Get returns one plugin's state.
func (m *Manager) Get(ctx context.Context, id string) (*Info, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	return m.info(ctx, id)
}

// describe must be called with m.mu held.
func (m *Manager) describe(p *ent.Plugin) *Info {
	in := &Info{ID: p.PluginID, Version: p.Version, PreviousVersion: p.PreviousVersion, Enabled: p.Enabled,
		State: string(p.State), LastError: p.LastError, UpdatedAt: p.UpdatedAt}
	if r := m.running[p.PluginID]; r != nil {
		if r.state != "" {
			in.State = r.state
		}
		if r.ref != nil {
			in.Name, in.Signer, in.Routes = r.ref.manifest.Name["zh-CN"], r.ref.keyID, len(r.ref.manifest.Routes)
		}
		if r.gen != nil {
			in.Generation, in.InFlight = r.gen.n, r.gen.state.Load()&^closedBit
		}
	}
	if !p.Enabled {
		in.State = "disabled"
	}
	return in
}

// Logs returns up to n recent log lines of a plugin.
func (m *Manager) Logs(id string, n int) ([]LogLine, error) {
	m.mu.Lock()
	ring := m.logs[id]
	m.mu.Unlock()
	if ring == nil {
		return []LogLine{}, nil
	}
	return ring.tail(n), nil
}

// MenuItem is a menu entry contributed by a serving plugin.
type MenuItem struct {
	Plugin string `json:"plugin"`
	manifest.Menu
}

// Menus returns the menus of every serving plugin that allow returns true for,
// ordered by parent, order and key.
func (m *Manager) Menus(allow func(plugin string, mn manifest.Menu) bool) []MenuItem {
	out := []MenuItem{} // an empty list, not null, when nothing is visible
	for id, e := range *m.router.table.Load() {
		if e.gen == nil {
			continue
		}
		for _, mn := range e.gen.manifest.Menus {
			if allow(id, mn) {
				out = append(out, MenuItem{Plugin: id, Menu: mn})
			}
		}
	}
	sort.Slice(out, func(i, j int) bool {
		a, b := out[i], out[j]
		if a.Parent != b.Parent {
			return a.Parent < b.Parent
		}
		if a.Order != b.Order {
			return a.Order < b.Order
		}
		return a.Key < b.Key
	})
	return out
}

// InstallDir installs every bundle (*.tar.gz) in dir whose plugin is not
// installed yet; plugins already installed are left alone (upgrades are an
// administrator's explicit act). It is how `make run` and provisioning tools
// bring a fresh host up with its plugins. Failures are logged and skipped.
func (m *Manager) InstallDir(ctx context.Context, dir string) {
	paths, _ := filepath.Glob(filepath.Join(dir, "*.tar.gz"))
	sort.Strings(paths)
	for _, p := range paths {
		in, err := m.Install(ctx, p, Actor{Username: "system"})
		var ae *apierror.Error
		switch {
		case err == nil:
			m.log.Info("plugin installed from bundle folder", "plugin", in.ID, "version", in.Version, "bundle", p)
		case errors.As(err, &ae) && ae.Code == ErrExists.Code:
			m.log.Debug("bundle skipped: plugin already installed", "bundle", p)
		default:
			m.log.Error("bundle from folder not installed", "bundle", p, "err", err)
		}
	}
}

// tellAdministrators sends the users who may manage plugins (plugins.manage)
// a message that plugin id was parked, linking to the plugins page.
func (m *Manager) tellAdministrators(ctx context.Context, id, version string) {
	if m.opts.Messages == nil {
		return
	}
	err := func() error {
		roles, err := m.opts.Store.Client.Role.Query().All(ctx)
		if err != nil {
			return err
		}
		var managing []int
		for _, r := range roles {
			if slices.Contains(r.Permissions, PermManage) {
				managing = append(managing, r.ID)
			}
		}
		users, err := m.opts.Store.Client.User.Query().
			Where(user.HasRolesWith(role.IDIn(managing...)), user.StatusEQ(user.StatusActive)).IDs(ctx)
		if err != nil || len(users) == 0 {
			return err
		}
		if err := m.opts.Messages.Send(ctx, nil, message.Message{Recipients: users, Category: message.CategorySystem,
			Source: id, Template: "message.plugin.parked", Link: "/admin/plugins",
			Params: map[string]any{"Plugin": id + " " + version}}); err != nil {
			return err
		}
		m.opts.Messages.Wake(users...)
		return nil
	}()
	if err != nil {
		m.log.Error("could not tell the administrators that a plugin was parked", "plugin", id, "err", err)
	}
}
