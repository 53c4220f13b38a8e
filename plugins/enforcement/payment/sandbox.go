package payment

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"html/template"
	"io"
	"log/slog"
	"net/http"
	"regexp"
	"strings"
	"sync"
	"time"
)

// SandboxConfig configures a Sandbox.
type SandboxConfig struct {
	// AppID is the one unit application the sandbox serves.
	AppID string
	// Keys are the platform's side of the shared keys: requests are verified
	// with VerificationKeys, answers and notifications signed with SigningKey.
	Keys KeyProvider
	// Now is the sandbox's clock (order expiry, signatures); default time.Now.
	Now func() time.Time
	// OrderTTL defaults to OrderTTL (15 min, R-PAY-2).
	OrderTTL time.Duration
	// NotifyInterval is the wait between deliveries of a notification that
	// was not answered 2xx; default 5 min (R-PAY-NT-2). It is real time,
	// not Now's.
	NotifyInterval time.Duration
	// NotifyAttempts is how many deliveries are tried in all; default 3
	// ("通知3次后仍不成功，则不再通知", R-PAY-NT-2).
	NotifyAttempts int
	// HTTPClient posts notifications; default one with a 10 s timeout.
	HTTPClient *http.Client
	// PublicURL is where the sandbox is reachable from a browser, for pay
	// URLs (e.g. https://portal.example/sandbox/pay); default the scheme and
	// host of the request, which is right only when mounted at the root.
	PublicURL string
	// Log defaults to discarding.
	Log *slog.Logger
}

// Outcome is what the simulated payer did.
type Outcome string

// Outcomes.
const (
	OutcomePaid   Outcome = "PAID"   // paid: the order is paid and the notification sent
	OutcomeFailed Outcome = "FAILED" // the attempt failed (e.g. declined): the order stays payable
)

// Delivery is one attempt to deliver a notification.
type Delivery struct {
	NotifyID   string
	Attempt    int // 1-based, within one Simulate or Redeliver
	At         time.Time
	StatusCode int    // 0 when the request failed
	Err        string // transport error, if any
}

// OK reports whether the receiver accepted the delivery.
func (d Delivery) OK() bool { return d.StatusCode/100 == 2 }

// Sandbox is an in-process fake of the unified public payment platform. It
// serves the same signed HTTP interface as Client expects (so the adapter's
// production code path is exercised), keeps orders in memory, lets a demo or
// test play the payer (Simulate, or the cashier page and POST
// /sandbox/simulate), and posts signed notifications with retries.
// Never mount it in production: the payer endpoints are unauthenticated.
type Sandbox struct {
	appID      string
	keys       KeyProvider
	now        func() time.Time
	ttl        time.Duration
	interval   time.Duration
	attempts   int
	http       *http.Client
	publicURL  string
	log        *slog.Logger
	mux        *http.ServeMux
	ctx        context.Context
	cancel     context.CancelFunc
	wg         sync.WaitGroup
	mu         sync.Mutex
	closed     bool
	orders     map[string]*sbOrder
	bySerial   map[string]string
	deliveries map[string][]Delivery
}

type sbOrder struct {
	p         Payment
	notifyURL string
	notice    *Notification // once paid
}

