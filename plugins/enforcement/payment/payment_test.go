package payment

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"sync"
	"testing"
	"time"
)

var bg = context.Background()

// R-PAY-2, R-PAY-NT-2, R-PAY-UP-1: pay → the payer pays → the notification
// is recorded once although delivered twice → query says paid.
func TestPayNotifyOnceQueryPaid(t *testing.T) {
	r := newRig(t)
	p := r.pay("SN-0001", 20000)
	if p.Status != StatusPending || p.Channel != ChannelOnline || p.PayURL == "" || p.QRPayload != p.PayURL {
		t.Fatalf("new order = %+v", p)
	}
	if got := p.ExpiresAt.Sub(p.CreatedAt); got != 15*time.Minute {
		t.Errorf("R-PAY-2: order valid %s, want 15m", got)
	}
	if !p.CreatedAt.Equal(start) {
		t.Errorf("created %s, want the injected clock's %s", p.CreatedAt, start)
	}
	if err := r.sb.Simulate(p.OrderNo, OutcomePaid); err != nil {
		t.Fatal(err)
	}
	r.sb.Wait()
	if err := r.sb.Redeliver(p.OrderNo); err != nil { // the platform delivers it again
		t.Fatal(err)
	}
	r.sb.Wait()
	var wg sync.WaitGroup // and twice more at the same moment
	for range 2 {
		wg.Go(func() {
			if err := r.sb.Redeliver(p.OrderNo); err != nil {
				t.Error(err)
			}
		})
	}
	wg.Wait()
	r.sb.Wait()

	if r.store.Len() != 1 || r.store.Calls() != 4 {
		t.Errorf("R-PAY-NT-2: %d orders recorded from %d deliveries, want 1 from 4", r.store.Len(), r.store.Calls())
	}
	ds := r.sb.Deliveries(p.OrderNo)
	if len(ds) != 4 {
		t.Fatalf("deliveries = %+v, want 4", ds)
	}
	for _, d := range ds {
		if d.StatusCode != http.StatusOK || d.NotifyID != ds[0].NotifyID {
			t.Errorf("delivery %+v: want 200 SUCCESS for duplicates too, one notify id", d)
		}
	}
	n, _ := r.store.Get(p.OrderNo)
	q := r.query(p.OrderNo)
	if q.Status != StatusPaid || q.TradeNo == "" || q.TradeNo != n.TradeNo || n.AmountFen != 20000 || n.SerialNo != "SN-0001" || n.KeyID != key1.ID {
		t.Errorf("query %+v, recorded %+v", q, n)
	}
	if err := r.sb.Simulate(p.OrderNo, OutcomePaid); !errors.Is(err, ErrAlreadyPaid) {
		t.Errorf("paying twice: %v, want ErrAlreadyPaid", err)
	}
}

// A failed attempt leaves the order payable and tells the payer why (1161).
func TestFailedAttemptStaysPayable(t *testing.T) {
	r := newRig(t)
	p := r.pay("SN-FAIL", 5000)
	if err := r.sb.Simulate(p.OrderNo, OutcomeFailed); err != nil {
		t.Fatal(err)
	}
	if q := r.query(p.OrderNo); q.Status != StatusPending || q.FailReason == "" {
		t.Errorf("after a failed attempt: %+v", q)
	}
	r.sb.Wait()
	if r.notifyHits.Load() != 0 {
		t.Error("a failed attempt sent a notification")
	}
	if err := r.sb.Simulate(p.OrderNo, "MAYBE"); !errors.Is(err, ErrInvalid) {
		t.Errorf("unknown outcome: %v", err)
	}
}

