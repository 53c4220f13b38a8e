// Command notice is the SDK's example plugin: staff publish notices (公告),
// the public reads them. See docs/plugin-author-guide.md for the walk-through.
package main

import (
	"context"
	"database/sql"
	_ "embed"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/shanghai-amr/portal/sdk"
	"github.com/shanghai-amr/portal/sdk/filter"
	"github.com/shanghai-amr/portal/sdk/proto/pluginv1"
	"github.com/shanghai-amr/portal/sdk/storage"
)

//go:embed plugin.yaml
var manifestYAML []byte

func main() {
	sdk.Serve(Plugin())
}

// Plugin is the plugin, exported for its tests (sdk/plugintest).
func Plugin() sdk.Plugin {
	return sdk.Plugin{Manifest: manifestYAML, Start: start, OnEvent: onEvent, OnTask: onTask}
}

// svc is the started service; events arrive after Start.
var svc *service

func start(ctx context.Context, env *sdk.Env) (http.Handler, error) {
	db, err := storage.Open(ctx, env.Database.Dialect, env.Database.DSN)
	if err != nil {
		return nil, err
	}
	if err := migrate(ctx, db, env.Database.Dialect); err != nil {
		return nil, err
	}
	s := &service{db: db, log: env.Log}
	svc = s
	mux := http.NewServeMux()
	mux.HandleFunc("GET /notices", s.list(false))
	mux.HandleFunc("GET /public/notices", s.list(true))
	mux.HandleFunc("GET /notices/{id}", s.get)
	mux.HandleFunc("POST /notices", s.create)
	mux.HandleFunc("PUT /notices/{id}", s.update)
	mux.HandleFunc("POST /notices/{id}/submit", s.submit)
	mux.HandleFunc("GET /notices/{id}/review", s.review)
	return mux, nil
}

// migrate creates the plugin's own table. Changes are expand-only (new tables,
// new nullable columns) so that the previous version keeps working while a
// new one starts beside it.
func migrate(ctx context.Context, db *sql.DB, dialect string) error {
	id := storage.AutoID(dialect)
	_, err := db.ExecContext(ctx, `CREATE TABLE IF NOT EXISTS notices (
		id `+id+`,
		title VARCHAR(100) NOT NULL,
		body TEXT NOT NULL,
		org_code VARCHAR(64) NOT NULL,
		org_path VARCHAR(512) NOT NULL,
		created_by VARCHAR(64) NOT NULL,
		created_at BIGINT NOT NULL)`)
	if err != nil {
		return err
	}
	_, err = db.ExecContext(ctx, `CREATE TABLE IF NOT EXISTS notice_stats (
		org_code VARCHAR(64) NOT NULL PRIMARY KEY,
		created BIGINT NOT NULL)`)
	if err != nil {
		return err
	}
	// Added in a later version: a new table, so the previous version keeps
	// working during a blue/green upgrade (expand-only).
	_, err = db.ExecContext(ctx, `CREATE TABLE IF NOT EXISTS notice_reviews (
		notice_id BIGINT NOT NULL PRIMARY KEY,
		instance_id VARCHAR(32) NOT NULL,
		state VARCHAR(16) NOT NULL)`)
	return err
}

type service struct {
	db  *sql.DB
	log *slog.Logger
}

// onEvent counts published notices per organisation from notice.created
// events. Delivery is at least once: sdk.Once records the event id in the
// same transaction as the count, so a redelivered event is not counted twice.
func onEvent(ctx context.Context, e sdk.Event) error {
	if e.Type != "notice.created" || svc == nil {
		return nil
	}
	var in struct {
		OrgCode string `json:"org_code"`
	}
	if err := json.Unmarshal(e.Data, &in); err != nil {
		return nil // malformed: nothing to count, and retrying will not help
	}
	svc.log.Info("event received", "event", e.ID, "type", e.Type)
	return sdk.Once(ctx, svc.db, e.ID, func(tx *sql.Tx) error {
		res, err := tx.ExecContext(ctx, "UPDATE notice_stats SET created = created + 1 WHERE org_code = ?", in.OrgCode)
		if err != nil {
			return err
		}
		if n, _ := res.RowsAffected(); n == 0 {
			_, err = tx.ExecContext(ctx, "INSERT INTO notice_stats (org_code, created) VALUES (?, 1)", in.OrgCode)
		}
		return err
	})
}

