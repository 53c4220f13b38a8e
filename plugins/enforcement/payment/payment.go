package payment

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"regexp"
	"strings"
	"time"
	"unicode"
	"unicode/utf8"
)

// OrderTTL is how long an online order can be paid: "支付15分钟内有效，超时重新支付"
// (R-PAY-2).
const OrderTTL = 15 * time.Minute

// MaxAmountFen bounds an order's amount (10 亿元) so that a slip of the unit
// (元 for 分) is refused instead of sent to the platform.
const MaxAmountFen int64 = 100_000_000_000

// CST is China Standard Time (UTC+8), the zone of the platform's business
// day: bill files and their dates are CST calendar days.
var CST = time.FixedZone("CST", 8*60*60)

// Gateway is the unified public payment platform (统一公共支付平台, R-PAY-UP-1)
// as the enforcement plugin uses it. Client implements it over HTTP, against
// the real platform or the Sandbox.
//
// Every call is safe to repeat: Pay and ScanPay are idempotent by the
// business serial number, Refund by the refund number, Cancel of a cancelled
// order succeeds again. A caller that got a transport error retries the same
// call instead of inventing a new serial number.
type Gateway interface {
	// Pay places an online order (支付接口（线上）): the answer carries the pay
	// URL and QR payload, and ExpiresAt = CreatedAt + 15 min (R-PAY-2). A
	// second Pay with the same serial number, case and amount returns the
	// existing order while it can still be paid; any other reuse of the
	// serial number is ErrSerialUsed (R-PAY-NT-1).
	Pay(ctx context.Context, o Order) (*Payment, error)
	// ScanPay charges the payer's barcode (支付接口（用户被扫）, authCode is
	// the code the payer shows); a refused code is ErrBadAuthCode.
	ScanPay(ctx context.Context, o Order, authCode string) (*Payment, error)
	// Cancel revokes an unpaid order (订单撤销接口). A paid order cannot be
	// cancelled: ErrAlreadyPaid, refund it instead (R-PAY-3).
	Cancel(ctx context.Context, orderNo string) (*Payment, error)
	// Refund returns amountFen of a paid order (退款接口); partial refunds add
	// up to at most the paid amount (ErrOverRefund). refundNo is the caller's
	// number for this refund: repeating it with the same amount returns the
	// same refund, with another amount it is ErrRefundNoUsed.
	Refund(ctx context.Context, orderNo, refundNo string, amountFen int64, reason string) (*Payment, error)
	// Query answers the order's current state (查询接口).
	Query(ctx context.Context, orderNo string) (*Payment, error)
	// BillFile downloads the reconciliation file of the CST calendar day
	// that contains date (文件下载接口): CSV, see ParseBillFile.
	BillFile(ctx context.Context, date time.Time) ([]byte, error)
	// ParseNotification verifies and decodes the platform's asynchronous
	// notification (消息通知接口（异步通知）): ErrMalformed, ErrBadSignature
	// or ErrStale when it must be refused.
	ParseNotification(r *http.Request) (*Notification, error)
}

// Status is an order's state on the platform.
type Status string

// Statuses.
const (
	StatusPending      Status = "PENDING"       // 待支付: can be paid until ExpiresAt
	StatusPaid         Status = "PAID"          // 已支付
	StatusPartRefunded Status = "PART_REFUNDED" // 已支付，部分退款
	StatusRefunded     Status = "REFUNDED"      // 全额退款
	StatusCancelled    Status = "CANCELLED"     // 已撤销 (never paid)
	StatusExpired      Status = "EXPIRED"       // 已超时 (never paid)
)

// Paid reports whether money was received for the order (refunded or not).
func (s Status) Paid() bool {
	return s == StatusPaid || s == StatusPartRefunded || s == StatusRefunded
}

// Channel is how an order is (to be) paid.
type Channel string

// Channels.
const (
	ChannelOnline Channel = "ONLINE" // pay URL / QR code (支付接口（线上）)
	ChannelScan   Channel = "SCAN"   // payer's barcode scanned (支付接口（用户被扫）)
)

// Order is what the plugin asks the platform to collect. Money is in fen (分).
type Order struct {
	// SerialNo is the business serial number (业务流水号): unique per payment
	// attempt; it can obtain one payment code only (R-PAY-NT-1), so a new
	// attempt after expiry or cancellation needs a new one. 1–64 of
	// [A-Za-z0-9_-].
	SerialNo string `json:"serial_no"`
	// CaseID identifies the penalty case (1–64 printable characters).
	CaseID string `json:"case_id"`
	// PayerName is the party (当事人) who pays.
	PayerName string `json:"payer_name"`
	// AmountFen is the amount in fen, 1 … MaxAmountFen.
	AmountFen int64 `json:"amount_fen"`
	// Description is shown to the payer (≤128 characters).
	Description string `json:"description"`
	// NotifyURL receives the platform's notification (absolute http(s) URL).
	NotifyURL string `json:"notify_url"`
}