// Forged, tampered, stale and malformed notifications are refused with 400
// and not recorded (R-PAY-NT-2 receiver; signature per the package comment).
func TestNotificationRefused(t *testing.T) {
	r := newRig(t)
	p := r.paid("SN-REAL", 20000)
	real, _ := r.store.Get(p.OrderNo)
	forgedOrder := real
	forgedOrder.OrderNo, forgedOrder.NotifyID = "SBX20250506FORGED", "NFORGED"

	now := r.clk.Now()
	build := func(key Key, at time.Time, n *Notification) *http.Request {
		req, err := NewNotificationRequest(bg, r.notifyURL, testApp, key, at, n)
		if err != nil {
			t.Fatal(err)
		}
		return req
	}
	setBody := func(req *http.Request, body string) *http.Request {
		req.Body, req.ContentLength = io.NopCloser(strings.NewReader(body)), int64(len(body))
		return req
	}
	tests := []struct {
		name string
		req  func() *http.Request
		want error
	}{
		{"wrong key (forger knows the key id, not the secret)", func() *http.Request { return build(evil, now, &forgedOrder) }, ErrBadSignature},
		{"unknown key id", func() *http.Request {
			return build(Key{ID: "2024-01", Secret: key1.Secret}, now, &forgedOrder)
		}, ErrBadSignature},
		{"tampered amount", func() *http.Request {
			req := build(key1, now, &forgedOrder)
			b, _ := io.ReadAll(req.Body)
			return setBody(req, strings.Replace(string(b), `"amount_fen":20000`, `"amount_fen":1`, 1))
		}, ErrBadSignature},
		{"tampered header (timestamp moved)", func() *http.Request {
			req := build(key1, now, &forgedOrder)
			req.Header.Set(HeaderTimestamp, fmt.Sprint(now.Unix()+1))
			return req
		}, ErrBadSignature},
		{"another app's notification", func() *http.Request {
			req, _ := NewNotificationRequest(bg, r.notifyURL, "OTHER-APP", key1, now, &forgedOrder)
			return req
		}, ErrBadSignature},
		{"stale: signed 11 minutes ago (replay)", func() *http.Request { return build(key1, now.Add(-11*time.Minute), &forgedOrder) }, ErrStale},
		{"from the future: 11 minutes ahead", func() *http.Request { return build(key1, now.Add(11*time.Minute), &forgedOrder) }, ErrStale},
		{"unsigned", func() *http.Request {
			req := build(key1, now, &forgedOrder)
			req.Header.Del(HeaderSignature)
			return req
		}, ErrMalformed},
		{"other sign type", func() *http.Request {
			req := build(key1, now, &forgedOrder)
			req.Header.Set(HeaderSignType, "MD5")
			return req
		}, ErrMalformed},
		{"signed but not JSON", func() *http.Request {
			req := build(key1, now, &forgedOrder)
			h := req.Header.Clone()
			req = setBody(req, "amount=1")
			sign(h, testApp, key1, targetNotify, now, []byte("amount=1"))
			req.Header = h
			return req
		}, ErrMalformed},
		{"signed but no amount", func() *http.Request {
			n := forgedOrder
			n.AmountFen = 0
			return build(key1, now, &n)
		}, ErrMalformed},
		{"GET", func() *http.Request {
			req := build(key1, now, &forgedOrder)
			req.Method = http.MethodGet
			return req
		}, ErrMalformed},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			_, err := r.gw.ParseNotification(tc.req())
			if !errors.Is(err, tc.want) {
				t.Errorf("ParseNotification: %v, want %v", err, tc.want)
			}
			rec := r.post(tc.req())
			if rec.Code != http.StatusBadRequest || rec.Body.String() != "FAIL" {
				t.Errorf("receiver answered %d %q, want 400 FAIL", rec.Code, rec.Body)
			}
			if _, ok := r.store.Get(forgedOrder.OrderNo); ok {
				t.Error("refused notification recorded")
			}
		})
	}
	if r.store.Len() != 1 {
		t.Errorf("store has %d orders, want only the real one", r.store.Len())
	}
	// The window's edge: 9 minutes old is still accepted.
	if rec := r.post(build(key1, now.Add(-9*time.Minute), &forgedOrder)); rec.Code != http.StatusOK {
		t.Errorf("9-minute-old notification: %d", rec.Code)
	}
}

// R-PAY-3: an unpaid order can be cancelled, a paid one only refunded.
func TestCancel(t *testing.T) {
	r := newRig(t)
	unpaid := r.pay("SN-C1", 1000)
	paid := r.paid("SN-C2", 1000)
	expired := r.pay("SN-C3", 1000)

	c, err := r.gw.Cancel(bg, unpaid.OrderNo)
	if err != nil || c.Status != StatusCancelled {
		t.Fatalf("cancel unpaid: %+v, %v", c, err)
	}
	if c, err = r.gw.Cancel(bg, unpaid.OrderNo); err != nil || c.Status != StatusCancelled {
		t.Errorf("cancel twice: %+v, %v (want idempotent)", c, err)
	}
	wantErr(t, r.sb.Simulate(unpaid.OrderNo, OutcomePaid), ErrCancelled)

	_, err = r.gw.Cancel(bg, paid.OrderNo)
	wantErr(t, err, ErrAlreadyPaid)
	var ae *APIError
	if !errors.As(err, &ae) || ae.Code != "ALREADY_PAID" || ae.OrderNo != paid.OrderNo || ae.HTTPStatus != http.StatusConflict {
		t.Errorf("API error = %#v", ae)
	}
	if q := r.query(paid.OrderNo); q.Status != StatusPaid {
		t.Errorf("refused cancel changed the order: %s", q.Status)
	}

	r.clk.Add(15 * time.Minute)
	if c, err = r.gw.Cancel(bg, expired.OrderNo); err != nil || c.Status != StatusExpired {
		t.Errorf("cancel expired: %+v, %v", c, err)
	}
	_, err = r.gw.Cancel(bg, "SBX-NO-SUCH")
	wantErr(t, err, ErrNotFound)
	_, err = r.gw.Cancel(bg, "../bills/2025-05-06")
	wantErr(t, err, ErrInvalid)
}

