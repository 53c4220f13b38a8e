package plugins

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"strconv"
	"strings"
	"time"

	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"

	"github.com/shanghai-amr/portal/host/apierror"
	"github.com/shanghai-amr/portal/host/identity"
	"github.com/shanghai-amr/portal/host/policy"
	"github.com/shanghai-amr/portal/host/store/ent"
	"github.com/shanghai-amr/portal/host/store/ent/organization"
	"github.com/shanghai-amr/portal/host/workflow"
	"github.com/shanghai-amr/portal/sdk/manifest"
	"github.com/shanghai-amr/portal/sdk/proto/pluginv1"
)

// publishProcesses publishes the processes a manifest declares as new
// definition versions where they changed. A definition that does not
// validate stops the plugin from starting, naming the process.
func (m *Manager) publishProcesses(ctx context.Context, mf *manifest.Manifest) error {
	if m.opts.Workflow == nil {
		return nil
	}
	for _, p := range mf.Processes {
		if !strings.HasPrefix(p.Key, mf.ID+".") {
			return fmt.Errorf("process %q: the key must start with %q", p.Key, mf.ID+".")
		}
		def := map[string]any{}
		for k, v := range p.Definition {
			def[k] = v
		}
		if _, ok := def["title"]; !ok && p.Title != nil {
			def["title"] = p.Title
		}
		b, err := json.Marshal(def)
		if err != nil {
			return fmt.Errorf("process %q: %w", p.Key, err)
		}
		if _, err := m.opts.Workflow.Publish(ctx, p.Key, mf.ID, mf.Version, "manifest", b, "plugin:"+mf.ID); err != nil {
			return fmt.Errorf("process %q: %w", p.Key, err)
		}
	}
	return nil
}

// pageLink is the UI path of a plugin page.
func pageLink(plugin, page, businessKey string) string {
	if page == "" {
		return ""
	}
	return "/plugins/" + plugin + strings.ReplaceAll(page, "{business_key}", businessKey)
}

// hostError maps a host error to a gRPC status for the plugin: API errors
// by their status, anything else as Internal, logged here.
func hostError(ctx context.Context, err error) error {
	var e *apierror.Error
	if !errors.As(err, &e) {
		return internal(ctx, "host error", err)
	}
	code := codes.InvalidArgument
	switch {
	case e.Status == 403:
		code = codes.PermissionDenied
	case e.Status == 404:
		code = codes.NotFound
	case e.Status == 409:
		code = codes.FailedPrecondition
	case e.Status >= 500:
		code = codes.Unavailable
	}
	msg := e.Code
	if e.Details != nil {
		b, _ := json.Marshal(e.Details)
		msg += " " + string(b)
	}
	return status.Error(code, msg)
}

