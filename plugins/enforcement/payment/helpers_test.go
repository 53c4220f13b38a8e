package payment

import (
	"bytes"
	"context"
	"errors"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"sync"
	"sync/atomic"
	"testing"
	"time"
)

const testApp = "SHAMR-ENF"

// Key material of the tests; the leak test looks for it in logs.
var (
	key1 = Key{ID: "2025-05", Secret: []byte("k1-secret-0123456789abcdef")}
	key2 = Key{ID: "2025-06", Secret: []byte("k2-secret-fedcba9876543210")}
	evil = Key{ID: "2025-05", Secret: []byte("forger-secret-00000000000")}
)

// start is 2025-05-06 10:00 CST.
var start = time.Date(2025, 5, 6, 10, 0, 0, 0, CST)

type clock struct {
	mu sync.Mutex
	t  time.Time
}

func (c *clock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.t
}

func (c *clock) Add(d time.Duration) {
	c.mu.Lock()
	c.t = c.t.Add(d)
	c.mu.Unlock()
}

// syncBuffer collects log output from several goroutines.
type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

func (s *syncBuffer) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}

// rig is a sandbox platform on loopback (mounted under /gw, as behind a
// proxy prefix), a Client for it, and the plugin's notification endpoint.
type rig struct {
	t           *testing.T
	clk         *clock
	platform    *KeyRing // the platform's keys
	unit        *KeyRing // the unit's keys
	sb          *Sandbox
	gw          *Client
	store       *MemoryStore
	logs        *syncBuffer
	notifyURL   string
	failFirst   atomic.Int32 // the notify endpoint answers 503 to this many requests first
	notifyHits  atomic.Int32
	storeBroken atomic.Bool
}

type brokenStore struct{ r *rig }

func (b brokenStore) RecordPayment(ctx context.Context, n *Notification) (bool, error) {
	if b.r.storeBroken.Load() {
		return false, errors.New("database unavailable")
	}
	return b.r.store.RecordPayment(ctx, n)
}

func newRig(t *testing.T) *rig {
	t.Helper()
	r := &rig{t: t, clk: &clock{t: start}, store: &MemoryStore{}, logs: &syncBuffer{}}
	log := slog.New(slog.NewTextHandler(r.logs, &slog.HandlerOptions{Level: slog.LevelDebug}))
	var err error
	if r.platform, err = NewKeyRing(key1); err != nil {
		t.Fatal(err)
	}
	if r.unit, err = NewKeyRing(key1); err != nil {
		t.Fatal(err)
	}
	var sb *Sandbox
	platformSrv := httptest.NewServer(http.StripPrefix("/gw", http.HandlerFunc(func(w http.ResponseWriter, req *http.Request) {
		sb.ServeHTTP(w, req)
	})))
	t.Cleanup(platformSrv.Close)
	sb, err = NewSandbox(SandboxConfig{AppID: testApp, Keys: r.platform, Now: r.clk.Now, NotifyInterval: 5 * time.Millisecond,
		PublicURL: platformSrv.URL + "/gw", Log: log})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(sb.Close)
	r.sb = sb
	if r.gw, err = NewClient(ClientConfig{BaseURL: platformSrv.URL + "/gw", AppID: testApp, Keys: r.unit, Now: r.clk.Now}); err != nil {
		t.Fatal(err)
	}
	recv := Receiver{Gateway: r.gw, Store: brokenStore{r}, Log: log}
	unitSrv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, req *http.Request) {
		if r.notifyHits.Add(1) <= r.failFirst.Load() {
			http.Error(w, "busy", http.StatusServiceUnavailable)
			return
		}
		recv.ServeHTTP(w, req)
	}))
	t.Cleanup(unitSrv.Close)
	r.notifyURL = unitSrv.URL + "/api/plugins/enforcement/payment/notify"
	return r
}

func (r *rig) order(serial string, fen int64) Order {
	return Order{SerialNo: serial, CaseID: "CASE-2025-0001", PayerName: "上海某某贸易有限公司", AmountFen: fen,
		Description: "行政处罚罚款", NotifyURL: r.notifyURL}
}

func (r *rig) pay(serial string, fen int64) *Payment {
	r.t.Helper()
	p, err := r.gw.Pay(context.Background(), r.order(serial, fen))
	if err != nil {
		r.t.Fatalf("Pay %s: %v", serial, err)
	}
	return p
}

// paid places an order and has the payer pay it; the notification is
// delivered before it returns.
func (r *rig) paid(serial string, fen int64) *Payment {
	r.t.Helper()
	p := r.pay(serial, fen)
	if err := r.sb.Simulate(p.OrderNo, OutcomePaid); err != nil {
		r.t.Fatalf("Simulate %s: %v", p.OrderNo, err)
	}
	r.sb.Wait()
	return p
}

func (r *rig) query(orderNo string) *Payment {
	r.t.Helper()
	p, err := r.gw.Query(context.Background(), orderNo)
	if err != nil {
		r.t.Fatalf("Query %s: %v", orderNo, err)
	}
	return p
}

// post sends a notification request straight to a Receiver like the rig's.
func (r *rig) post(req *http.Request) *httptest.ResponseRecorder {
	rec := httptest.NewRecorder()
	Receiver{Gateway: r.gw, Store: r.store}.ServeHTTP(rec, req)
	return rec
}

func wantErr(t *testing.T, err, want error) {
	t.Helper()
	if !errors.Is(err, want) {
		t.Fatalf("error = %v, want %v", err, want)
	}
}
