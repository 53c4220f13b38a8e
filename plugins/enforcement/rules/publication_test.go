package rules

import (
	"testing"
	"time"
)

func TestPublicationDate(t *testing.T) {
	for _, tc := range []struct {
		name     string
		issued   time.Time
		deferred bool
		want     string // "" when not published automatically
	}{
		{"R-DL-1 S4(c) issued Fri 2025-09-26, published on the 7th WD 2025-10-13 (09-28 and 10-11 make-up days count)", at("2025-09-26 16:00"), false, "2025-10-13"},
		{"R-DL-1 issued 2026-09-29: 09-30, 10-08, 10-09, 10-10, 10-12, 10-13, 10-14", at("2026-09-29 09:00"), false, "2026-10-14"},
		{"R-DL-1 issued Fri 2026-02-13: 02-14 (make-up), 02-24 … 02-27, 02-28 (make-up), 03-02", day("2026-02-13"), false, "2026-03-02"},
		{"R-DL-1 暂缓公示 approved: no automatic publication", day("2026-09-29"), true, ""},
	} {
		t.Run(tc.name, func(t *testing.T) {
			got, ok := PublicationDate(cal, tc.issued, tc.deferred)
			if tc.want == "" {
				if ok || !got.IsZero() {
					t.Fatalf("PublicationDate = %v, %v; want none", got, ok)
				}
				return
			}
			if !ok {
				t.Fatal("not published")
			}
			same(t, "PublicationDate", got, day(tc.want))
		})
	}
}
