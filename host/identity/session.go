package identity

import (
	"context"
	"crypto/rand"
	"crypto/sha256"
	"crypto/subtle"
	"encoding/hex"
	"errors"
	"fmt"
	"net/http"
	"strings"
	"time"

	"github.com/shanghai-amr/portal/host/apierror"
	"github.com/shanghai-amr/portal/host/audit"
	"github.com/shanghai-amr/portal/host/pii"
	"github.com/shanghai-amr/portal/host/store/ent"
	"github.com/shanghai-amr/portal/host/store/ent/loginthrottle"
	"github.com/shanghai-amr/portal/host/store/ent/organization"
	"github.com/shanghai-amr/portal/host/store/ent/role"
	"github.com/shanghai-amr/portal/host/store/ent/session"
	"github.com/shanghai-amr/portal/host/store/ent/user"
)

// SessionCookie is the name of the staff session cookie.
const SessionCookie = "portal_session"

// HeaderCSRF carries the session's CSRF token on unsafe requests that
// authenticate with the cookie.
const HeaderCSRF = "X-CSRF-Token"

// Options are the login and session rules. Zero values take the defaults.
type Options struct {
	// MaxFailures wrong passwords within FailureWindow lock the username for
	// LockFor. Defaults 5, 15 min, 15 min.
	MaxFailures   int
	FailureWindow time.Duration
	LockFor       time.Duration
	// IdleTimeout ends a session unused this long; AbsoluteTimeout ends any
	// session this long after login. Defaults 30 min and 12 h.
	IdleTimeout     time.Duration
	AbsoluteTimeout time.Duration
	// Now is the clock (tests); default time.Now.
	Now func() time.Time
	// Sealer opens sealed personal data (mobile numbers) to show it masked;
	// nil shows none.
	Sealer *pii.Sealer
	// Pseudonyms give a member of the public signed in with an identity
	// number its Identity.PersonKey; nil gives none.
	Pseudonyms *pii.Pseudonyms
}

func (o *Options) defaults() {
	if o.MaxFailures <= 0 {
		o.MaxFailures = 5
	}
	def := func(d *time.Duration, v time.Duration) {
		if *d <= 0 {
			*d = v
		}
	}
	def(&o.FailureWindow, 15*time.Minute)
	def(&o.LockFor, 15*time.Minute)
	def(&o.IdleTimeout, 30*time.Minute)
	def(&o.AbsoluteTimeout, 12*time.Hour)
	if o.Now == nil {
		o.Now = time.Now
	}
}

// Sessions logs staff in and out and authenticates their requests.
type Sessions struct {
	client *ent.Client
	audit  *audit.Log
	opts   Options
	cache  identities
}

// NewSessions returns the session service.
func NewSessions(client *ent.Client, a *audit.Log, o Options) *Sessions {
	o.defaults()
	return &Sessions{client: client, audit: a, opts: o}
}

// Login errors.
var (
	ErrInvalidLogin = apierror.New(http.StatusUnauthorized, "auth.invalid_login", nil)
	ErrLocked       = apierror.New(http.StatusLocked, "auth.locked", nil)
	ErrCSRF         = apierror.New(http.StatusForbidden, "auth.csrf", nil)
)

// Session is what a successful login returns.
type Session struct {
	ID        int       `json:"id"`
	Token     string    `json:"token"`
	CSRFToken string    `json:"csrf_token"`
	ExpiresAt time.Time `json:"expires_at"`
	User      *Identity `json:"user"`
}

