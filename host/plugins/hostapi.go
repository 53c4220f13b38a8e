package plugins

import (
	"context"
	"encoding/json"
	"errors"
	"log/slog"
	"strings"
	"time"

	"github.com/shanghai-amr/portal/host/pii"
	"github.com/shanghai-amr/portal/sdk/idcode"

	"google.golang.org/grpc"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/metadata"
	"google.golang.org/grpc/status"

	"github.com/shanghai-amr/portal/host/audit"
	"github.com/shanghai-amr/portal/host/clock"
	"github.com/shanghai-amr/portal/host/document"
	"github.com/shanghai-amr/portal/host/dossier"
	"github.com/shanghai-amr/portal/host/files"
	"github.com/shanghai-amr/portal/host/identity"
	"github.com/shanghai-amr/portal/host/message"
	"github.com/shanghai-amr/portal/host/policy"
	"github.com/shanghai-amr/portal/host/store/ent"
	"github.com/shanghai-amr/portal/host/store/ent/organization"
	"github.com/shanghai-amr/portal/host/store/ent/setting"
	"github.com/shanghai-amr/portal/host/store/ent/user"
	"github.com/shanghai-amr/portal/host/workflow"
	"github.com/shanghai-amr/portal/sdk/manifest"
	"github.com/shanghai-amr/portal/sdk/proto/pluginv1"
	"github.com/shanghai-amr/portal/sdk/wire"
)

// capabilityOf maps each plugin→host RPC to the manifest capability it needs.
// A method missing here is refused: new RPCs must be classified to be callable.
func capabilityOf(fullMethod string) string {
	svc, method, _ := strings.Cut(strings.TrimPrefix(fullMethod, "/portal.plugin.v1."), "/")
	switch svc {
	case "Identity":
		return manifest.CapIdentityRead
	case "Policy":
		return manifest.CapPolicyDecide
	case "Tasks":
		return manifest.CapTasksWrite
	case "Processes":
		return manifest.CapProcessesWrite
	case "Clocks":
		return manifest.CapClocksRead
	case "Messages":
		return manifest.CapMessagesSend
	case "Events":
		return manifest.CapEventsPublish
	case "Files":
		if method == "PutFile" {
			return manifest.CapFilesWrite
		}
		return manifest.CapFilesRead
	case "Documents":
		return manifest.CapDocumentsWrite
	case "Search":
		return manifest.CapSearchIndex
	case "Audit":
		return manifest.CapAuditWrite
	case "Numbering":
		return manifest.CapNumberingNext
	case "Dossiers":
		return manifest.CapDossiersWrite
	case "Settings":
		if method == "PutSetting" {
			return manifest.CapSettingsWrite
		}
		return manifest.CapSettingsRead
	}
	return ""
}

type actorKey struct{}

// actor is on whose behalf a plugin→host call runs.
type actor struct {
	plugin string
	user   *identity.Identity // nil when the plugin acts for itself
	log    *slog.Logger       // the generation's log
}

// internal logs a host fault a plugin call ran into and answers the plugin
// Internal with what failed, never the detail (which may name tables or
// data the plugin must not see).
func internal(ctx context.Context, what string, err error) error {
	log := actorFrom(ctx).log
	if log == nil {
		log = slog.Default()
	}
	if ctx.Err() == nil {
		log.ErrorContext(ctx, "host service failed", "what", what, "err", err)
	}
	return status.Error(codes.Internal, what)
}

func (a actor) orgPath() string {
	if a.user != nil {
		return a.user.OrgPath
	}
	return ""
}

func (a actor) name() string {
	if a.user != nil && a.user.Username != "" {
		return a.user.Username
	}
	return "plugin:" + a.plugin
}

