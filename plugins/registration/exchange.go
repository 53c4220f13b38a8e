package main

import (
	"context"
	"crypto/rand"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"io"
	"net"
	"net/http"
	"time"

	"github.com/shanghai-amr/portal/plugins/registration/departments"
	"github.com/shanghai-amr/portal/sdk"
)

// The info-exchange channel to the other departments (modules 67–69); the
// protocol is in package departments.

// startExchange configures the channel from the settings: exchange.secret
// and exchange.url.<department>. With no endpoint configured at all it
// serves the departments' sandbox on loopback (development), as the payment
// sandbox does for enforcement.
func (s *service) startExchange(settings map[string]string) error {
	secret := []byte(settings["exchange.secret"])
	if len(secret) == 0 {
		// Development only: a key derived from nothing secret. A deployment
		// sets exchange.secret, agreed with the departments.
		sum := sha256.Sum256([]byte("registration exchange sandbox (development)"))
		secret = sum[:]
	}
	ch := &departments.Channel{Endpoints: map[string]string{}, Secret: secret, Client: &http.Client{Timeout: 10 * time.Second}}
	for _, d := range departments.All {
		if u := settings["exchange.url."+d.Code]; u != "" {
			ch.Endpoints[d.Code] = u
		}
	}
	if len(ch.Endpoints) == 0 {
		ln, err := net.Listen("tcp", "127.0.0.1:0")
		if err != nil {
			return err
		}
		srv := &http.Server{Handler: &departments.Sandbox{Secret: secret}, ReadHeaderTimeout: 10 * time.Second}
		go func() { _ = srv.Serve(ln) }()
		for _, d := range departments.All {
			ch.Endpoints[d.Code] = "http://" + ln.Addr().String() + "/" + d.Code
		}
		s.log.Info("no exchange endpoints configured: the departments' sandbox answers on loopback", "addr", ln.Addr().String())
	}
	s.exchange = ch
	return nil
}

func (s *service) exchangeRoutes(mux *http.ServeMux) {
	mux.HandleFunc("POST /exchange/feedback", s.feedback)
}

func messageID() string {
	var b [16]byte
	_, _ = rand.Read(b[:])
	return hex.EncodeToString(b[:])
}

// push sends an approved application to each department the applicant chose
// that has not answered yet, and records each answer (module 67; 68 for a
// termination). A failure is recorded on the panel and can be pushed again.
func (s *service) push(ctx context.Context, f *filing, event string) {
	for _, d := range f.Departments {
		if d.Status == "done" || d.Status == "pushed" {
			continue
		}
		id := messageID()
		m := departments.Message{ID: id, Department: d.Code, Event: event, USCC: f.USCC, Name: f.Name,
			StartDate: f.StartDate, EndDate: f.EndDate, Number: f.Number, Form: d.Form}
		status, result := "pushed", "已推送，等待反馈"
		ack, err := s.exchange.Push(ctx, m)
		switch {
		case errors.Is(err, departments.ErrNotConfigured):
			status, result = "queued", "交换通道未配置，待推送"
		case err != nil:
			status, result = "failed", "推送失败，可重新推送"
			s.log.Warn("department push failed", "filing", f.ID, "department", d.Code, "err", err)
		case ack.Status == "done" || ack.Status == "refused":
			status, result = ack.Status, ack.Result
		}
		if _, err := s.db.ExecContext(ctx, "UPDATE filing_departments SET status = ?, result = ?, message_id = ?, pushed_at = ? WHERE filing_id = ? AND dept = ?",
			status, result, id, time.Now().UnixMilli(), f.ID, d.Code); err != nil {
			s.log.Warn("department push not recorded", "filing", f.ID, "department", d.Code, "err", err)
		}
		s.audit(ctx, "suspension.push", f.ID, map[string]any{"department": d.Code, "event": event, "status": status})
	}
}

// feedback takes a department's later result for a push (module 69),
// signed with the exchange secret. A repeated feedback changes nothing; a
// forged one is refused.
func (s *service) feedback(w http.ResponseWriter, r *http.Request) {
	body, err := io.ReadAll(io.LimitReader(r.Body, 64<<10))
	if err != nil || !departments.Verify(s.exchange.Secret, body, r.Header.Get(departments.SignatureHeader)) {
		refuse(w, r, http.StatusUnauthorized, "registration.exchange_signature", "反馈签名校验失败", "The feedback's signature does not verify")
		return
	}
	var ack departments.Ack
	if err := json.Unmarshal(body, &ack); err != nil || ack.MessageID == "" || (ack.Status != "accepted" && ack.Status != "done" && ack.Status != "refused") {
		refuse(w, r, http.StatusBadRequest, "registration.invalid", "反馈内容不正确", "The feedback is not valid")
		return
	}
	var filingID int64
	var dept string
	err = s.db.QueryRowContext(r.Context(), "SELECT filing_id, dept FROM filing_departments WHERE message_id = ?", ack.MessageID).Scan(&filingID, &dept)
	if err != nil {
		refuse(w, r, http.StatusNotFound, "registration.not_found", "没有该推送记录", "No such push")
		return
	}
	status := map[string]string{"accepted": "pushed"}[ack.Status]
	if status == "" {
		status = ack.Status
	}
	res, err := s.db.ExecContext(r.Context(), "UPDATE filing_departments SET status = ?, result = ? WHERE message_id = ? AND (status <> ? OR COALESCE(result, '') <> ?)",
		status, ack.Result, ack.MessageID, status, ack.Result)
	if err != nil {
		internal(w, r, err)
		return
	}
	if n, _ := res.RowsAffected(); n > 0 {
		s.audit(r.Context(), "suspension.feedback", filingID, map[string]any{"department": dept, "status": status})
	}
	sdk.WriteJSON(w, http.StatusOK, map[string]string{"status": status})
}
