package departments

import (
	"bytes"
	"context"
	"crypto/hmac"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"strings"
	"time"

	"github.com/emmansun/gmsm/sm3"
)

// SignatureHeader carries the hex HMAC-SM3 of the body.
const SignatureHeader = "X-Exchange-Signature"

// Message is what a department receives: a suspension filed, extended or
// terminated, with the form the applicant filled for it.
type Message struct {
	ID         string            `json:"id"` // unique per push, the department's idempotency key
	Department string            `json:"department"`
	Event      string            `json:"event"` // suspension.filed, suspension.extended, suspension.terminated
	USCC       string            `json:"uscc"`
	Name       string            `json:"name"`
	StartDate  string            `json:"start_date,omitempty"`
	EndDate    string            `json:"end_date,omitempty"`
	Number     string            `json:"number,omitempty"` // the notice's 文号
	Form       map[string]string `json:"form,omitempty"`
}

// Ack is a department's answer to a push, and the body of its later
// feedback (with MessageID naming the push).
type Ack struct {
	MessageID string `json:"message_id,omitempty"`
	Status    string `json:"status"` // accepted, done, refused
	Result    string `json:"result"` // for people, shown to the applicant (module 62)
}

// Sign is the hex HMAC-SM3 of body under secret.
func Sign(secret []byte, body []byte) string {
	m := hmac.New(sm3.New, secret)
	m.Write(body)
	return hex.EncodeToString(m.Sum(nil))
}

// Verify reports whether sig is body's signature under secret (constant time).
func Verify(secret []byte, body []byte, sig string) bool {
	want, err := hex.DecodeString(strings.TrimSpace(sig))
	if err != nil {
		return false
	}
	m := hmac.New(sm3.New, secret)
	m.Write(body)
	return hmac.Equal(m.Sum(nil), want)
}

// ErrNotConfigured: no endpoint for the department; the push waits.
var ErrNotConfigured = errors.New("departments: no exchange endpoint configured")

// Channel pushes messages to the departments' endpoints.
type Channel struct {
	Endpoints map[string]string // department code → URL
	Secret    []byte
	Client    *http.Client
}

// Push sends m to its department and returns the department's Ack.
func (c *Channel) Push(ctx context.Context, m Message) (*Ack, error) {
	url := c.Endpoints[m.Department]
	if url == "" {
		return nil, ErrNotConfigured
	}
	body, err := json.Marshal(m)
	if err != nil {
		return nil, err
	}
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, url, bytes.NewReader(body))
	if err != nil {
		return nil, err
	}
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set(SignatureHeader, Sign(c.Secret, body))
	client := c.Client
	if client == nil {
		client = &http.Client{Timeout: 10 * time.Second}
	}
	res, err := client.Do(req)
	if err != nil {
		return nil, err
	}
	defer res.Body.Close()
	b, err := io.ReadAll(io.LimitReader(res.Body, 64<<10))
	if err != nil {
		return nil, err
	}
	if res.StatusCode/100 != 2 {
		return nil, fmt.Errorf("departments: %s answered %d: %.200s", m.Department, res.StatusCode, b)
	}
	if !Verify(c.Secret, b, res.Header.Get(SignatureHeader)) {
		return nil, fmt.Errorf("departments: %s's answer is not signed with the exchange secret", m.Department)
	}
	var ack Ack
	if err := json.Unmarshal(b, &ack); err != nil || ack.Status == "" {
		return nil, fmt.Errorf("departments: %s's answer is not an acknowledgement", m.Department)
	}
	return &ack, nil
}

// Sandbox stands in for the four departments' systems on loopback: it checks
// the signature and acknowledges each push with the result a department
// would give, signed.
type Sandbox struct{ Secret []byte }

var sandboxResults = map[string]string{
	"suspension.filed":      "已接收歇业备案信息，歇业期间按规定办理申报。",
	"suspension.extended":   "已接收延长歇业期限信息。",
	"suspension.terminated": "已接收终止歇业信息，恢复正常管理。",
}

func (s *Sandbox) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	body, err := io.ReadAll(io.LimitReader(r.Body, 1<<20))
	if err != nil || r.Method != http.MethodPost || !Verify(s.Secret, body, r.Header.Get(SignatureHeader)) {
		http.Error(w, "bad signature", http.StatusUnauthorized)
		return
	}
	var m Message
	if err := json.Unmarshal(body, &m); err != nil {
		http.Error(w, "bad message", http.StatusBadRequest)
		return
	}
	d, ok := ByCode(m.Department)
	if !ok {
		http.Error(w, "unknown department", http.StatusNotFound)
		return
	}
	b, _ := json.Marshal(Ack{MessageID: m.ID, Status: "done", Result: d.Name + "部门（模拟）：" + sandboxResults[m.Event]})
	w.Header().Set("Content-Type", "application/json")
	w.Header().Set(SignatureHeader, Sign(s.Secret, b))
	_, _ = w.Write(b)
}
