// Package message is the in-app message centre: workflow, deadline, supervision,
// system and plugin notices addressed to staff users.
//
// A message is stored once per recipient with its template key and parameters,
// never as rendered text, so each reader sees it in their own language. Host
// templates are i18n message ids ("message.task.new", locales/*.yaml); a
// plugin's templates come from its manifest (RegisterTemplates) and are named
// "plugin.<id>.<key>".
//
// Sending is transactional: Send writes with the caller's (transaction) client
// and pushes nothing; after the commit the caller calls Wake, which tells the
// recipients' live streams (Server-Sent Events, GET /api/v1/messages/stream) to
// look. Streams also poll the table every Options.Poll, so messages written by
// another host replica arrive too. External channels (SMS, e-mail) configured
// for a category receive the zh-CN text asynchronously, only once the rows are
// committed, with bounded retries.
package message

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"slices"
	"strings"
	"sync"
	"text/template"
	"time"

	"golang.org/x/text/language"

	"github.com/shanghai-amr/portal/host/apierror"
	"github.com/shanghai-amr/portal/host/i18n"
	"github.com/shanghai-amr/portal/host/store/ent"
	"github.com/shanghai-amr/portal/host/store/ent/message"
	"github.com/shanghai-amr/portal/host/store/ent/user"
)

// Categories of messages.
const (
	CategoryTask      = "task"
	CategoryUrge      = "urge"
	CategoryDeadline  = "deadline"
	CategorySupervise = "supervise"
	CategorySystem    = "system"
	CategoryPlugin    = "plugin"
)

var categories = map[string]bool{CategoryTask: true, CategoryUrge: true, CategoryDeadline: true,
	CategorySupervise: true, CategorySystem: true, CategoryPlugin: true}

// ValidCategory reports whether c is a known category.
func ValidCategory(c string) bool { return categories[c] }

// Message is one notice to one or more users.
type Message struct {
	Recipients []int          // user ids
	Category   string         // task, urge, deadline, supervise, system, plugin
	Source     string         // plugin id, "" for the host
	Template   string         // i18n message id, e.g. "message.task.new"; plugin templates are "plugin.<id>.<key>"
	Params     map[string]any // template data
	Link       string         // UI path the message opens
}

// Options configures a Center. Zero values take the documented defaults.
type Options struct {
	// Client is the host database (required). Streams, the API and external
	// deliveries read through it.
	Client *ent.Client
	// Catalog renders host templates. Default: the embedded catalog.
	Catalog *i18n.Catalog
	// Channels are the external channels (SMS, e-mail) per category.
	Channels map[string][]Channel
	// Log receives delivery errors. Default: slog.Default().
	Log *slog.Logger
	// Poll is how often live streams look for messages written elsewhere
	// (another replica). Default 5 s.
	Poll time.Duration
	// OpenMobile opens a user's sealed mobile number (pii.Sealer.Open) for the
	// external channels. Nil passes the stored (sealed) value as it is.
	OpenMobile func(sealed string) (string, error)
	// MaxStreamsPerUser and MaxStreams cap the open live streams per user and
	// in all. Defaults 5 and 2000.
	MaxStreamsPerUser, MaxStreams int
}

// Center stores, renders and pushes messages. It is safe for concurrent use.
type Center struct {
	client     *ent.Client
	catalog    *i18n.Catalog
	localizers map[string]*i18n.Localizer // by language tag
	channels   map[string][]Channel
	log        *slog.Logger
	poll       time.Duration
	heartbeat  time.Duration
	openMobile func(string) (string, error)
	maxPerUser int
	maxStreams int

	// Deliveries: when to look whether the rows are committed, how often and
	// how far apart a channel is tried, and how many deliveries run at once.
	commitChecks []time.Duration
	attempts     int
	retryWait    time.Duration
	sem          chan struct{}

	tmu       sync.RWMutex
	templates map[string]pluginTemplate // "plugin.<id>.<key>" → texts

	hub hub

	done      chan struct{} // closed by Close
	closeOnce sync.Once
	wg        sync.WaitGroup // deliveries in flight
}

// pluginTemplate is one plugin template in each language it was given in.
type pluginTemplate struct {
	plugin string
	byTag  map[string]*template.Template
}

