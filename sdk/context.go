package sdk

import (
	"context"
	"time"

	"github.com/shanghai-amr/portal/sdk/proto/pluginv1"
)

// Caller is the verified identity on whose behalf the host called the plugin.
type Caller struct {
	// Audience is "staff", "enterprise", "public" or "anonymous".
	Audience    string
	Subject     string
	Username    string
	DisplayName string
	Roles       []string
	// Posts are the positions (岗位) the caller holds.
	Posts []string
	// OrgCode and OrgPath locate the caller's primary organisation; OrgPath is
	// the codes from the root, "/310000/310115/310115-S02".
	OrgCode, OrgPath string
	// Jurisdiction is "city", "district" or "station".
	Jurisdiction string
	Locale       string
	// USCC is the unified social credit code of an enterprise caller.
	USCC string
	// PersonKey is, for a member of the public signed in with a real-name
	// identity, this plugin's pseudonym of the identity number; compare it
	// with Host.Identity.PersonKey of a number the plugin holds.
	PersonKey string
	callToken string
}

// Anonymous reports whether nobody is signed in.
func (c Caller) Anonymous() bool { return c.Subject == "" }

func callerFromProto(c *pluginv1.Caller) Caller {
	if c == nil {
		return Caller{Audience: "anonymous"}
	}
	return Caller{Audience: c.Audience, Subject: c.Subject, Username: c.Username, DisplayName: c.DisplayName,
		Roles: c.Roles, Posts: c.Posts, OrgCode: c.OrgCode, OrgPath: c.OrgPath, Jurisdiction: c.Jurisdiction,
		Locale: c.Locale, USCC: c.Uscc, PersonKey: c.PersonKey, callToken: c.CallToken}
}

type callerKey struct{}
type hostKey struct{}
type requestIDKey struct{}

func withCaller(ctx context.Context, c Caller, h *Host) context.Context {
	ctx = context.WithValue(ctx, callerKey{}, c)
	if h != nil {
		ctx = context.WithValue(ctx, hostKey{}, h)
	}
	return ctx
}

// CallerFrom returns the caller of the request or callback that ctx belongs to.
func CallerFrom(ctx context.Context) Caller {
	c, _ := ctx.Value(callerKey{}).(Caller)
	if c.Audience == "" {
		c.Audience = "anonymous"
	}
	return c
}

// HostFrom returns the client for the host's services. Calls made with the
// request's context act on behalf of its caller, and the host checks that the
// caller may do what is asked.
func HostFrom(ctx context.Context) *Host {
	h, _ := ctx.Value(hostKey{}).(*Host)
	return h
}

// RequestID returns the host's request id, for logs.
func RequestID(ctx context.Context) string {
	s, _ := ctx.Value(requestIDKey{}).(string)
	return s
}

// TaskEvent is a change of a workbench task of one of the plugin's task types.
type TaskEvent struct {
	TaskID, TaskType, Transition, BusinessKey, Comment string
	// InstanceID is set for a process outcome (TaskType is the process key).
	InstanceID string
	Form       []byte
	Actor      Caller
}

// Event is one event delivered to a subscriber.
type Event struct {
	ID, Type, Source string
	Time             time.Time
	Data             []byte
}
