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
	"github.com/shanghai-amr/portal/sdk"
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

// payable is what a payment order charges: the fine of a general-procedure
// case (caseID) or of a summary-procedure case (summaryID, summary.go), never
// both. The payments table keeps both columns; a general case's orders have
// summary_id 0 and a summary case's have case_id 0, so neither kind of record
// sees the other's orders.
type payable struct {
	caseID, summaryID int64
	payer, number     string    // the party, and the case or decision number shown to the payer
	fineFen           int64     // what this order pays (the fine, or one instalment of it)
	due               time.Time // the payment due date: the surcharge runs after it (R-EXE-2)
	instalment        int       // the instalment paid (from 1), 0 for the whole fine
}

// ref is the order's case reference at the platform: the bare id for a general
// case (what orders have always carried), "S<id>" for a summary case.
func (b payable) ref() string {
	if b.summaryID != 0 {
		return fmt.Sprintf("S%d", b.summaryID)
	}
	return fmt.Sprint(b.caseID)
}

// resource names the record in the audit log.
func (b payable) resource() string {
	if b.summaryID != 0 {
		return fmt.Sprintf("summary:%d", b.summaryID)
	}
	return fmt.Sprintf("case:%d", b.caseID)
}

// action is the audit action of an event of the record's kind.
func (b payable) action(event string) string {
	if b.summaryID != 0 {
		return "summary." + event
	}
	return "case." + event
}

// RecordPayment records a notified payment once per order (payment.Store),
// checking it against the order the plugin placed. A summary case's status
// becomes paid in the same transaction (markSummaryPaid).
func (s *service) RecordPayment(ctx context.Context, n *payment.Notification) (bool, error) {
	var b payable
	var amount, paidAt int64
	err := s.db.QueryRowContext(ctx, "SELECT case_id, summary_id, amount_fen, paid_at FROM payments WHERE order_no = ?", n.OrderNo).
		Scan(&b.caseID, &b.summaryID, &amount, &paidAt)
	if errors.Is(err, sql.ErrNoRows) {
		return false, fmt.Errorf("notification for unknown order %s", n.OrderNo)
	} else if err != nil {
		return false, err
	}
	if amount != n.AmountFen || b.ref() != n.CaseID {
		return false, fmt.Errorf("notification for order %s does not match it (case %s, %d fen)", n.OrderNo, n.CaseID, n.AmountFen)
	}
	tx, err := s.db.BeginTx(ctx, nil)
	if err != nil {
		return false, err
	}
	defer func() { _ = tx.Rollback() }()
	res, err := tx.ExecContext(ctx, "UPDATE payments SET paid_at = ?, trade_no = ? WHERE order_no = ? AND paid_at = 0", ms(n.PaidAt), n.TradeNo, n.OrderNo)
	if err != nil {
		return false, err
	}
	if k, _ := res.RowsAffected(); k == 0 {
		return true, nil // already recorded: a repeated notification
	}
	if b.summaryID != 0 {
		if err := markSummaryPaid(ctx, tx, b.summaryID, n.PaidAt); err != nil {
			return false, err
		}
	}
	if err := tx.Commit(); err != nil {
		return false, err
	}
	d := fmt.Sprintf(`{"order":%q,"amount_fen":%d}`, n.OrderNo, n.AmountFen)
	_, _ = s.host.Audit.Write(ctx, &pluginv1.AuditRecord{Action: b.action("paid"), Resource: b.resource(), Outcome: "success", Detail: []byte(d)})
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
	paid, _ := s.paidOf(r.Context(), c.ID)
	amount, due, index, owing := nextPayment(c, paid)
	if !owing {
		fail(w, r, http.StatusConflict, "enforcement.state", "paid", nil)
		return
	}
	if p, ok := s.placeOrder(w, r, payable{caseID: c.ID, payer: c.PartyName, number: c.Number, fineFen: amount, due: due, instalment: index}); ok {
		sdk.WriteJSON(w, http.StatusCreated, p)
	}
}