// Login checks a username and password. Every attempt takes the time of one
// argon2id check, known username or not. Attempts are counted per username
// (known or not) before the password is checked, atomically in the database:
// after MaxFailures attempts within FailureWindow without a success, the
// username is locked for LockFor, and parallel guessing cannot exceed the
// limit.
func (s *Sessions) Login(ctx context.Context, username, password, ip, userAgent string) (*Session, error) {
	now := s.opts.Now().UTC()
	username = strings.TrimSpace(username)
	if username == "" || len(username) > 64 || password == "" || len(password) > 128 {
		CheckPassword(dummyHash, password)
		return nil, ErrInvalidLogin
	}
	lockedUntil, err := s.reserve(ctx, username, now)
	if err != nil {
		return nil, err
	}
	u, err := s.client.User.Query().Where(user.Username(username)).Only(ctx)
	if err != nil && !ent.IsNotFound(err) {
		return nil, err
	}
	hash := dummyHash
	if u != nil && u.PasswordHash != "" {
		hash = u.PasswordHash
	}
	ok := CheckPassword(hash, password) && u != nil && u.Status == user.StatusActive
	if !lockedUntil.IsZero() {
		s.record(ctx, username, "", ip, "auth.login", audit.Denied, "locked")
		return nil, ErrLocked.WithDetails(map[string]any{"retry_after_seconds": int(lockedUntil.Sub(now).Seconds()) + 1})
	}
	if !ok {
		s.record(ctx, username, "", ip, "auth.login", audit.Failure, "invalid credentials")
		return nil, ErrInvalidLogin
	}
	if _, err := s.client.LoginThrottle.Delete().Where(loginthrottle.Username(username)).Exec(ctx); err != nil {
		return nil, err
	}
	sess, token, err := s.create(ctx, s.client.Session.Create().SetUser(u), ip, userAgent)
	if err != nil {
		return nil, err
	}
	_ = u.Update().SetLastLoginAt(now).Exec(ctx)
	id, err := s.identityOf(ctx, u.ID)
	if err != nil {
		return nil, err
	}
	s.record(ctx, username, id.OrgPath, ip, "auth.login", audit.Success, "")
	return &Session{ID: sess.ID, Token: token, CSRFToken: sess.CsrfToken, ExpiresAt: sess.ExpiresAt, User: id}, nil
}

// create stores a new session from q (which says whose it is) with a fresh
// random token — a session id planted before login (fixation) is never
// promoted — and returns it with its token.
func (s *Sessions) create(ctx context.Context, q *ent.SessionCreate, ip, userAgent string) (*ent.Session, string, error) {
	now := s.opts.Now().UTC()
	token := "pst_" + randomHex(32)
	sess, err := q.SetTokenHash(tokenHash(token)).SetCsrfToken(randomHex(32)).
		SetCreatedAt(now).SetLastSeenAt(now).SetExpiresAt(now.Add(s.opts.AbsoluteTimeout)).
		SetIP(ip).SetUserAgent(truncate(userAgent, 256)).Save(ctx)
	return sess, token, err
}

// reserve counts one attempt for username and returns when its lock ends, or
// the zero time if this attempt may proceed: attempts 1…MaxFailures of a
// window proceed, the next one sets the lock. Every step is a single atomic
// statement, so concurrent attempts are all counted.
func (s *Sessions) reserve(ctx context.Context, username string, now time.Time) (time.Time, error) {
	// A window that has passed, or a lock that has ended, starts afresh.
	_, err := s.client.LoginThrottle.Update().Where(loginthrottle.Username(username), loginthrottle.Or(
		loginthrottle.FirstFailureAtLT(now.Add(-s.opts.FailureWindow)),
		loginthrottle.LockedUntilLTE(now),
	)).SetFailures(0).SetFirstFailureAt(now).ClearLockedUntil().Save(ctx)
	if err != nil {
		return time.Time{}, err
	}
	err = s.client.LoginThrottle.Create().SetUsername(username).SetFailures(1).SetFirstFailureAt(now).
		OnConflictColumns(loginthrottle.FieldUsername).AddFailures(1).Exec(ctx)
	if err != nil {
		return time.Time{}, err
	}
	cur, err := s.client.LoginThrottle.Query().Where(loginthrottle.Username(username)).Only(ctx)
	if err != nil {
		return time.Time{}, err
	}
	switch {
	case cur.LockedUntil != nil:
		return *cur.LockedUntil, nil
	case cur.Failures <= s.opts.MaxFailures:
		return time.Time{}, nil
	}
	until := now.Add(s.opts.LockFor)
	_, err = s.client.LoginThrottle.Update().Where(loginthrottle.Username(username), loginthrottle.LockedUntilIsNil()).
		SetLockedUntil(until).Save(ctx)
	return until, err
}

func (s *Sessions) record(ctx context.Context, username, orgPath, ip, action string, outcome audit.Outcome, reason string) {
	e := audit.Entry{Actor: username, Action: action, Resource: "user:" + username, Outcome: outcome, IP: ip, OrgPath: orgPath}
	if reason != "" {
		e.Detail = map[string]string{"reason": reason}
	}
	_, _ = s.audit.Write(context.WithoutCancel(ctx), e)
}

