package plugins

import (
	"context"
	"io"
	"net/http"
	"os"
	"path"
	"path/filepath"
	"strconv"
	"strings"

	"github.com/gin-gonic/gin"

	"github.com/shanghai-amr/portal/host/apierror"
	"github.com/shanghai-amr/portal/host/identity"
	"github.com/shanghai-amr/portal/host/policy"
	"github.com/shanghai-amr/portal/host/server"
	"github.com/shanghai-amr/portal/sdk/manifest"
)

// MaxBundleBytes caps an uploaded bundle.
const MaxBundleBytes = 512 << 20

// Permissions of the plugin admin API.
const (
	PermRead   = "plugins.read"
	PermManage = "plugins.manage"
)

// MountAPI registers the admin API (see docs/api.md) and the menu endpoint.
//
//	GET    /api/v1/admin/plugins               list
//	POST   /api/v1/admin/plugins               install (body: bundle .tar.gz)
//	GET    /api/v1/admin/plugins/:id           one plugin
//	POST   /api/v1/admin/plugins/:id/upgrade   upgrade (body: bundle .tar.gz)
//	POST   /api/v1/admin/plugins/:id/rollback  back to the previous version
//	POST   /api/v1/admin/plugins/:id/enable    start again
//	POST   /api/v1/admin/plugins/:id/disable   stop, keep data
//	DELETE /api/v1/admin/plugins/:id           uninstall, keep data
//	GET    /api/v1/admin/plugins/:id/logs?tail=N
//	GET    /api/v1/menus                       plugin menus the caller may see
//	GET    /api/v1/plugins/:id/ui              what the shell renders a plugin's pages from
//	GET    /plugin-assets/:id/:version/*file   the serving version's web/ files (ES module pages)
func (m *Manager) MountAPI(s *server.Server, auth gin.HandlerFunc) {
	s.Engine().GET("/plugin-assets/:id/:version/*file", m.serveAsset)
	read, manage := identity.Require(PermRead), identity.Require(PermManage)
	api := s.API().Group("/v1", auth)
	api.GET("/admin/plugins", read, func(c *gin.Context) {
		list, err := m.List(c.Request.Context())
		reply(c, gin.H{"plugins": list}, err)
	})
	api.GET("/admin/plugins/:id", read, func(c *gin.Context) {
		in, err := m.Get(c.Request.Context(), c.Param("id"))
		reply(c, in, err)
	})
	api.GET("/admin/plugins/:id/logs", read, func(c *gin.Context) {
		n, _ := strconv.Atoi(c.DefaultQuery("tail", "200"))
		lines, err := m.Logs(c.Param("id"), n)
		reply(c, gin.H{"lines": lines}, err)
	})
	api.GET("/admin/plugins/:id/settings", read, func(c *gin.Context) {
		list, err := m.Settings(c.Request.Context(), c.Param("id"))
		reply(c, gin.H{"settings": list}, err)
	})
	api.PUT("/admin/plugins/:id/settings/:key", manage, func(c *gin.Context) {
		var in struct {
			Value string `json:"value"`
		}
		if err := c.ShouldBindJSON(&in); err != nil {
			server.Fail(c, ErrBadSetting.WithDetails(map[string]string{"Detail": `the body is {"value": "…"}`}))
			return
		}
		if err := m.PutSetting(c.Request.Context(), c.Param("id"), c.Param("key"), in.Value, actorOf(c)); err != nil {
			server.Fail(c, err)
			return
		}
		list, err := m.Settings(c.Request.Context(), c.Param("id"))
		reply(c, gin.H{"settings": list}, err)
	})
	act := func(f func(c *gin.Context, a Actor) (*Info, error)) gin.HandlerFunc {
		return func(c *gin.Context) {
			in, err := f(c, actorOf(c))
			reply(c, in, err)
		}
	}
	api.POST("/admin/plugins/:id/rollback", manage, act(func(c *gin.Context, a Actor) (*Info, error) {
		return m.Rollback(c.Request.Context(), c.Param("id"), a)
	}))
	api.POST("/admin/plugins/:id/enable", manage, act(func(c *gin.Context, a Actor) (*Info, error) {
		return m.Enable(c.Request.Context(), c.Param("id"), a)
	}))
	api.POST("/admin/plugins/:id/disable", manage, act(func(c *gin.Context, a Actor) (*Info, error) {
		return m.Disable(c.Request.Context(), c.Param("id"), a)
	}))
	api.DELETE("/admin/plugins/:id", manage, func(c *gin.Context) {
		if err := m.Uninstall(c.Request.Context(), c.Param("id"), actorOf(c)); err != nil {
			server.Fail(c, err)
			return
		}
		c.Status(http.StatusNoContent)
	})
	upload := s.Group(MaxBundleBytes).Group("/v1", auth, manage)
	upload.POST("/admin/plugins", act(func(c *gin.Context, a Actor) (*Info, error) {
		return m.withUpload(c, func(path string) (*Info, error) { return m.Install(c.Request.Context(), path, a) })
	}))
	upload.POST("/admin/plugins/:id/upgrade", act(func(c *gin.Context, a Actor) (*Info, error) {
		return m.withUpload(c, func(path string) (*Info, error) { return m.Upgrade(c.Request.Context(), c.Param("id"), path, a) })
	}))
	api.GET("/plugins/:id/ui", func(c *gin.Context) {
		if identity.From(c.Request.Context()).Audience == identity.Anonymous {
			server.Fail(c, identity.Unauthenticated)
			return
		}
		e := m.router.get(c.Param("id"))
		if e == nil || e.gen == nil {
			server.Fail(c, apierror.NotFound)
			return
		}
		mf := e.gen.manifest
		c.JSON(http.StatusOK, gin.H{"id": mf.ID, "name": mf.Name, "version": mf.Version,
			"entities": m.entitiesFor(c.Request.Context(), mf, identity.From(c.Request.Context())),
			"tasks":    mf.Tasks, "i18n": mf.I18n, "menus": mf.Menus, "assets": "/plugin-assets/" + mf.ID + "/" + mf.Version + "/"})
	})
	api.GET("/menus", func(c *gin.Context) {
		caller := identity.From(c.Request.Context())
		c.JSON(http.StatusOK, gin.H{"menus": m.Menus(func(plugin string, mn manifest.Menu) bool {
			return m.menuVisible(c.Request.Context(), plugin, mn, caller)
		})})
	})
}

