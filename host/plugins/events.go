package plugins

import (
	"context"
	"errors"
	"fmt"
	"runtime"
	"sort"
	"strings"
	"sync"
	"time"
	"weak"

	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"

	"github.com/shanghai-amr/portal/host/event"
	"github.com/shanghai-amr/portal/host/store/ent/plugin"
	"github.com/shanghai-amr/portal/host/store/ent/pluginbundle"
	"github.com/shanghai-amr/portal/sdk/manifest"
	"github.com/shanghai-amr/portal/sdk/proto/pluginv1"
)

// This file connects plugins to the host's event bus (host/event): the
// Events.PublishEvent host service, delivery of events and jobs to a running
// generation (Manager.Deliver), and who subscribes to what (Subscribers, Jobs).

// pluginEvents is what one generation's host services need to publish.
type pluginEvents struct {
	bus       *event.Bus // nil: the host runs without a bus
	publishes []string   // the manifest's events.publishes
}

func (m *Manager) pluginEvents(mf *manifest.Manifest) *pluginEvents {
	return &pluginEvents{bus: m.opts.Events, publishes: mf.Events.Publishes}
}

// PublishEvent writes an event from the plugin to the host's outbox. The
// source is the plugin; the type must be one the manifest publishes (types
// under "portal." are the host's own).
func (h *hostServices) PublishEvent(ctx context.Context, r *pluginv1.PublishEventRequest) (*pluginv1.PublishEventResponse, error) {
	if h.events == nil || h.events.bus == nil {
		return nil, status.Error(codes.Unavailable, "the host runs without an event bus")
	}
	declared := false
	for _, p := range h.events.publishes {
		if event.Matches(p, r.Type) {
			declared = true
			break
		}
	}
	if !declared || strings.HasPrefix(r.Type, "portal.") {
		return nil, status.Errorf(codes.PermissionDenied, "plugin %s does not declare event type %q in events.publishes", h.plugin, r.Type)
	}
	id, err := h.events.bus.Publish(ctx, h.plugin, r.Type, r.Data)
	switch {
	case errors.Is(err, event.ErrBadType), errors.Is(err, event.ErrTooLarge):
		return nil, status.Error(codes.InvalidArgument, err.Error())
	case err != nil:
		return nil, internal(ctx, "event outbox write failed", err)
	}
	return &pluginv1.PublishEventResponse{Id: id}, nil
}

// Deliver hands an event to the plugin's serving generation (event.Deliverer).
// It answers event.ErrUnavailable when the plugin is not running — disabled,
// restarting, parked, or not installed here — so the bus waits for it
// without counting an attempt.
func (m *Manager) Deliver(ctx context.Context, subscriber string, ev event.Event) error {
	g := m.router.lease(subscriber, m.router.current(subscriber))
	if g == nil {
		if m.router.get(subscriber) == nil && !m.installed(ctx, subscriber) {
			return fmt.Errorf("%w: plugin %s is not installed", event.ErrGone, subscriber)
		}
		return fmt.Errorf("%w: plugin %s is not running", event.ErrUnavailable, subscriber)
	}
	defer g.release()
	if !g.alive() {
		return fmt.Errorf("%w: plugin %s is not running", event.ErrUnavailable, subscriber)
	}
	_, err := g.rpc.DeliverEvent(ctx, &pluginv1.Event{Id: ev.ID, Type: ev.Type, Source: ev.Source,
		TimeUnixMs: ev.Time.UnixMilli(), Data: ev.Data})
	if err == nil {
		return nil
	}
	if status.Code(err) == codes.Unavailable || !g.alive() {
		return fmt.Errorf("%w: plugin %s: %v", event.ErrUnavailable, subscriber, err)
	}
	return fmt.Errorf("plugin %s: %s", subscriber, status.Convert(err).Message())
}

// installed reports whether the plugin is installed (true when unsure).
func (m *Manager) installed(ctx context.Context, id string) bool {
	n, err := m.opts.Store.Client.Plugin.Query().Where(plugin.PluginID(id)).Count(ctx)
	return err != nil || n > 0
}

