package plugins

import (
	"context"
	"crypto/sha256"
	"errors"
	"fmt"
	"log/slog"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	goplugin "github.com/hashicorp/go-plugin"
	"google.golang.org/grpc"

	"github.com/shanghai-amr/portal/host/identity"
	"github.com/shanghai-amr/portal/host/policy"
	"github.com/shanghai-amr/portal/sdk/manifest"
	"github.com/shanghai-amr/portal/sdk/proto/pluginv1"
	"github.com/shanghai-amr/portal/sdk/wire"
)

// A generation is one running process of one plugin version. Upgrades start a
// new generation beside the old one; the router swaps to it, then the old one
// drains and stops. A generation is never reused after it stops.
type generation struct {
	id, version string
	n           uint64
	manifest    *manifest.Manifest
	web         string // the verified bundle's web/ folder
	routes      *routeTable
	client      *goplugin.Client
	rpc         *wire.Client
	hostSrv     atomic.Pointer[grpc.Server] // set when the plugin dials the broker
	log         *slog.Logger
	pol         *policy.Engine

	// state counts in-flight calls; closedBit is set once draining starts, after
	// which acquire fails and the caller re-reads the router table.
	state   atomic.Int64
	drained chan struct{}
	once    sync.Once
	// stopping is set when the host ends the process on purpose, so the
	// supervisor does not treat the exit as a crash.
	stopping atomic.Bool

	// tokens maps a call token to the identity of the in-flight request it was
	// issued for; plugin→host calls present it to act on that user's behalf.
	tokens sync.Map
}

const closedBit = int64(1) << 62

// acquire registers an in-flight call; false once the generation drains.
func (g *generation) acquire() bool {
	for {
		s := g.state.Load()
		if s&closedBit != 0 {
			return false
		}
		if g.state.CompareAndSwap(s, s+1) {
			return true
		}
	}
}

func (g *generation) release() {
	if g.state.Add(-1) == closedBit {
		g.once.Do(func() { close(g.drained) })
	}
}

// drain stops new calls and waits (bounded) for in-flight ones to finish. It
// reports how many were still running when the wait ended.
func (g *generation) drain(timeout time.Duration) int64 {
	if g.state.Or(closedBit) == 0 {
		g.once.Do(func() { close(g.drained) })
	}
	select {
	case <-g.drained:
		return 0
	case <-time.After(timeout):
		return g.state.Load() &^ closedBit
	}
}

// exited is closed when the process has exited.
func (g *generation) exited() <-chan struct{} { return g.rpc.Exited }

func (g *generation) alive() bool {
	select {
	case <-g.rpc.Exited:
		return false
	default:
		return true
	}
}

// spec is what is needed to start a generation.
type spec struct {
	manifest   *manifest.Manifest // from the verified bundle
	binary     string
	web        string // the bundle's web/ folder
	checksum   []byte // sha256 of the binary, from the signed statement
	n          uint64
	database   *pluginv1.Database
	settings   map[string]string
	scratchDir string
	// socketDir holds the plugin's Unix socket; kept short because socket
	// paths are limited to 108 bytes.
	socketDir string
	logs      *logRing
	log       *slog.Logger
	// services registers the host's services; startGeneration puts the
	// capability guard in front of them.
	services func(s *grpc.Server)
	// startTimeout bounds process start, Start (migrations) and readiness.
	startTimeout time.Duration
	hostVersion  string
	policy       *policy.Engine
}

// errStart wraps every failure to bring a generation up.
var errStart = errors.New("plugin did not start")