// guard is the interceptor in front of every host service: the plugin must
// have declared the capability, and a call token must belong to one of its
// in-flight requests. Both fail closed.
func guard(g *generation) grpc.UnaryServerInterceptor {
	return func(ctx context.Context, req any, info *grpc.UnaryServerInfo, handler grpc.UnaryHandler) (any, error) {
		capName := capabilityOf(info.FullMethod)
		if capName == "" || !g.manifest.HasCapability(capName) {
			return nil, status.Errorf(codes.PermissionDenied, "plugin %s did not declare capability %q for %s", g.id, capName, info.FullMethod)
		}
		a := actor{plugin: g.id, log: g.log}
		if md, ok := metadata.FromIncomingContext(ctx); ok {
			if v := md.Get(wire.CallTokenKey); len(v) > 0 {
				id, ok := g.callIdentity(v[0])
				if !ok {
					return nil, status.Error(codes.Unauthenticated, "call token unknown or expired")
				}
				if !userMayUse(ctx, g.policy(), id, g.id, capName) {
					return nil, status.Errorf(codes.PermissionDenied, "user %s may not %s for plugin %s", id.Username, capName, g.id)
				}
				a.user = id
			}
		}
		return handler(context.WithValue(ctx, actorKey{}, a), req)
	}
}

// userMayUse decides whether the end user a plugin acts for may use a host
// service through it: recording what a caller did is always allowed; writing
// a plugin's settings needs plugin.<id>.settings.write; any other service
// needs a signed-in caller. The policy decides the permission.
func userMayUse(ctx context.Context, p *policy.Engine, id *identity.Identity, pluginID, capName string) bool {
	switch capName {
	case manifest.CapAuditWrite:
		return true
	case manifest.CapSettingsWrite:
		return p.Decide(ctx, policy.Input{Subject: id.PolicySubject(), Action: "plugin." + pluginID + ".settings.write", Plugin: pluginID}).Allow
	}
	return id.Audience != identity.Anonymous
}

func actorFrom(ctx context.Context) actor { a, _ := ctx.Value(actorKey{}).(actor); return a }

// hostServices implements the host side of the plugin→host services for one
// generation. Services not built yet answer Unimplemented with a clear message
// (after the capability check, so a plugin learns both facts in order).
type hostServices struct {
	pluginv1.UnimplementedIdentityServer
	pluginv1.UnimplementedPolicyServer
	pluginv1.UnimplementedTasksServer
	pluginv1.UnimplementedProcessesServer
	pluginv1.UnimplementedClocksServer
	pluginv1.UnimplementedMessagesServer
	pluginv1.UnimplementedEventsServer
	pluginv1.UnimplementedFilesServer
	pluginv1.UnimplementedDocumentsServer
	pluginv1.UnimplementedSearchServer
	pluginv1.UnimplementedAuditServer
	pluginv1.UnimplementedNumberingServer
	pluginv1.UnimplementedSettingsServer
	pluginv1.UnimplementedDossiersServer

	client   *ent.Client
	audit    *audit.Log
	policy   *policy.Engine
	calendar *clock.Calendar
	plugin   string
	manifest *manifest.Manifest
	workflow *workflow.Engine
	messages *message.Center
	events   *pluginEvents // Events service (events.go)
	// Files, Documents, Numbering and Dossiers services (documents.go).
	files     *files.Store
	documents *document.Service
	dossiers  *dossier.Service
	// pseudonyms serve Identity.PersonKey (nil: Unavailable), within the
	// plugin's personKeys budget (nil: none).
	pseudonyms *pii.Pseudonyms
	personKeys *rateLimit
}

// ComputeDeadline computes a statutory deadline on the working-day calendar
// and explains it.
func (h *hostServices) ComputeDeadline(_ context.Context, r *pluginv1.ComputeDeadlineRequest) (*pluginv1.Deadline, error) {
	if h.calendar == nil {
		return nil, status.Error(codes.Unavailable, "no calendar loaded")
	}
	switch clock.Unit(r.Unit) {
	case clock.NaturalDays, clock.WorkingDays, clock.Hours:
	default:
		return nil, status.Errorf(codes.InvalidArgument, "unit %q: want natural_days, working_days or hours", r.Unit)
	}
	switch clock.StartRule(r.StartRule) {
	case clock.NextDay, clock.SameDay, "":
	default:
		return nil, status.Errorf(codes.InvalidArgument, "start_rule %q: want next_day or same_day", r.StartRule)
	}
	d, err := h.calendar.Compute(time.UnixMilli(r.StartUnixMs), clock.Limit{Unit: clock.Unit(r.Unit), Amount: int(r.Amount), Start: clock.StartRule(r.StartRule)})
	if errors.Is(err, clock.ErrNoSchedule) {
		return nil, status.Error(codes.FailedPrecondition, err.Error())
	} else if err != nil {
		return nil, status.Error(codes.InvalidArgument, err.Error())
	}
	return &pluginv1.Deadline{DueUnixMs: d.Due.UnixMilli(), Explanation: strings.Join(d.Steps, "\n")}, nil
}