// New returns a Center.
func New(o Options) *Center {
	if o.Catalog == nil {
		cat, err := i18n.New()
		if err != nil { // the bundles are embedded and tested: cannot happen
			panic(fmt.Sprintf("message: load catalog: %v", err))
		}
		o.Catalog = cat
	}
	if o.Log == nil {
		o.Log = slog.Default()
	}
	if o.Poll <= 0 {
		o.Poll = 5 * time.Second
	}
	if o.MaxStreamsPerUser <= 0 {
		o.MaxStreamsPerUser = 5
	}
	if o.MaxStreams <= 0 {
		o.MaxStreams = 2000
	}
	c := &Center{
		client: o.Client, catalog: o.Catalog, channels: o.Channels, log: o.Log, poll: o.Poll,
		heartbeat: 15 * time.Second, openMobile: o.OpenMobile,
		maxPerUser: o.MaxStreamsPerUser, maxStreams: o.MaxStreams,
		commitChecks: []time.Duration{0, 200 * time.Millisecond, 500 * time.Millisecond, time.Second,
			2 * time.Second, 5 * time.Second, 10 * time.Second, 30 * time.Second},
		attempts: 3, retryWait: 2 * time.Second, sem: make(chan struct{}, 16),
		localizers: map[string]*i18n.Localizer{},
		templates:  map[string]pluginTemplate{},
		done:       make(chan struct{}),
	}
	for _, t := range i18n.Supported {
		c.localizers[t.String()] = o.Catalog.Localizer(t)
	}
	c.hub.subs = map[int]map[*subscriber]struct{}{}
	return c
}

// Close ends the live streams and the poller, abandons deliveries still
// waiting for their commit or a retry, and waits for those in flight.
func (c *Center) Close() {
	c.closeOnce.Do(func() { close(c.done) })
	c.wg.Wait()
}

// Send stores one message per recipient using db (which may be a transaction's
// client: the caller commits). It pushes nothing itself: call Wake after the
// commit. Channels configured for the category get the zh-CN text once the
// rows are visible (committed), asynchronously.
func (c *Center) Send(ctx context.Context, db *ent.Client, m Message) error {
	if db == nil {
		db = c.client
	}
	if err := m.validate(); err != nil {
		return err
	}
	var params string
	if len(m.Params) > 0 {
		b, err := json.Marshal(m.Params)
		if err != nil {
			return fmt.Errorf("message: params: %w", err)
		}
		params = string(b)
	}
	seen := make(map[int]bool, len(m.Recipients))
	var to []int
	for _, r := range m.Recipients {
		if !seen[r] {
			seen[r] = true
			to = append(to, r)
		}
	}
	var rows []*ent.Message
	const chunk = 500 // well under MySQL's placeholder limit
	for i := 0; i < len(to); i += chunk {
		batch := to[i:min(i+chunk, len(to))]
		builders := make([]*ent.MessageCreate, len(batch))
		for j, r := range batch {
			builders[j] = db.Message.Create().SetRecipientID(r).SetCategory(m.Category).SetSource(m.Source).
				SetTemplate(m.Template).SetParams(params).SetLink(m.Link)
		}
		saved, err := db.Message.CreateBulk(builders...).Save(ctx)
		if err != nil {
			return fmt.Errorf("message: store: %w", err)
		}
		rows = append(rows, saved...)
	}
	if chans := c.channels[m.Category]; len(chans) > 0 && len(rows) > 0 {
		c.deliverLater(rows, m, chans)
	}
	return nil
}

func (m *Message) validate() error {
	switch {
	case !categories[m.Category]:
		return fmt.Errorf("message: unknown category %q", m.Category)
	case m.Template == "":
		return errors.New("message: no template")
	case m.Link != "" && (!strings.HasPrefix(m.Link, "/") || strings.HasPrefix(m.Link, "//") || strings.ContainsAny(m.Link, "\\\r\n")):
		// A UI path only: no other site, no javascript: URL.
		return fmt.Errorf("message: link must be a path on the portal, got %q", m.Link)
	}
	for _, r := range m.Recipients {
		if r <= 0 {
			return fmt.Errorf("message: bad recipient id %d", r)
		}
	}
	return nil
}

// Wake tells live streams of these users that they have news (call after
// commit). It never blocks.
func (c *Center) Wake(userIDs ...int) { c.hub.wake(userIDs...) }

// RegisterTemplates adds a plugin's templates (from its manifest i18n: locale →
// key → text) under "plugin.<id>.<key>", replacing those it registered before.
// Texts are Go text/templates over the message's Params; a text that does not
// parse is shown literally. Locales other than zh-CN and en are ignored.
func (c *Center) RegisterTemplates(pluginID string, byLocale map[string]map[string]string) {
	next := map[string]pluginTemplate{}
	for loc, texts := range byLocale {
		tag, ok := supportedTag(loc)
		if !ok {
			continue
		}
		for key, text := range texts {
			name := "plugin." + pluginID + "." + key
			pt, ok := next[name]
			if !ok {
				pt = pluginTemplate{plugin: pluginID, byTag: map[string]*template.Template{}}
				next[name] = pt
			}
			t, err := template.New(name).Parse(text)
			if err != nil {
				t = literal(name, text)
			}
			pt.byTag[tag] = t
		}
	}
	c.tmu.Lock()
	defer c.tmu.Unlock()
	for name, pt := range c.templates {
		if pt.plugin == pluginID {
			delete(c.templates, name)
		}
	}
	for name, pt := range next {
		c.templates[name] = pt
	}
}