// R-PAY-3: refunds of a paid order, partial and full, never more than paid,
// idempotent by refund number.
func TestRefund(t *testing.T) {
	r := newRig(t)
	p := r.paid("SN-R1", 20000)
	unpaid := r.pay("SN-R2", 20000)

	steps := []struct {
		name       string
		orderNo    string
		refundNo   string
		fen        int64
		want       error
		status     Status
		refunded   int64
		refundsLen int
	}{
		{"unpaid order cannot be refunded", unpaid.OrderNo, "RF-0", 100, ErrNotPaid, "", 0, 0},
		{"partial refund", p.OrderNo, "RF-1", 5000, nil, StatusPartRefunded, 5000, 1},
		{"same refund again is idempotent", p.OrderNo, "RF-1", 5000, nil, StatusPartRefunded, 5000, 1},
		{"refund number reused with another amount", p.OrderNo, "RF-1", 6000, ErrRefundNoUsed, "", 0, 0},
		{"over-refund refused", p.OrderNo, "RF-2", 15001, ErrOverRefund, "", 0, 0},
		{"zero refused", p.OrderNo, "RF-2", 0, ErrInvalid, "", 0, 0},
		{"the rest: full refund", p.OrderNo, "RF-2", 15000, nil, StatusRefunded, 20000, 2},
		{"nothing left", p.OrderNo, "RF-3", 1, ErrOverRefund, "", 0, 0},
	}
	for _, s := range steps {
		got, err := r.gw.Refund(bg, s.orderNo, s.refundNo, s.fen, "复议撤销处罚决定")
		if s.want != nil {
			if !errors.Is(err, s.want) {
				t.Errorf("%s: %v, want %v", s.name, err, s.want)
			}
			continue
		}
		if err != nil {
			t.Fatalf("%s: %v", s.name, err)
		}
		if got.Status != s.status || got.RefundedFen != s.refunded || len(got.Refunds) != s.refundsLen || got.RefundableFen() != 20000-s.refunded {
			t.Errorf("%s: %+v", s.name, got)
		}
	}
	if q := r.query(p.OrderNo); q.Status != StatusRefunded || q.RefundedFen != 20000 {
		t.Errorf("query after refunds: %+v", q)
	}
}

// R-PAY-NT-1: one business serial number obtains one payment code.
func TestSerialNumberOnce(t *testing.T) {
	r := newRig(t)
	first := r.pay("SN-S1", 20000)

	again, err := r.gw.Pay(bg, r.order("SN-S1", 20000))
	if err != nil || again.OrderNo != first.OrderNo {
		t.Fatalf("same serial, same amount: %+v, %v; want the existing order %s", again, err, first.OrderNo)
	}
	_, err = r.gw.Pay(bg, r.order("SN-S1", 30000))
	wantErr(t, err, ErrSerialUsed)
	var ae *APIError
	if !errors.As(err, &ae) || ae.OrderNo != first.OrderNo {
		t.Errorf("the error should name the order holding the serial: %#v", ae)
	}
	other := r.order("SN-S1", 20000)
	other.CaseID = "CASE-2025-0002"
	_, err = r.gw.Pay(bg, other)
	wantErr(t, err, ErrSerialUsed)

	paid := r.paid("SN-S2", 100)
	_, err = r.gw.Pay(bg, r.order("SN-S2", 100))
	wantErr(t, err, ErrSerialUsed) // paid: no second code

	r.clk.Add(15 * time.Minute)
	_, err = r.gw.Pay(bg, r.order("SN-S1", 20000))
	wantErr(t, err, ErrSerialUsed) // expired: a new attempt takes a new serial
	if p := r.pay("SN-S1-2", 20000); p.OrderNo == first.OrderNo || p.OrderNo == paid.OrderNo {
		t.Error("new serial reused an order")
	}

	// Concurrent requests for one serial get one order.
	var mu sync.Mutex
	nos := map[string]bool{}
	var wg sync.WaitGroup
	for range 8 {
		wg.Go(func() {
			p, err := r.gw.Pay(bg, r.order("SN-S3", 700))
			if err != nil {
				t.Error(err)
				return
			}
			mu.Lock()
			nos[p.OrderNo] = true
			mu.Unlock()
		})
	}
	wg.Wait()
	if len(nos) != 1 {
		t.Errorf("concurrent Pay of one serial made %d orders", len(nos))
	}
}