// Decide answers a decision for the caller the plugin acts for. Without a
// caller (a plugin acting for itself) there is nobody to allow: deny.
func (h *hostServices) Decide(ctx context.Context, r *pluginv1.DecideRequest) (*pluginv1.Decision, error) {
	a := actorFrom(ctx)
	if a.user == nil {
		return &pluginv1.Decision{Allow: false, Reason: "no caller: decisions are made for a request's user"}, nil
	}
	var res map[string]any
	if len(r.Resource) > 0 {
		if err := json.Unmarshal(r.Resource, &res); err != nil {
			return nil, status.Error(codes.InvalidArgument, "resource must be a JSON object")
		}
	}
	d := h.policy.Decide(ctx, policy.Input{Subject: a.user.PolicySubject(), Action: r.Action, Resource: res, Plugin: h.plugin})
	if !d.Allow {
		_, _ = h.audit.Write(ctx, audit.Entry{Actor: a.name(), Action: "policy.denied", Resource: "plugin:" + h.plugin + " " + r.Action,
			Outcome: audit.Denied, OrgPath: a.orgPath(), Detail: map[string]string{"reason": d.Reason}})
	}
	return &pluginv1.Decision{Allow: d.Allow, Reason: d.Reason}, nil
}

// DataFilter returns the list filter for the caller: everything (city level),
// nothing, or UCAST conditions on the record's attributes (resource.org_path …).
func (h *hostServices) DataFilter(ctx context.Context, r *pluginv1.DataFilterRequest) (*pluginv1.DataFilterResponse, error) {
	a := actorFrom(ctx)
	if a.user == nil || a.user.Audience == identity.Anonymous {
		return &pluginv1.DataFilterResponse{AllowNone: true}, nil
	}
	if d := h.policy.Decide(ctx, policy.Input{Subject: a.user.PolicySubject(), Action: r.Action, Plugin: h.plugin}); !d.Allow {
		return &pluginv1.DataFilterResponse{AllowNone: true}, nil
	}
	f, err := h.policy.ListFilter(ctx, a.user.PolicySubject())
	if err != nil {
		return nil, internal(ctx, "filter compilation failed", err)
	}
	switch {
	case f.All:
		return &pluginv1.DataFilterResponse{Unconditional: true}, nil
	case f.None:
		return &pluginv1.DataFilterResponse{AllowNone: true}, nil
	}
	b, err := json.Marshal(f.UCAST)
	if err != nil {
		return nil, internal(ctx, "filter encoding failed", err)
	}
	return &pluginv1.DataFilterResponse{Ucast: b}, nil
}

func registerHostServices(s *grpc.Server, h *hostServices) {
	pluginv1.RegisterIdentityServer(s, h)
	pluginv1.RegisterPolicyServer(s, h)
	pluginv1.RegisterTasksServer(s, h)
	pluginv1.RegisterProcessesServer(s, h)
	pluginv1.RegisterClocksServer(s, h)
	pluginv1.RegisterMessagesServer(s, h)
	pluginv1.RegisterEventsServer(s, h)
	pluginv1.RegisterFilesServer(s, h)
	pluginv1.RegisterDocumentsServer(s, h)
	pluginv1.RegisterSearchServer(s, h)
	pluginv1.RegisterAuditServer(s, h)
	pluginv1.RegisterNumberingServer(s, h)
	pluginv1.RegisterSettingsServer(s, h)
	pluginv1.RegisterDossiersServer(s, h)
}

