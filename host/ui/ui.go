// Package ui serves the web shell (ui-shell/, built by `make build` into
// host/ui/dist and embedded in the binary): its files with long cache
// lifetimes for the hashed assets, and index.html for every client-side route.
package ui

import (
	"embed"
	"io/fs"
	"net/http"
	"path"
	"strings"

	"github.com/gin-gonic/gin"
)

//go:embed all:dist
var dist embed.FS

// notBuilt is shown when the binary was built without the shell.
const notBuilt = `<!doctype html><meta charset="utf-8"><title>上海市市场监督管理局 门户</title>
<p>界面尚未构建：请运行 <code>make build</code> 或 <code>make run</code>。</p>
<p>The web shell is not built: run <code>make build</code> or <code>make run</code>. The API is at <code>/api/</code>.</p>`

// Handler answers GET and HEAD for the shell: a file under dist, or
// index.html for any other path (the shell's router takes it from there).
func Handler() gin.HandlerFunc {
	files, _ := fs.Sub(dist, "dist")
	index, err := fs.ReadFile(files, "index.html")
	if err != nil {
		index = []byte(notBuilt)
	}
	return func(c *gin.Context) {
		p := strings.TrimPrefix(path.Clean(c.Request.URL.Path), "/")
		if p != "" && p != "index.html" {
			if f, err := fs.Stat(files, p); err == nil && !f.IsDir() {
				if strings.HasPrefix(p, "assets/") {
					// Vite names assets by content hash.
					c.Header("Cache-Control", "public, max-age=31536000, immutable")
				}
				c.FileFromFS(p, http.FS(files))
				return
			}
		}
		c.Header("Cache-Control", "no-cache")
		c.Header("X-Content-Type-Options", "nosniff")
		c.Header("Content-Security-Policy", "default-src 'self'; img-src 'self' data:; style-src 'self' 'unsafe-inline'; connect-src 'self'")
		c.Data(http.StatusOK, "text/html; charset=utf-8", index)
	}
}
