package main

import (
	"context"
	"crypto/sha256"
	"database/sql"
	"errors"
	"fmt"
	"net"
	"net/http"
	"time"

	"github.com/shanghai-amr/portal/plugins/enforcement/payment"
	"github.com/shanghai-amr/portal/plugins/enforcement/rules"
	"github.com/shanghai-amr/portal/sdk/proto/pluginv1"
)

// Fines are paid through the city's unified public payment platform (C10).
// In development the plugin runs the payment sandbox (package payment) on a
// loopback port and talks to it over HTTP with the same client a deployment
// points at the real platform (settings payment.url, payment.app_id,
// payment.key). The platform's notifications arrive at the anonymous route
// /payment/notify, signed (HMAC-SM3); each order is recorded once.

// defaultNotifyURL is where notifications go unless the setting
// payment.notify_url says otherwise (make run's address).
const defaultNotifyURL = "http://127.0.0.1:8080/api/plugins/enforcement/payment/notify"

type payments struct {
	gateway  payment.Gateway
	sandbox  *payment.Sandbox // nil against a real platform
	receiver *payment.Receiver
}

// startPayments connects to the platform, or starts the sandbox.
func (s *service) startPayments(ctx context.Context, settings map[string]string) (*payments, error) {
	secret := settings["payment.key"]
	if secret == "" {
		// Development only: a key derived from nothing secret. A deployment
		// sets payment.key (and rotates it monthly, R-PAY-NT-5).
		sum := sha256.Sum256([]byte("enforcement payment sandbox (development)"))
		secret = string(sum[:])
	}
	key := payment.Key{ID: "dev", Secret: []byte(secret)}
	keys, err := payment.NewKeyRing(key)
	if err != nil {
		return nil, err
	}
	p := &payments{}
	url := settings["payment.url"]
	if url == "" {
		sb, err := payment.NewSandbox(payment.SandboxConfig{AppID: "samr-enforcement", Keys: keys, NotifyInterval: 2 * time.Second, Log: s.log})
		if err != nil {
			return nil, err
		}
		ln, err := net.Listen("tcp", "127.0.0.1:0")
		if err != nil {
			return nil, err
		}
		srv := &http.Server{Handler: sb, ReadHeaderTimeout: 10 * time.Second}
		go func() { _ = srv.Serve(ln) }()
		p.sandbox = sb
		url = "http://" + ln.Addr().String()
	}
	client, err := payment.NewClient(payment.ClientConfig{BaseURL: url, AppID: "samr-enforcement", Keys: keys})
	if err != nil {
		return nil, err
	}
	p.gateway = client
	p.receiver = &payment.Receiver{Gateway: client, Store: s, Log: s.log}
	return p, nil
}

// RecordPayment records a notified payment once per order (payment.Store),
// checking it against the order the plugin placed.
func (s *service) RecordPayment(ctx context.Context, n *payment.Notification) (bool, error) {
	var caseID, amount int64
	var paidAt int64
	err := s.db.QueryRowContext(ctx, "SELECT case_id, amount_fen, paid_at FROM payments WHERE order_no = ?", n.OrderNo).Scan(&caseID, &amount, &paidAt)
	if errors.Is(err, sql.ErrNoRows) {
		return false, fmt.Errorf("notification for unknown order %s", n.OrderNo)
	} else if err != nil {
		return false, err
	}
	if amount != n.AmountFen || fmt.Sprint(caseID) != n.CaseID {
		return false, fmt.Errorf("notification for order %s does not match it (case %s, %d fen)", n.OrderNo, n.CaseID, n.AmountFen)
	}
	res, err := s.db.ExecContext(ctx, "UPDATE payments SET paid_at = ?, trade_no = ? WHERE order_no = ? AND paid_at = 0", ms(n.PaidAt), n.TradeNo, n.OrderNo)
	if err != nil {
		return false, err
	}
	if k, _ := res.RowsAffected(); k == 0 {
		return true, nil // already recorded: a repeated notification
	}
	b := fmt.Sprintf(`{"order":%q,"amount_fen":%d}`, n.OrderNo, n.AmountFen)
	_, _ = s.host.Audit.Write(ctx, &pluginv1.AuditRecord{Action: "case.paid", Resource: fmt.Sprintf("case:%d", caseID), Outcome: "success", Detail: []byte(b)})
	return false, nil
}