// NewSandbox returns a sandbox; Close it to stop pending deliveries.
func NewSandbox(c SandboxConfig) (*Sandbox, error) {
	if c.AppID == "" || c.Keys == nil {
		return nil, errors.New("payment: sandbox needs an app id and keys")
	}
	ctx, cancel := context.WithCancel(context.Background())
	s := &Sandbox{
		appID: c.AppID, keys: c.Keys, now: c.Now, ttl: c.OrderTTL, interval: c.NotifyInterval,
		attempts: c.NotifyAttempts, http: c.HTTPClient, publicURL: strings.TrimRight(c.PublicURL, "/"), log: c.Log,
		ctx: ctx, cancel: cancel,
		orders: map[string]*sbOrder{}, bySerial: map[string]string{}, deliveries: map[string][]Delivery{},
	}
	if s.now == nil {
		s.now = time.Now
	}
	if s.ttl <= 0 {
		s.ttl = OrderTTL
	}
	if s.interval <= 0 {
		s.interval = 5 * time.Minute
	}
	if s.attempts <= 0 {
		s.attempts = 3
	}
	if s.http == nil {
		s.http = &http.Client{Timeout: 10 * time.Second}
	}
	if s.log == nil {
		s.log = slog.New(slog.DiscardHandler)
	}
	m := http.NewServeMux()
	m.HandleFunc("POST "+pathOrders, s.api(s.handlePay))
	m.HandleFunc("POST "+pathScan, s.api(s.handleScan))
	m.HandleFunc("POST "+pathOrders+"/{no}/cancel", s.api(s.handleCancel))
	m.HandleFunc("POST "+pathOrders+"/{no}/refunds", s.api(s.handleRefund))
	m.HandleFunc("GET "+pathOrders+"/{no}", s.api(s.handleQuery))
	m.HandleFunc("GET "+pathBills+"{date}", s.api(s.handleBill))
	m.HandleFunc("GET /cashier/{no}", s.cashier)
	m.HandleFunc("POST /sandbox/simulate", s.simulateHTTP)
	m.HandleFunc("POST /sandbox/redeliver", s.redeliverHTTP)
	s.mux = m
	return s, nil
}

// ServeHTTP serves the platform's interface, the cashier page and the
// sandbox's payer endpoints. Mount it at a root or behind http.StripPrefix.
func (s *Sandbox) ServeHTTP(w http.ResponseWriter, r *http.Request) { s.mux.ServeHTTP(w, r) }

// Close stops pending deliveries and waits for them.
func (s *Sandbox) Close() {
	s.mu.Lock()
	s.closed = true
	s.mu.Unlock()
	s.cancel()
	s.wg.Wait()
}

// Wait blocks until every notification delivery started so far is done
// (accepted, or given up after NotifyAttempts).
func (s *Sandbox) Wait() { s.wg.Wait() }

// Deliveries lists the delivery attempts of the order's notification.
func (s *Sandbox) Deliveries(orderNo string) []Delivery {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]Delivery(nil), s.deliveries[orderNo]...)
}

// Simulate plays the payer of a pending order. Paying an expired order is
// ErrExpired (R-PAY-2), a cancelled one ErrCancelled, a paid one
// ErrAlreadyPaid. A payment sends the notification (asynchronously).
func (s *Sandbox) Simulate(orderNo string, outcome Outcome) error {
	_, err := s.simulate(orderNo, outcome)
	return err
}

func (s *Sandbox) simulate(orderNo string, outcome Outcome) (*Payment, error) {
	if outcome != OutcomePaid && outcome != OutcomeFailed {
		return nil, fmt.Errorf("%w: outcome %q", ErrInvalid, outcome)
	}
	s.mu.Lock()
	o, err := s.get(orderNo)
	if err != nil {
		s.mu.Unlock()
		return nil, err
	}
	switch o.p.Status {
	case StatusPending:
	case StatusExpired:
		err = ErrExpired
	case StatusCancelled:
		err = ErrCancelled
	default:
		err = ErrAlreadyPaid
	}
	if err != nil {
		s.mu.Unlock()
		return nil, withOrder{err, orderNo}
	}
	var send func()
	if outcome == OutcomePaid {
		send = s.charge(o, ChannelOnline)
	} else {
		o.p.FailReason = "付款未成功（沙箱模拟）：请在有效期内重新支付"
	}
	p := o.snapshot()
	s.mu.Unlock()
	if send != nil {
		send()
	}
	return &p, nil
}

