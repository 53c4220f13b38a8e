// Package plugintest runs a plugin in an ordinary `go test`, against an
// in-memory host: the plugin's Start runs with a fresh SQLite database, its
// routes are called through the same request conversion the real host uses,
// and its host calls reach in-memory services (audit, settings, person
// pseudonyms) that record what they received. No process, no network, no portal needed.
//
//	func TestCreateNotice(t *testing.T) {
//		h := plugintest.Start(t, Plugin())
//		res := h.Do(t, "POST", "/notices", `{"title":"停电通知","body":"…"}`, plugintest.Staff("zhang", "310115"))
//		if res.Code != 201 { … }
//		if len(h.Audit()) != 1 { … }
//	}
//
// What it does not check: the host's route table, audience and permission
// checks, capability checks and jurisdiction policy (its Policy service allows
// everything and filters nothing); those are the host's, and a plugin's
// integration tests against a real host cover them.
package plugintest

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"net"
	"net/http/httptest"
	"path/filepath"
	"strings"
	"sync"
	"testing"

	"github.com/shanghai-amr/portal/sdk/idcode"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"

	"google.golang.org/grpc"
	"google.golang.org/grpc/credentials/insecure"

	"github.com/shanghai-amr/portal/sdk"
	"github.com/shanghai-amr/portal/sdk/proto/pluginv1"
)

// Harness is a started plugin and its in-memory host.
type Harness struct {
	server pluginv1.PluginServer
	host   *memHost
}

// Start starts p the way the host would, with settings, and stops it when the
// test ends.
func Start(t testing.TB, p sdk.Plugin, settings ...map[string]string) *Harness {
	t.Helper()
	mh := &memHost{settings: map[string]string{}}
	for _, s := range settings {
		for k, v := range s {
			mh.settings[k] = v
		}
	}
	conn := serveHost(t, mh)
	srv, err := sdk.NewServerForTest(p, sdk.NewHost(conn))
	if err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	ctx := context.Background()
	if _, err := srv.Start(ctx, &pluginv1.StartRequest{
		Database: &pluginv1.Database{Dialect: "sqlite3", Dsn: "file:" + filepath.Join(dir, "data.db") + "?_pragma=foreign_keys(1)&_pragma=busy_timeout(5000)"},
		Settings: mh.settings, HostVersion: "test", ScratchDir: dir, Generation: 1,
	}); err != nil {
		t.Fatalf("plugin Start: %v", err)
	}
	h, err := srv.CheckHealth(ctx, &pluginv1.CheckHealthRequest{})
	if err != nil || !h.Ready {
		t.Fatalf("plugin not ready: %v %v", h, err)
	}
	t.Cleanup(func() { _, _ = srv.Drain(ctx, &pluginv1.DrainRequest{}); _, _ = srv.Stop(ctx, &pluginv1.StopRequest{}) })
	return &Harness{server: srv, host: mh}
}

// Staff is a staff caller of an organisation under the city bureau.
func Staff(username, orgCode string) sdk.Caller {
	return sdk.Caller{Audience: "staff", Subject: username, Username: username, OrgCode: orgCode,
		OrgPath: "/310000/" + orgCode, Jurisdiction: "district", Locale: "zh-CN"}
}

// Enterprise is an enterprise signed in with its unified social credit code.
func Enterprise(uscc string) sdk.Caller {
	return sdk.Caller{Audience: "enterprise", Subject: "oidc:test:" + uscc, Username: "test:" + uscc, USCC: uscc, Locale: "zh-CN"}
}

// Person is a member of the public signed in with a real-name identity: its
// PersonKey is what the in-memory host's Identity.PersonKey answers for
// idNumber, as the real host's pseudonyms would match.
func Person(name, idNumber string) sdk.Caller {
	return sdk.Caller{Audience: "public", Subject: "oidc:test:" + name, Username: "test:" + name, DisplayName: name,
		Locale: "zh-CN", PersonKey: personKey(idNumber)}
}

func personKey(idNumber string) string {
	sum := sha256.Sum256([]byte("plugintest\x00" + strings.ToUpper(strings.TrimSpace(idNumber))))
	return hex.EncodeToString(sum[:20])
}

// Anonymous is a caller who is not signed in.
func Anonymous() sdk.Caller { return sdk.Caller{Audience: "anonymous"} }

