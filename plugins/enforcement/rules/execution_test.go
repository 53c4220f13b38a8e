package rules

import (
	"errors"
	"math"
	"math/big"
	"strings"
	"testing"
	"time"
)

func TestPaymentDue(t *testing.T) {
	// R-EXE-1 "十五日内": delivered 2026-09-20, due 2026-10-05 (a holiday; not
	// moved unless the bureau rolls it: 民法典 203 gives 2026-10-08).
	due := PaymentDue(at("2026-09-20 15:00"))
	same(t, "R-EXE-1 PaymentDue", due, end("2026-10-05"))
	same(t, "R-EXE-1 RollForward(PaymentDue)", RollForward(cal, due), end("2026-10-08"))
}

func TestSurcharge(t *testing.T) {
	const yuan = 100 // fen
	due := end("2025-07-15")
	for _, tc := range []struct {
		name string
		fine int64
		paid time.Time
		want int64
	}{
		{"R-EXE-2 paid on the due day: none", 10_000 * yuan, at("2025-07-15 23:00"), 0},
		{"R-EXE-2 paid before due: none", 10_000 * yuan, at("2025-07-01 09:00"), 0},
		{"R-EXE-2 first day overdue: 3%", 10_000 * yuan, at("2025-07-16 00:01"), 300 * yuan},
		{"R-EXE-2 S9 20 days overdue: 6,000 of 10,000", 10_000 * yuan, day("2025-08-04"), 6_000 * yuan},
		{"R-EXE-2 33 days: 99%", 10_000 * yuan, day("2025-08-17"), 9_900 * yuan},
		{"R-EXE-2 34 days: capped at the fine", 10_000 * yuan, day("2025-08-18"), 10_000 * yuan},
		{"R-EXE-2 S9 40 days: capped at the fine", 10_000 * yuan, day("2025-08-24"), 10_000 * yuan},
		{"R-EXE-2 fractions of a fen are dropped: 123.45 yuan, 1 day = 3.7035 yuan", 12_345, day("2025-07-16"), 370},
		{"R-EXE-2 fractions of a fen are dropped: 1 fen, 1 day", 1, day("2025-07-16"), 0},
		{"R-EXE-2 fractions of a fen are dropped: 0.99 yuan, 7 days = 0.2079", 99, day("2025-07-22"), 20},
		{"R-EXE-2 no fine, no surcharge", 0, day("2025-08-01"), 0},
		{"R-EXE-2 a negative fine is no fine", -500, day("2025-08-01"), 0},
		{"R-EXE-2 days are natural days, counted in CST", 10_000 * yuan, time.Date(2025, 7, 15, 16, 30, 0, 0, time.UTC), 300 * yuan},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if got := Surcharge(tc.fine, due, tc.paid); got != tc.want {
				t.Errorf("Surcharge(%d) = %d fen, want %d", tc.fine, got, tc.want)
			}
		})
	}
}

func TestSurchargeIsExactForAnyFine(t *testing.T) {
	due := end("2025-07-15")
	for _, fine := range []int64{math.MaxInt64, math.MaxInt64 - 1, 1<<62 + 77, 99_999_999_999_99} {
		for days := 1; days <= 35; days++ {
			want := new(big.Int).Mul(big.NewInt(fine), big.NewInt(int64(3*days)))
			want.Quo(want, big.NewInt(100))
			if want.Cmp(big.NewInt(fine)) > 0 {
				want.SetInt64(fine)
			}
			if got := Surcharge(fine, due, due.AddDate(0, 0, days)); got != want.Int64() {
				t.Fatalf("R-EXE-2 Surcharge(%d, %d days) = %d, want %s", fine, days, got, want)
			}
		}
	}
}

func TestDaysOverdue(t *testing.T) {
	due := end("2026-09-30")
	for _, tc := range []struct {
		at   time.Time
		want int
	}{
		{at("2026-09-30 23:59"), 0},
		{at("2026-10-01 00:00"), 1},
		{at("2026-10-08 12:00"), 8},
		{day("2026-01-01"), 0},
	} {
		if got := DaysOverdue(due, tc.at); got != tc.want {
			t.Errorf("DaysOverdue(%s) = %d, want %d", tc.at, got, tc.want)
		}
	}
}