var serialPattern = regexp.MustCompile(`^[A-Za-z0-9_-]{1,64}$`)

// Validate checks the order before it is sent; errors wrap ErrInvalid.
func (o Order) Validate() error {
	if !serialPattern.MatchString(o.SerialNo) {
		return fmt.Errorf("%w: serial number must be 1–64 of A-Z a-z 0-9 _ -", ErrInvalid)
	}
	if err := text("case id", o.CaseID, 1, 64); err != nil {
		return err
	}
	if strings.ContainsAny(o.CaseID[:1], "=+-@") { // a formula when the bill file is opened in a spreadsheet
		return fmt.Errorf("%w: case id must not start with = + - @", ErrInvalid)
	}
	if err := text("payer name", o.PayerName, 1, 100); err != nil {
		return err
	}
	if err := text("description", o.Description, 0, 128); err != nil {
		return err
	}
	if o.AmountFen <= 0 || o.AmountFen > MaxAmountFen {
		return fmt.Errorf("%w: amount must be 1 … %d fen", ErrInvalid, MaxAmountFen)
	}
	u, err := url.Parse(o.NotifyURL)
	if err != nil || (u.Scheme != "https" && u.Scheme != "http") || u.Host == "" || u.User != nil || u.Fragment != "" {
		return fmt.Errorf("%w: notify URL must be an absolute http(s) URL", ErrInvalid)
	}
	return nil
}

// text checks a free-text field: valid UTF-8, no control characters, length
// in characters within [lo, hi].
func text(name, s string, lo, hi int) error {
	n := utf8.RuneCountInString(s)
	if !utf8.ValidString(s) || n < lo || n > hi {
		return fmt.Errorf("%w: %s must be %d–%d characters", ErrInvalid, name, lo, hi)
	}
	if strings.IndexFunc(s, unicode.IsControl) >= 0 {
		return fmt.Errorf("%w: %s has control characters", ErrInvalid, name)
	}
	return nil
}

// Payment is an order as the platform knows it.
type Payment struct {
	OrderNo     string  `json:"order_no"` // the platform's order number
	SerialNo    string  `json:"serial_no"`
	CaseID      string  `json:"case_id"`
	PayerName   string  `json:"payer_name"`
	AmountFen   int64   `json:"amount_fen"`
	Description string  `json:"description"`
	Channel     Channel `json:"channel"`
	Status      Status  `json:"status"`
	// PayURL is the cashier page; QRPayload the text to render as the QR
	// code (the same URL). Empty for a scanned payment.
	PayURL    string    `json:"pay_url,omitempty"`
	QRPayload string    `json:"qr_payload,omitempty"`
	CreatedAt time.Time `json:"created_at"`
	ExpiresAt time.Time `json:"expires_at"`
	PaidAt    time.Time `json:"paid_at,omitzero"`
	// TradeNo is the platform's transaction number once paid.
	TradeNo     string   `json:"trade_no,omitempty"`
	RefundedFen int64    `json:"refunded_fen"`
	Refunds     []Refund `json:"refunds,omitempty"`
	// FailReason is the last failed payment attempt's reason, for the
	// payer's guidance (1161); the order stays payable until it expires.
	FailReason string `json:"fail_reason,omitempty"`
}

// RefundableFen is what can still be refunded.
func (p *Payment) RefundableFen() int64 {
	if !p.Status.Paid() {
		return 0
	}
	return p.AmountFen - p.RefundedFen
}

// Refund is one refund of a paid order.
type Refund struct {
	RefundNo   string    `json:"refund_no"`
	AmountFen  int64     `json:"amount_fen"`
	Reason     string    `json:"reason"`
	RefundedAt time.Time `json:"refunded_at"`
}

// EventPaid is the only notification event: the order was paid. Refunds are
// synchronous (Refund's answer) and appear in Query and the bill file.
const EventPaid = "PAID"

// Notification is the platform's asynchronous notice that an order was paid.
// The same notice may arrive more than once (retries, R-PAY-NT-2): record it
// idempotently by OrderNo.
type Notification struct {
	NotifyID  string    `json:"notify_id"` // the same on every delivery of one notice
	Event     string    `json:"event"`     // EventPaid
	OrderNo   string    `json:"order_no"`
	SerialNo  string    `json:"serial_no"`
	CaseID    string    `json:"case_id"`
	AmountFen int64     `json:"amount_fen"`
	Channel   Channel   `json:"channel"`
	TradeNo   string    `json:"trade_no"`
	PaidAt    time.Time `json:"paid_at"`

	// SentAt and KeyID come from the verified signature headers.
	SentAt time.Time `json:"-"`
	KeyID  string    `json:"-"`
}

