package plugins

import (
	"context"
	"strings"
	"testing"
	"time"

	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"

	"github.com/shanghai-amr/portal/host/audit"
	"github.com/shanghai-amr/portal/host/clock"
	"github.com/shanghai-amr/portal/host/pii"
	"github.com/shanghai-amr/portal/host/store/ent/auditentry"
	"github.com/shanghai-amr/portal/host/store/storetest"
	"github.com/shanghai-amr/portal/sdk/proto/pluginv1"
)

func TestComputeDeadlineService(t *testing.T) {
	cal, err := clock.New()
	if err != nil {
		t.Fatal(err)
	}
	h := &hostServices{calendar: cal}
	event := time.Date(2026, 2, 13, 16, 0, 0, 0, clock.Shanghai)
	d, err := h.ComputeDeadline(context.Background(), &pluginv1.ComputeDeadlineRequest{
		StartUnixMs: event.UnixMilli(), Unit: "working_days", Amount: 5, StartRule: "next_day"})
	if err != nil {
		t.Fatal(err)
	}
	due := time.UnixMilli(d.DueUnixMs).In(clock.Shanghai)
	if due.Format(time.DateOnly) != "2026-02-27" || !strings.Contains(d.Explanation, "工作日") {
		t.Fatalf("due %s\n%s", due, d.Explanation)
	}
	for _, bad := range []*pluginv1.ComputeDeadlineRequest{
		{StartUnixMs: event.UnixMilli(), Unit: "fortnights", Amount: 1},
		{StartUnixMs: event.UnixMilli(), Unit: "hours", Amount: 0},
		{StartUnixMs: event.UnixMilli(), Unit: "hours", Amount: 1, StartRule: "whenever"},
	} {
		if _, err := h.ComputeDeadline(context.Background(), bad); status.Code(err) != codes.InvalidArgument {
			t.Errorf("%v: %v", bad, err)
		}
	}
	far := time.Date(2031, 1, 5, 9, 0, 0, 0, clock.Shanghai)
	if _, err := h.ComputeDeadline(context.Background(), &pluginv1.ComputeDeadlineRequest{StartUnixMs: far.UnixMilli(), Unit: "working_days", Amount: 1}); status.Code(err) != codes.FailedPrecondition {
		t.Errorf("a year without a schedule: %v", err)
	}
}

func TestEvaluateTrackServesPausesAndExtensions(t *testing.T) {
	cal, err := clock.New()
	if err != nil {
		t.Fatal(err)
	}
	h := &hostServices{calendar: cal}
	// 15 working days from Mon 2 Mar 2026, paused 10–20 Mar, extended by 15.
	track := `{"event":"2026-03-02T10:00:00+08:00","limit":{"unit":"working_days","amount":15,"start_rule":"next_day"},
		"pauses":[{"from":"2026-03-10T09:00:00+08:00","to":"2026-03-20T09:00:00+08:00","reason":"检测"}],
		"extensions":[{"amount":15,"approved":"2026-03-18T09:00:00+08:00","reason":"案情复杂"}]}`
	s, err := h.EvaluateTrack(context.Background(), &pluginv1.EvaluateTrackRequest{Track: []byte(track),
		NowUnixMs: time.Date(2026, 3, 25, 9, 0, 0, 0, clock.Shanghai).UnixMilli()})
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(s.Explanation, "暂停") || !strings.Contains(s.Explanation, "案情复杂") || s.Colour == "" || len(s.Deadline) == 0 {
		t.Fatalf("status %+v", s)
	}
	if _, err := h.EvaluateTrack(context.Background(), &pluginv1.EvaluateTrackRequest{Track: []byte(`{"limit":`)}); status.Code(err) != codes.InvalidArgument {
		t.Fatalf("bad track: %v", err)
	}
}

// Identity.PersonKey is bounded per plugin: a burst, then a few a second.
// The first refusal of a run is audited; the plugin learns
// ResourceExhausted, and gets keys again as the budget refills.
func TestPersonKeyIsRateLimited(t *testing.T) {
	st := storetest.Open(t, "sqlite")
	ps, err := pii.NewPseudonyms([]byte("0123456789abcdef0123456789abcdef"))
	if err != nil {
		t.Fatal(err)
	}
	limit := newRateLimit(personKeyRate, 3)
	h := &hostServices{client: st.Client, audit: audit.New(st.Client, nil), plugin: "registration", pseudonyms: ps, personKeys: limit}
	ctx := context.Background()
	ask := func() error {
		_, err := h.PersonKey(ctx, &pluginv1.PersonKeyRequest{IdNumber: "11010519491231002X"})
		return err
	}
	for i := range 3 {
		if err := ask(); err != nil {
			t.Fatalf("call %d within the burst: %v", i, err)
		}
	}
	for range 5 {
		if err := ask(); status.Code(err) != codes.ResourceExhausted {
			t.Fatalf("beyond the burst: %v", err)
		}
	}
	n, err := st.Client.AuditEntry.Query().Where(auditentry.Action("plugin.person_key_limited")).Count(ctx)
	if err != nil || n != 1 {
		t.Fatalf("refusals audited %d times (%v), want once per run", n, err)
	}
	if ok, _ := limit.allow(time.Now().Add(time.Second)); !ok {
		t.Fatal("the budget did not refill")
	}
}