// literal is a template that prints text as it is.
func literal(name, text string) *template.Template {
	return template.Must(template.New(name).Funcs(template.FuncMap{"text": func() string { return text }}).Parse("{{text}}"))
}

// supportedTag maps a manifest locale ("zh-CN", "zh", "en-US") to a supported
// language tag string.
func supportedTag(loc string) (string, bool) {
	t, err := language.Parse(loc)
	if err != nil {
		return "", false
	}
	switch b, _ := t.Base(); b.String() {
	case "zh":
		return i18n.ZhCN.String(), true
	case "en":
		return i18n.English.String(), true
	}
	return "", false
}

// Render renders a template in a language: plugin templates in that language,
// else in zh-CN, else the key; host templates through the catalog (an unknown
// id renders as itself).
func (c *Center) Render(tag language.Tag, tmpl string, params map[string]any) string {
	lang := i18n.Match(tag.String(), "").String()
	if strings.HasPrefix(tmpl, "plugin.") {
		c.tmu.RLock()
		pt, ok := c.templates[tmpl]
		c.tmu.RUnlock()
		if ok {
			t := pt.byTag[lang]
			if t == nil {
				t = pt.byTag[i18n.ZhCN.String()]
			}
			if t == nil {
				return tmpl
			}
			var b strings.Builder
			if err := t.Execute(&b, params); err != nil {
				return tmpl
			}
			return b.String()
		}
	}
	l := c.localizers[lang]
	if l == nil {
		l = c.localizers[i18n.ZhCN.String()]
	}
	return l.T(tmpl, params)
}

// params decodes a stored parameter object; numbers stay exact (json.Number).
func params(s string) map[string]any {
	if s == "" {
		return nil
	}
	d := json.NewDecoder(strings.NewReader(s))
	d.UseNumber()
	var m map[string]any
	if d.Decode(&m) != nil {
		return nil
	}
	return m
}

// title renders a stored message.
func (c *Center) title(tag language.Tag, m *ent.Message) string {
	return c.Render(tag, m.Template, params(m.Params))
}

// item is a message as the API and the stream show it.
type item struct {
	ID        int        `json:"id"`
	Category  string     `json:"category"`
	Source    string     `json:"source"`
	Title     string     `json:"title"`
	Link      string     `json:"link"`
	CreatedAt time.Time  `json:"created_at"`
	ReadAt    *time.Time `json:"read_at"`
}

func (c *Center) item(tag language.Tag, m *ent.Message) item {
	return item{ID: m.ID, Category: m.Category, Source: m.Source, Title: c.title(tag, m), Link: m.Link,
		CreatedAt: m.CreatedAt, ReadAt: m.ReadAt}
}

// latestID is the newest message id (of one user when user > 0), 0 for none.
func (c *Center) latestID(ctx context.Context, user int) (int, error) {
	q := c.client.Message.Query()
	if user > 0 {
		q.Where(message.RecipientID(user))
	}
	id, err := q.Order(ent.Desc(message.FieldID)).FirstID(ctx)
	if ent.IsNotFound(err) {
		return 0, nil
	}
	return id, err
}

// unread counts a user's unread messages.
func (c *Center) unread(ctx context.Context, user int) (int, error) {
	return c.client.Message.Query().Where(message.RecipientID(user), message.ReadAtIsNil()).Count(ctx)
}

// SendToUsers sends one of a plugin's templates (an i18n key of its manifest)
// to staff users named by username, and wakes their live streams.
func (c *Center) SendToUsers(ctx context.Context, plugin string, usernames []string, template string, params map[string]any) error {
	usernames = slices.Compact(slices.Sorted(slices.Values(usernames)))
	if len(usernames) == 0 || len(usernames) > 1000 {
		return apierror.Invalid("one to 1000 recipients")
	}
	ids, err := c.client.User.Query().Where(user.UsernameIn(usernames...)).IDs(ctx)
	if err != nil {
		return err
	}
	if len(ids) != len(usernames) {
		return apierror.Invalid("a recipient is not a user")
	}
	if err := c.Send(ctx, c.client, Message{Recipients: ids, Category: CategoryPlugin, Source: plugin,
		Template: "plugin." + plugin + "." + template, Params: params}); err != nil {
		return err
	}
	c.Wake(ids...)
	return nil
}
