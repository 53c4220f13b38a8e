package payment

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/url"
	"strings"
	"time"
)

// ClientConfig configures a Client.
type ClientConfig struct {
	// BaseURL is the platform's API root, e.g. https://pay.example.gov.cn/gw
	// (https; plain http only to a loopback address, for the sandbox).
	BaseURL string
	// AppID is the unit's application id at the platform.
	AppID string
	// Keys sign the requests and verify answers and notifications.
	Keys KeyProvider
	// HTTPClient defaults to one with a 30 s timeout.
	HTTPClient *http.Client
	// Now defaults to time.Now.
	Now func() time.Time
	// MaxAge defaults to MaxAge (10 min).
	MaxAge time.Duration
}

// Client is the Gateway over the platform's HTTP interface. Each request is
// signed (HMAC-SM3, see the package comment) and each answer's signature is
// verified before it is believed.
type Client struct {
	base   *url.URL
	appID  string
	keys   KeyProvider
	http   *http.Client
	now    func() time.Time
	maxAge time.Duration
}

var _ Gateway = (*Client)(nil)

// NewClient checks the configuration and returns a Client.
func NewClient(c ClientConfig) (*Client, error) {
	u, err := url.Parse(strings.TrimRight(c.BaseURL, "/"))
	if err != nil || u.Host == "" || u.User != nil || u.RawQuery != "" || u.Fragment != "" {
		return nil, fmt.Errorf("payment: base URL %q must be an absolute URL without credentials or query", c.BaseURL)
	}
	switch {
	case u.Scheme == "https":
	case u.Scheme == "http" && isLoopback(u.Hostname()):
	default:
		return nil, fmt.Errorf("payment: base URL %q must use https (http only to loopback)", c.BaseURL)
	}
	if c.AppID == "" {
		return nil, errors.New("payment: app id is required")
	}
	if c.Keys == nil {
		return nil, errors.New("payment: key provider is required")
	}
	cl := &Client{base: u, appID: c.AppID, keys: c.Keys, http: c.HTTPClient, now: c.Now, maxAge: c.MaxAge}
	if cl.http == nil {
		cl.http = &http.Client{Timeout: 30 * time.Second}
	}
	if cl.now == nil {
		cl.now = time.Now
	}
	if cl.maxAge <= 0 {
		cl.maxAge = MaxAge
	}
	return cl, nil
}

func isLoopback(host string) bool {
	if host == "localhost" {
		return true
	}
	ip := net.ParseIP(host)
	return ip != nil && ip.IsLoopback()
}

// The platform's paths, relative to the base URL (and signed as such, so a
// reverse proxy's prefix does not matter).
const (
	pathOrders = "/api/v1/orders"
	pathScan   = "/api/v1/orders/scan"
	pathBills  = "/api/v1/bills/"
)

func orderPath(no string) string { return pathOrders + "/" + no }

// checkOrderNo refuses what cannot be one of the platform's order numbers
// (it also keeps the number from changing the request path).
func checkOrderNo(no string) error {
	if !serialPattern.MatchString(no) {
		return fmt.Errorf("%w: order number must be 1–64 of A-Z a-z 0-9 _ -", ErrInvalid)
	}
	return nil
}

type scanRequest struct {
	Order    Order  `json:"order"`
	AuthCode string `json:"auth_code"`
}

type refundRequest struct {
	RefundNo  string `json:"refund_no"`
	AmountFen int64  `json:"amount_fen"`
	Reason    string `json:"reason"`
}

// Pay implements Gateway.
func (c *Client) Pay(ctx context.Context, o Order) (*Payment, error) {
	if err := o.Validate(); err != nil {
		return nil, err
	}
	var p Payment
	if err := c.call(ctx, http.MethodPost, pathOrders, o, &p); err != nil {
		return nil, err
	}
	return &p, sameOrder(&p, o)
}

// ScanPay implements Gateway.
func (c *Client) ScanPay(ctx context.Context, o Order, authCode string) (*Payment, error) {
	if err := o.Validate(); err != nil {
		return nil, err
	}
	var p Payment
	if err := c.call(ctx, http.MethodPost, pathScan, scanRequest{Order: o, AuthCode: authCode}, &p); err != nil {
		return nil, err
	}
	return &p, sameOrder(&p, o)
}

// sameOrder guards against an answer about another order.
func sameOrder(p *Payment, o Order) error {
	if p.SerialNo != o.SerialNo || p.AmountFen != o.AmountFen || p.OrderNo == "" {
		return fmt.Errorf("%w: the platform answered about another order", ErrMalformed)
	}
	return nil
}

// Cancel implements Gateway.
func (c *Client) Cancel(ctx context.Context, orderNo string) (*Payment, error) {
	if err := checkOrderNo(orderNo); err != nil {
		return nil, err
	}
	var p Payment
	if err := c.call(ctx, http.MethodPost, orderPath(orderNo)+"/cancel", nil, &p); err != nil {
		return nil, err
	}
	return &p, nil
}