// R-PAY-2: "支付15分钟内有效，超时重新支付".
func TestOrderExpiresAfter15Minutes(t *testing.T) {
	r := newRig(t)
	p := r.pay("SN-E1", 20000)
	late := r.pay("SN-E2", 20000)

	r.clk.Add(15*time.Minute - time.Second)
	if q := r.query(p.OrderNo); q.Status != StatusPending {
		t.Fatalf("at 14:59 the order is %s, want PENDING", q.Status)
	}
	if err := r.sb.Simulate(p.OrderNo, OutcomePaid); err != nil {
		t.Fatalf("paying at 14:59: %v", err)
	}
	r.clk.Add(time.Second)
	if q := r.query(late.OrderNo); q.Status != StatusExpired {
		t.Errorf("at 15:00 the order is %s, want EXPIRED", q.Status)
	}
	wantErr(t, r.sb.Simulate(late.OrderNo, OutcomePaid), ErrExpired)
	if q := r.query(late.OrderNo); q.Status != StatusExpired || !q.PaidAt.IsZero() {
		t.Errorf("expired order after a payment attempt: %+v", q)
	}
	page := get(t, late.PayURL)
	if !strings.Contains(page, "已超时") || strings.Contains(page, "<form") {
		t.Errorf("cashier page of an expired order still offers payment:\n%s", page)
	}
	r.sb.Wait()
}

// R-PAY-NT-2: "会间隔5分钟再次通知，通知3次后仍不成功，则不再通知" (interval
// shortened for the test).
func TestNotificationRetries(t *testing.T) {
	t.Run("fails twice then succeeds: 3 attempts, recorded once", func(t *testing.T) {
		r := newRig(t)
		r.failFirst.Store(2)
		began := time.Now()
		p := r.paid("SN-N1", 20000)
		ds := r.sb.Deliveries(p.OrderNo)
		if len(ds) != 3 || ds[0].StatusCode != 503 || ds[1].StatusCode != 503 || !ds[2].OK() || ds[2].Attempt != 3 {
			t.Fatalf("deliveries = %+v", ds)
		}
		if took := time.Since(began); took < 10*time.Millisecond {
			t.Errorf("3 attempts took %s, want ≥ 2 intervals", took)
		}
		if r.store.Len() != 1 || r.store.Calls() != 1 {
			t.Errorf("recorded %d orders in %d calls, want 1 in 1", r.store.Len(), r.store.Calls())
		}
	})
	t.Run("never succeeds: 3 attempts, then no more", func(t *testing.T) {
		r := newRig(t)
		r.failFirst.Store(1000)
		p := r.paid("SN-N2", 20000)
		time.Sleep(20 * time.Millisecond) // 4 intervals: no 4th attempt comes
		if ds := r.sb.Deliveries(p.OrderNo); len(ds) != 3 || r.notifyHits.Load() != 3 {
			t.Errorf("deliveries = %+v, hits %d; want exactly 3", ds, r.notifyHits.Load())
		}
		if r.store.Len() != 0 {
			t.Error("recorded without a successful delivery")
		}
		// Reconciliation by query still finds it paid (R-PAY-4).
		if q, err := AwaitResult(bg, r.gw, p.OrderNo, time.Millisecond, 3); err != nil || q.Status != StatusPaid {
			t.Errorf("AwaitResult = %+v, %v", q, err)
		}
	})
	t.Run("store failure answers 500, the retry records", func(t *testing.T) {
		r := newRig(t)
		r.storeBroken.Store(true)
		p := r.pay("SN-N3", 20000)
		if err := r.sb.Simulate(p.OrderNo, OutcomePaid); err != nil {
			t.Fatal(err)
		}
		for len(r.sb.Deliveries(p.OrderNo)) == 0 {
			time.Sleep(time.Millisecond)
		}
		r.storeBroken.Store(false)
		r.sb.Wait()
		ds := r.sb.Deliveries(p.OrderNo)
		if ds[0].StatusCode != http.StatusInternalServerError || !ds[len(ds)-1].OK() || r.store.Len() != 1 {
			t.Errorf("deliveries = %+v, recorded %d", ds, r.store.Len())
		}
	})
}