// entitiesFor are the manifest's entities as the caller's shell sees them:
// each record action (views.actions) only if the caller may call its route —
// the audience, then the route's permission. (The record's scope and state
// are checked when the action is posted.)
func (m *Manager) entitiesFor(ctx context.Context, mf *manifest.Manifest, caller *identity.Identity) []manifest.Entity {
	out := make([]manifest.Entity, len(mf.Entities))
	for i, e := range mf.Entities {
		out[i] = e
		actions, err := e.Actions()
		if err != nil || actions == nil {
			continue
		}
		kept := []manifest.Action{}
		for _, a := range actions {
			if m.mayPost(ctx, mf, a.Route, caller) {
				kept = append(kept, a)
			}
		}
		views := make(map[string]any, len(e.Views))
		for k, v := range e.Views {
			views[k] = v
		}
		views["actions"] = kept
		out[i].Views = views
	}
	return out
}

// mayPost reports whether the caller may call the manifest's POST route at path.
func (m *Manager) mayPost(ctx context.Context, mf *manifest.Manifest, path string, caller *identity.Identity) bool {
	for _, r := range mf.Routes {
		if r.Method != http.MethodPost || r.Path != path {
			continue
		}
		audience := false
		for _, a := range r.Audience {
			audience = audience || string(a) == caller.Audience
		}
		return audience && m.opts.Policy.Allows(ctx, policy.Input{Subject: caller.PolicySubject(), Action: r.Permission, Plugin: mf.ID})
	}
	return false
}

// menuVisible applies the same rules as routes: audience, then the policy.
func (m *Manager) menuVisible(ctx context.Context, plugin string, mn manifest.Menu, caller *identity.Identity) bool {
	if len(mn.Audience) > 0 {
		ok := false
		for _, a := range mn.Audience {
			ok = ok || a == manifest.AudienceAnonymous || string(a) == caller.Audience
		}
		if !ok {
			return false
		}
	} else if caller.Audience != identity.Staff {
		return false // menus without an audience are staff menus
	}
	return mn.Permission == "" ||
		m.opts.Policy.Decide(ctx, policy.Input{Subject: caller.PolicySubject(), Action: mn.Permission, Plugin: plugin}).Allow
}

// withUpload streams the request body to a temporary file under the data dir.
func (m *Manager) withUpload(c *gin.Context, f func(path string) (*Info, error)) (*Info, error) {
	dir := filepath.Join(m.opts.DataDir, "plugins", "uploads")
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return nil, err
	}
	tmp, err := os.CreateTemp(dir, "upload-*.tar.gz")
	if err != nil {
		return nil, err
	}
	defer os.Remove(tmp.Name())
	defer tmp.Close()
	n, err := io.Copy(tmp, c.Request.Body)
	if err != nil {
		return nil, apierror.From(err)
	}
	if n == 0 {
		return nil, apierror.Invalid("empty body: send the bundle (.tar.gz) as the request body")
	}
	if err := tmp.Close(); err != nil {
		return nil, err
	}
	return f(tmp.Name())
}

func actorOf(c *gin.Context) Actor {
	id := identity.From(c.Request.Context())
	return Actor{Username: id.Username, OrgPath: id.OrgPath, RequestID: server.RequestID(c), IP: c.ClientIP()}
}

func reply(c *gin.Context, v any, err error) {
	if err != nil {
		server.Fail(c, err)
		return
	}
	c.JSON(http.StatusOK, v)
}

// serveAsset serves a file of the web/ folder of the bundle that serves a
// plugin now. The version is part of the path, so the files are cached for
// good and an upgrade changes the URLs the shell loads; an asset of any other
// version is gone (404). The files were verified against the bundle's
// signed SHA-256 list at install.
func (m *Manager) serveAsset(c *gin.Context) {
	var dir string
	if e := m.router.get(c.Param("id")); e != nil && e.gen != nil && e.gen.version == c.Param("version") {
		dir = e.gen.web
	}
	name := path.Clean("/" + c.Param("file"))
	if dir == "" || name == "/" {
		server.Fail(c, apierror.NotFound)
		return
	}
	file := filepath.Join(dir, filepath.FromSlash(name))
	if f, err := os.Stat(file); err != nil || !f.Mode().IsRegular() {
		server.Fail(c, apierror.NotFound)
		return
	}
	if strings.HasSuffix(name, ".js") || strings.HasSuffix(name, ".mjs") {
		c.Header("Content-Type", "text/javascript; charset=utf-8")
	}
	c.Header("Cache-Control", "public, max-age=31536000, immutable")
	c.Header("X-Content-Type-Options", "nosniff")
	c.File(file)
}