type notice struct {
	ID        int64     `json:"id"`
	Title     string    `json:"title"`
	Body      string    `json:"body"`
	OrgCode   string    `json:"org_code"`
	CreatedBy string    `json:"created_by,omitempty"`
	CreatedAt time.Time `json:"created_at"`
}

// columns maps the attributes the host's policy filters on to our columns.
var columns = map[string]string{"resource.org_path": "org_path", "resource.owner": "created_by"}

// list shows notices: staff see those within their jurisdiction, as the
// host's policy compiles it (city: all; district: the district's; station:
// the station's); the public sees all (they are public) without who wrote them.
func (s *service) list(public bool) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		q, args := "SELECT id, title, body, org_code, created_by, created_at FROM notices", []any{}
		if !public {
			f, err := sdk.HostFrom(r.Context()).Policy.DataFilter(r.Context(), &pluginv1.DataFilterRequest{Action: "notice.read", ResourceType: "notice"})
			if err != nil {
				fail(w, r, http.StatusServiceUnavailable, "notice.policy_unavailable", err)
				return
			}
			where, fargs, err := filter.SQL(f, columns)
			if err != nil {
				fail(w, r, http.StatusInternalServerError, "notice.internal", err)
				return
			}
			q += " WHERE (" + where + ")"
			args = fargs
		}
		// ?q= searches titles; the text is a bound parameter with LIKE
		// wildcards escaped, so it is only ever text.
		if term := strings.TrimSpace(r.URL.Query().Get("q")); term != "" {
			if utf8.RuneCountInString(term) > 50 {
				fail(w, r, http.StatusBadRequest, "notice.bad_query", errors.New("query too long"))
				return
			}
			if public {
				q += " WHERE"
			} else {
				q += " AND"
			}
			q += ` title LIKE ? ESCAPE '!'`
			args = append(args, "%"+strings.NewReplacer("!", "!!", "%", "!%", "_", "!_").Replace(term)+"%")
		}
		rows, err := s.db.QueryContext(r.Context(), q+" ORDER BY id DESC LIMIT 100", args...)
		if err != nil {
			fail(w, r, http.StatusInternalServerError, "notice.internal", err)
			return
		}
		defer rows.Close()
		out := []notice{}
		for rows.Next() {
			var n notice
			var at int64
			if err := rows.Scan(&n.ID, &n.Title, &n.Body, &n.OrgCode, &n.CreatedBy, &at); err != nil {
				fail(w, r, http.StatusInternalServerError, "notice.internal", err)
				return
			}
			n.CreatedAt = time.UnixMilli(at).UTC()
			if public {
				n.CreatedBy = ""
			}
			out = append(out, n)
		}
		sdk.WriteJSON(w, http.StatusOK, map[string]any{"notices": out})
	}
}

// get shows one notice if the policy allows the caller to read it; one outside
// the caller's jurisdiction is "not found", so ids reveal nothing.
func (s *service) get(w http.ResponseWriter, r *http.Request) {
	if n, ok := s.load(w, r, "notice.read"); ok {
		sdk.WriteJSON(w, http.StatusOK, n)
	}
}

// update changes a notice's title and body, if the policy allows the caller
// to write it (else "not found", as for reads).
func (s *service) update(w http.ResponseWriter, r *http.Request) {
	in, ok := readInput(w, r)
	if !ok {
		return
	}
	n, ok := s.load(w, r, "notice.write")
	if !ok {
		return
	}
	if _, err := s.db.ExecContext(r.Context(), "UPDATE notices SET title = ?, body = ? WHERE id = ?", in.Title, in.Body, n.ID); err != nil {
		fail(w, r, http.StatusInternalServerError, "notice.internal", err)
		return
	}
	detail, _ := json.Marshal(map[string]any{"title": in.Title})
	if _, err := sdk.HostFrom(r.Context()).Audit.Write(r.Context(), &pluginv1.AuditRecord{Action: "notice.update",
		Resource: fmt.Sprintf("notice:%d", n.ID), Outcome: "success", Detail: detail}); err != nil {
		fail(w, r, http.StatusInternalServerError, "notice.audit_failed", err)
		return
	}
	n.Title, n.Body = in.Title, in.Body
	sdk.WriteJSON(w, http.StatusOK, n)
}