// R-PAY-5: the day's bill file lists the day's payments and refunds only.
func TestBillFile(t *testing.T) {
	r := newRig(t)
	a := r.paid("SN-B1", 20000)
	r.clk.Add(time.Minute)
	b := r.paid("SN-B2", 5000)
	r.pay("SN-B3", 7000) // never paid
	r.clk.Add(time.Hour)
	if _, err := r.gw.Refund(bg, a.OrderNo, "RF-B1", 2000, "部分退款"); err != nil {
		t.Fatal(err)
	}
	r.clk.Add(24 * time.Hour) // next day
	c := r.paid("SN-B4", 300)
	r.clk.Add(time.Minute)
	if _, err := r.gw.Refund(bg, b.OrderNo, "RF-B2", 5000, "全额退款"); err != nil {
		t.Fatal(err)
	}

	day1, err := r.gw.BillFile(bg, start)
	if err != nil {
		t.Fatal(err)
	}
	lines, err := ParseBillFile(day1)
	if err != nil {
		t.Fatalf("%v\n%s", err, day1)
	}
	got := []string{}
	for _, l := range lines {
		got = append(got, fmt.Sprintf("%s %s %d %s", l.Type, l.SerialNo, l.AmountFen, l.RefundNo))
	}
	want := []string{"PAY SN-B1 20000 ", "PAY SN-B2 5000 ", "REFUND SN-B1 2000 RF-B1"}
	if fmt.Sprint(got) != fmt.Sprint(want) {
		t.Errorf("day 1 bill = %q, want %q\n%s", got, want, day1)
	}
	if strings.Contains(string(day1), "上海某某") {
		t.Error("the bill file carries the payer's name")
	}
	if lines[0].OrderNo != a.OrderNo || lines[0].TradeNo == "" || lines[0].Channel != ChannelOnline || !lines[0].OccurredAt.Equal(start) {
		t.Errorf("first line = %+v", lines[0])
	}

	// The day is the CST day: 2025-05-07 00:30 CST is 2025-05-06 16:30 UTC.
	day2, err := r.gw.BillFile(bg, time.Date(2025, 5, 6, 16, 30, 0, 0, time.UTC))
	if err != nil {
		t.Fatal(err)
	}
	lines, _ = ParseBillFile(day2)
	if len(lines) != 2 || lines[0].OrderNo != c.OrderNo || lines[1].Type != BillRefund || lines[1].OrderNo != b.OrderNo {
		t.Errorf("day 2 bill:\n%s", day2)
	}
	empty, err := r.gw.BillFile(bg, start.AddDate(0, 0, -1))
	if lines, _ := ParseBillFile(empty); err != nil || len(lines) != 0 {
		t.Errorf("empty day: %v\n%s", err, empty)
	}
	if _, err := ParseBillFile([]byte("a,b\n")); !errors.Is(err, ErrMalformed) {
		t.Errorf("ParseBillFile of garbage: %v", err)
	}
}

// R-PAY-UP-1 支付接口（用户被扫）.
func TestScanPay(t *testing.T) {
	r := newRig(t)
	for _, code := range []string{"", "123", "abcdefghijklmnopqr", "990000000000000000", "13456789012345678", "1345678901234567890", "134567890123456789; DROP"} {
		t.Run("bad code "+code, func(t *testing.T) {
			_, err := r.gw.ScanPay(bg, r.order("SN-SCAN", 20000), code)
			wantErr(t, err, ErrBadAuthCode)
		})
	}
	// A refused code did not use the serial number.
	p, err := r.gw.ScanPay(bg, r.order("SN-SCAN", 20000), "134567890123456789")
	if err != nil {
		t.Fatal(err)
	}
	if p.Status != StatusPaid || p.Channel != ChannelScan || p.PayURL != "" || p.TradeNo == "" {
		t.Errorf("scanned payment = %+v", p)
	}
	r.sb.Wait()
	if n, ok := r.store.Get(p.OrderNo); !ok || n.Channel != ChannelScan {
		t.Errorf("notification of the scanned payment: %+v %v", n, ok)
	}
	_, err = r.gw.ScanPay(bg, r.order("SN-SCAN", 20000), "284567890123456789")
	wantErr(t, err, ErrSerialUsed)

	// An online order still pending can be paid by scanning instead.
	q := r.pay("SN-SCAN2", 900)
	s, err := r.gw.ScanPay(bg, r.order("SN-SCAN2", 900), "6212345678901234567")
	if err != nil || s.OrderNo != q.OrderNo || s.Status != StatusPaid {
		t.Errorf("scan of a pending online order: %+v, %v", s, err)
	}
	r.sb.Wait()
}

// R-PAY-NT-5: the monthly key rotation; during it both keys are accepted.
func TestKeyRotation(t *testing.T) {
	r := newRig(t)
	// 1 June 00:10: the platform signs with the new key; the unit has not
	// switched yet: its requests (old key) are accepted and answered with
	// the old key, its notification is refused and retried.
	if err := r.platform.Rotate(key2); err != nil {
		t.Fatal(err)
	}
	p := r.pay("SN-K1", 100) // the unit's old-key request is still accepted
	if err := r.sb.Simulate(p.OrderNo, OutcomePaid); err != nil {
		t.Fatal(err)
	}
	r.sb.Wait()
	if r.store.Len() != 0 {
		t.Fatal("a notification signed with a key the unit does not have was accepted")
	}
	// 01:00: the unit stores the new key; the old one stays as previous.
	if err := r.unit.Rotate(key2); err != nil {
		t.Fatal(err)
	}
	if err := r.sb.Redeliver(p.OrderNo); err != nil {
		t.Fatal(err)
	}
	r.sb.Wait()
	if n, ok := r.store.Get(p.OrderNo); !ok || n.KeyID != key2.ID {
		t.Fatalf("after the unit's rotation: %+v %v", n, ok)
	}
	// A notification still signed with the previous key is accepted too.
	n, _ := r.store.Get(p.OrderNo)
	req, _ := NewNotificationRequest(bg, r.notifyURL, testApp, key1, r.clk.Now(), &n)
	if got, err := r.gw.ParseNotification(req); err != nil || got.KeyID != key1.ID {
		t.Errorf("previous key during rotation: %v", err)
	}
	// After the window only the current key verifies.
	r.unit.DropPrevious()
	r.platform.DropPrevious()
	req, _ = NewNotificationRequest(bg, r.notifyURL, testApp, key1, r.clk.Now(), &n)
	_, err := r.gw.ParseNotification(req)
	wantErr(t, err, ErrBadSignature)
	if _, err := r.gw.Query(bg, p.OrderNo); err != nil {
		t.Errorf("query with the new key: %v", err)
	}
	if err := r.unit.Rotate(key2); err == nil {
		t.Error("rotating to the current key again accepted")
	}
	if _, err := NewKeyRing(Key{ID: "short", Secret: []byte("short")}); err == nil {
		t.Error("a 5-byte secret accepted")
	}
}

