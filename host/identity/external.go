package identity

import (
	"context"
	"fmt"
	"net/http"
	"strings"
	"sync"
	"time"

	"github.com/coreos/go-oidc/v3/oidc"
	"github.com/gin-gonic/gin"
	"golang.org/x/oauth2"

	"github.com/shanghai-amr/portal/host/apierror"
	"github.com/shanghai-amr/portal/host/audit"
	"github.com/shanghai-amr/portal/host/server"
	"github.com/shanghai-amr/portal/host/store/ent/session"
	"github.com/shanghai-amr/portal/sdk/idcode"
)

// ExternalProvider is an OpenID Connect provider for enterprises (一网通办,
// audience "enterprise", identifies by unified social credit code) or the
// public (随申办, audience "public", real-name identity number).
type ExternalProvider struct {
	// Name is the provider's key in URLs: /api/v1/auth/oidc/<name>/login.
	Name string
	// Audience is "enterprise" or "public".
	Audience                       string
	Issuer, ClientID, ClientSecret string
	RedirectURL                    string
	// Development marks the built-in development provider.
	Development bool
}

// External signs enterprises and the public in through OIDC providers and
// gives them sessions (without a staff account).
type External struct {
	sessions  *Sessions
	providers map[string]*extProvider

	mu      sync.Mutex
	pending map[string]pendingLogin // state → login in progress
}

type extProvider struct {
	ExternalProvider
	once     sync.Once
	oauth    *oauth2.Config
	verifier *oidc.IDTokenVerifier
	err      error
}

type pendingLogin struct {
	provider, nonce, returnTo string
	expires                   time.Time
}

// NewExternal returns the external sign-in service for the providers.
func NewExternal(s *Sessions, providers ...ExternalProvider) *External {
	x := &External{sessions: s, providers: map[string]*extProvider{}, pending: map[string]pendingLogin{}}
	for _, p := range providers {
		x.providers[p.Name] = &extProvider{ExternalProvider: p}
	}
	return x
}

// discover fetches the provider's configuration on first use, so that a
// provider served by this very host (the development one) is reachable.
func (p *extProvider) discover(ctx context.Context) error {
	p.once.Do(func() {
		op, err := oidc.NewProvider(ctx, p.Issuer)
		if err != nil {
			p.err = err
			return
		}
		p.oauth = &oauth2.Config{ClientID: p.ClientID, ClientSecret: p.ClientSecret, Endpoint: op.Endpoint(),
			RedirectURL: p.RedirectURL, Scopes: []string{oidc.ScopeOpenID, "profile"}}
		p.verifier = op.Verifier(&oidc.Config{ClientID: p.ClientID})
	})
	return p.err
}

// maxPendingLogins bounds the logins in progress kept in memory, so that an
// anonymous flood of /login cannot exhaust it (each entry lives 10 minutes).
const maxPendingLogins = 20_000

// Errors of external sign-in.
var (
	ErrNoProvider  = apierror.New(http.StatusNotFound, "auth.no_provider", nil)
	ErrProvider    = apierror.New(http.StatusBadGateway, "auth.provider_failed", nil)
	ErrBadState    = apierror.New(http.StatusBadRequest, "auth.bad_state", nil)
	ErrBadIdentity = apierror.New(http.StatusForbidden, "auth.bad_identity", nil)
)

// MountAPI registers
//
//	GET /api/v1/auth/oidc/:provider/login?return=/path   → redirect to the provider
//	GET /api/v1/auth/oidc/:provider/callback             → session cookie, redirect to return
func (x *External) MountAPI(srv *server.Server) {
	g := srv.API().Group("/v1/auth/oidc/:provider")
	g.GET("/login", x.login)
	g.GET("/callback", x.callback)
}

