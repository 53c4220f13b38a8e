package plugins

import (
	"context"
	"io"
	"net/http"
	"testing"

	"github.com/shanghai-amr/portal/sdk/proto/pluginv1"
)

// BenchmarkRoundTrip separates the costs of a plugin call: HandleHTTP over
// the direct channel and as a unary gRPC call, an empty unary call, and the
// whole HTTP request through the host.
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
}