// notify is the platform's notification endpoint (anonymous; the signature is
// the authentication).
func (s *service) notify(w http.ResponseWriter, r *http.Request) {
	s.pay.receiver.ServeHTTP(w, r)
}

// payFine places a payment order for the party's fine (the decision must have
// been delivered): the fine plus the late-payment surcharge of R-EXE-2, valid
// for 15 minutes (R-PAY-2).
func (s *service) payFine(w http.ResponseWriter, r *http.Request) {
	c, ok := s.myCase(w, r)
	if !ok {
		return
	}
	if c.DeliveredAt == nil || c.FineFen <= 0 {
		fail(w, r, http.StatusConflict, "enforcement.state", c.Status, nil)
		return
	}
	var paid, attempts int64
	_ = s.db.QueryRowContext(r.Context(), "SELECT COUNT(*), COALESCE(SUM(CASE WHEN paid_at > 0 THEN 1 ELSE 0 END), 0) FROM payments WHERE case_id = ?", c.ID).Scan(&attempts, &paid)
	if paid > 0 {
		fail(w, r, http.StatusConflict, "enforcement.state", "paid", nil)
		return
	}
	now := time.Now()
	surcharge := rules.Surcharge(c.FineFen, rules.PaymentDue(*c.DeliveredAt), now)
	notifyURL := defaultNotifyURL
	if st, err := s.host.Settings.GetSettings(r.Context(), &pluginv1.GetSettingsRequest{}); err == nil && st.Values["payment.notify_url"] != "" {
		notifyURL = st.Values["payment.notify_url"]
	}
	p, err := s.pay.gateway.Pay(r.Context(), payment.Order{SerialNo: fmt.Sprintf("C%d-%d", c.ID, attempts+1), CaseID: fmt.Sprint(c.ID),
		PayerName: c.PartyName, AmountFen: c.FineFen + surcharge, Description: "罚没款 " + c.Number, NotifyURL: notifyURL})
	if err != nil {
		fail(w, r, http.StatusBadGateway, "enforcement.host", err.Error(), err)
		return
	}
	if _, err := s.db.ExecContext(r.Context(), "INSERT INTO payments (order_no, case_id, amount_fen, surcharge_fen, paid_at, trade_no, created_at) VALUES (?, ?, ?, ?, 0, '', ?)",
		p.OrderNo, c.ID, p.AmountFen, surcharge, ms(now)); err != nil {
		fail(w, r, http.StatusInternalServerError, "enforcement.internal", "", err)
		return
	}
	_ = audit(r.Context(), s.host, "case.pay_order", fmt.Sprintf("case:%d", c.ID), map[string]any{"order": p.OrderNo, "amount_fen": p.AmountFen})
	writeJSON(w, http.StatusCreated, p)
}

// sandboxPay plays the payer at the sandbox's cashier: the order is paid and
// the platform notifies (development only; 404 against a real platform).
func (s *service) sandboxPay(w http.ResponseWriter, r *http.Request) {
	c, ok := s.myCase(w, r)
	if !ok {
		return
	}
	if s.pay.sandbox == nil {
		fail(w, r, http.StatusNotFound, "enforcement.not_found", "", nil)
		return
	}
	var order string
	err := s.db.QueryRowContext(r.Context(), "SELECT order_no FROM payments WHERE case_id = ? ORDER BY id DESC LIMIT 1", c.ID).Scan(&order)
	if err != nil {
		fail(w, r, http.StatusConflict, "enforcement.state", "no payment order", err)
		return
	}
	if r.URL.Query().Get("redeliver") != "" {
		err = s.pay.sandbox.Redeliver(order)
	} else {
		err = s.pay.sandbox.Simulate(order, payment.OutcomePaid)
	}
	if err != nil {
		fail(w, r, http.StatusConflict, "enforcement.invalid", err.Error(), err)
		return
	}
	writeJSON(w, http.StatusAccepted, map[string]string{"order_no": order})
}

// paidOf reports the case's recorded payment, if any.
func (s *service) paidOf(ctx context.Context, caseID int64) (int64, time.Time) {
	var amount, at int64
	_ = s.db.QueryRowContext(ctx, "SELECT amount_fen, paid_at FROM payments WHERE case_id = ? AND paid_at > 0 ORDER BY id LIMIT 1", caseID).Scan(&amount, &at)
	if at == 0 {
		return 0, time.Time{}
	}
	return amount, fromMS(at)
}