// CreateTask puts a to-do of one of the plugin's task types in the workbench.
func (h *hostServices) CreateTask(ctx context.Context, r *pluginv1.CreateTaskRequest) (*pluginv1.TaskRef, error) {
	if h.workflow == nil {
		return nil, status.Error(codes.Unavailable, "no workbench")
	}
	var tt *manifest.Task
	for i := range h.manifest.Tasks {
		if h.manifest.Tasks[i].Type == r.TaskType {
			tt = &h.manifest.Tasks[i]
		}
	}
	if tt == nil {
		return nil, status.Errorf(codes.InvalidArgument, "task type %q is not declared in plugin.yaml", r.TaskType)
	}
	title := r.Title["zh-CN"]
	if title == "" {
		return nil, status.Error(codes.InvalidArgument, "title[zh-CN] is required")
	}
	in := workflow.TodoInput{Plugin: h.plugin, Type: r.TaskType, Name: tt.Title["zh-CN"], NameEn: tt.Title["en"], BusinessKey: r.BusinessKey, Title: title,
		Link: pageLink(h.plugin, tt.Page, r.BusinessKey), Assignees: r.Assignees, CandidateRoles: r.CandidateRoles,
		OrgPath: actorFrom(ctx).orgPath()}
	if r.OrgCode != "" {
		o, err := h.client.Organization.Query().Where(organization.Code(r.OrgCode)).Only(ctx)
		if err != nil {
			return nil, status.Errorf(codes.NotFound, "no organisation %q", r.OrgCode)
		}
		if a := actorFrom(ctx); a.user != nil && a.user.Audience == identity.Staff &&
			!h.policy.Allows(ctx, policy.OnOrg(a.user.PolicySubject(), "workbench.use", o.Path)) {
			return nil, status.Errorf(codes.PermissionDenied, "organisation %s is outside %s's scope", r.OrgCode, a.user.Username)
		}
		in.OrgPath = o.Path
	}
	if r.DueUnixMs > 0 {
		due := time.UnixMilli(r.DueUnixMs)
		in.Due = &due
	}
	ids, err := h.workflow.CreateTodo(ctx, in)
	if err != nil {
		return nil, hostError(ctx, err)
	}
	ref := &pluginv1.TaskRef{State: "open"}
	for _, id := range ids {
		ref.TaskIds = append(ref.TaskIds, strconv.Itoa(id))
	}
	ref.TaskId = ref.TaskIds[0]
	return ref, nil
}

// CompleteTask closes one of the plugin's to-dos.
func (h *hostServices) CompleteTask(ctx context.Context, r *pluginv1.CompleteTaskRequest) (*pluginv1.TaskRef, error) {
	if h.workflow == nil {
		return nil, status.Error(codes.Unavailable, "no workbench")
	}
	id, err := strconv.Atoi(r.TaskId)
	if err != nil {
		return nil, status.Error(codes.InvalidArgument, "task_id must be a number")
	}
	if err := h.workflow.CompleteTodo(ctx, h.plugin, id, r.Comment); err != nil {
		return nil, hostError(ctx, err)
	}
	return &pluginv1.TaskRef{TaskId: r.TaskId, State: "done", TaskIds: []string{r.TaskId}}, nil
}

// StartProcess starts one of the plugin's processes for the request's user.
func (h *hostServices) StartProcess(ctx context.Context, r *pluginv1.StartProcessRequest) (*pluginv1.ProcessInstance, error) {
	if h.workflow == nil {
		return nil, status.Error(codes.Unavailable, "no workbench")
	}
	a := actorFrom(ctx)
	if a.user == nil || a.user.Audience != identity.Staff {
		return nil, status.Error(codes.PermissionDenied, "a process is started for a signed-in staff user (call within their request)")
	}
	form := map[string]any{}
	if len(r.Variables) > 0 {
		if err := json.Unmarshal(r.Variables, &form); err != nil {
			return nil, status.Error(codes.InvalidArgument, "variables must be a JSON object")
		}
	}
	in := workflow.StartInput{Key: r.ProcessKey, Plugin: h.plugin, BusinessKey: r.BusinessKey, Title: r.Title,
		Link: pageLink(h.plugin, r.Page, r.BusinessKey), Form: form}
	if r.DueUnixMs > 0 {
		due := time.UnixMilli(r.DueUnixMs)
		in.DueAt = &due
	}
	inst, err := h.workflow.Start(ctx, a.user, in)
	if err != nil {
		return nil, hostError(ctx, err)
	}
	return h.GetProcess(ctx, &pluginv1.GetProcessRequest{InstanceId: strconv.Itoa(inst.ID)})
}

// GetProcess reports the state of one of the plugin's instances.
func (h *hostServices) GetProcess(ctx context.Context, r *pluginv1.GetProcessRequest) (*pluginv1.ProcessInstance, error) {
	if h.workflow == nil {
		return nil, status.Error(codes.Unavailable, "no workbench")
	}
	id, err := strconv.Atoi(r.InstanceId)
	if err != nil {
		return nil, status.Error(codes.InvalidArgument, "instance_id must be a number")
	}
	s, err := h.workflow.Get(ctx, h.plugin, id)
	if err != nil {
		return nil, hostError(ctx, err)
	}
	return &pluginv1.ProcessInstance{InstanceId: r.InstanceId, State: s.Status, Version: int32(s.Version), CurrentNodes: s.Current}, nil
}

