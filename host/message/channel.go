package message

import (
	"context"
	"log/slog"
	"strings"
	"time"

	"github.com/shanghai-amr/portal/host/i18n"
	"github.com/shanghai-amr/portal/host/pii"
	"github.com/shanghai-amr/portal/host/store/ent"
	"github.com/shanghai-amr/portal/host/store/ent/message"
	"github.com/shanghai-amr/portal/host/store/ent/user"
)

// Channel is an external channel: an SMS gateway, an e-mail relay.
type Channel interface {
	Name() string
	// Deliver sends one message; it must honour ctx. An error is retried a few
	// times and then logged.
	Deliver(ctx context.Context, to Recipient, subject, body string) error
}

// Recipient is whom an external channel delivers to.
type Recipient struct {
	UserID   int
	Username string
	Email    string
	// Mobile is what the Center has: the plain number when Options.OpenMobile
	// is set, else the sealed value from the database. Never log it in full.
	Mobile string
}

// NewLogChannel is the default adapter: it only logs that it would send, with
// the address masked and without the text.
func NewLogChannel(name string, log *slog.Logger) Channel {
	if log == nil {
		log = slog.Default()
	}
	return logChannel{name: name, log: log}
}

type logChannel struct {
	name string
	log  *slog.Logger
}

func (l logChannel) Name() string { return l.name }

func (l logChannel) Deliver(ctx context.Context, to Recipient, subject, body string) error {
	l.log.InfoContext(ctx, "message: would send", "channel", l.name, "user_id", to.UserID, "username", to.Username,
		"email", MaskEmail(to.Email), "mobile", MaskMobile(to.Mobile),
		"subject_chars", len([]rune(subject)), "body_chars", len([]rune(body)))
	return nil
}

// MaskMobile shows a mobile number as 138****5678; a sealed value shows as
// "(sealed)".
func MaskMobile(m string) string {
	if strings.HasPrefix(m, "sm4gcm:") {
		return "(sealed)"
	}
	return pii.MaskPhone(m, "staff")
}

// MaskEmail shows an address as a***@example.com.
func MaskEmail(e string) string {
	local, domain, ok := strings.Cut(e, "@")
	if !ok {
		return strings.Repeat("*", len([]rune(e)))
	}
	r := []rune(local)
	if len(r) == 0 {
		return "***@" + domain
	}
	return string(r[0]) + "***@" + domain
}

// deliverLater hands the stored messages to the channels in the background:
// once the rows are visible through the Center's own client (the sender's
// transaction committed; a rolled-back send is never delivered), each
// recipient gets the zh-CN text on each channel, with bounded retries.
func (c *Center) deliverLater(rows []*ent.Message, m Message, chans []Channel) {
	ids := make([]int, len(rows))
	users := make([]int, len(rows))
	for i, r := range rows {
		ids[i], users[i] = r.ID, r.RecipientID
	}
	// Rendered from the stored params, exactly as a reader sees them.
	subject := c.Render(i18n.ZhCN, m.Template, params(rows[0].Params))
	body := subject
	if m.Link != "" {
		body += "\n" + m.Link
	}
	log := c.log.With("category", m.Category, "template", m.Template, "source", m.Source)
	c.wg.Add(1)
	go func() {
		defer c.wg.Done()
		ctx, cancel := context.WithCancel(context.Background())
		defer cancel()
		go func() {
			select {
			case <-c.done:
				cancel()
			case <-ctx.Done():
			}
		}()
		if !c.committed(ctx, ids, users, m) {
			if ctx.Err() == nil {
				log.Warn("message: not delivered to external channels: the messages were never committed", "messages", len(ids))
			}
			return
		}
		select {
		case c.sem <- struct{}{}:
			defer func() { <-c.sem }()
		case <-ctx.Done():
			return
		}
		to, err := c.recipients(ctx, users)
		if err != nil {
			log.Error("message: external channels: look up recipients", "err", err)
			return
		}
		for _, r := range to {
			for _, ch := range chans {
				c.deliver(ctx, log, ch, r, subject, body)
			}
		}
	}()
}

// committed waits, on the commitChecks schedule, until the rows are visible
// through the Center's client. A transaction commits all of them or none, so
// the first and the last row tell.
func (c *Center) committed(ctx context.Context, ids, users []int, m Message) bool {
	probe := []int{ids[0], ids[len(ids)-1]}
	want := 1
	if probe[0] != probe[1] {
		want = 2
	}
	for _, wait := range c.commitChecks {
		if !sleep(ctx, wait) {
			return false
		}
		qctx, cancel := context.WithTimeout(ctx, 10*time.Second)
		n, err := c.client.Message.Query().Where(message.IDIn(probe...), message.RecipientIDIn(users[0], users[len(users)-1]),
			message.Template(m.Template), message.Category(m.Category)).Count(qctx)
		cancel()
		if err == nil && n == want {
			return true
		}
	}
	return false
}

// recipients looks the users up, opening their mobile numbers when possible.
func (c *Center) recipients(ctx context.Context, ids []int) ([]Recipient, error) {
	var us []*ent.User
	for i := 0; i < len(ids); i += 500 { // bounded IN lists
		qctx, cancel := context.WithTimeout(ctx, 10*time.Second)
		batch, err := c.client.User.Query().Where(user.IDIn(ids[i:min(i+500, len(ids))]...)).
			Select(user.FieldID, user.FieldUsername, user.FieldEmail, user.FieldMobile).All(qctx)
		cancel()
		if err != nil {
			return nil, err
		}
		us = append(us, batch...)
	}
	out := make([]Recipient, 0, len(us))
	for _, u := range us {
		r := Recipient{UserID: u.ID, Username: u.Username, Email: u.Email, Mobile: u.Mobile}
		if r.Mobile != "" && c.openMobile != nil {
			if plain, err := c.openMobile(r.Mobile); err == nil {
				r.Mobile = plain
			} else {
				c.log.Warn("message: cannot open a recipient's mobile number", "user_id", u.ID)
				r.Mobile = ""
			}
		}
		out = append(out, r)
	}
	return out, nil
}

// deliver tries one channel for one recipient up to c.attempts times.
func (c *Center) deliver(ctx context.Context, log *slog.Logger, ch Channel, to Recipient, subject, body string) {
	for attempt := 1; attempt <= c.attempts; attempt++ {
		dctx, cancel := context.WithTimeout(ctx, 30*time.Second)
		err := ch.Deliver(dctx, to, subject, body)
		cancel()
		if err == nil {
			return
		}
		// The error only: never the text or the address.
		log.Warn("message: external delivery failed", "channel", ch.Name(), "user_id", to.UserID,
			"attempt", attempt, "of", c.attempts, "err", err.Error())
		if attempt == c.attempts || !sleep(ctx, time.Duration(attempt)*c.retryWait) {
			log.Error("message: external delivery given up", "channel", ch.Name(), "user_id", to.UserID)
			return
		}
	}
}

// sleep waits d or until ctx ends; it reports whether ctx is still live.
func sleep(ctx context.Context, d time.Duration) bool {
	if d <= 0 {
		return ctx.Err() == nil
	}
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-t.C:
		return true
	case <-ctx.Done():
		return false
	}
}