// Write records an audit entry attributed to the acting user (or the plugin).
func (h *hostServices) Write(ctx context.Context, r *pluginv1.AuditRecord) (*pluginv1.AuditAck, error) {
	if r.Action == "" {
		return nil, status.Error(codes.InvalidArgument, "action is required")
	}
	outcome := audit.Outcome(r.Outcome)
	switch outcome {
	case audit.Success, audit.Failure, audit.Denied:
	case "":
		outcome = audit.Success
	default:
		return nil, status.Errorf(codes.InvalidArgument, "outcome %q: want success, failure or denied", r.Outcome)
	}
	var detail any
	if len(r.Detail) > 0 {
		if !json.Valid(r.Detail) {
			return nil, status.Error(codes.InvalidArgument, "detail must be JSON")
		}
		detail = json.RawMessage(r.Detail)
	}
	a := actorFrom(ctx)
	seq, err := h.audit.Write(ctx, audit.Entry{Actor: a.name(), Action: h.plugin + "." + r.Action,
		Resource: r.Resource, Outcome: outcome, Detail: detail, OrgPath: a.orgPath()})
	if err != nil {
		return nil, internal(ctx, "audit write failed", err)
	}
	return &pluginv1.AuditAck{Seq: seq}, nil
}

// GetSettings returns the plugin's own settings.
func (h *hostServices) GetSettings(ctx context.Context, _ *pluginv1.GetSettingsRequest) (*pluginv1.SettingsMap, error) {
	return h.settings(ctx)
}

// PutSetting stores one of the plugin's settings and audits the change.
func (h *hostServices) PutSetting(ctx context.Context, r *pluginv1.PutSettingRequest) (*pluginv1.SettingsMap, error) {
	if r.Key == "" || len(r.Key) > 128 {
		return nil, status.Error(codes.InvalidArgument, "key must be 1–128 characters")
	}
	err := h.client.Setting.Create().SetScope(h.plugin).SetKey(r.Key).SetValue(r.Value).
		OnConflictColumns(setting.FieldScope, setting.FieldKey).UpdateValue().UpdateUpdatedAt().Exec(ctx)
	if err != nil {
		return nil, internal(ctx, "settings write failed", err)
	}
	_, _ = h.audit.Write(ctx, audit.Entry{Actor: actorFrom(ctx).name(), Action: "plugin.setting.put",
		Resource: "plugin:" + h.plugin + " setting:" + r.Key, Outcome: audit.Success, OrgPath: actorFrom(ctx).orgPath()})
	return h.settings(ctx)
}

func (h *hostServices) settings(ctx context.Context) (*pluginv1.SettingsMap, error) {
	return pluginSettings(ctx, h.client, h.plugin)
}

func pluginSettings(ctx context.Context, c *ent.Client, pluginID string) (*pluginv1.SettingsMap, error) {
	rows, err := c.Setting.Query().Where(setting.Scope(pluginID)).All(ctx)
	if err != nil {
		return nil, internal(ctx, "settings read failed", err)
	}
	m := &pluginv1.SettingsMap{Values: map[string]string{}}
	for _, r := range rows {
		m.Values[r.Key] = r.Value
	}
	return m, nil
}

// GetUser looks a staff user up by username.
func (h *hostServices) GetUser(ctx context.Context, r *pluginv1.GetUserRequest) (*pluginv1.User, error) {
	u, err := h.client.User.Query().Where(user.Username(r.Username)).WithOrganization().WithRoles().Only(ctx)
	if ent.IsNotFound(err) {
		return nil, status.Errorf(codes.NotFound, "no user %q", r.Username)
	} else if err != nil {
		return nil, internal(ctx, "user lookup failed", err)
	}
	out := &pluginv1.User{Username: u.Username, DisplayName: u.DisplayName}
	if u.Edges.Organization != nil {
		out.OrgCode = u.Edges.Organization.Code
	}
	for _, ro := range u.Edges.Roles {
		out.Roles = append(out.Roles, ro.Key)
	}
	return out, nil
}