// startGeneration starts the process, checks it is the plugin the bundle says,
// hands it its configuration and waits until it reports ready. On any failure
// the process is ended and nothing is left running.
func startGeneration(ctx context.Context, sp spec) (g *generation, err error) {
	ctx, cancel := context.WithTimeout(ctx, sp.startTimeout)
	defer cancel()
	m := sp.manifest
	log := sp.log.With("plugin", m.ID, "version", m.Version, "generation", sp.n)

	cmd := exec.Command(sp.binary)
	// Plugins get no host environment: no database passwords, no tokens.
	// TMPDIR is where go-plugin puts the socket, so it must be short.
	cmd.Env = []string{"PATH=/usr/local/bin:/usr/bin:/bin", "TZ=" + os.Getenv("TZ"), "HOME=" + sp.scratchDir, "TMPDIR=" + sp.socketDir}
	cmd.Dir = sp.scratchDir
	client := goplugin.NewClient(&goplugin.ClientConfig{
		HandshakeConfig:  wire.Handshake,
		Plugins:          goplugin.PluginSet{wire.Name: &wire.GRPCPlugin{}},
		Cmd:              cmd,
		SecureConfig:     &goplugin.SecureConfig{Checksum: sp.checksum, Hash: sha256.New()},
		AllowedProtocols: []goplugin.Protocol{goplugin.ProtocolGRPC},
		AutoMTLS:         true,
		SkipHostEnv:      true,
		UnixSocketConfig: &goplugin.UnixSocketConfig{TempDir: sp.socketDir},
		StartTimeout:     sp.startTimeout,
		Logger:           sp.logs.hclogger(m.Version, log),
		GRPCDialOptions:  wire.DialOptions(),
	})
	defer func() {
		if err != nil {
			client.Kill()
			err = fmt.Errorf("%w: %s %s: %w", errStart, m.ID, m.Version, err)
		}
	}()
	rpcClient, err := client.Client()
	if err != nil {
		return nil, fmt.Errorf("handshake: %w", err)
	}
	raw, err := rpcClient.Dispense(wire.Name)
	if err != nil {
		return nil, fmt.Errorf("dispense: %w", err)
	}
	wc := raw.(*wire.Client)
	desc, err := wc.Describe(ctx, &pluginv1.DescribeRequest{})
	if err != nil {
		return nil, fmt.Errorf("describe: %w", err)
	}
	got, err := manifest.Parse(desc.Manifest)
	if err != nil {
		return nil, fmt.Errorf("binary's manifest: %w", err)
	}
	if got.ID != m.ID || got.Version != m.Version {
		return nil, fmt.Errorf("the binary is %s %s but the bundle says %s %s", got.ID, got.Version, m.ID, m.Version)
	}
	routes, err := compileRoutes(m.Routes)
	if err != nil {
		return nil, err
	}
	g = &generation{id: m.ID, version: m.Version, n: sp.n, manifest: m, web: sp.web, routes: routes,
		client: client, rpc: wc, log: log, pol: sp.policy, drained: make(chan struct{})}

	brokerID := wc.Broker.NextId()
	go wc.Broker.AcceptAndServe(brokerID, func(opts []grpc.ServerOption) *grpc.Server {
		s := grpc.NewServer(append(opts, grpc.MaxRecvMsgSize(wire.MaxMessageBytes), grpc.ChainUnaryInterceptor(guard(g)))...)
		sp.services(s)
		g.hostSrv.Store(s)
		return s
	})
	started, err := wc.Start(ctx, &pluginv1.StartRequest{
		HostBrokerId: brokerID, Database: sp.database, Settings: sp.settings,
		HostVersion: sp.hostVersion, ScratchDir: sp.scratchDir, Generation: sp.n,
		HostPid: int64(os.Getpid()),
	})
	if err != nil {
		return nil, fmt.Errorf("start: %w", err)
	}
	wc.UseDirect(started, cmd.Process.Pid, log)
	if dir := directDir(started.DirectSocket, sp.socketDir); dir != "" {
		// A plugin removes its direct channel's folder when it stops; one
		// that crashed cannot.
		go func() {
			<-wc.Exited
			_ = os.RemoveAll(dir)
		}()
	}
	if err := waitReady(ctx, wc); err != nil {
		return nil, err
	}
	log.Info("plugin generation ready")
	return g, nil
}

// directDir is the folder of a plugin's direct socket, if it is one the
// host may remove when the process has gone: a "direct-*" folder directly in
// the sockets folder the host gave the plugin (its TMPDIR). The path comes
// from the plugin, so nothing else is ever taken for it.
func directDir(socket, socketDir string) string {
	if socket == "" || socketDir == "" {
		return ""
	}
	dir := filepath.Dir(filepath.Clean(socket))
	if filepath.Dir(dir) != filepath.Clean(socketDir) || !strings.HasPrefix(filepath.Base(dir), "direct-") {
		return ""
	}
	return dir
}

func waitReady(ctx context.Context, wc *wire.Client) error {
	delay := 20 * time.Millisecond
	for {
		h, err := wc.CheckHealth(ctx, &pluginv1.CheckHealthRequest{})
		if err == nil && h.Ready {
			return nil
		}
		msg := "not ready"
		if err != nil {
			msg = err.Error()
		} else if h.Message != "" {
			msg = h.Message
		}
		select {
		case <-ctx.Done():
			return fmt.Errorf("readiness: %s", msg)
		case <-wc.Exited:
			return errors.New("process exited before it was ready")
		case <-time.After(delay):
		}
		delay = min(delay*2, 500*time.Millisecond)
	}
}

// stop drains in-flight calls, lets the plugin drain its own work, and ends
// the process. It is safe to call on a dead generation.
func (g *generation) stop(drainTimeout time.Duration) {
	g.stopping.Store(true)
	if left := g.drain(drainTimeout); left > 0 {
		g.log.Warn("drain timed out; stopping with calls in flight", "in_flight", left)
	}
	g.rpc.Close()
	if g.alive() {
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		if _, err := g.rpc.Drain(ctx, &pluginv1.DrainRequest{DeadlineUnixMs: time.Now().Add(5 * time.Second).UnixMilli()}); err != nil {
			g.log.Warn("plugin drain", "err", err)
		}
		_, _ = g.rpc.Stop(ctx, &pluginv1.StopRequest{})
		cancel()
	}
	if s := g.hostSrv.Load(); s != nil {
		s.Stop()
	}
	g.client.Kill()
	g.log.Info("plugin generation stopped")
}

// policy is the engine the generation's host services decide with.
func (g *generation) policy() *policy.Engine { return g.pol }

// callIdentity resolves a call token to the identity of its in-flight request.
func (g *generation) callIdentity(token string) (*identity.Identity, bool) {
	v, ok := g.tokens.Load(token)
	if !ok {
		return nil, false
	}
	return v.(*identity.Identity), true
}
