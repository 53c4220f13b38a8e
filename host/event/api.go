package event

import (
	"context"
	"net/http"
	"strconv"
	"time"

	"github.com/gin-gonic/gin"

	"github.com/shanghai-amr/portal/host/apierror"
	"github.com/shanghai-amr/portal/host/audit"
	"github.com/shanghai-amr/portal/host/identity"
	"github.com/shanghai-amr/portal/host/server"
	"github.com/shanghai-amr/portal/host/store/ent"
	entevent "github.com/shanghai-amr/portal/host/store/ent/event"
	"github.com/shanghai-amr/portal/host/store/ent/eventdelivery"
)

// DeliveryInfo is one delivery as the admin API shows it.
type DeliveryInfo struct {
	ID            int        `json:"id"`
	EventID       string     `json:"event_id"`
	Type          string     `json:"type,omitempty"`
	Source        string     `json:"source,omitempty"`
	Subscriber    string     `json:"subscriber"`
	Status        string     `json:"status"`
	Attempts      int        `json:"attempts"`
	NextAttemptAt time.Time  `json:"next_attempt_at"`
	LastError     string     `json:"last_error,omitempty"`
	DeliveredAt   *time.Time `json:"delivered_at,omitempty"`
	CreatedAt     time.Time  `json:"created_at,omitzero"`
}

// MountAPI registers the event administration routes behind guards (the
// caller's authentication and permission checks):
//
//	GET  /api/v1/admin/events/deliveries?status=pending|delivered|dead&subscriber=&limit=
//	POST /api/v1/admin/events/deliveries/:id/retry
//
// The list is newest first (limit 1–500, default 100). A retry makes the
// delivery due now with its attempts reset, whatever its status.
func (b *Bus) MountAPI(s *server.Server, guards ...gin.HandlerFunc) {
	api := s.API().Group("/v1/admin/events", guards...)
	api.GET("/deliveries", func(c *gin.Context) {
		q := b.o.Client.EventDelivery.Query()
		if st := c.Query("status"); st != "" {
			if eventdelivery.StatusValidator(eventdelivery.Status(st)) != nil {
				server.Fail(c, apierror.Invalid("status must be pending, delivered or dead"))
				return
			}
			q.Where(eventdelivery.StatusEQ(eventdelivery.Status(st)))
		}
		if sub := c.Query("subscriber"); sub != "" {
			q.Where(eventdelivery.Subscriber(sub))
		}
		limit := 100
		if v := c.Query("limit"); v != "" {
			n, err := strconv.Atoi(v)
			if err != nil || n < 1 || n > 500 {
				server.Fail(c, apierror.Invalid("limit must be 1–500"))
				return
			}
			limit = n
		}
		ctx := c.Request.Context()
		rows, err := q.Order(ent.Desc(eventdelivery.FieldID)).Limit(limit).All(ctx)
		if err != nil {
			server.Fail(c, err)
			return
		}
		ids := make([]string, 0, len(rows))
		for _, r := range rows {
			ids = append(ids, r.EventID)
		}
		evs, err := b.o.Client.Event.Query().Where(entevent.EventIDIn(ids...)).
			Select(entevent.FieldEventID, entevent.FieldType, entevent.FieldSource, entevent.FieldCreatedAt).All(ctx)
		if err != nil {
			server.Fail(c, err)
			return
		}
		byID := map[string]*ent.Event{}
		for _, e := range evs {
			byID[e.EventID] = e
		}
		out := make([]DeliveryInfo, 0, len(rows))
		for _, r := range rows {
			d := DeliveryInfo{ID: r.ID, EventID: r.EventID, Subscriber: r.Subscriber, Status: string(r.Status),
				Attempts: r.Attempts, NextAttemptAt: r.NextAttemptAt, LastError: r.LastError, DeliveredAt: r.DeliveredAt}
			if e := byID[r.EventID]; e != nil {
				d.Type, d.Source, d.CreatedAt = e.Type, e.Source, e.CreatedAt
			}
			out = append(out, d)
		}
		c.JSON(http.StatusOK, gin.H{"deliveries": out})
	})
	api.POST("/deliveries/:id/retry", func(c *gin.Context) {
		id, err := strconv.Atoi(c.Param("id"))
		if err != nil {
			server.Fail(c, apierror.NotFound)
			return
		}
		err = b.Retry(c.Request.Context(), id)
		if ent.IsNotFound(err) {
			server.Fail(c, apierror.NotFound)
			return
		}
		if b.o.Audit != nil {
			who := identity.From(c.Request.Context())
			e := audit.Entry{Actor: who.Username, Action: "event.delivery.retry", Resource: "event_delivery:" + c.Param("id"),
				Outcome: audit.Success, RequestID: server.RequestID(c), IP: c.ClientIP(), OrgPath: who.OrgPath}
			if err != nil {
				e.Outcome, e.Detail = audit.Failure, map[string]string{"error": err.Error()}
			}
			if _, aerr := b.o.Audit.Write(context.WithoutCancel(c.Request.Context()), e); aerr != nil {
				b.log.Error("audit write failed", "action", e.Action, "err", aerr)
			}
		}
		if err != nil {
			server.Fail(c, err)
			return
		}
		c.Status(http.StatusNoContent)
	})
}