// load reads the notice named in the path and asks the host whether the
// caller may do action on it; it has answered the caller when ok is false.
func (s *service) load(w http.ResponseWriter, r *http.Request, action string) (n notice, ok bool) {
	id, err := strconv.ParseInt(r.PathValue("id"), 10, 64)
	if err != nil {
		fail(w, r, http.StatusBadRequest, "notice.bad_id", err)
		return n, false
	}
	var at int64
	var orgPath string
	err = s.db.QueryRowContext(r.Context(), "SELECT id, title, body, org_code, org_path, created_by, created_at FROM notices WHERE id = ?", id).
		Scan(&n.ID, &n.Title, &n.Body, &n.OrgCode, &orgPath, &n.CreatedBy, &at)
	if errors.Is(err, sql.ErrNoRows) {
		fail(w, r, http.StatusNotFound, "notice.not_found", err)
		return n, false
	} else if err != nil {
		fail(w, r, http.StatusInternalServerError, "notice.internal", err)
		return n, false
	}
	res, _ := json.Marshal(map[string]string{"org_path": orgPath, "owner": n.CreatedBy})
	d, err := sdk.HostFrom(r.Context()).Policy.Decide(r.Context(), &pluginv1.DecideRequest{Action: action, Resource: res})
	if err != nil {
		fail(w, r, http.StatusServiceUnavailable, "notice.policy_unavailable", err)
		return n, false
	}
	if !d.Allow {
		fail(w, r, http.StatusNotFound, "notice.not_found", errors.New(d.Reason))
		return n, false
	}
	n.CreatedAt = time.UnixMilli(at).UTC()
	return n, true
}

// submit sends a notice for publication approval: the host's process engine
// puts it in the submitter's leader's inbox and calls onTask with the outcome.
func (s *service) submit(w http.ResponseWriter, r *http.Request) {
	n, ok := s.load(w, r, "notice.write")
	if !ok {
		return
	}
	var state string
	err := s.db.QueryRowContext(r.Context(), "SELECT state FROM notice_reviews WHERE notice_id = ?", n.ID).Scan(&state)
	if err == nil && (state == "running" || state == "approved") {
		fail(w, r, http.StatusConflict, "notice.already_submitted", nil)
		return
	}
	vars, _ := json.Marshal(map[string]any{"title": n.Title, "org_code": n.OrgCode})
	inst, err := sdk.HostFrom(r.Context()).Processes.StartProcess(r.Context(), &pluginv1.StartProcessRequest{
		ProcessKey: "notice.publish", BusinessKey: strconv.FormatInt(n.ID, 10), Title: "公告发布：" + n.Title,
		Page: fmt.Sprintf("/notices/%d", n.ID), Variables: vars})
	if err != nil {
		fail(w, r, http.StatusBadGateway, "notice.process_failed", err)
		return
	}
	if _, err := s.db.ExecContext(r.Context(), "DELETE FROM notice_reviews WHERE notice_id = ?", n.ID); err != nil {
		fail(w, r, http.StatusInternalServerError, "notice.internal", err)
		return
	}
	if _, err := s.db.ExecContext(r.Context(), "INSERT INTO notice_reviews (notice_id, instance_id, state) VALUES (?, ?, ?)",
		n.ID, inst.InstanceId, inst.State); err != nil {
		fail(w, r, http.StatusInternalServerError, "notice.internal", err)
		return
	}
	sdk.WriteJSON(w, http.StatusAccepted, map[string]any{"instance_id": inst.InstanceId, "state": inst.State})
}

// review shows where a notice's publication approval stands.
func (s *service) review(w http.ResponseWriter, r *http.Request) {
	n, ok := s.load(w, r, "notice.read")
	if !ok {
		return
	}
	out := map[string]string{"state": "none"}
	var inst, state string
	err := s.db.QueryRowContext(r.Context(), "SELECT instance_id, state FROM notice_reviews WHERE notice_id = ?", n.ID).Scan(&inst, &state)
	if err == nil {
		out = map[string]string{"instance_id": inst, "state": state}
	} else if !errors.Is(err, sql.ErrNoRows) {
		fail(w, r, http.StatusInternalServerError, "notice.internal", err)
		return
	}
	sdk.WriteJSON(w, http.StatusOK, out)
}

