package audit

import (
	"encoding/csv"
	"errors"
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/gin-gonic/gin"

	"github.com/shanghai-amr/portal/host/apierror"
	"github.com/shanghai-amr/portal/host/server"
	"github.com/shanghai-amr/portal/host/store/ent"
	"github.com/shanghai-amr/portal/host/store/ent/auditentry"
	"github.com/shanghai-amr/portal/host/store/ent/organization"
)

// ErrChainBroken is the API answer when Verify finds a bad entry.
var ErrChainBroken = apierror.New(http.StatusConflict, "audit.chain_broken", nil)

// MountAPI registers the audit administrator's endpoints behind the given
// middleware (authentication, then the audit administrator's permission):
//
//	GET /api/v1/admin/audit/verify   {"verified": N}, or 409 audit.chain_broken naming the first bad entry
//	GET /api/v1/admin/audit?from=&to=&actor=&action=&outcome=&org=&q=&limit=&format=csv
func (l *Log) MountAPI(s *server.Server, guards ...gin.HandlerFunc) {
	s.API().GET("/v1/admin/audit", append(guards, l.search)...)
	s.API().GET("/v1/admin/audit/verify", append(guards, func(c *gin.Context) {
		n, err := l.Verify(c.Request.Context())
		if errors.Is(err, ErrBroken) {
			server.Fail(c, ErrChainBroken.WithDetails(map[string]any{"verified": n, "problem": err.Error()}))
			return
		}
		if err != nil {
			server.Fail(c, err)
			return
		}
		c.JSON(http.StatusOK, gin.H{"verified": n})
	})...)
}

// search lists entries newest first by time range, actor, action prefix,
// outcome and a substring of the resource; format=csv exports them.
func (l *Log) search(c *gin.Context) {
	q := l.client.AuditEntry.Query()
	for _, p := range []struct {
		name string
		f    func(string) error
	}{
		{"from", func(v string) error {
			t, err := time.Parse(time.RFC3339, v)
			q.Where(auditentry.AtGTE(t))
			return err
		}},
		{"to", func(v string) error {
			t, err := time.Parse(time.RFC3339, v)
			q.Where(auditentry.AtLT(t))
			return err
		}},
		{"actor", func(v string) error { q.Where(auditentry.Actor(v)); return nil }},
		{"action", func(v string) error { q.Where(auditentry.ActionHasPrefix(v)); return nil }},
		{"outcome", func(v string) error {
			if err := auditentry.OutcomeValidator(auditentry.Outcome(v)); err != nil {
				return err
			}
			q.Where(auditentry.OutcomeEQ(auditentry.Outcome(v)))
			return nil
		}},
		{"q", func(v string) error { q.Where(auditentry.ResourceContains(v)); return nil }},
		{"org", func(v string) error {
			// An organisation and everything under it, by its path.
			o, err := l.client.Organization.Query().Where(organization.Code(v)).Only(c.Request.Context())
			if err != nil {
				return errors.New("no such organisation")
			}
			q.Where(auditentry.Or(auditentry.OrgPath(o.Path), auditentry.OrgPathHasPrefix(o.Path+"/")))
			return nil
		}},
	} {
		if v := c.Query(p.name); v != "" {
			if err := p.f(v); err != nil {
				server.Fail(c, apierror.Invalid(p.name+": "+err.Error()))
				return
			}
		}
	}
	limit, err := strconv.Atoi(c.DefaultQuery("limit", "100"))
	if err != nil || limit < 1 || limit > 10000 {
		server.Fail(c, apierror.Invalid("limit: 1–10000"))
		return
	}
	rows, err := q.Order(ent.Desc(auditentry.FieldSeq)).Limit(limit).All(c.Request.Context())
	if err != nil {
		server.Fail(c, err)
		return
	}
	if c.Query("format") == "csv" {
		c.Header("Content-Type", "text/csv; charset=utf-8")
		c.Header("Content-Disposition", `attachment; filename="audit.csv"`)
		w := csv.NewWriter(c.Writer)
		_ = w.Write([]string{"seq", "at", "actor", "org_path", "action", "resource", "outcome", "request_id", "ip", "detail", "hash"})
		for _, r := range rows {
			_ = w.Write([]string{strconv.FormatInt(r.Seq, 10), r.At.UTC().Format(time.RFC3339Nano), csvSafe(r.Actor), r.OrgPath, r.Action,
				csvSafe(r.Resource), string(r.Outcome), r.RequestID, r.IP, csvSafe(r.Detail), r.Hash})
		}
		w.Flush()
		return
	}
	c.JSON(http.StatusOK, gin.H{"entries": rows})
}

// csvSafe defuses spreadsheet formulas (CSV injection): a cell starting with
// = + - @ is prefixed with an apostrophe.
func csvSafe(s string) string {
	if s != "" && strings.ContainsRune("=+-@\t\r", rune(s[0])) {
		return "'" + s
	}
	return s
}