// Refund implements Gateway.
func (c *Client) Refund(ctx context.Context, orderNo, refundNo string, amountFen int64, reason string) (*Payment, error) {
	if err := checkOrderNo(orderNo); err != nil {
		return nil, err
	}
	switch {
	case !serialPattern.MatchString(refundNo):
		return nil, fmt.Errorf("%w: refund number must be 1–64 of A-Z a-z 0-9 _ -", ErrInvalid)
	case amountFen <= 0:
		return nil, fmt.Errorf("%w: refund amount must be positive", ErrInvalid)
	}
	if err := text("reason", reason, 1, 128); err != nil {
		return nil, err
	}
	var p Payment
	if err := c.call(ctx, http.MethodPost, orderPath(orderNo)+"/refunds", refundRequest{refundNo, amountFen, reason}, &p); err != nil {
		return nil, err
	}
	return &p, nil
}

// Query implements Gateway.
func (c *Client) Query(ctx context.Context, orderNo string) (*Payment, error) {
	if err := checkOrderNo(orderNo); err != nil {
		return nil, err
	}
	var p Payment
	if err := c.call(ctx, http.MethodGet, orderPath(orderNo), nil, &p); err != nil {
		return nil, err
	}
	return &p, nil
}

// maxBill bounds a bill file.
const maxBill = 32 << 20

// BillFile implements Gateway.
func (c *Client) BillFile(ctx context.Context, date time.Time) ([]byte, error) {
	return c.do(ctx, http.MethodGet, pathBills+date.In(CST).Format(time.DateOnly), nil, maxBill)
}

// ParseNotification implements Gateway: it verifies the signature with the
// client's keys (current and previous) and refuses timestamps more than
// MaxAge away from now.
func (c *Client) ParseNotification(r *http.Request) (*Notification, error) {
	return parseNotification(r, c.appID, c.keys, c.now(), c.maxAge)
}

// call sends in as JSON and decodes the answer into out.
func (c *Client) call(ctx context.Context, method, path string, in, out any) error {
	var body []byte
	if in != nil {
		var err error
		if body, err = json.Marshal(in); err != nil {
			return err
		}
	}
	resp, err := c.do(ctx, method, path, body, maxMessage)
	if err != nil {
		return err
	}
	if err := json.Unmarshal(resp, out); err != nil {
		return fmt.Errorf("%w: answer: %v", ErrMalformed, err)
	}
	return nil
}

// do sends a signed request and answers the verified body of a 2xx answer;
// an error answer becomes an *APIError.
func (c *Client) do(ctx context.Context, method, path string, body []byte, limit int64) ([]byte, error) {
	key, err := c.keys.SigningKey(ctx)
	if err != nil {
		return nil, fmt.Errorf("payment: signing key: %w", err)
	}
	u := *c.base
	u.Path, u.RawPath = c.base.Path+path, ""
	req, err := http.NewRequestWithContext(ctx, method, u.String(), bytes.NewReader(body))
	if err != nil {
		return nil, err
	}
	if body != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	sign(req.Header, c.appID, key, targetRequest(method, path), c.now(), body)
	resp, err := c.http.Do(req)
	if err != nil {
		return nil, fmt.Errorf("payment platform: %s %s: %w", method, path, err)
	}
	defer resp.Body.Close()
	data, err := io.ReadAll(io.LimitReader(resp.Body, limit+1))
	if err != nil {
		return nil, fmt.Errorf("payment platform: %s %s: read answer: %w", method, path, err)
	}
	if int64(len(data)) > limit {
		return nil, fmt.Errorf("%w: answer over %d bytes", ErrMalformed, limit)
	}
	if _, _, err := verify(ctx, resp.Header, c.appID, c.keys, targetResponse(method, path), data, c.now(), c.maxAge); err != nil {
		if resp.StatusCode/100 == 2 { // a success nobody can vouch for: never believed
			return nil, fmt.Errorf("payment platform: %s %s: answer refused: %w", method, path, err)
		}
		// An error answer without a valid signature (a proxy's 502, or the
		// platform refusing a key we do not share): only its status is used.
		return nil, &APIError{HTTPStatus: resp.StatusCode, Code: CodeUnverified,
			Message: http.StatusText(resp.StatusCode) + "; answer not verified: " + err.Error()}
	}
	if resp.StatusCode/100 != 2 {
		ae := &APIError{HTTPStatus: resp.StatusCode}
		if json.Unmarshal(data, ae) != nil || ae.Code == "" {
			ae.Code, ae.Message = "HTTP", http.StatusText(resp.StatusCode)
		}
		return nil, ae
	}
	return data, nil
}