func (x *External) login(c *gin.Context) {
	p, ok := x.providers[c.Param("provider")]
	if !ok {
		server.Fail(c, ErrNoProvider)
		return
	}
	if err := p.discover(c.Request.Context()); err != nil {
		server.Fail(c, ErrProvider.Wrap(err))
		return
	}
	returnTo := c.DefaultQuery("return", "/")
	// Only paths on this portal: no open redirect.
	if !strings.HasPrefix(returnTo, "/") || strings.HasPrefix(returnTo, "//") || strings.Contains(returnTo, `\`) {
		returnTo = "/"
	}
	state, nonce := randomHex(16), randomHex(16)
	now := x.sessions.opts.Now()
	x.mu.Lock()
	for k, v := range x.pending { // drop abandoned logins
		if now.After(v.expires) {
			delete(x.pending, k)
		}
	}
	if len(x.pending) >= maxPendingLogins {
		x.mu.Unlock()
		c.Header("Retry-After", "60")
		server.Fail(c, apierror.Unavailable)
		return
	}
	x.pending[state] = pendingLogin{provider: p.Name, nonce: nonce, returnTo: returnTo, expires: now.Add(10 * time.Minute)}
	x.mu.Unlock()
	c.Redirect(http.StatusFound, p.oauth.AuthCodeURL(state, oidc.Nonce(nonce)))
}

func (x *External) callback(c *gin.Context) {
	ctx := c.Request.Context()
	p, ok := x.providers[c.Param("provider")]
	if !ok {
		server.Fail(c, ErrNoProvider)
		return
	}
	x.mu.Lock()
	pl, found := x.pending[c.Query("state")]
	delete(x.pending, c.Query("state"))
	x.mu.Unlock()
	if !found || pl.provider != p.Name || x.sessions.opts.Now().After(pl.expires) {
		server.Fail(c, ErrBadState)
		return
	}
	if err := p.discover(ctx); err != nil {
		server.Fail(c, ErrProvider.Wrap(err))
		return
	}
	tok, err := p.oauth.Exchange(ctx, c.Query("code"))
	if err != nil {
		server.Fail(c, ErrProvider.Wrap(err))
		return
	}
	raw, _ := tok.Extra("id_token").(string)
	idt, err := p.verifier.Verify(ctx, raw)
	if err != nil || idt.Nonce != pl.nonce {
		server.Fail(c, ErrProvider.Wrap(fmt.Errorf("id token: %v", err)))
		return
	}
	var claims struct {
		Name     string `json:"name"`
		USCC     string `json:"uscc"`
		IDNumber string `json:"id_number"`
	}
	if err := idt.Claims(&claims); err != nil {
		server.Fail(c, ErrProvider.Wrap(err))
		return
	}
	q := x.sessions.client.Session.Create().SetAudience(session.Audience(p.Audience)).SetProvider(p.Name).
		SetSubject(idt.Subject).SetDisplayName(truncate(claims.Name, 128))
	switch p.Audience {
	case Enterprise:
		if err := idcode.ValidUSCC(claims.USCC); err != nil {
			x.sessions.record(ctx, p.Name+":"+idt.Subject, "", c.ClientIP(), "auth.oidc.login", audit.Denied, err.Error())
			server.Fail(c, ErrBadIdentity.Wrap(err))
			return
		}
		q.SetUscc(claims.USCC)
	case Public:
		if err := idcode.ValidResidentID(claims.IDNumber); err != nil {
			x.sessions.record(ctx, p.Name+":"+idt.Subject, "", c.ClientIP(), "auth.oidc.login", audit.Denied, "invalid identity number")
			server.Fail(c, ErrBadIdentity.Wrap(err))
			return
		}
		if x.sessions.opts.Sealer == nil {
			server.Fail(c, apierror.Internal.Wrap(fmt.Errorf("no personal-data key to seal the identity number")))
			return
		}
		sealed, err := x.sessions.opts.Sealer.Seal(claims.IDNumber)
		if err != nil {
			server.Fail(c, err)
			return
		}
		q.SetIDNumber(sealed)
	}
	sess, token, err := x.sessions.create(ctx, q, c.ClientIP(), c.Request.UserAgent())
	if err != nil {
		server.Fail(c, err)
		return
	}
	x.sessions.record(ctx, p.Name+":"+idt.Subject, "", c.ClientIP(), "auth.oidc.login", audit.Success, "")
	setSessionCookie(c, token, sess.ExpiresAt)
	c.Redirect(http.StatusFound, pl.returnTo)
}