// Redeliver sends the paid order's notification once more, as the real
// platform may (duplicate deliveries are part of the contract, R-PAY-NT-2).
func (s *Sandbox) Redeliver(orderNo string) error {
	s.mu.Lock()
	o, err := s.get(orderNo)
	if err == nil && o.notice == nil {
		err = withOrder{ErrNotPaid, orderNo}
	}
	if err != nil {
		s.mu.Unlock()
		return err
	}
	n, url := *o.notice, o.notifyURL
	s.mu.Unlock()
	s.deliver(n, url)
	return nil
}

// withOrder attaches the order concerned to an error.
type withOrder struct {
	err     error
	orderNo string
}

func (e withOrder) Error() string { return e.err.Error() + " (order " + e.orderNo + ")" }
func (e withOrder) Unwrap() error { return e.err }

// get answers the order with its status brought up to date; s.mu held.
func (s *Sandbox) get(orderNo string) (*sbOrder, error) {
	o, ok := s.orders[orderNo]
	if !ok {
		return nil, ErrNotFound
	}
	s.expire(o)
	return o, nil
}

// expire closes a pending order whose 15 minutes are over (R-PAY-2).
func (s *Sandbox) expire(o *sbOrder) {
	if o.p.Status == StatusPending && !s.now().Before(o.p.ExpiresAt) {
		o.p.Status = StatusExpired
	}
}

func (o *sbOrder) snapshot() Payment {
	p := o.p
	p.Refunds = append([]Refund(nil), o.p.Refunds...)
	return p
}

// charge marks a pending order paid and answers the function that sends its
// notification, to be called without s.mu.
func (s *Sandbox) charge(o *sbOrder, ch Channel) func() {
	now := s.now()
	o.p.Status, o.p.Channel, o.p.PaidAt, o.p.FailReason = StatusPaid, ch, now, ""
	o.p.TradeNo = "T" + now.In(CST).Format("20060102150405") + randomHex(6)
	o.notice = &Notification{NotifyID: "N" + randomHex(12), Event: EventPaid, OrderNo: o.p.OrderNo, SerialNo: o.p.SerialNo,
		CaseID: o.p.CaseID, AmountFen: o.p.AmountFen, Channel: ch, TradeNo: o.p.TradeNo, PaidAt: now}
	n, url := *o.notice, o.notifyURL
	return func() { s.deliver(n, url) }
}

func randomHex(n int) string {
	b := make([]byte, n)
	_, _ = rand.Read(b)
	return strings.ToUpper(hex.EncodeToString(b))
}

// deliver posts the notification until the receiver answers 2xx, at most
// s.attempts times, s.interval apart. Every attempt is signed afresh, so a
// late retry is not refused as stale.
func (s *Sandbox) deliver(n Notification, url string) {
	s.mu.Lock()
	if s.closed {
		s.mu.Unlock()
		return
	}
	s.wg.Add(1)
	s.mu.Unlock()
	go func() {
		defer s.wg.Done()
		for attempt := 1; attempt <= s.attempts; attempt++ {
			if attempt > 1 {
				t := time.NewTimer(s.interval)
				select {
				case <-s.ctx.Done():
					t.Stop()
					return
				case <-t.C:
				}
			}
			d := s.post(n, url)
			d.Attempt = attempt
			s.mu.Lock()
			s.deliveries[n.OrderNo] = append(s.deliveries[n.OrderNo], d)
			s.mu.Unlock()
			s.log.Info("payment sandbox: notification delivery", "order", n.OrderNo, "notify_id", n.NotifyID,
				"attempt", attempt, "status", d.StatusCode, "error", d.Err)
			if d.OK() {
				return
			}
		}
		s.log.Warn("payment sandbox: notification given up", "order", n.OrderNo, "attempts", s.attempts)
	}()
}