// placeOrder places a payment order at the platform for b's fine plus the
// late-payment surcharge of R-EXE-2, valid for 15 minutes (R-PAY-2), records
// and audits it. A record already paid is refused; each attempt has its own
// serial number (R-PAY-NT-1). On failure it has answered the request.
func (s *service) placeOrder(w http.ResponseWriter, r *http.Request, b payable) (*payment.Payment, bool) {
	var paid, attempts int64
	_ = s.db.QueryRowContext(r.Context(), "SELECT COUNT(*), COALESCE(SUM(CASE WHEN paid_at > 0 THEN 1 ELSE 0 END), 0) FROM payments WHERE case_id = ? AND summary_id = ? AND instalment = ?",
		b.caseID, b.summaryID, b.instalment).Scan(&attempts, &paid)
	if paid > 0 {
		fail(w, r, http.StatusConflict, "enforcement.state", "paid", nil)
		return nil, false
	}
	now := time.Now()
	surcharge := rules.Surcharge(b.fineFen, b.due, now)
	notifyURL := defaultNotifyURL
	if st, err := s.host.Settings.GetSettings(r.Context(), &pluginv1.GetSettingsRequest{}); err == nil && st.Values["payment.notify_url"] != "" {
		notifyURL = st.Values["payment.notify_url"]
	}
	serial := fmt.Sprintf("C%d-%d", b.caseID, attempts+1)
	if b.instalment > 0 {
		serial = fmt.Sprintf("C%d-I%d-%d", b.caseID, b.instalment, attempts+1)
	}
	if b.summaryID != 0 {
		serial = fmt.Sprintf("S%d-%d", b.summaryID, attempts+1)
	}
	p, err := s.pay.gateway.Pay(r.Context(), payment.Order{SerialNo: serial, CaseID: b.ref(),
		PayerName: b.payer, AmountFen: b.fineFen + surcharge, Description: "罚没款 " + b.number, NotifyURL: notifyURL})
	if err != nil {
		fail(w, r, http.StatusBadGateway, "enforcement.host", err.Error(), err)
		return nil, false
	}
	if _, err := s.db.ExecContext(r.Context(), "INSERT INTO payments (order_no, case_id, summary_id, instalment, amount_fen, surcharge_fen, paid_at, trade_no, created_at) VALUES (?, ?, ?, ?, ?, ?, 0, '', ?)",
		p.OrderNo, b.caseID, b.summaryID, b.instalment, p.AmountFen, surcharge, ms(now)); err != nil {
		fail(w, r, http.StatusInternalServerError, "enforcement.internal", "", err)
		return nil, false
	}
	_ = audit(r.Context(), s.host, b.action("pay_order"), b.resource(), map[string]any{"order": p.OrderNo, "amount_fen": p.AmountFen})
	return p, true
}

// sandboxPay plays the payer at the sandbox's cashier: the order is paid and
// the platform notifies (development only; 404 against a real platform).
func (s *service) sandboxPay(w http.ResponseWriter, r *http.Request) {
	c, ok := s.myCase(w, r)
	if !ok {
		return
	}
	s.simulatePayment(w, r, payable{caseID: c.ID})
}

// simulatePayment pays b's latest order at the sandbox's cashier, or with
// ?redeliver=1 has the sandbox send its notification again.
func (s *service) simulatePayment(w http.ResponseWriter, r *http.Request, b payable) {
	if s.pay.sandbox == nil {
		fail(w, r, http.StatusNotFound, "enforcement.not_found", "", nil)
		return
	}
	var order string
	err := s.db.QueryRowContext(r.Context(), "SELECT order_no FROM payments WHERE case_id = ? AND summary_id = ? ORDER BY id DESC LIMIT 1", b.caseID, b.summaryID).Scan(&order)
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
	sdk.WriteJSON(w, http.StatusAccepted, map[string]string{"order_no": order})
}

// paidOf reports how much of the case's fine has been paid (the surcharges
// apart) and when the last payment was made.
func (s *service) paidOf(ctx context.Context, caseID int64) (int64, time.Time) {
	var amount, at int64
	_ = s.db.QueryRowContext(ctx, "SELECT COALESCE(SUM(amount_fen - surcharge_fen), 0), COALESCE(MAX(paid_at), 0) FROM payments WHERE case_id = ? AND summary_id = 0 AND paid_at > 0",
		caseID).Scan(&amount, &at)
	if at == 0 {
		return 0, time.Time{}
	}
	return amount, fromMS(at)
}
