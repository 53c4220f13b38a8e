package payment

import (
	"bytes"
	"cmp"
	"encoding/csv"
	"fmt"
	"slices"
	"strconv"
	"time"
)

// Bill line types.
const (
	BillPay    = "PAY"
	BillRefund = "REFUND"
)

// billHeader is the bill file's first line.
var billHeader = []string{"type", "order_no", "serial_no", "case_id", "amount_fen", "refund_no", "occurred_at", "channel", "trade_no"}

// BillLine is one line of a bill file (对账文件): a payment received or a
// refund made on the day. Amounts are positive fen; Type says which way.
type BillLine struct {
	Type       string // BillPay or BillRefund
	OrderNo    string
	SerialNo   string
	CaseID     string
	AmountFen  int64
	RefundNo   string // refunds only
	OccurredAt time.Time
	Channel    Channel
	TradeNo    string
}

// writeBill renders lines as the bill file (CSV with a header, RFC 4180).
// Payer names are not in it.
func writeBill(lines []BillLine) []byte {
	slices.SortFunc(lines, func(a, b BillLine) int {
		return cmp.Or(a.OccurredAt.Compare(b.OccurredAt), cmp.Compare(a.OrderNo, b.OrderNo),
			cmp.Compare(a.Type, b.Type), cmp.Compare(a.RefundNo, b.RefundNo)) // PAY before REFUND
	})
	var buf bytes.Buffer
	w := csv.NewWriter(&buf)
	_ = w.Write(billHeader)
	for _, l := range lines {
		_ = w.Write([]string{l.Type, l.OrderNo, l.SerialNo, l.CaseID, strconv.FormatInt(l.AmountFen, 10), l.RefundNo,
			l.OccurredAt.In(CST).Format(time.RFC3339), string(l.Channel), l.TradeNo})
	}
	w.Flush()
	return buf.Bytes()
}

// ParseBillFile reads a bill file, for reconciliation (核销) against the
// plugin's own records.
func ParseBillFile(data []byte) ([]BillLine, error) {
	r := csv.NewReader(bytes.NewReader(data))
	r.FieldsPerRecord = len(billHeader)
	recs, err := r.ReadAll()
	if err != nil {
		return nil, fmt.Errorf("%w: bill file: %v", ErrMalformed, err)
	}
	if len(recs) == 0 || !slices.Equal(recs[0], billHeader) {
		return nil, fmt.Errorf("%w: bill file: unexpected header", ErrMalformed)
	}
	lines := make([]BillLine, 0, len(recs)-1)
	for i, rec := range recs[1:] {
		amount, err := strconv.ParseInt(rec[4], 10, 64)
		if err != nil || amount <= 0 {
			return nil, fmt.Errorf("%w: bill file line %d: amount %q", ErrMalformed, i+2, rec[4])
		}
		at, err := time.Parse(time.RFC3339, rec[6])
		if err != nil {
			return nil, fmt.Errorf("%w: bill file line %d: time %q", ErrMalformed, i+2, rec[6])
		}
		if rec[0] != BillPay && rec[0] != BillRefund {
			return nil, fmt.Errorf("%w: bill file line %d: type %q", ErrMalformed, i+2, rec[0])
		}
		lines = append(lines, BillLine{Type: rec[0], OrderNo: rec[1], SerialNo: rec[2], CaseID: rec[3], AmountFen: amount,
			RefundNo: rec[5], OccurredAt: at, Channel: Channel(rec[7]), TradeNo: rec[8]})
	}
	return lines, nil
}