// Key material never appears in logs, errors or formatted values.
func TestKeysNeverLeak(t *testing.T) {
	r := newRig(t)
	r.failFirst.Store(1)
	p := r.paid("SN-L1", 100)
	r.post(func() *http.Request {
		req, _ := NewNotificationRequest(bg, r.notifyURL, testApp, evil, r.clk.Now(), &Notification{})
		return req
	}())
	_, errForged := r.gw.ParseNotification(func() *http.Request {
		req, _ := NewNotificationRequest(bg, r.notifyURL, testApp, evil, r.clk.Now(), &Notification{OrderNo: p.OrderNo})
		return req
	}())
	cfg := ClientConfig{BaseURL: "https://pay.example", AppID: testApp, Keys: r.unit}
	out := strings.Join([]string{
		r.logs.String(), fmt.Sprint(errForged),
		fmt.Sprintf("%v %+v %#v %s", key1, key1, key1, key1),
		fmt.Sprintf("%v %+v", cfg, cfg), fmt.Sprint(r.unit),
		func() string { b, _ := json.Marshal(struct{ K Key }{key1}); return string(b) }(),
	}, "\n")
	if !strings.Contains(r.logs.String(), "notification delivery") {
		t.Fatalf("nothing was logged:\n%s", out)
	}
	for _, k := range []Key{key1, key2, evil} {
		for _, form := range []string{string(k.Secret), fmt.Sprintf("%x", k.Secret), fmt.Sprint(k.Secret)} {
			if strings.Contains(out, form) {
				t.Fatalf("secret of %s leaked:\n%s", k.ID, out)
			}
		}
	}
}

// The Client is the production path: it insists on https, signs requests
// and believes only signed answers.
func TestClientSecurity(t *testing.T) {
	r := newRig(t)
	for _, base := range []string{"http://pay.example.gov.cn/gw", "ftp://127.0.0.1", "https://user:pw@pay.example", "/relative", "https://pay.example/?x=1"} {
		if _, err := NewClient(ClientConfig{BaseURL: base, AppID: testApp, Keys: r.unit}); err == nil {
			t.Errorf("base URL %q accepted", base)
		}
	}
	for _, base := range []string{"https://pay.example.gov.cn/gw", "http://127.0.0.1:8080", "http://localhost/x", "http://[::1]:9/"} {
		if _, err := NewClient(ClientConfig{BaseURL: base, AppID: testApp, Keys: r.unit}); err != nil {
			t.Errorf("base URL %q refused: %v", base, err)
		}
	}
	// A client with the wrong key is refused by the platform (and cannot
	// verify its answer either).
	wrong, _ := NewKeyRing(evil)
	forger, err := NewClient(ClientConfig{BaseURL: r.gw.base.String(), AppID: testApp, Keys: wrong, Now: r.clk.Now})
	if err != nil {
		t.Fatal(err)
	}
	_, err = forger.Pay(bg, r.order("SN-X1", 100))
	var ae *APIError
	if !errors.As(err, &ae) || ae.HTTPStatus != http.StatusUnauthorized || ae.Code != CodeUnverified || ae.Unwrap() != nil {
		t.Errorf("wrong key: %v, want an unverified 401", err)
	}
	// A request signed 20 minutes ago is refused as a replay; the platform
	// says so in an answer the (slow) client still verifies.
	slow := *r.gw
	slow.now = func() time.Time { return start.Add(-20 * time.Minute) }
	slow.maxAge = time.Hour
	_, err = slow.Query(bg, "SBX0")
	wantErr(t, err, ErrStale)
	// Someone in the middle: a forged success is refused, an unsigned
	// proxy error is reported by its status only.
	for _, tc := range []struct {
		name   string
		status int
		key    *Key
		want   error
	}{
		{"unsigned 200", 200, nil, ErrMalformed},
		{"200 signed with a forged key", 200, &evil, ErrBadSignature},
		{"unsigned 502", 502, nil, nil},
		{"ALREADY_PAID signed with a forged key", 409, &evil, nil},
	} {
		mitm := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, req *http.Request) {
			body := []byte(`{"order_no":"SBX1","serial_no":"SN-M","amount_fen":1,"status":"PAID","code":"ALREADY_PAID"}`)
			if tc.key != nil {
				sign(w.Header(), testApp, *tc.key, targetResponse(req.Method, pathOrders+"/SBX1"), r.clk.Now(), body)
			}
			w.WriteHeader(tc.status)
			_, _ = w.Write(body)
		}))
		c, _ := NewClient(ClientConfig{BaseURL: mitm.URL, AppID: testApp, Keys: r.unit, Now: r.clk.Now})
		p, err := c.Query(bg, "SBX1")
		mitm.Close()
		if p != nil {
			t.Errorf("%s: believed %+v", tc.name, p)
		}
		if tc.want != nil {
			wantErr(t, err, tc.want)
			continue
		}
		if !errors.As(err, &ae) || ae.HTTPStatus != tc.status || ae.Code != CodeUnverified || errors.Is(err, ErrAlreadyPaid) {
			t.Errorf("%s: %v", tc.name, err)
		}
	}
	// An unsigned request straight to the platform API is refused.
	resp, err := http.Post(r.gw.base.String()+pathOrders, "application/json", strings.NewReader(`{}`))
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusBadRequest {
		t.Errorf("unsigned request: %d", resp.StatusCode)
	}
	// An order that does not validate never leaves the client.
	bad := r.order("SN-X2", 0)
	_, err = r.gw.Pay(bg, bad)
	wantErr(t, err, ErrInvalid)
}

