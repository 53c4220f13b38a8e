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
	"log/slog"
	"sync/atomic"

	goplugin "github.com/hashicorp/go-plugin"
	"google.golang.org/grpc"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"

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

// The flow-control windows of the host↔plugin connection. Fixed windows
// also turn off gRPC's bandwidth-estimation pings, which on a local socket
// only add a write and a wake-up to a call.
const (
	streamWindow = 4 << 20
	connWindow   = 16 << 20
)

// ServerOptions are the plugin process's gRPC server options.
func ServerOptions() []grpc.ServerOption {
	return []grpc.ServerOption{grpc.MaxRecvMsgSize(MaxMessageBytes), grpc.MaxSendMsgSize(MaxMessageBytes),
		grpc.InitialWindowSize(streamWindow), grpc.InitialConnWindowSize(connWindow)}
}

// DialOptions are the host's options for its connection to a plugin.
func DialOptions() []grpc.DialOption {
	return []grpc.DialOption{grpc.WithInitialWindowSize(streamWindow), grpc.WithInitialConnWindowSize(connWindow),
		grpc.WithDefaultCallOptions(grpc.MaxCallRecvMsgSize(MaxMessageBytes), grpc.MaxCallSendMsgSize(MaxMessageBytes))}
}

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

// Client is the host's handle on one plugin process. Its HandleHTTP uses the
// plugin's direct channel when the host has been given one (UseDirect), and
// gRPC otherwise.
type Client struct {
	pluginv1.PluginClient
	Broker *goplugin.GRPCBroker
	// Exited is closed when the plugin process has exited.
	Exited <-chan struct{}
	direct atomic.Pointer[direct]
	closed atomic.Bool
}

// GRPCClient returns the host-side client. go-plugin cancels ctx when the
// process exits, which is how the host learns of a crash at once.
func (p *GRPCPlugin) GRPCClient(ctx context.Context, broker *goplugin.GRPCBroker, c *grpc.ClientConn) (any, error) {
	return NewClient(ctx, pluginv1.NewPluginClient(c), broker), nil
}

// NewClient wraps a Plugin client; life ends when the process has exited.
func NewClient(life context.Context, rpc pluginv1.PluginClient, broker *goplugin.GRPCBroker) *Client {
	return &Client{PluginClient: rpc, Broker: broker, Exited: life.Done()}
}

// UseDirect makes HandleHTTP use the plugin's direct channel described by
// started, which process pid must serve (see StartResponse.direct_socket). A
// socket served by another process is logged to log and not used again.
func (c *Client) UseDirect(started *pluginv1.StartResponse, pid int, log *slog.Logger) {
	if started.GetDirectSocket() != "" && DirectSupported {
		d := &direct{path: started.DirectSocket, pid: pid, shareable: started.DirectShared, rpc: c.PluginClient, log: log}
		d.quick.Store(quickOne)
		c.direct.Store(d)
	}
}

// HandleHTTP serves one request through the plugin: over the direct channel
// when there is one and a connection can be had, over gRPC otherwise.
func (c *Client) HandleHTTP(ctx context.Context, req *pluginv1.HTTPRequest, opts ...grpc.CallOption) (*pluginv1.HTTPResponse, error) {
	if c.closed.Load() {
		return nil, errClosed
	}
	if d := c.direct.Load(); d != nil {
		resp, err := d.call(ctx, req)
		if err != errNoConn {
			return resp, err
		}
	}
	return c.PluginClient.HandleHTTP(ctx, req, opts...)
}

// Close ends the client's requests: later HandleHTTP calls answer
// Unavailable, and the direct channel's connections are closed. The host
// calls it when no calls are in flight, before it stops the process.
func (c *Client) Close() {
	c.closed.Store(true)
	if d := c.direct.Load(); d != nil {
		d.close()
	}
}

var errClosed = status.Error(codes.Unavailable, "plugin client closed")

// CallTokenKey is the gRPC metadata key that ties a plugin→host call to the
// end user's request it serves.
const CallTokenKey = "portal-call-token"