// Jobs lists the scheduled jobs of the plugins serving on this host.
func (m *Manager) Jobs() []event.Job {
	var out []event.Job
	for id, e := range *m.router.table.Load() {
		if e.gen == nil {
			continue
		}
		for _, j := range e.gen.manifest.Jobs {
			out = append(out, event.Job{Plugin: id, Name: j.Name, Schedule: j.Schedule})
		}
	}
	sort.Slice(out, func(i, k int) bool { return out[i].Key() < out[k].Key() })
	return out
}

// Subscribers returns the installed plugins — enabled or not, so that events
// wait for a stopped plugin — whose serving version's manifest declares the
// capability events.subscribe and subscribes to typ (an exact type or a
// prefix ending in ".*"). Job events are only ever addressed directly.
func (m *Manager) Subscribers(typ string) []string {
	if typ == event.JobEventType {
		return nil
	}
	var out []string
	for _, s := range m.subscriptions() {
		for _, p := range s.patterns {
			if event.Matches(p, typ) {
				out = append(out, s.plugin)
				break
			}
		}
	}
	return out
}

type subscription struct {
	plugin   string
	patterns []string
}

// subscriptionCache keeps every manager's subscriptions for a moment: the
// relay asks per event, and the answer changes only with installs and
// upgrades (also on other replicas, hence a short expiry, not invalidation).
// Keys are weak so that a closed manager's entry goes with it.
var subscriptionCache sync.Map // weak.Pointer[Manager] → *subscriptionsAt

type subscriptionsAt struct {
	at   time.Time
	subs []subscription
	mfs  map[string]*manifest.Manifest // "<id>@<version>" → parsed manifest
}

const subscriptionTTL = time.Second

func (m *Manager) subscriptions() []subscription {
	key := weak.Make(m)
	prev, _ := subscriptionCache.Load(key)
	p, _ := prev.(*subscriptionsAt)
	if p != nil && time.Since(p.at) < subscriptionTTL {
		return p.subs
	}
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	next := &subscriptionsAt{at: time.Now(), mfs: map[string]*manifest.Manifest{}}
	rows, err := m.opts.Store.Client.Plugin.Query().All(ctx)
	if err != nil {
		m.log.Error("event subscribers: read plugins", "err", err)
		if p != nil {
			return p.subs
		}
		return nil
	}
	for _, r := range rows {
		mk := r.PluginID + "@" + r.Version
		var mf *manifest.Manifest
		if p != nil {
			mf = p.mfs[mk]
		}
		if mf == nil {
			b, err := m.opts.Store.Client.PluginBundle.Query().
				Where(pluginbundle.PluginID(r.PluginID), pluginbundle.Version(r.Version)).Only(ctx)
			if err != nil {
				m.log.Error("event subscribers: read bundle", "plugin", r.PluginID, "version", r.Version, "err", err)
				continue
			}
			if mf, err = manifest.Parse(b.Manifest); err != nil {
				m.log.Error("event subscribers: stored manifest", "plugin", r.PluginID, "version", r.Version, "err", err)
				continue
			}
			if len(mf.Events.Subscribes) > 0 && !mf.HasCapability(manifest.CapEventsSubscribe) {
				m.log.Warn("plugin subscribes to events without capability events.subscribe; nothing is delivered to it",
					"plugin", r.PluginID, "version", r.Version)
			}
		}
		next.mfs[mk] = mf
		if len(mf.Events.Subscribes) == 0 || !mf.HasCapability(manifest.CapEventsSubscribe) {
			continue
		}
		next.subs = append(next.subs, subscription{plugin: r.PluginID, patterns: mf.Events.Subscribes})
	}
	if _, loaded := subscriptionCache.Swap(key, next); !loaded {
		runtime.AddCleanup(m, func(k weak.Pointer[Manager]) { subscriptionCache.Delete(k) }, key)
	}
	return next.subs
}