func TestOrderValidate(t *testing.T) {
	ok := Order{SerialNo: "SN-1", CaseID: "沪市监处罚〔2025〕1号", PayerName: "张三", AmountFen: 1, NotifyURL: "https://portal.example/notify"}
	if err := ok.Validate(); err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name string
		edit func(o *Order)
	}{
		{"serial missing", func(o *Order) { o.SerialNo = "" }},
		{"serial with a slash", func(o *Order) { o.SerialNo = "a/b" }},
		{"serial too long", func(o *Order) { o.SerialNo = strings.Repeat("a", 65) }},
		{"case missing", func(o *Order) { o.CaseID = "" }},
		{"case starting with =", func(o *Order) { o.CaseID = "=HYPERLINK(1)" }},
		{"payer missing", func(o *Order) { o.PayerName = "" }},
		{"payer with a newline", func(o *Order) { o.PayerName = "张\n三" }},
		{"zero amount", func(o *Order) { o.AmountFen = 0 }},
		{"negative amount", func(o *Order) { o.AmountFen = -100 }},
		{"amount over the maximum", func(o *Order) { o.AmountFen = MaxAmountFen + 1 }},
		{"description too long", func(o *Order) { o.Description = strings.Repeat("罚", 129) }},
		{"relative notify URL", func(o *Order) { o.NotifyURL = "/notify" }},
		{"notify URL with credentials", func(o *Order) { o.NotifyURL = "https://u:p@portal.example/n" }},
		{"javascript notify URL", func(o *Order) { o.NotifyURL = "javascript:alert(1)" }},
	}
	for _, tc := range tests {
		o := ok
		tc.edit(&o)
		if err := o.Validate(); !errors.Is(err, ErrInvalid) {
			t.Errorf("%s: %v, want ErrInvalid", tc.name, err)
		}
	}
}

// R-PAY-4: checking the result "10分钟一次，共3次" (interval shortened).
func TestAwaitResult(t *testing.T) {
	r := newRig(t)
	p := r.pay("SN-A1", 100)
	counting := &countingGateway{Gateway: r.gw}
	q, err := AwaitResult(bg, counting, p.OrderNo, time.Millisecond, 3)
	if err != nil || q.Status != StatusPending || counting.n != 3 {
		t.Errorf("pending order: %+v, %v after %d queries, want PENDING after 3", q, err, counting.n)
	}
	if err := r.sb.Simulate(p.OrderNo, OutcomePaid); err != nil {
		t.Fatal(err)
	}
	counting.n = 0
	if q, err = AwaitResult(bg, counting, p.OrderNo, time.Millisecond, 3); err != nil || q.Status != StatusPaid || counting.n != 1 {
		t.Errorf("paid order: %+v, %v after %d queries", q, err, counting.n)
	}
	_, err = AwaitResult(bg, counting, "SBXNOSUCH", time.Millisecond, 3)
	wantErr(t, err, ErrNotFound)
	ctx, cancel := context.WithCancel(bg)
	cancel()
	_, err = AwaitResult(ctx, counting, p.OrderNo, time.Hour, 3)
	wantErr(t, err, context.Canceled)
	r.sb.Wait()
}

