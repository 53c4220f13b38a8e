// Package wire is the go-plugin glue shared by the host and the plugins: the
// handshake constants, the plugin set, and the two sides of the Plugin service.
// Plugin teams do not use it directly; sdk.Serve does.
//
// The handshake constants below never change. A breaking change to the wire
// contract bumps manifest.ProtocolVersion and the handshake's ProtocolVersion
// together; go-plugin then refuses a mismatched pair at start with both numbers
// in the message.
package wire

import (
	"context"

	goplugin "github.com/hashicorp/go-plugin"
	"google.golang.org/grpc"

	"github.com/shanghai-amr/portal/sdk/manifest"
	"github.com/shanghai-amr/portal/sdk/proto/pluginv1"
)

// Handshake is checked by both sides before anything else is exchanged. The
// cookie only stops a plugin binary from being run by hand; trust comes from
// bundle signatures and go-plugin's SecureConfig checksum.
var Handshake = goplugin.HandshakeConfig{
	ProtocolVersion:  manifest.ProtocolVersion,
	MagicCookieKey:   "SHANGHAI_AMR_PORTAL_PLUGIN",
	MagicCookieValue: "5b1e2f0c-portal-plugin-v1",
}

// Name is the single plugin name dispensed from every plugin process.
const Name = "portal"

// MaxMessageBytes bounds one gRPC message in either direction (bodies larger
// than this must be streamed).
const MaxMessageBytes = 64 << 20

// GRPCPlugin implements go-plugin's GRPCPlugin for both sides: Impl is set in
// the plugin process, nil in the host.
type GRPCPlugin struct {
	goplugin.NetRPCUnsupportedPlugin
	// Impl is the plugin's implementation of the Plugin service; it receives
	// the broker so that it can dial the host's services in Start.
	Impl func(broker *goplugin.GRPCBroker) pluginv1.PluginServer
}

// GRPCServer registers the Plugin service in the plugin process.
func (p *GRPCPlugin) GRPCServer(broker *goplugin.GRPCBroker, s *grpc.Server) error {
	pluginv1.RegisterPluginServer(s, p.Impl(broker))
	return nil
}

// Client is the host's handle on one plugin process.
type Client struct {
	pluginv1.PluginClient
	Broker *goplugin.GRPCBroker
	// Exited is closed when the plugin process has exited.
	Exited <-chan struct{}
}

// GRPCClient returns the host-side client. go-plugin cancels ctx when the
// process exits, which is how the host learns of a crash at once.
func (p *GRPCPlugin) GRPCClient(ctx context.Context, broker *goplugin.GRPCBroker, c *grpc.ClientConn) (any, error) {
	return &Client{PluginClient: pluginv1.NewPluginClient(c), Broker: broker, Exited: ctx.Done()}, nil
}

// CallTokenKey is the gRPC metadata key that ties a plugin→host call to the
// end user's request it serves.
const CallTokenKey = "portal-call-token"
