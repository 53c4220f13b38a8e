package plugins

import (
	"fmt"
	"strings"
	"time"

	"github.com/shanghai-amr/portal/sdk/manifest"
)

// routeTable matches a request against the routes a plugin declared. Only
// declared routes reach the plugin; everything else is refused by the host.
type routeTable struct {
	routes []*route
}

type route struct {
	manifest.Route
	segments []string // literal, or "{name}" for a parameter
	timeout  time.Duration
	audience map[manifest.Audience]bool
}

func compileRoutes(rs []manifest.Route) (*routeTable, error) {
	t := &routeTable{}
	for i, r := range rs {
		c := &route{Route: r, segments: strings.Split(strings.Trim(r.Path, "/"), "/"), audience: map[manifest.Audience]bool{}}
		for _, a := range r.Audience {
			c.audience[a] = true
		}
		if r.Timeout != "" {
			d, err := time.ParseDuration(r.Timeout)
			if err != nil || d <= 0 {
				return nil, fmt.Errorf("routes[%d].timeout %q: %v", i, r.Timeout, err)
			}
			c.timeout = d
		}
		t.routes = append(t.routes, c)
	}
	return t, nil
}

// match finds the route for method and path (relative to the plugin prefix).
// methodMismatch reports that the path exists with other methods.
func (t *routeTable) match(method, path string) (r *route, params map[string]string, methodMismatch bool) {
	parts := strings.Split(strings.Trim(path, "/"), "/")
	for _, c := range t.routes {
		p, ok := c.matchPath(parts)
		if !ok {
			continue
		}
		if c.Method != method && !(method == "HEAD" && c.Method == "GET") {
			methodMismatch = true
			continue
		}
		return c, p, false
	}
	return nil, nil, methodMismatch
}

func (c *route) matchPath(parts []string) (map[string]string, bool) {
	if len(parts) != len(c.segments) {
		return nil, false
	}
	var params map[string]string
	for i, s := range c.segments {
		if strings.HasPrefix(s, "{") && strings.HasSuffix(s, "}") {
			if parts[i] == "" {
				return nil, false
			}
			if params == nil {
				params = map[string]string{}
			}
			params[s[1:len(s)-1]] = parts[i]
			continue
		}
		if s != parts[i] {
			return nil, false
		}
	}
	return params, true
}
