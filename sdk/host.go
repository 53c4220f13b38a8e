package sdk

import (
	"context"

	"google.golang.org/grpc"
	"google.golang.org/grpc/metadata"

	"github.com/shanghai-amr/portal/sdk/proto/pluginv1"
	"github.com/shanghai-amr/portal/sdk/wire"
)

// Host is the client for the host's services. Each field is the generated
// client of one service; the capability each needs is in sdk/proto/plugin.proto.
// Pass the request's context: it carries the caller, and the host checks both
// the plugin's capability and the caller's permission.
type Host struct {
	Identity  pluginv1.IdentityClient
	Policy    pluginv1.PolicyClient
	Tasks     pluginv1.TasksClient
	Processes pluginv1.ProcessesClient
	Clocks    pluginv1.ClocksClient
	Messages  pluginv1.MessagesClient
	Events    pluginv1.EventsClient
	Files     pluginv1.FilesClient
	Documents pluginv1.DocumentsClient
	Search    pluginv1.SearchClient
	Audit     pluginv1.AuditClient
	Numbering pluginv1.NumberingClient
	Settings  pluginv1.SettingsClient
	Dossiers  pluginv1.DossiersClient
}

func newHost(c grpc.ClientConnInterface) *Host {
	return &Host{
		Identity: pluginv1.NewIdentityClient(c), Policy: pluginv1.NewPolicyClient(c),
		Tasks: pluginv1.NewTasksClient(c), Processes: pluginv1.NewProcessesClient(c),
		Clocks: pluginv1.NewClocksClient(c), Messages: pluginv1.NewMessagesClient(c),
		Events: pluginv1.NewEventsClient(c), Files: pluginv1.NewFilesClient(c),
		Documents: pluginv1.NewDocumentsClient(c), Search: pluginv1.NewSearchClient(c),
		Audit: pluginv1.NewAuditClient(c), Numbering: pluginv1.NewNumberingClient(c),
		Settings: pluginv1.NewSettingsClient(c), Dossiers: pluginv1.NewDossiersClient(c),
	}
}

// NewHost wraps a connection to host services (used by sdk/plugintest).
func NewHost(c grpc.ClientConnInterface) *Host { return newHost(c) }

// callTokenInterceptor forwards the request's call token so the host can act
// on behalf of (and check) the request's caller.
func callTokenInterceptor(ctx context.Context, method string, req, reply any, cc *grpc.ClientConn, invoker grpc.UnaryInvoker, opts ...grpc.CallOption) error {
	if c, ok := ctx.Value(callerKey{}).(Caller); ok && c.callToken != "" {
		ctx = metadata.AppendToOutgoingContext(ctx, wire.CallTokenKey, c.callToken)
	}
	return invoker(ctx, method, req, reply, cc, opts...)
}