func (n *Notification) validate() error {
	switch {
	case n.Event != EventPaid:
		return fmt.Errorf("%w: unknown event %q", ErrMalformed, n.Event)
	case n.NotifyID == "" || n.OrderNo == "" || n.SerialNo == "":
		return fmt.Errorf("%w: notify id, order and serial number are required", ErrMalformed)
	case n.AmountFen <= 0 || n.AmountFen > MaxAmountFen:
		return fmt.Errorf("%w: amount out of range", ErrMalformed)
	case n.PaidAt.IsZero():
		return fmt.Errorf("%w: paid_at is required", ErrMalformed)
	}
	return nil
}

// Errors. Calls answer them wrapped (an *APIError from the platform, or
// fmt.Errorf with %w); test with errors.Is.
var (
	ErrBadSignature = errors.New("payment: bad signature")
	ErrStale        = errors.New("payment: timestamp outside the accepted window (replay?)")
	ErrMalformed    = errors.New("payment: malformed message")
	ErrInvalid      = errors.New("payment: invalid request")
	ErrNotFound     = errors.New("payment: no such order")
	ErrSerialUsed   = errors.New("payment: business serial number already used (R-PAY-NT-1)")
	ErrAlreadyPaid  = errors.New("payment: order already paid; it cannot be cancelled, refund it instead (R-PAY-3)")
	ErrNotPaid      = errors.New("payment: order not paid")
	ErrExpired      = errors.New("payment: order expired; pay again with a new order (R-PAY-2)")
	ErrCancelled    = errors.New("payment: order cancelled")
	ErrOverRefund   = errors.New("payment: refund exceeds the refundable amount")
	ErrRefundNoUsed = errors.New("payment: refund number already used for another refund")
	ErrBadAuthCode  = errors.New("payment: payer's barcode refused")
)

// errorCodes are the wire codes of the errors (the platform's answer body).
var errorCodes = []struct {
	err    error
	code   string
	status int
}{
	{ErrBadSignature, "BAD_SIGNATURE", http.StatusUnauthorized},
	{ErrStale, "STALE", http.StatusUnauthorized},
	{ErrMalformed, "MALFORMED", http.StatusBadRequest},
	{ErrInvalid, "INVALID", http.StatusBadRequest},
	{ErrNotFound, "NOT_FOUND", http.StatusNotFound},
	{ErrSerialUsed, "SERIAL_USED", http.StatusConflict},
	{ErrAlreadyPaid, "ALREADY_PAID", http.StatusConflict},
	{ErrNotPaid, "NOT_PAID", http.StatusConflict},
	{ErrExpired, "EXPIRED", http.StatusConflict},
	{ErrCancelled, "CANCELLED", http.StatusConflict},
	{ErrOverRefund, "OVER_REFUND", http.StatusConflict},
	{ErrRefundNoUsed, "REFUND_NO_USED", http.StatusConflict},
	{ErrBadAuthCode, "BAD_AUTH_CODE", http.StatusPaymentRequired},
}

// CodeUnverified is the code of an error answer whose signature did not
// verify: its body is not believed, only its HTTP status (e.g. 401 when the
// platform does not accept our key, 502 from a proxy). It maps to no error
// of the package.
const CodeUnverified = "UNVERIFIED"

// APIError is an error answer of the platform.
type APIError struct {
	HTTPStatus int    `json:"-"`
	Code       string `json:"code"`
	Message    string `json:"message"`
	OrderNo    string `json:"order_no,omitempty"` // the order concerned, e.g. the one holding a used serial
}

func (e *APIError) Error() string {
	s := fmt.Sprintf("payment platform: %s (HTTP %d): %s", e.Code, e.HTTPStatus, e.Message)
	if e.OrderNo != "" {
		s += " [order " + e.OrderNo + "]"
	}
	return s
}

// Unwrap maps the code to the package's error, so errors.Is works.
func (e *APIError) Unwrap() error {
	for _, c := range errorCodes {
		if c.code == e.Code {
			return c.err
		}
	}
	return nil
}

// apiError turns one of the package's errors into the platform's answer.
func apiError(err error, orderNo string) *APIError {
	var ae *APIError
	if errors.As(err, &ae) {
		return ae
	}
	for _, c := range errorCodes {
		if errors.Is(err, c.err) {
			return &APIError{HTTPStatus: c.status, Code: c.code, Message: err.Error(), OrderNo: orderNo}
		}
	}
	return &APIError{HTTPStatus: http.StatusInternalServerError, Code: "INTERNAL", Message: "internal error", OrderNo: orderNo}
}