func TestHandInDue(t *testing.T) {
	// R-EXE-4 "自收缴罚款之日起二个工作日内": collected 2026-09-30 → 10-08, 10-09.
	same(t, "R-EXE-4 HandInDue", HandInDue(cal, at("2026-09-30 18:00")), end("2026-10-09"))
}

func TestEnforcementWindow(t *testing.T) {
	for _, tc := range []struct {
		name     string
		f        EnforcementFacts
		now      time.Time
		earliest string // "" for zero
		latest   string // "" for zero
		open     bool
		reasons  []error
		messages []string // parts of the reasons' messages, in order
	}{
		{
			name:     "R-EXE-3 S9 催告书 received 2025-07-01: not before the 10 WD end (2025-07-15)",
			f:        EnforcementFacts{DecisionDelivered: day("2024-12-20"), DemandDelivered: day("2025-07-01")},
			now:      at("2025-07-15 17:00"),
			earliest: "2025-07-16", latest: "2025-09-20",
			reasons:  []error{ErrDemandRunning},
			messages: []string{"催告书送达后十个工作日尚未届满：至2025年7月15日 / ten working days from the demand notice have not passed: until the end of 15 July 2025"},
		},
		{
			name:     "R-EXE-3 S9 open from 2025-07-16 until 3 months after the suit period (2025-06-20)",
			f:        EnforcementFacts{DecisionDelivered: day("2024-12-20"), DemandDelivered: day("2025-07-01")},
			now:      at("2025-07-16 09:00"),
			earliest: "2025-07-16", latest: "2025-09-20", open: true,
		},
		{
			name:     "R-EXE-3 S9 the last day to apply, 2025-09-20",
			f:        EnforcementFacts{DecisionDelivered: day("2024-12-20"), DemandDelivered: day("2025-07-01")},
			now:      at("2025-09-20 23:00"),
			earliest: "2025-07-16", latest: "2025-09-20", open: true,
		},
		{
			name:     "R-EXE-3 S9 after three months the window has closed",
			f:        EnforcementFacts{DecisionDelivered: day("2024-12-20"), DemandDelivered: day("2025-07-01")},
			now:      at("2025-09-21 09:00"),
			earliest: "2025-07-16", latest: "2025-09-20",
			reasons:  []error{ErrWindowExpired},
			messages: []string{"已于2025年9月20日届满"},
		},
		{
			name:     "R-EXE-3 the 6-month suit period is still running",
			f:        EnforcementFacts{DecisionDelivered: day("2026-01-10"), DemandDelivered: day("2026-02-01")},
			now:      at("2026-03-01 10:00"),
			earliest: "2026-07-11", latest: "2026-10-10",
			reasons:  []error{ErrPeriodRunning},
			messages: []string{"至2026年7月10日"},
		},
		{
			name:     "R-EXE-3 a suit period ending on a holiday (2026-10-04) lets the party act until 10-08; the 3 months run from 10-04",
			f:        EnforcementFacts{DecisionDelivered: day("2026-04-04"), DemandDelivered: day("2026-09-01")},
			now:      at("2026-10-08 10:00"),
			earliest: "2026-10-09", latest: "2027-01-04",
			reasons:  []error{ErrPeriodRunning},
			messages: []string{"until the end of 8 October 2026"},
		},
		{
			name:     "R-EXE-3 no 催告书 yet: earliest unknown, latest known",
			f:        EnforcementFacts{DecisionDelivered: day("2024-12-20")},
			now:      at("2025-07-20 10:00"),
			latest:   "2025-09-20",
			reasons:  []error{ErrNoDemand},
			messages: []string{"尚未送达催告书"},
		},
		{
			name:     "R-EXE-3 with an approved instalment plan ending 2026-08-31 the 3 months run from its end",
			f:        EnforcementFacts{DecisionDelivered: day("2025-12-20"), DemandDelivered: day("2026-08-01"), DeferralEnd: day("2026-08-31")},
			now:      at("2026-08-20 10:00"),
			earliest: "2026-09-01", latest: "2026-11-30",
			reasons:  []error{ErrDeferral},
			messages: []string{"暂缓或者分期缴纳期限尚未结束：至2026年8月31日"},
		},
		{
			name:     "R-EXE-3 after the instalment plan ends the window is open",
			f:        EnforcementFacts{DecisionDelivered: day("2025-12-20"), DemandDelivered: day("2026-08-01"), DeferralEnd: day("2026-08-31")},
			now:      at("2026-09-01 08:00"),
			earliest: "2026-09-01", latest: "2026-11-30", open: true,
		},
		{
			name:     "R-EXE-3 a deferral ending before the periods does not shorten the 3 months",
			f:        EnforcementFacts{DecisionDelivered: day("2025-12-20"), DemandDelivered: day("2026-03-02"), DeferralEnd: day("2026-03-31")},
			now:      at("2026-07-01 08:00"),
			earliest: "2026-06-23", latest: "2026-09-20", open: true, // suit end 06-20 is in 端午, the party may act until Mon 06-22
		},
		{
			name:     "R-EXE-3 a 催告书 too late: its 10 WD (to 2026-09-23, via make-up Sunday 09-20) end after the last day (2026-09-20)",
			f:        EnforcementFacts{DecisionDelivered: day("2025-12-20"), DemandDelivered: day("2026-09-10")},
			now:      at("2026-09-24 08:00"),
			earliest: "2026-09-24", latest: "2026-09-20",
			reasons:  []error{ErrWindowMissed, ErrWindowExpired},
			messages: []string{"最后申请日为2026年9月20日", "the time to apply to the court has run out"},
		},
		{
			name:     "R-EXE-3 review or suit filed: no court enforcement",
			f:        EnforcementFacts{DecisionDelivered: day("2025-12-20"), DemandDelivered: day("2026-08-01"), ReviewOrSuitFiled: true},
			now:      at("2026-09-01 08:00"),
			reasons:  []error{ErrReviewOrSuit},
			messages: []string{"不能申请强制执行"},
		},
		{
			name:     "R-EXE-3 performed: nothing to enforce",
			f:        EnforcementFacts{DecisionDelivered: day("2025-12-20"), Performed: true},
			now:      at("2026-09-01 08:00"),
			reasons:  []error{ErrPerformed},
			messages: []string{"nothing to enforce"},
		},
	} {
		t.Run(tc.name, func(t *testing.T) {
			w, err := EnforcementWindow(cal, tc.f, tc.now)
			if err != nil {
				t.Fatal(err)
			}
			if tc.earliest == "" {
				if !w.Earliest.IsZero() {
					t.Errorf("Earliest = %v, want zero", w.Earliest)
				}
			} else {
				same(t, "Earliest", w.Earliest, day(tc.earliest))
			}
			if tc.latest == "" {
				if !w.Latest.IsZero() {
					t.Errorf("Latest = %v, want zero", w.Latest)
				}
			} else {
				same(t, "Latest", w.Latest, end(tc.latest))
			}
			if w.Open != tc.open {
				t.Errorf("Open = %v, want %v (reasons %v)", w.Open, tc.open, w.Reasons)
			}
			if len(w.Reasons) != len(tc.reasons) {
				t.Fatalf("reasons = %v, want %d", w.Reasons, len(tc.reasons))
			}
			for i, r := range w.Reasons {
				if !errors.Is(r, tc.reasons[i]) {
					t.Errorf("reason %d = %v, want %v", i, r, tc.reasons[i])
				}
				if !strings.Contains(r.Error(), tc.messages[i]) {
					t.Errorf("reason %d = %q, lacks %q", i, r.Error(), tc.messages[i])
				}
			}
		})
	}
}

func TestEnforcementWindowNeedsTheDecisionDate(t *testing.T) {
	if _, err := EnforcementWindow(cal, EnforcementFacts{}, day("2026-01-01")); !errors.Is(err, ErrNoDecisionDate) {
		t.Fatalf("err = %v", err)
	}
}