// SendMessage sends one of the plugin's message templates (i18n keys of its
// manifest) to users by username.
func (h *hostServices) SendMessage(ctx context.Context, r *pluginv1.SendMessageRequest) (*pluginv1.SendMessageResponse, error) {
	if h.messages == nil {
		return nil, status.Error(codes.Unavailable, "no message centre")
	}
	if _, ok := h.manifest.I18n["zh-CN"][r.Template]; !ok {
		return nil, status.Errorf(codes.InvalidArgument, "template %q is not an i18n key of plugin.yaml", r.Template)
	}
	params := map[string]any{}
	if len(r.Data) > 0 {
		if err := json.Unmarshal(r.Data, &params); err != nil {
			return nil, status.Error(codes.InvalidArgument, "data must be a JSON object")
		}
	}
	if err := h.messages.SendToUsers(ctx, h.plugin, r.Recipients, r.Template, params); err != nil {
		return nil, hostError(ctx, err)
	}
	return &pluginv1.SendMessageResponse{}, nil
}

// TaskCallbacks returns the engine hooks that tell a plugin how its
// instances ended and which of its to-dos users completed. Calls are retried
// with back-off for a while (the plugin may be restarting or upgrading).
func (m *Manager) TaskCallbacks() (ended func(context.Context, workflow.Ended), completed func(context.Context, *ent.Task, *identity.Identity, string)) {
	ended = func(ctx context.Context, e workflow.Ended) {
		form, _ := json.Marshal(e.Form)
		m.callback(e.Plugin, &pluginv1.TaskCallback{TaskType: e.Key, Transition: e.Status, BusinessKey: e.BusinessKey,
			Form: form, InstanceId: strconv.Itoa(e.InstanceID), Comment: e.Comment, Actor: &pluginv1.Caller{Username: e.Actor}})
	}
	completed = func(ctx context.Context, t *ent.Task, by *identity.Identity, comment string) {
		m.callback(t.Plugin, &pluginv1.TaskCallback{TaskId: strconv.Itoa(t.ID), TaskType: t.Type, Transition: "completed",
			BusinessKey: t.BusinessKey, Comment: comment, Actor: &pluginv1.Caller{Username: by.Username}})
	}
	return ended, completed
}

func (m *Manager) callback(plugin string, cb *pluginv1.TaskCallback) {
	go func() {
		delay := 200 * time.Millisecond
		for attempt := 1; attempt <= 8; attempt++ {
			ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
			err := m.withGeneration(plugin, func(g *generation) error {
				_, err := g.rpc.HandleTask(ctx, cb)
				return err
			})
			cancel()
			if err == nil || status.Code(err) == codes.Unimplemented {
				return
			}
			m.log.Warn("task callback failed; retrying", "plugin", plugin, "transition", cb.Transition, "attempt", attempt, "err", err)
			time.Sleep(delay)
			delay *= 2
		}
		m.log.Error("task callback given up", "plugin", plugin, "transition", cb.Transition, "instance", cb.InstanceId, "task", cb.TaskId)
	}()
}

// errNotRunning: the plugin has no serving generation.
var errNotRunning = errors.New("plugin is not running")

// withGeneration runs f with a lease on the plugin's serving generation.
func (m *Manager) withGeneration(id string, f func(*generation) error) error {
	e := m.router.get(id)
	if e == nil || e.down != "" {
		return errNotRunning
	}
	g := m.router.lease(id, e.gen)
	if g == nil {
		return errNotRunning
	}
	defer g.release()
	if !g.alive() {
		return errNotRunning
	}
	return f(g)
}