// Do calls the plugin's route as the host would for caller and returns the
// recorded response.
func (h *Harness) Do(t testing.TB, method, path, body string, caller sdk.Caller) *httptest.ResponseRecorder {
	t.Helper()
	p, q, _ := strings.Cut(path, "?")
	req := &pluginv1.HTTPRequest{Method: method, Path: p, RawQuery: q, Body: []byte(body),
		Caller: sdk.TestCaller(caller), RequestId: "test"}
	if body != "" {
		req.Headers = []*pluginv1.Header{{Name: "Content-Type", Values: []string{"application/json"}}}
	}
	resp, err := h.server.HandleHTTP(context.Background(), req)
	if err != nil {
		t.Fatalf("%s %s: %v", method, path, err)
	}
	rec := httptest.NewRecorder()
	for _, hd := range resp.Headers {
		for _, v := range hd.Values {
			rec.Header().Add(hd.Name, v)
		}
	}
	rec.WriteHeader(int(resp.Status))
	_, _ = rec.Write(resp.Body)
	return rec
}

// Audit returns the audit records the plugin wrote, in order.
func (h *Harness) Audit() []*pluginv1.AuditRecord {
	h.host.mu.Lock()
	defer h.host.mu.Unlock()
	return append([]*pluginv1.AuditRecord(nil), h.host.audit...)
}

// memHost is the in-memory host. Services it does not implement answer
// Unimplemented, as an older host would. Its policy allows everything: the
// host's jurisdiction rules are tested against the real host.
type memHost struct {
	pluginv1.UnimplementedIdentityServer
	pluginv1.UnimplementedAuditServer
	pluginv1.UnimplementedSettingsServer
	pluginv1.UnimplementedPolicyServer
	mu       sync.Mutex
	audit    []*pluginv1.AuditRecord
	settings map[string]string
}

func (m *memHost) Write(_ context.Context, r *pluginv1.AuditRecord) (*pluginv1.AuditAck, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	m.audit = append(m.audit, r)
	return &pluginv1.AuditAck{Seq: int64(len(m.audit))}, nil
}

func (m *memHost) Decide(context.Context, *pluginv1.DecideRequest) (*pluginv1.Decision, error) {
	return &pluginv1.Decision{Allow: true, Reason: "plugintest allows everything"}, nil
}

func (m *memHost) DataFilter(context.Context, *pluginv1.DataFilterRequest) (*pluginv1.DataFilterResponse, error) {
	return &pluginv1.DataFilterResponse{Unconditional: true}, nil
}

func (m *memHost) GetSettings(context.Context, *pluginv1.GetSettingsRequest) (*pluginv1.SettingsMap, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	out := map[string]string{}
	for k, v := range m.settings {
		out[k] = v
	}
	return &pluginv1.SettingsMap{Values: out}, nil
}

func (m *memHost) PutSetting(ctx context.Context, r *pluginv1.PutSettingRequest) (*pluginv1.SettingsMap, error) {
	m.mu.Lock()
	m.settings[r.Key] = r.Value
	m.mu.Unlock()
	return m.GetSettings(ctx, nil)
}

// PersonKey answers as the real host does, with a fixed test key (Person).
func (m *memHost) PersonKey(_ context.Context, r *pluginv1.PersonKeyRequest) (*pluginv1.PersonKeyResponse, error) {
	if err := idcode.ValidResidentID(r.IdNumber); err != nil {
		return nil, status.Errorf(codes.InvalidArgument, "id_number: %v", err)
	}
	return &pluginv1.PersonKeyResponse{PersonKey: personKey(r.IdNumber)}, nil
}

// serveHost serves mh on a loopback gRPC listener (the SDK's host client is a
// gRPC client) and returns a connection to it.
func serveHost(t testing.TB, mh *memHost) *grpc.ClientConn {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	s := grpc.NewServer()
	pluginv1.RegisterIdentityServer(s, mh)
	pluginv1.RegisterAuditServer(s, mh)
	pluginv1.RegisterSettingsServer(s, mh)
	pluginv1.RegisterPolicyServer(s, mh)
	go func() { _ = s.Serve(ln) }()
	conn, err := grpc.NewClient(ln.Addr().String(), grpc.WithTransportCredentials(insecure.NewCredentials()))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { conn.Close(); s.Stop() })
	return conn
}