func (s *Sandbox) post(n Notification, url string) Delivery {
	d := Delivery{NotifyID: n.NotifyID, At: s.now()}
	key, err := s.keys.SigningKey(s.ctx)
	if err != nil {
		d.Err = "signing key: " + err.Error()
		return d
	}
	req, err := NewNotificationRequest(s.ctx, url, s.appID, key, s.now(), &n)
	if err != nil {
		d.Err = err.Error()
		return d
	}
	resp, err := s.http.Do(req)
	if err != nil {
		d.Err = err.Error()
		return d
	}
	_, _ = io.Copy(io.Discard, io.LimitReader(resp.Body, 4<<10))
	_ = resp.Body.Close()
	d.StatusCode = resp.StatusCode
	return d
}

// --- the platform's interface ---

// rawBody is an API handler's answer that is not JSON (the bill file).
type rawBody struct {
	contentType string
	data        []byte
}

// api verifies the request's signature and signs the answer.
func (s *Sandbox) api(h func(r *http.Request, body []byte) (any, error)) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		body, err := io.ReadAll(io.LimitReader(r.Body, maxMessage+1))
		var keyID string
		switch {
		case err != nil:
			err = fmt.Errorf("%w: read body", ErrMalformed)
		case len(body) > maxMessage:
			err = fmt.Errorf("%w: body over %d bytes", ErrMalformed, maxMessage)
		default:
			keyID, _, err = verify(r.Context(), r.Header, s.appID, s.keys, targetRequest(r.Method, r.URL.Path), body, s.now(), MaxAge)
		}
		var v any
		if err == nil {
			v, err = h(r, body)
		}
		if err != nil {
			var wo withOrder
			no := r.PathValue("no")
			if errors.As(err, &wo) {
				no = wo.orderNo
			}
			ae := apiError(err, no)
			if ae.HTTPStatus == http.StatusInternalServerError {
				s.log.Error("payment sandbox: request failed", "path", r.URL.Path, "error", err)
			}
			data, _ := json.Marshal(ae)
			s.respond(w, r, keyID, ae.HTTPStatus, "application/json", data)
			return
		}
		if raw, ok := v.(rawBody); ok {
			s.respond(w, r, keyID, http.StatusOK, raw.contentType, raw.data)
			return
		}
		data, err := json.Marshal(v)
		if err != nil {
			http.Error(w, "internal error", http.StatusInternalServerError)
			return
		}
		s.respond(w, r, keyID, http.StatusOK, "application/json", data)
	}
}

// respond signs the answer with the key the request was signed with, which
// the unit has even while the platform has rotated and the unit not yet
// (R-PAY-NT-5); with the current key when the request was not verified.
func (s *Sandbox) respond(w http.ResponseWriter, r *http.Request, keyID string, status int, contentType string, body []byte) {
	key, err := s.keys.SigningKey(r.Context())
	if keyID != "" {
		if keys, kerr := s.keys.VerificationKeys(r.Context()); kerr == nil {
			for _, k := range keys {
				if k.ID == keyID {
					key, err = k, nil
				}
			}
		}
	}
	if err != nil {
		http.Error(w, "signing key unavailable", http.StatusInternalServerError)
		return
	}
	sign(w.Header(), s.appID, key, targetResponse(r.Method, r.URL.Path), s.now(), body)
	w.Header().Set("Content-Type", contentType)
	w.WriteHeader(status)
	_, _ = w.Write(body)
}

func decodeJSON(body []byte, v any) error {
	if err := json.Unmarshal(body, v); err != nil {
		return fmt.Errorf("%w: %v", ErrMalformed, err)
	}
	return nil
}

func (s *Sandbox) handlePay(r *http.Request, body []byte) (any, error) {
	var o Order
	if err := decodeJSON(body, &o); err != nil {
		return nil, err
	}
	return s.place(r, o, ChannelOnline)
}

// authCodePattern accepts the payer barcodes of the usual wallets: WeChat
// (18 digits, 10–15…), Alipay (16–24 digits, 25–30…), UnionPay (19, 62…).
var authCodePattern = regexp.MustCompile(`^(?:1[0-5][0-9]{16}|(?:2[5-9]|30)[0-9]{14,22}|62[0-9]{17})$`)

