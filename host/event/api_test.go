package event

import (
	"context"
	"encoding/json"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"testing"
	"time"

	"github.com/gin-gonic/gin"

	"github.com/shanghai-amr/portal/host/audit"
	"github.com/shanghai-amr/portal/host/i18n"
	"github.com/shanghai-amr/portal/host/server"
	"github.com/shanghai-amr/portal/host/store/ent/auditentry"
	"github.com/shanghai-amr/portal/host/store/ent/eventdelivery"
	"github.com/shanghai-amr/portal/host/store/storetest"
)

func TestAdminAPIListsAndRetriesDeliveries(t *testing.T) {
	st := storetest.Open(t, "sqlite")
	ctx := context.Background()
	f := newFake()
	f.fail["broken"] = -1
	o := fastOptions(st.Client)
	o.Audit = audit.New(st.Client, nil)
	b := NewBus(o)
	b.Attach(subscribersOf(map[string][]string{"case.closed": {"broken", "fine"}}), f)
	runBus(t, b)
	id, _ := b.Publish(ctx, "cases", "case.closed", nil)
	eventually(t, "dead", 10*time.Second, func() bool { return status(st.Client, id, "broken") == eventdelivery.StatusDead })

	cat, _ := i18n.New()
	srv := server.New(server.Options{Catalog: cat, Logger: slog.New(slog.DiscardHandler)})
	denyAll := false
	b.MountAPI(srv, func(c *gin.Context) {
		if denyAll {
			c.AbortWithStatus(http.StatusForbidden)
		}
	})
	do := func(method, path string) (int, []byte) {
		w := httptest.NewRecorder()
		srv.Handler().ServeHTTP(w, httptest.NewRequest(method, path, nil))
		return w.Code, w.Body.Bytes()
	}
	code, body := do("GET", "/api/v1/admin/events/deliveries?status=dead")
	var out struct{ Deliveries []DeliveryInfo }
	if err := json.Unmarshal(body, &out); err != nil || code != 200 || len(out.Deliveries) != 1 {
		t.Fatalf("dead deliveries = %d %s", code, body)
	}
	d := out.Deliveries[0]
	if d.Subscriber != "broken" || d.EventID != id || d.Type != "case.closed" || d.Source != "cases" || d.Attempts != 3 || d.LastError == "" {
		t.Fatalf("dead delivery = %+v", d)
	}
	if code, body := do("GET", "/api/v1/admin/events/deliveries?status=lost"); code != http.StatusBadRequest {
		t.Fatalf("bad status = %d %s", code, body)
	}
	f.set(func(f *fakeDeliverer) { f.fail["broken"] = 0 })
	if code, body := do("POST", "/api/v1/admin/events/deliveries/"+itoa(d.ID)+"/retry"); code != http.StatusNoContent {
		t.Fatalf("retry = %d %s", code, body)
	}
	eventually(t, "retried", 10*time.Second, func() bool { return status(st.Client, id, "broken") == eventdelivery.StatusDelivered })
	if n, _ := st.Client.AuditEntry.Query().Where(auditentry.Action("event.delivery.retry")).Count(ctx); n != 1 {
		t.Fatalf("%d audit entries for the retry", n)
	}
	if code, _ := do("POST", "/api/v1/admin/events/deliveries/999999/retry"); code != http.StatusNotFound {
		t.Fatalf("retry of a missing delivery = %d", code)
	}
	denyAll = true
	if code, _ := do("GET", "/api/v1/admin/events/deliveries"); code != http.StatusForbidden {
		t.Fatalf("guards not applied: %d", code)
	}
}

func itoa(n int) string { b, _ := json.Marshal(n); return string(b) }