// Logout ends the session the token belongs to.
func (s *Sessions) Logout(ctx context.Context, token string) error {
	_, err := s.client.Session.Update().Where(session.TokenHash(tokenHash(token)), session.RevokedAtIsNil()).
		SetRevokedAt(s.opts.Now().UTC()).Save(ctx)
	return err
}

// Authenticate implements Authenticator for session tokens, from the
// Authorization header (API clients) or the cookie (browsers; unsafe methods
// then need the CSRF header).
func (s *Sessions) Authenticate(r *http.Request) (*Identity, error) {
	token, fromCookie := "", false
	if h, ok := strings.CutPrefix(r.Header.Get("Authorization"), "Bearer "); ok {
		if !strings.HasPrefix(h, "pst_") {
			return nil, nil // another authenticator's token
		}
		token = strings.TrimSpace(h)
	} else if c, err := r.Cookie(SessionCookie); err == nil && c.Value != "" {
		token, fromCookie = c.Value, true
	}
	if token == "" {
		return nil, nil
	}
	now := s.opts.Now().UTC()
	q := s.client.Session.Query().Where(session.TokenHash(tokenHash(token)))
	q.Modify(withEpoch)
	sess, err := q.Only(r.Context())
	if ent.IsNotFound(err) {
		return nil, ErrBadCredentials
	} else if err != nil {
		return nil, err
	}
	if sess.RevokedAt != nil || now.After(sess.ExpiresAt) || now.Sub(sess.LastSeenAt) > s.opts.IdleTimeout {
		return nil, fmt.Errorf("%w: session ended", ErrBadCredentials)
	}
	if fromCookie && !safeMethod(r.Method) &&
		subtle.ConstantTimeCompare([]byte(r.Header.Get(HeaderCSRF)), []byte(sess.CsrfToken)) != 1 {
		return nil, ErrCSRF
	}
	// Touch at most once a minute: idle tracking without a write per request.
	if now.Sub(sess.LastSeenAt) > time.Minute {
		_ = s.client.Session.UpdateOne(sess).SetLastSeenAt(now).Exec(r.Context())
	}
	if sess.Audience != session.AudienceStaff { // an enterprise or a member of the public, signed in through a provider
		id := &Identity{Audience: string(sess.Audience), Subject: "oidc:" + sess.Provider + ":" + sess.Subject,
			Username: sess.Provider + ":" + sess.Subject, DisplayName: sess.DisplayName, USCC: sess.Uscc,
			Permissions: []string{"portal." + string(sess.Audience)}, SessionID: sess.ID}
		if sess.IDNumber != "" && s.opts.Sealer != nil && s.opts.Pseudonyms != nil {
			if n, err := s.opts.Sealer.Open(sess.IDNumber); err == nil {
				id.PersonKey = s.opts.Pseudonyms.Person(n)
			}
		}
		return id, nil
	}
	// A staff session whose account is gone (its column set to NULL, user
	// id 0) finds no account there and is refused.
	epoch, known := epochOf(sess)
	id, err := s.identity(r.Context(), sess.UserID, epoch, known)
	if err != nil {
		return nil, err
	}
	id.SessionID = sess.ID
	return id, nil
}

func safeMethod(m string) bool {
	return m == http.MethodGet || m == http.MethodHead || m == http.MethodOptions
}