// onTask records how a publication approval ended. The host retries a
// callback that fails, so this must be (and is) idempotent.
func onTask(ctx context.Context, ev sdk.TaskEvent) error {
	if ev.TaskType != "notice.publish" || ev.InstanceID == "" || svc == nil {
		return nil
	}
	_, err := svc.db.ExecContext(ctx, "UPDATE notice_reviews SET state = ? WHERE notice_id = ? AND instance_id = ?",
		ev.Transition, ev.BusinessKey, ev.InstanceID)
	return err
}

// input is what create and update accept.
type input struct{ Title, Body string }

// readInput decodes and checks a notice from the request body; it has
// answered the caller when ok is false.
func readInput(w http.ResponseWriter, r *http.Request) (in input, ok bool) {
	if err := json.NewDecoder(r.Body).Decode(&in); err != nil {
		fail(w, r, http.StatusBadRequest, "notice.bad_json", err)
		return in, false
	}
	in.Title, in.Body = strings.TrimSpace(in.Title), strings.TrimSpace(in.Body)
	if in.Title == "" || utf8.RuneCountInString(in.Title) > 100 || in.Body == "" || utf8.RuneCountInString(in.Body) > 5000 {
		fail(w, r, http.StatusBadRequest, "notice.invalid", errors.New("title (1–100 characters) and body (1–5000) are required"))
		return in, false
	}
	return in, true
}

func (s *service) create(w http.ResponseWriter, r *http.Request) {
	in, ok := readInput(w, r)
	if !ok {
		return
	}
	c := sdk.CallerFrom(r.Context())
	res, err := s.db.ExecContext(r.Context(), "INSERT INTO notices (title, body, org_code, org_path, created_by, created_at) VALUES (?, ?, ?, ?, ?, ?)",
		in.Title, in.Body, c.OrgCode, c.OrgPath, c.Username, time.Now().UnixMilli())
	if err != nil {
		fail(w, r, http.StatusInternalServerError, "notice.internal", err)
		return
	}
	id, _ := res.LastInsertId()
	if host := sdk.HostFrom(r.Context()); host != nil {
		// Audited as the caller: the request context carries the call token.
		detail, _ := json.Marshal(map[string]any{"title": in.Title})
		if _, err := host.Audit.Write(r.Context(), &pluginv1.AuditRecord{Action: "notice.create",
			Resource: fmt.Sprintf("notice:%d", id), Outcome: "success", Detail: detail}); err != nil {
			fail(w, r, http.StatusInternalServerError, "notice.audit_failed", err)
			return
		}
		// Tell subscribers (here: ourselves, for the statistics). The notice
		// is saved either way; a plugin that must never lose an event keeps
		// it in its own table and publishes until the host accepts it.
		data, _ := json.Marshal(map[string]any{"id": id, "org_code": c.OrgCode})
		if _, err := host.Events.PublishEvent(r.Context(), &pluginv1.PublishEventRequest{Type: "notice.created", Data: data}); err != nil {
			s.log.Warn("notice.created not published", "notice", id, "err", err)
		}
	}
	sdk.WriteJSON(w, http.StatusCreated, map[string]any{"id": id})
}

// fail answers in the portal's error shape (sdk.WriteError): the code for
// machines, the message for people in their language. The cause is not shown.
func fail(w http.ResponseWriter, r *http.Request, status int, code string, _ error) {
	sdk.WriteError(w, r, status, code, failures[code], nil)
}

var failures = map[string]sdk.Message{
	"notice.bad_id":             {ZH: "编号不正确", EN: "Bad id"},
	"notice.not_found":          {ZH: "公告不存在", EN: "No such notice"},
	"notice.bad_json":           {ZH: "请求格式不正确", EN: "The request is not valid JSON"},
	"notice.invalid":            {ZH: "标题（1–100字）和正文（1–5000字）必填", EN: "A title (1–100 characters) and a body (1–5,000 characters) are required"},
	"notice.internal":           {ZH: "服务器内部错误", EN: "Internal error"},
	"notice.audit_failed":       {ZH: "审计记录失败，操作未完成", EN: "The audit record failed; nothing was done"},
	"notice.policy_unavailable": {ZH: "权限服务暂不可用", EN: "The policy service is unavailable"},
	"notice.bad_query":          {ZH: "查询条件过长", EN: "The query is too long"},
}