func (s *Sandbox) handleScan(r *http.Request, body []byte) (any, error) {
	var req scanRequest
	if err := decodeJSON(body, &req); err != nil {
		return nil, err
	}
	if !authCodePattern.MatchString(req.AuthCode) {
		return nil, fmt.Errorf("%w: not a payment barcode", ErrBadAuthCode)
	}
	return s.place(r, req.Order, ChannelScan)
}

// place creates an order, or answers the existing one of the serial number
// while it is payable with the same case and amount (R-PAY-NT-1). A scanned
// payment pays it at once.
func (s *Sandbox) place(r *http.Request, o Order, ch Channel) (*Payment, error) {
	if err := o.Validate(); err != nil {
		return nil, err
	}
	s.mu.Lock()
	var ord *sbOrder
	if no, ok := s.bySerial[o.SerialNo]; ok {
		ord, _ = s.get(no)
		if ord.p.Status != StatusPending || ord.p.AmountFen != o.AmountFen || ord.p.CaseID != o.CaseID {
			s.mu.Unlock()
			return nil, withOrder{fmt.Errorf("%w: serial %s already has order %s (%s, %d fen)",
				ErrSerialUsed, o.SerialNo, no, ord.p.Status, ord.p.AmountFen), no}
		}
	} else {
		now := s.now()
		no := "SBX" + now.In(CST).Format("20060102") + randomHex(6)
		ord = &sbOrder{notifyURL: o.NotifyURL, p: Payment{
			OrderNo: no, SerialNo: o.SerialNo, CaseID: o.CaseID, PayerName: o.PayerName, AmountFen: o.AmountFen,
			Description: o.Description, Channel: ch, Status: StatusPending, CreatedAt: now, ExpiresAt: now.Add(s.ttl),
		}}
		if ch == ChannelOnline {
			ord.p.PayURL = s.base(r) + "/cashier/" + no
			ord.p.QRPayload = ord.p.PayURL
		}
		s.orders[no], s.bySerial[o.SerialNo] = ord, no
	}
	var send func()
	if ch == ChannelScan {
		send = s.charge(ord, ChannelScan)
	}
	p := ord.snapshot()
	s.mu.Unlock()
	if send != nil {
		send()
	}
	return &p, nil
}

func (s *Sandbox) base(r *http.Request) string {
	if s.publicURL != "" {
		return s.publicURL
	}
	scheme := "http"
	if r.TLS != nil {
		scheme = "https"
	}
	return scheme + "://" + r.Host
}

func (s *Sandbox) handleCancel(r *http.Request, _ []byte) (any, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	o, err := s.get(r.PathValue("no"))
	if err != nil {
		return nil, err
	}
	switch {
	case o.p.Status == StatusPending:
		o.p.Status = StatusCancelled
	case o.p.Status.Paid():
		return nil, ErrAlreadyPaid // R-PAY-3: refund instead
	}
	// cancelled or expired already: nothing can pay it, which is what the caller wants
	p := o.snapshot()
	return &p, nil
}

