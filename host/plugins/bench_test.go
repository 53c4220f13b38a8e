package plugins

import (
	"context"
	"io"
	"net/http"
	"testing"

	"github.com/shanghai-amr/portal/sdk/proto/pluginv1"
)

// BenchmarkRoundTrip separates the costs of a plugin call: HandleHTTP over
// the direct channel and as a unary gRPC call, an empty unary call, the
// whole HTTP request through the host, and what one call from the plugin to
// the host adds to a request (staff-settings makes one, staff-whoami none).
func BenchmarkRoundTrip(b *testing.B) {
	h := newTestHostB(b)
	g := h.m.router.current("testplugin")
	req := &pluginv1.HTTPRequest{Method: "GET", Path: "/version", Route: "/version", Caller: &pluginv1.Caller{Audience: "anonymous"}}
	b.Run("direct-HandleHTTP", func(b *testing.B) {
		for b.Loop() {
			if _, err := g.rpc.HandleHTTP(context.Background(), req); err != nil {
				b.Fatal(err)
			}
		}
	})
	b.Run("grpc-HandleHTTP", func(b *testing.B) {
		for b.Loop() {
			if _, err := g.rpc.PluginClient.HandleHTTP(context.Background(), req); err != nil {
				b.Fatal(err)
			}
		}
	})
	b.Run("grpc-CheckHealth", func(b *testing.B) {
		for b.Loop() {
			if _, err := g.rpc.CheckHealth(context.Background(), &pluginv1.CheckHealthRequest{}); err != nil {
				b.Fatal(err)
			}
		}
	})
	b.Run("http-through-host", func(b *testing.B) {
		for b.Loop() {
			resp, err := client.Get(h.url + "/api/plugins/testplugin/version")
			if err != nil {
				b.Fatal(err)
			}
			io.Copy(io.Discard, resp.Body)
			resp.Body.Close()
			if resp.StatusCode != http.StatusOK {
				b.Fatal(resp.StatusCode)
			}
		}
	})
	for _, route := range []string{"whoami", "settings"} {
		b.Run("staff-"+route, func(b *testing.B) {
			for b.Loop() {
				if code, body, _ := h.callAs(b, h.staff, "GET", "/api/plugins/testplugin/"+route, nil); code != http.StatusOK {
					b.Fatal(code, string(body))
				}
			}
		})
	}
}
