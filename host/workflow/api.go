package workflow

import (
	"encoding/json"
	"net/http"
	"strconv"

	"github.com/gin-gonic/gin"

	"github.com/shanghai-amr/portal/host/apierror"
	"github.com/shanghai-amr/portal/host/identity"
	"github.com/shanghai-amr/portal/host/server"
	"github.com/shanghai-amr/portal/host/store/ent"
	"github.com/shanghai-amr/portal/host/store/ent/processdefinition"
)

// Permissions.
const (
	PermUse    = "workbench.use"    // the inbox and one's own tasks and instances
	PermRead   = "processes.read"   // view definitions
	PermManage = "processes.manage" // publish definitions, see and terminate any instance
)

// MountAPI registers the workbench and process-administration endpoints
// (docs/api.md). auth authenticates; permissions are checked by policy.
func (e *Engine) MountAPI(s *server.Server, auth gin.HandlerFunc) {
	use := []gin.HandlerFunc{auth, identity.Require(PermUse)}
	g := s.API().Group("/v1/workbench", use...)
	g.GET("/counts", e.withUser(func(c *gin.Context, me int) (any, error) { return e.CountsFor(c.Request.Context(), me) }))
	g.GET("/trend", e.withUser(func(c *gin.Context, me int) (any, error) {
		days, _ := strconv.Atoi(c.DefaultQuery("days", "14"))
		d, err := e.Trend(c.Request.Context(), me, days)
		return gin.H{"days": d}, err
	}))
	g.GET("/boxes/:box", e.withUser(func(c *gin.Context, me int) (any, error) {
		page, _ := strconv.Atoi(c.DefaultQuery("page", "1"))
		size, _ := strconv.Atoi(c.DefaultQuery("size", "20"))
		return e.List(c.Request.Context(), me, ListQuery{Box: c.Param("box"), Q: c.Query("q"), Plugin: c.Query("plugin"),
			Colour: c.Query("colour"), Sort: c.Query("sort"), Page: page, Size: size})
	}))
	g.GET("/processes", func(c *gin.Context) {
		// The host processes staff may start from the workbench (plugin
		// processes start from their plugin's pages).
		defs, err := e.o.Client.ProcessDefinition.Query().Where(processdefinition.Or(processdefinition.PluginIsNil(), processdefinition.Plugin(""))).
			Order(ent.Asc(processdefinition.FieldKey), ent.Desc(processdefinition.FieldVersion)).All(c.Request.Context())
		if err != nil {
			server.Fail(c, err)
			return
		}
		type row struct {
			Key   string            `json:"key"`
			Title map[string]string `json:"title,omitempty"`
		}
		out := []row{}
		seen := map[string]bool{}
		for _, d := range defs {
			if seen[d.Key] {
				continue
			}
			seen[d.Key] = true
			var spec Spec
			_ = json.Unmarshal([]byte(d.Spec), &spec)
			out = append(out, row{d.Key, spec.Title})
		}
		c.JSON(http.StatusOK, gin.H{"items": out})
	})
	g.GET("/tasks/:id", e.withUser(func(c *gin.Context, me int) (any, error) {
		id, err := pathID(c)
		if err != nil {
			return nil, err
		}
		return e.Task(c.Request.Context(), me, id, manages(c))
	}))
	g.POST("/tasks/:id/actions", func(c *gin.Context) {
		id, err := pathID(c)
		if err != nil {
			server.Fail(c, err)
			return
		}
		var op Op
		if !server.Decode(c, &op) {
			return
		}
		if err := e.Act(c.Request.Context(), identity.From(c.Request.Context()), id, op); err != nil {
			server.Fail(c, err)
			return
		}
		c.JSON(http.StatusOK, gin.H{"ok": true})
	})
	g.POST("/tasks/:id/read", e.withUser(func(c *gin.Context, me int) (any, error) {
		id, err := pathID(c)
		if err != nil {
			return nil, err
		}
		return gin.H{"ok": true}, e.MarkRead(c.Request.Context(), me, id)
	}))
	g.POST("/instances", func(c *gin.Context) {
		var in struct {
			Key         string         `json:"key"`
			Title       string         `json:"title"`
			BusinessKey string         `json:"business_key"`
			Form        map[string]any `json:"form"`
		}
		if !server.Decode(c, &in) {
			return
		}
		// Over HTTP only host processes start; a plugin's processes start
		// through the plugin, which checks its own business rules first.
		inst, err := e.Start(c.Request.Context(), identity.From(c.Request.Context()), StartInput{Key: in.Key,
			BusinessKey: in.BusinessKey, Title: in.Title, Form: in.Form})
		if err != nil {
			server.Fail(c, err)
			return
		}
		c.JSON(http.StatusCreated, gin.H{"id": inst.ID, "status": inst.Status})
	})
	g.GET("/instances/:id", e.withUser(func(c *gin.Context, me int) (any, error) {
		id, err := pathID(c)
		if err != nil {
			return nil, err
		}
		return e.Instance(c.Request.Context(), me, id, manages(c))
	}))
	g.POST("/instances/:id/actions", func(c *gin.Context) {
		id, err := pathID(c)
		if err != nil {
			server.Fail(c, err)
			return
		}
		var op Op
		if !server.Decode(c, &op) {
			return
		}
		if err := e.ActOnInstance(c.Request.Context(), identity.From(c.Request.Context()), id, op, manages(c)); err != nil {
			server.Fail(c, err)
			return
		}
		c.JSON(http.StatusOK, gin.H{"ok": true})
	})

	read := s.API().Group("/v1/admin/processes", auth, identity.Require(PermRead))
	read.GET("", func(c *gin.Context) {
		defs, err := e.o.Client.ProcessDefinition.Query().Order(ent.Asc(processdefinition.FieldKey), ent.Desc(processdefinition.FieldVersion)).All(c.Request.Context())
		if err != nil {
			server.Fail(c, err)
			return
		}
		type row struct {
			Key     string `json:"key"`
			Plugin  string `json:"plugin,omitempty"`
			Latest  int    `json:"latest"`
			Source  string `json:"source"`
			Updated string `json:"updated_at"`
		}
		out := []row{}
		seen := map[string]bool{}
		for _, d := range defs {
			if !seen[d.Key] {
				seen[d.Key] = true
				out = append(out, row{d.Key, d.Plugin, d.Version, d.Source, d.CreatedAt.Format("2006-01-02T15:04:05Z07:00")})
			}
		}
		c.JSON(http.StatusOK, gin.H{"items": out})
	})
	read.GET("/:key", func(c *gin.Context) {
		defs, err := e.o.Client.ProcessDefinition.Query().Where(processdefinition.Key(c.Param("key"))).
			Order(ent.Desc(processdefinition.FieldVersion)).All(c.Request.Context())
		if err != nil {
			server.Fail(c, err)
			return
		}
		if len(defs) == 0 {
			server.Fail(c, ErrNoDefinition)
			return
		}
		type version struct {
			Version   int             `json:"version"`
			Source    string          `json:"source"`
			By        string          `json:"created_by"`
			CreatedAt string          `json:"created_at"`
			Spec      json.RawMessage `json:"spec"`
		}
		out := make([]version, len(defs))
		for i, d := range defs {
			out[i] = version{d.Version, d.Source, d.CreatedBy, d.CreatedAt.Format("2006-01-02T15:04:05Z07:00"), json.RawMessage(d.Spec)}
		}
		c.JSON(http.StatusOK, gin.H{"key": defs[0].Key, "plugin": defs[0].Plugin, "versions": out})
	})
	read.POST("/validate", func(c *gin.Context) {
		b, err := c.GetRawData()
		if err != nil {
			server.Fail(c, err)
			return
		}
		if _, err := ParseSpec(b); err != nil {
			server.Fail(c, apierror.Invalid(err.Error()))
			return
		}
		c.JSON(http.StatusOK, gin.H{"valid": true})
	})
	s.API().POST("/v1/admin/processes/:key", auth, identity.Require(PermManage), func(c *gin.Context) {
		key := c.Param("key")
		b, err := c.GetRawData()
		if err != nil {
			server.Fail(c, err)
			return
		}
		who := identity.From(c.Request.Context())
		existing, err := e.o.Client.ProcessDefinition.Query().Where(processdefinition.Key(key)).
			Order(ent.Desc(processdefinition.FieldVersion)).First(c.Request.Context())
		plugin := ""
		switch {
		case err == nil:
			plugin = existing.Plugin
		case !ent.IsNotFound(err):
			server.Fail(c, err)
			return
		case !idPattern.MatchString(key):
			server.Fail(c, apierror.Invalid("a new host process key is lower-case letters, digits and _"))
			return
		}
		d, err := e.Publish(c.Request.Context(), key, plugin, "", "admin", b, who.Username)
		if err != nil {
			server.Fail(c, err)
			return
		}
		c.JSON(http.StatusCreated, gin.H{"key": d.Key, "version": d.Version})
	})
}

func manages(c *gin.Context) bool { return identity.Can(c, []string{PermManage})[PermManage] }

func pathID(c *gin.Context) (int, error) {
	id, err := strconv.Atoi(c.Param("id"))
	if err != nil || id <= 0 {
		return 0, apierror.Invalid("id must be a positive number")
	}
	return id, nil
}

// withUser resolves the caller's user id and writes the handler's answer.
func (e *Engine) withUser(h func(c *gin.Context, me int) (any, error)) gin.HandlerFunc {
	return func(c *gin.Context) {
		u, err := e.userOf(c.Request.Context(), identity.From(c.Request.Context()))
		if err != nil {
			server.Fail(c, err)
			return
		}
		out, err := h(c, u.ID)
		if err != nil {
			server.Fail(c, err)
			return
		}
		c.JSON(http.StatusOK, out)
	}
}