func (s *Sandbox) handleRefund(r *http.Request, body []byte) (any, error) {
	var req refundRequest
	if err := decodeJSON(body, &req); err != nil {
		return nil, err
	}
	if !serialPattern.MatchString(req.RefundNo) || req.AmountFen <= 0 {
		return nil, fmt.Errorf("%w: refund number and a positive amount are required", ErrInvalid)
	}
	if err := text("reason", req.Reason, 1, 128); err != nil {
		return nil, err
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	o, err := s.get(r.PathValue("no"))
	if err != nil {
		return nil, err
	}
	if !o.p.Status.Paid() {
		return nil, fmt.Errorf("%w: status %s", ErrNotPaid, o.p.Status)
	}
	for _, f := range o.p.Refunds {
		if f.RefundNo == req.RefundNo {
			if f.AmountFen != req.AmountFen {
				return nil, fmt.Errorf("%w: %s was %d fen", ErrRefundNoUsed, f.RefundNo, f.AmountFen)
			}
			p := o.snapshot() // the same refund again: idempotent
			return &p, nil
		}
	}
	if left := o.p.AmountFen - o.p.RefundedFen; req.AmountFen > left {
		return nil, fmt.Errorf("%w: %d fen asked, %d fen refundable", ErrOverRefund, req.AmountFen, left)
	}
	o.p.Refunds = append(o.p.Refunds, Refund{RefundNo: req.RefundNo, AmountFen: req.AmountFen, Reason: req.Reason, RefundedAt: s.now()})
	o.p.RefundedFen += req.AmountFen
	o.p.Status = StatusPartRefunded
	if o.p.RefundedFen == o.p.AmountFen {
		o.p.Status = StatusRefunded
	}
	p := o.snapshot()
	return &p, nil
}

func (s *Sandbox) handleQuery(r *http.Request, _ []byte) (any, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	o, err := s.get(r.PathValue("no"))
	if err != nil {
		return nil, err
	}
	p := o.snapshot()
	return &p, nil
}

func (s *Sandbox) handleBill(r *http.Request, _ []byte) (any, error) {
	day, err := time.ParseInLocation(time.DateOnly, r.PathValue("date"), CST)
	if err != nil {
		return nil, fmt.Errorf("%w: date must be YYYY-MM-DD", ErrInvalid)
	}
	end := day.AddDate(0, 0, 1)
	in := func(t time.Time) bool { return !t.Before(day) && t.Before(end) }
	s.mu.Lock()
	var lines []BillLine
	for _, o := range s.orders {
		p := o.p
		if p.Status.Paid() && in(p.PaidAt) {
			lines = append(lines, BillLine{Type: BillPay, OrderNo: p.OrderNo, SerialNo: p.SerialNo, CaseID: p.CaseID,
				AmountFen: p.AmountFen, OccurredAt: p.PaidAt, Channel: p.Channel, TradeNo: p.TradeNo})
		}
		for _, f := range p.Refunds {
			if in(f.RefundedAt) {
				lines = append(lines, BillLine{Type: BillRefund, OrderNo: p.OrderNo, SerialNo: p.SerialNo, CaseID: p.CaseID,
					AmountFen: f.AmountFen, RefundNo: f.RefundNo, OccurredAt: f.RefundedAt, Channel: p.Channel, TradeNo: p.TradeNo})
			}
		}
	}
	s.mu.Unlock()
	return rawBody{"text/csv; charset=utf-8", writeBill(lines)}, nil
}

// --- the payer's side (sandbox only) ---

var cashierPage = template.Must(template.New("cashier").Parse(`<!doctype html>
<html lang="zh-CN"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width, initial-scale=1">
<title>统一公共支付平台（沙箱）</title></head>
<body style="font-family:sans-serif;max-width:28rem;margin:1rem auto;padding:0 1rem">
<h1 style="font-size:1.2rem">统一公共支付平台 · 沙箱收银台</h1>
<p>订单号：{{.OrderNo}}</p>
<p>事项：{{.Description}}</p>
<p>金额：<strong>¥{{.Yuan}}</strong></p>
<p>状态：{{.StatusText}}</p>
<p>有效期至：{{.Expires}}（支付15分钟内有效，超时重新支付）</p>
{{if .FailReason}}<p style="color:#b00">{{.FailReason}}</p>{{end}}
{{if .Payable}}<form method="post" action="../sandbox/simulate">
<input type="hidden" name="order_no" value="{{.OrderNo}}">
<button name="outcome" value="PAID">模拟支付成功</button>
<button name="outcome" value="FAILED">模拟支付失败</button>
</form>{{end}}
<p style="color:#666;font-size:.8rem">沙箱环境，不产生真实资金往来。</p>
</body></html>`))

var statusText = map[Status]string{
	StatusPending: "待支付", StatusPaid: "已支付", StatusPartRefunded: "已支付（部分退款）",
	StatusRefunded: "已退款", StatusCancelled: "已撤销", StatusExpired: "已超时",
}

// Yuan formats fen as yuan with two decimals, without floating point.
func Yuan(fen int64) string {
	sign := ""
	if fen < 0 {
		sign, fen = "-", -fen
	}
	return fmt.Sprintf("%s%d.%02d", sign, fen/100, fen%100)
}

func (s *Sandbox) cashier(w http.ResponseWriter, r *http.Request) {
	s.mu.Lock()
	o, err := s.get(r.PathValue("no"))
	var p Payment
	if err == nil {
		p = o.snapshot()
	}
	s.mu.Unlock()
	if err != nil {
		http.NotFound(w, r)
		return
	}
	w.Header().Set("Content-Type", "text/html; charset=utf-8")
	w.Header().Set("Cache-Control", "no-store")
	_ = cashierPage.Execute(w, map[string]any{
		"OrderNo": p.OrderNo, "Description": p.Description, "Yuan": Yuan(p.AmountFen), "StatusText": statusText[p.Status],
		"Expires": p.ExpiresAt.In(CST).Format("2006-01-02 15:04:05"), "FailReason": p.FailReason,
		"Payable": p.Status == StatusPending,
	})
}

type simulateRequest struct {
	OrderNo string  `json:"order_no"`
	Outcome Outcome `json:"outcome"`
}

// simulateHTTP is "the payer paid" for a demo page: JSON in, the order out;
// or the cashier page's form, answered with a redirect back to it.
func (s *Sandbox) simulateHTTP(w http.ResponseWriter, r *http.Request) {
	req, isForm, err := readSimulate(r)
	if err == nil {
		_, err = s.simulate(req.OrderNo, req.Outcome)
	}
	if isForm && serialPattern.MatchString(req.OrderNo) && !errors.Is(err, ErrNotFound) {
		w.Header().Set("Location", "../cashier/"+req.OrderNo) // relative: works under any mount prefix
		w.WriteHeader(http.StatusSeeOther)
		return
	}
	s.plainAnswer(w, req.OrderNo, err)
}

func (s *Sandbox) redeliverHTTP(w http.ResponseWriter, r *http.Request) {
	req, _, err := readSimulate(r)
	if err == nil {
		err = s.Redeliver(req.OrderNo)
	}
	s.plainAnswer(w, req.OrderNo, err)
}

func readSimulate(r *http.Request) (simulateRequest, bool, error) {
	var req simulateRequest
	r.Body = http.MaxBytesReader(nil, r.Body, 4<<10)
	if strings.HasPrefix(r.Header.Get("Content-Type"), "application/json") {
		if err := json.NewDecoder(r.Body).Decode(&req); err != nil {
			return req, false, fmt.Errorf("%w: %v", ErrMalformed, err)
		}
		return req, false, nil
	}
	if err := r.ParseForm(); err != nil {
		return req, true, fmt.Errorf("%w: %v", ErrMalformed, err)
	}
	req.OrderNo, req.Outcome = r.PostFormValue("order_no"), Outcome(r.PostFormValue("outcome"))
	if !serialPattern.MatchString(req.OrderNo) {
		return req, true, fmt.Errorf("%w: order number", ErrInvalid)
	}
	return req, true, nil
}

// plainAnswer answers the payer endpoints (unsigned: no unit is involved).
func (s *Sandbox) plainAnswer(w http.ResponseWriter, orderNo string, err error) {
	w.Header().Set("Content-Type", "application/json")
	if err != nil {
		ae := apiError(err, orderNo)
		w.WriteHeader(ae.HTTPStatus)
		_ = json.NewEncoder(w).Encode(ae)
		return
	}
	s.mu.Lock()
	o, gerr := s.get(orderNo)
	var p Payment
	if gerr == nil {
		p = o.snapshot()
	}
	s.mu.Unlock()
	_ = json.NewEncoder(w).Encode(&p)
}
