package message

import (
	"net/http"
	"strconv"
	"time"

	"github.com/gin-gonic/gin"

	"github.com/shanghai-amr/portal/host/apierror"
	"github.com/shanghai-amr/portal/host/identity"
	"github.com/shanghai-amr/portal/host/server"
	"github.com/shanghai-amr/portal/host/store/ent"
	"github.com/shanghai-amr/portal/host/store/ent/message"
	"github.com/shanghai-amr/portal/host/store/ent/user"
)

// ErrNotFound answers for a message that does not exist or is someone else's.
var ErrNotFound = apierror.New(http.StatusNotFound, "message.not_found", nil)

// MountAPI registers the signed-in staff user's message endpoints behind the
// given middleware (authentication). Other audiences get 403.
//
//	GET  /api/v1/messages?unread=1&category=&page=1&size=20   {"items":[…],"total":N,"unread":N}, newest first, size ≤ 100
//	GET  /api/v1/messages/unread-count                        {"unread":N}
//	POST /api/v1/messages/:id/read                            {"updated":0|1}; 404 message.not_found unless it is the caller's
//	POST /api/v1/messages/read-all?category=                  {"updated":N}
//	GET  /api/v1/messages/stream                              Server-Sent Events: "unread" {"unread":N}, "message" {item}; ": ping" every 15 s
//
// An item is {"id","category","source","title","link","created_at","read_at"},
// its title rendered in the caller's language. "unread" is the caller's unread
// count over all categories.
func (c *Center) MountAPI(s *server.Server, guards ...gin.HandlerFunc) {
	api := s.API()
	with := func(h gin.HandlerFunc) []gin.HandlerFunc {
		return append(append([]gin.HandlerFunc(nil), guards...), h)
	}
	api.GET("/v1/messages", with(c.list)...)
	api.GET("/v1/messages/unread-count", with(c.unreadCount)...)
	api.GET("/v1/messages/stream", with(c.stream)...)
	api.POST("/v1/messages/read-all", with(c.readAll)...)
	api.POST("/v1/messages/:id/read", with(c.read)...)
}

// caller resolves the signed-in staff user's id, answering 401/403 itself.
func (c *Center) caller(g *gin.Context) (int, bool) {
	id := identity.From(g.Request.Context())
	switch {
	case id.Audience == identity.Anonymous:
		server.Fail(g, identity.Unauthenticated)
		return 0, false
	case id.Audience != identity.Staff || id.Username == "":
		server.Fail(g, identity.Forbidden)
		return 0, false
	}
	uid, err := c.client.User.Query().Where(user.Username(id.Username)).OnlyID(g.Request.Context())
	if ent.IsNotFound(err) { // a staff token without an account (the operator) has no messages
		server.Fail(g, identity.Forbidden)
		return 0, false
	}
	if err != nil {
		server.Fail(g, err)
		return 0, false
	}
	return uid, true
}

func (c *Center) list(g *gin.Context) {
	uid, ok := c.caller(g)
	if !ok {
		return
	}
	unreadOnly := false
	if v := g.Query("unread"); v != "" {
		b, err := strconv.ParseBool(v)
		if err != nil {
			server.Fail(g, apierror.Invalid("unread: 0 or 1"))
			return
		}
		unreadOnly = b
	}
	cat := g.Query("category")
	if cat != "" && !categories[cat] {
		server.Fail(g, apierror.Invalid("category: task, urge, deadline, supervise, system or plugin"))
		return
	}
	page, err := strconv.Atoi(g.DefaultQuery("page", "1"))
	if err != nil || page < 1 || page > 100000 {
		server.Fail(g, apierror.Invalid("page: 1–100000"))
		return
	}
	size, err := strconv.Atoi(g.DefaultQuery("size", "20"))
	if err != nil || size < 1 {
		server.Fail(g, apierror.Invalid("size: 1–100"))
		return
	}
	size = min(size, 100)

	ctx := g.Request.Context()
	query := func() *ent.MessageQuery {
		q := c.client.Message.Query().Where(message.RecipientID(uid))
		if unreadOnly {
			q.Where(message.ReadAtIsNil())
		}
		if cat != "" {
			q.Where(message.Category(cat))
		}
		return q
	}
	total, err := query().Count(ctx)
	if err != nil {
		server.Fail(g, err)
		return
	}
	rows, err := query().Order(ent.Desc(message.FieldID)).Offset((page - 1) * size).Limit(size).All(ctx)
	if err != nil {
		server.Fail(g, err)
		return
	}
	unread, err := c.unread(ctx, uid)
	if err != nil {
		server.Fail(g, err)
		return
	}
	tag := lang(g)
	items := make([]item, len(rows))
	for i, m := range rows {
		items[i] = c.item(tag, m)
	}
	g.JSON(http.StatusOK, gin.H{"items": items, "total": total, "unread": unread})
}

func (c *Center) unreadCount(g *gin.Context) {
	uid, ok := c.caller(g)
	if !ok {
		return
	}
	n, err := c.unread(g.Request.Context(), uid)
	if err != nil {
		server.Fail(g, err)
		return
	}
	g.JSON(http.StatusOK, gin.H{"unread": n})
}

func (c *Center) read(g *gin.Context) {
	uid, ok := c.caller(g)
	if !ok {
		return
	}
	id, err := strconv.Atoi(g.Param("id"))
	if err != nil || id < 1 {
		server.Fail(g, ErrNotFound)
		return
	}
	ctx := g.Request.Context()
	n, err := c.client.Message.Update().Where(message.ID(id), message.RecipientID(uid), message.ReadAtIsNil()).
		SetReadAt(time.Now().UTC()).Save(ctx)
	if err != nil {
		server.Fail(g, err)
		return
	}
	if n == 0 { // someone else's, missing, or read already
		mine, err := c.client.Message.Query().Where(message.ID(id), message.RecipientID(uid)).Exist(ctx)
		if err != nil {
			server.Fail(g, err)
			return
		}
		if !mine {
			server.Fail(g, ErrNotFound)
			return
		}
	} else {
		c.Wake(uid) // the user's other tabs
	}
	g.JSON(http.StatusOK, gin.H{"updated": n})
}

func (c *Center) readAll(g *gin.Context) {
	uid, ok := c.caller(g)
	if !ok {
		return
	}
	u := c.client.Message.Update().Where(message.RecipientID(uid), message.ReadAtIsNil())
	if cat := g.Query("category"); cat != "" {
		if !categories[cat] {
			server.Fail(g, apierror.Invalid("category: task, urge, deadline, supervise, system or plugin"))
			return
		}
		u.Where(message.Category(cat))
	}
	n, err := u.SetReadAt(time.Now().UTC()).Save(g.Request.Context())
	if err != nil {
		server.Fail(g, err)
		return
	}
	if n > 0 {
		c.Wake(uid)
	}
	g.JSON(http.StatusOK, gin.H{"updated": n})
}