// The budget of Identity.PersonKey calls per plugin: a record names a few
// people, so this is ample, but it turns trying identity numbers one by one
// to put a number to a pseudonym into hours of refused calls, recorded.
const (
	personKeyRate  = 5   // a second
	personKeyBurst = 200 // at once
)

// PersonKey is the plugin's pseudonym of an identity number: what
// Caller.person_key holds when that person signs in.
func (h *hostServices) PersonKey(ctx context.Context, r *pluginv1.PersonKeyRequest) (*pluginv1.PersonKeyResponse, error) {
	if h.pseudonyms == nil {
		return nil, status.Error(codes.Unavailable, "this host gives no person pseudonyms")
	}
	if h.personKeys != nil {
		if ok, first := h.personKeys.allow(time.Now()); !ok {
			if first {
				a := actorFrom(ctx)
				detail, _ := json.Marshal(map[string]any{"rate_per_second": personKeyRate, "burst": personKeyBurst})
				if _, err := h.audit.Write(ctx, audit.Entry{Actor: a.name(), Action: "plugin.person_key_limited", Resource: "plugin:" + h.plugin,
					Outcome: audit.Denied, Detail: detail, OrgPath: a.orgPath()}); err != nil {
					return nil, internal(ctx, "audit write failed", err)
				}
			}
			return nil, status.Errorf(codes.ResourceExhausted, "more than %d person keys at once or %d a second", personKeyBurst, personKeyRate)
		}
	}
	if err := idcode.ValidResidentID(r.IdNumber); err != nil {
		return nil, status.Errorf(codes.InvalidArgument, "id_number: %v", err)
	}
	return &pluginv1.PersonKeyResponse{PersonKey: h.pseudonyms.ForPlugin(h.plugin, h.pseudonyms.Person(r.IdNumber))}, nil
}

// GetOrganization looks an organisation up by code.
func (h *hostServices) GetOrganization(ctx context.Context, r *pluginv1.GetOrganizationRequest) (*pluginv1.Organization, error) {
	o, err := h.client.Organization.Query().Where(organization.Code(r.Code)).WithParent().Only(ctx)
	if ent.IsNotFound(err) {
		return nil, status.Errorf(codes.NotFound, "no organisation %q", r.Code)
	} else if err != nil {
		return nil, internal(ctx, "organisation lookup failed", err)
	}
	out := &pluginv1.Organization{Code: o.Code, Name: o.Name, Kind: string(o.Kind), DivisionCode: o.DivisionCode, Path: o.Path}
	if o.Edges.Parent != nil {
		out.ParentCode = o.Edges.Parent.Code
	}
	return out, nil
}

// EvaluateTrack computes a running statutory clock — pauses and extensions
// included — and its colour.
func (h *hostServices) EvaluateTrack(_ context.Context, r *pluginv1.EvaluateTrackRequest) (*pluginv1.TrackStatus, error) {
	if h.calendar == nil {
		return nil, status.Error(codes.Unavailable, "no calendar loaded")
	}
	var t clock.Track
	if err := json.Unmarshal(r.Track, &t); err != nil {
		return nil, status.Errorf(codes.InvalidArgument, "track: %v", err)
	}
	now := time.Now()
	if r.NowUnixMs > 0 {
		now = time.UnixMilli(r.NowUnixMs)
	}
	d, err := h.calendar.Evaluate(t, now)
	if errors.Is(err, clock.ErrNoSchedule) {
		return nil, status.Error(codes.FailedPrecondition, err.Error())
	} else if err != nil {
		return nil, status.Error(codes.InvalidArgument, err.Error())
	}
	colour, err := h.calendar.TrackStatus(t, now)
	if err != nil {
		return nil, status.Error(codes.InvalidArgument, err.Error())
	}
	b, _ := json.Marshal(d)
	return &pluginv1.TrackStatus{DueUnixMs: d.Due.UnixMilli(), Explanation: strings.Join(d.Steps, "\n"),
		Colour: string(colour), Paused: d.Paused, Deadline: b}, nil
}
