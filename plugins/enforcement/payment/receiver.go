package payment

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"sync"
	"time"
)

// Store records paid orders on the plugin's side.
type Store interface {
	// RecordPayment records n once per order number: a second call for the
	// same order changes nothing and answers duplicate = true. It should
	// also check the order against the plugin's own (case, amount) and
	// answer an error on a mismatch, so the discrepancy is not acknowledged.
	// An error makes the Receiver answer 500, and the platform retries.
	RecordPayment(ctx context.Context, n *Notification) (duplicate bool, err error)
}

// Receiver is the plugin's notification endpoint (the order's NotifyURL):
// it verifies the notification with Gateway.ParseNotification, records it
// once in Store, and answers
//
//   - 200 "SUCCESS" when recorded, and also for a duplicate, so the platform
//     stops retrying (R-PAY-NT-2);
//   - 400 "FAIL" for a forged, stale or malformed notification, which is not
//     recorded;
//   - 500 "FAIL" when the store failed, so the platform retries.
//
// In the plugin's manifest its route has the anonymous audience: the
// signature, not a portal session, authenticates the platform.
type Receiver struct {
	Gateway Gateway
	Store   Store
	// Log defaults to discarding. Refusals are logged with their reason,
	// never with key material.
	Log *slog.Logger
}

// ServeHTTP implements http.Handler.
func (rv Receiver) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	log := rv.Log
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	n, err := rv.Gateway.ParseNotification(r)
	if err != nil {
		if isSignatureError(err) {
			log.Warn("payment notification refused", "error", err, "remote", r.RemoteAddr)
			answer(w, http.StatusBadRequest, "FAIL")
			return
		}
		log.Error("payment notification not verified", "error", err)
		answer(w, http.StatusInternalServerError, "FAIL")
		return
	}
	dup, err := rv.Store.RecordPayment(r.Context(), n)
	if err != nil {
		log.Error("payment notification not recorded", "order", n.OrderNo, "error", err)
		answer(w, http.StatusInternalServerError, "FAIL")
		return
	}
	log.Info("payment notification", "order", n.OrderNo, "notify_id", n.NotifyID, "duplicate", dup)
	answer(w, http.StatusOK, "SUCCESS")
}

func answer(w http.ResponseWriter, status int, body string) {
	w.Header().Set("Content-Type", "text/plain; charset=utf-8")
	w.WriteHeader(status)
	_, _ = w.Write([]byte(body))
}

// ErrConflict is MemoryStore's answer to a second notification of an order
// that disagrees with the first.
var ErrConflict = errors.New("payment: notification disagrees with the recorded payment")

// MemoryStore is a Store in memory, for tests and demos. Its zero value is
// ready to use.
type MemoryStore struct {
	mu    sync.Mutex
	paid  map[string]Notification
	calls int
}

var _ Store = (*MemoryStore)(nil)

// RecordPayment implements Store.
func (s *MemoryStore) RecordPayment(_ context.Context, n *Notification) (bool, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.calls++
	if s.paid == nil {
		s.paid = map[string]Notification{}
	}
	if old, ok := s.paid[n.OrderNo]; ok {
		if old.AmountFen != n.AmountFen || old.SerialNo != n.SerialNo || old.TradeNo != n.TradeNo {
			return true, fmt.Errorf("%w: order %s", ErrConflict, n.OrderNo)
		}
		return true, nil
	}
	s.paid[n.OrderNo] = *n
	return false, nil
}

// Get answers the recorded notification of an order.
func (s *MemoryStore) Get(orderNo string) (Notification, bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	n, ok := s.paid[orderNo]
	return n, ok
}

// Len is the number of orders recorded.
func (s *MemoryStore) Len() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return len(s.paid)
}

// Calls is the number of RecordPayment calls, duplicates included.
func (s *MemoryStore) Calls() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.calls
}

// AwaitResult checks an order's result the way R-PAY-4 asks ("10分钟一次，
// 共3次"): it waits interval, queries, and repeats up to attempts times
// while the order is still pending; it answers the last state seen (maybe
// still pending) — for orders whose notification did not arrive.
func AwaitResult(ctx context.Context, g Gateway, orderNo string, interval time.Duration, attempts int) (*Payment, error) {
	var last *Payment
	var lastErr error
	for i := 0; i < attempts; i++ {
		t := time.NewTimer(interval)
		select {
		case <-ctx.Done():
			t.Stop()
			return last, ctx.Err()
		case <-t.C:
		}
		p, err := g.Query(ctx, orderNo)
		if err != nil {
			if errors.Is(err, ErrNotFound) || errors.Is(err, ErrInvalid) {
				return last, err
			}
			lastErr = err
			continue // transient: the next check may succeed
		}
		last, lastErr = p, nil
		if p.Status != StatusPending {
			return p, nil
		}
	}
	if last == nil {
		return nil, lastErr
	}
	return last, nil
}