// identityOf loads a staff user's identity: roles, their permissions, the
// primary organisation and its jurisdiction level. An account that is not
// active, or is gone, is ErrBadCredentials.
func (s *Sessions) identityOf(ctx context.Context, userID int) (*Identity, error) {
	u, err := s.client.User.Query().Where(user.ID(userID)).WithRoles().WithPosts().WithOrganization().Only(ctx)
	if ent.IsNotFound(err) {
		return nil, fmt.Errorf("%w: no such account", ErrBadCredentials)
	} else if err != nil {
		return nil, err
	}
	if u.Status != user.StatusActive {
		// Read here, not with the session: a status change raises the
		// access epoch, so a cached identity never outlives it.
		return nil, fmt.Errorf("%w: account %s", ErrBadCredentials, u.Status)
	}
	id := &Identity{Audience: Staff, Subject: fmt.Sprintf("user:%d", u.ID), Username: u.Username,
		DisplayName: u.DisplayName, Locale: u.Locale}
	if s.opts.Sealer != nil && u.Mobile != "" {
		if m, err := s.opts.Sealer.Open(u.Mobile); err == nil {
			id.MobileMasked = pii.MaskPhone(m, Staff)
		}
	}
	for _, p := range u.Edges.Posts {
		id.Posts = append(id.Posts, p.Key)
	}
	seen := map[string]bool{}
	var custom []string
	for _, r := range u.Edges.Roles {
		id.Roles = append(id.Roles, r.Key)
		for _, p := range r.Permissions {
			if !seen[p] {
				seen[p] = true
				id.Permissions = append(id.Permissions, p)
			}
		}
		if sc := "scope:" + string(r.DataScope); !seen[sc] {
			seen[sc] = true
			id.DataScopes = append(id.DataScopes, string(r.DataScope))
		}
		if r.DataScope == role.DataScopeCustom {
			custom = append(custom, r.CustomScope...)
		}
	}
	if len(custom) > 0 {
		orgs, err := s.client.Organization.Query().Where(organization.CodeIn(custom...)).All(ctx)
		if err != nil {
			return nil, err
		}
		for _, o := range orgs {
			id.CustomRoots = append(id.CustomRoots, o.Path)
		}
	}
	if o := u.Edges.Organization; o != nil {
		id.OrgCode, id.OrgPath = o.Code, o.Path
		id.Jurisdiction, err = s.jurisdiction(ctx, o)
		if err != nil {
			return nil, err
		}
	}
	return id, nil
}

// jurisdiction is the level of the nearest non-department unit at or above o.
func (s *Sessions) jurisdiction(ctx context.Context, o *ent.Organization) (string, error) {
	for i := 0; o.Kind == organization.KindDepartment && i < 10; i++ {
		p, err := o.QueryParent().Only(ctx)
		if err != nil {
			return "", err
		}
		o = p
	}
	return string(o.Kind), nil
}

// SessionInfo is a session as administrators see it (never the token).
type SessionInfo struct {
	ID         int       `json:"id"`
	Username   string    `json:"username"`
	CreatedAt  time.Time `json:"created_at"`
	Audience   string    `json:"audience"`
	LastSeenAt time.Time `json:"last_seen_at"`
	ExpiresAt  time.Time `json:"expires_at"`
	IP         string    `json:"ip"`
	UserAgent  string    `json:"user_agent"`
}

// Active lists sessions that have not ended.
func (s *Sessions) Active(ctx context.Context) ([]SessionInfo, error) {
	now := s.opts.Now().UTC()
	rows, err := s.client.Session.Query().Where(session.RevokedAtIsNil(), session.ExpiresAtGT(now),
		session.LastSeenAtGT(now.Add(-s.opts.IdleTimeout))).WithUser().Order(ent.Desc(session.FieldLastSeenAt)).Limit(1000).All(ctx)
	if err != nil {
		return nil, err
	}
	out := make([]SessionInfo, 0, len(rows))
	for _, r := range rows {
		// Enterprises and members of the public signed in through a provider
		// have no account: they are named by provider and subject.
		name := r.Provider + ":" + r.Subject
		if r.Edges.User != nil {
			name = r.Edges.User.Username
		}
		out = append(out, SessionInfo{ID: r.ID, Username: name, Audience: string(r.Audience), CreatedAt: r.CreatedAt,
			LastSeenAt: r.LastSeenAt, ExpiresAt: r.ExpiresAt, IP: r.IP, UserAgent: r.UserAgent})
	}
	return out, nil
}

// End revokes one session by id.
func (s *Sessions) End(ctx context.Context, id int) error {
	n, err := s.client.Session.Update().Where(session.ID(id), session.RevokedAtIsNil()).SetRevokedAt(s.opts.Now().UTC()).Save(ctx)
	if err != nil {
		return err
	}
	if n == 0 {
		return errors.New("identity: no such active session")
	}
	return nil
}

func tokenHash(token string) string {
	sum := sha256.Sum256([]byte(token))
	return hex.EncodeToString(sum[:])
}

func randomHex(n int) string {
	b := make([]byte, n)
	_, _ = rand.Read(b)
	return hex.EncodeToString(b)
}

func truncate(s string, n int) string {
	if len(s) > n {
		return s[:n]
	}
	return s
}