type countingGateway struct {
	Gateway
	n int
}

func (c *countingGateway) Query(ctx context.Context, no string) (*Payment, error) {
	c.n++
	return c.Gateway.Query(ctx, no)
}

// The demo's payer: the cashier page and the simulate endpoint.
func TestCashierAndSimulateEndpoint(t *testing.T) {
	r := newRig(t)
	p := r.pay("SN-D1", 20050)
	page := get(t, p.PayURL)
	for _, want := range []string{"¥200.50", p.OrderNo, "待支付", "<form", "15分钟"} {
		if !strings.Contains(page, want) {
			t.Errorf("cashier page lacks %q", want)
		}
	}
	if strings.Contains(page, "上海某某") {
		t.Error("the unauthenticated cashier page shows the payer's name")
	}
	// The form posts to ../sandbox/simulate and is sent back to the page.
	noRedirect := &http.Client{CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
	action, _ := url.Parse(p.PayURL)
	action = action.ResolveReference(&url.URL{Path: "../sandbox/simulate"})
	resp, err := noRedirect.PostForm(action.String(), url.Values{"order_no": {p.OrderNo}, "outcome": {"PAID"}})
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	loc, _ := resp.Location()
	if resp.StatusCode != http.StatusSeeOther || loc == nil || loc.String() != p.PayURL {
		t.Errorf("form post answered %d, Location %v; want 303 to %s", resp.StatusCode, loc, p.PayURL)
	}
	r.sb.Wait()
	if _, ok := r.store.Get(p.OrderNo); !ok {
		t.Error("paid through the cashier page, but not notified")
	}
	if page = get(t, p.PayURL); !strings.Contains(page, "已支付") || strings.Contains(page, "<form") {
		t.Error("cashier page after payment still offers payment")
	}
	// The JSON endpoint a demo page calls.
	q := r.pay("SN-D2", 100)
	resp, err = http.Post(action.String(), "application/json", strings.NewReader(`{"order_no":"`+q.OrderNo+`","outcome":"PAID"}`))
	if err != nil {
		t.Fatal(err)
	}
	var got Payment
	_ = json.NewDecoder(resp.Body).Decode(&got)
	resp.Body.Close()
	if resp.StatusCode != 200 || got.Status != StatusPaid {
		t.Errorf("simulate endpoint: %d %+v", resp.StatusCode, got)
	}
	resp, _ = http.Post(action.String(), "application/json", strings.NewReader(`{"order_no":"`+q.OrderNo+`","outcome":"PAID"}`))
	resp.Body.Close()
	if resp.StatusCode != http.StatusConflict {
		t.Errorf("paying twice through the endpoint: %d", resp.StatusCode)
	}
	redeliver := action.ResolveReference(&url.URL{Path: "redeliver"})
	resp, _ = http.Post(redeliver.String(), "application/json", strings.NewReader(`{"order_no":"`+q.OrderNo+`"}`))
	resp.Body.Close()
	r.sb.Wait()
	if resp.StatusCode != 200 || r.store.Calls() != 3 || r.store.Len() != 2 {
		t.Errorf("redeliver endpoint: %d, %d calls, %d orders", resp.StatusCode, r.store.Calls(), r.store.Len())
	}
	if resp, _ := http.Get(strings.Replace(p.PayURL, p.OrderNo, "SBXNOSUCH", 1)); resp.StatusCode != http.StatusNotFound {
		t.Errorf("cashier page of no order: %d", resp.StatusCode)
	}
}

func TestYuan(t *testing.T) {
	for fen, want := range map[int64]string{0: "0.00", 5: "0.05", 100: "1.00", 20050: "200.50", -1: "-0.01", MaxAmountFen: "1000000000.00"} {
		if got := Yuan(fen); got != want {
			t.Errorf("Yuan(%d) = %s, want %s", fen, got, want)
		}
	}
}

// A second notification for a recorded order that disagrees is not
// acknowledged (the MemoryStore flags it).
func TestMemoryStoreConflict(t *testing.T) {
	var s MemoryStore
	n := &Notification{OrderNo: "O1", SerialNo: "S1", AmountFen: 100, TradeNo: "T1"}
	if dup, err := s.RecordPayment(bg, n); dup || err != nil {
		t.Fatal(dup, err)
	}
	if dup, err := s.RecordPayment(bg, n); !dup || err != nil {
		t.Fatal(dup, err)
	}
	m := *n
	m.AmountFen = 1
	if _, err := s.RecordPayment(bg, &m); !errors.Is(err, ErrConflict) {
		t.Errorf("conflicting duplicate: %v", err)
	}
}

func get(t *testing.T, u string) string {
	t.Helper()
	resp, err := http.Get(u)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return string(b)
}
