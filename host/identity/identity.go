// Package identity answers "who is calling": it authenticates each request with
// the configured authenticators and puts the verified Identity on the context.
//
// Credentials it knows: staff sessions (username and argon2id password, a
// session token as cookie or bearer, see Sessions), and the operator token
// (PORTAL_ADMIN_TOKEN, or a random token written once to
// <data-dir>/admin.token with mode 0600) for portalctl and automation.
// Permissions come from roles; OPA policy, OIDC for enterprises and the
// public, and data filters come next (issue 4).
package identity

import (
	"context"
	"crypto/rand"
	"crypto/subtle"
	"encoding/hex"
	"errors"
	"fmt"
	"net/http"
	"os"
	"path/filepath"
	"strings"

	"github.com/gin-gonic/gin"

	"github.com/shanghai-amr/portal/host/apierror"
	"github.com/shanghai-amr/portal/host/audit"
	"github.com/shanghai-amr/portal/host/policy"
	"github.com/shanghai-amr/portal/host/server"
)

// Audience of a caller.
const (
	Staff      = "staff"
	Enterprise = "enterprise"
	Public     = "public"
	Anonymous  = "anonymous"
)

// Identity is a verified caller.
type Identity struct {
	Audience    string   `json:"audience"`
	Subject     string   `json:"subject"`
	Username    string   `json:"username"`
	DisplayName string   `json:"display_name"`
	Roles       []string `json:"roles"`
	// Posts are the positions (岗位) the user holds.
	Posts        []string `json:"posts,omitempty"`
	OrgCode      string   `json:"org_code,omitempty"`
	OrgPath      string   `json:"org_path,omitempty"`
	Jurisdiction string   `json:"jurisdiction,omitempty"`
	Locale       string   `json:"locale,omitempty"`
	USCC         string   `json:"uscc,omitempty"`
	// MobileMasked is the user's mobile number, masked (138****5678).
	MobileMasked string `json:"mobile,omitempty"`
	// Permissions granted through the caller's roles; the policy decides what
	// they allow ("*" and "prefix.*" grant many).
	Permissions []string `json:"permissions"`
	// DataScopes and CustomRoots are the union of the roles' data scopes.
	DataScopes  []string `json:"data_scopes,omitempty"`
	CustomRoots []string `json:"custom_roots,omitempty"`
	// SessionID is the staff session the request came with (0 for tokens).
	SessionID int `json:"-"`
	// PersonKey is the host's pseudonym of a member of the public's identity
	// number (pii.Pseudonyms); plugins see a per-plugin pseudonym of it.
	PersonKey string `json:"-"`
}

// PolicySubject is the identity as policies see it.
func (id *Identity) PolicySubject() policy.Subject {
	return policy.Subject{Audience: id.Audience, Username: id.Username, Roles: id.Roles, Permissions: id.Permissions,
		OrgPath: id.OrgPath, Jurisdiction: id.Jurisdiction, DataScopes: id.DataScopes, CustomRoots: id.CustomRoots}
}

type ctxKey struct{}

// With returns ctx carrying id.
func With(ctx context.Context, id *Identity) context.Context {
	return context.WithValue(ctx, ctxKey{}, id)
}

// From returns the caller, or an anonymous identity.
func From(ctx context.Context) *Identity {
	if id, ok := ctx.Value(ctxKey{}).(*Identity); ok && id != nil {
		return id
	}
	return &Identity{Audience: Anonymous}
}

// Authenticator checks a request's credentials. It returns (nil, nil) when the
// request carries none of its kind, and an error when they are present but wrong.
type Authenticator interface {
	Authenticate(r *http.Request) (*Identity, error)
}

// ErrBadCredentials is returned for credentials that are present but invalid.
var ErrBadCredentials = errors.New("identity: bad credentials")

// Unauthenticated is the 401 answer.
var Unauthenticated = apierror.New(http.StatusUnauthorized, "auth.required", nil)

// Forbidden is the 403 answer.
var Forbidden = apierror.New(http.StatusForbidden, "auth.forbidden", nil)

const keyGuard = "portal.guard"

// Guard is what authorisation needs: the policy that decides and the audit
// log that records refusals.
type Guard struct {
	Policy *policy.Engine
	Audit  *audit.Log
}

// Middleware authenticates each request; bad credentials are refused with 401,
// none at all leave the request anonymous for the route to decide. It also
// makes the guard available to Require.
func Middleware(g Guard, auths ...Authenticator) gin.HandlerFunc {
	return func(c *gin.Context) {
		c.Set(keyGuard, g)
		for _, a := range auths {
			id, err := a.Authenticate(c.Request)
			if err != nil {
				var ae *apierror.Error
				if errors.As(err, &ae) {
					server.Fail(c, err)
					return
				}
				c.Header("WWW-Authenticate", `Bearer realm="portal"`)
				server.Fail(c, Unauthenticated.Wrap(err))
				return
			}
			if id != nil {
				c.Request = c.Request.WithContext(With(c.Request.Context(), id))
				if id.Locale != "" {
					server.SetLocalePreference(c, id.Locale)
				}
				break
			}
		}
		c.Next()
	}
}

// Require refuses anonymous callers (401) and callers the policy does not
// allow permission (403). It must follow Middleware; without a policy engine
// it refuses everything (fail closed).
func Require(permission string) gin.HandlerFunc {
	return func(c *gin.Context) {
		id := From(c.Request.Context())
		if id.Audience == Anonymous {
			c.Header("WWW-Authenticate", `Bearer realm="portal"`)
			server.Fail(c, Unauthenticated)
			return
		}
		g, _ := c.Get(keyGuard)
		guard, _ := g.(Guard)
		if guard.Policy == nil {
			server.Fail(c, Forbidden)
			return
		}
		d := guard.Policy.Decide(c.Request.Context(), policy.Input{Subject: id.PolicySubject(), Action: permission})
		if !d.Allow {
			if guard.Audit != nil {
				_, _ = guard.Audit.Write(c.Request.Context(), audit.Entry{Actor: id.Username, OrgPath: id.OrgPath,
					Action: "auth.denied", Resource: c.Request.Method + " " + c.FullPath(), Outcome: audit.Denied,
					RequestID: server.RequestID(c), IP: c.ClientIP(), Detail: map[string]string{"permission": permission, "reason": d.Reason}})
			}
			server.Fail(c, Forbidden)
			return
		}
		c.Next()
	}
}

// Can answers, for the signed-in caller, which of the actions the policy
// allows (the UI shows only the buttons it may use).
func Can(c *gin.Context, actions []string) map[string]bool {
	id := From(c.Request.Context())
	g, _ := c.Get(keyGuard)
	guard, _ := g.(Guard)
	out := make(map[string]bool, len(actions))
	for _, a := range actions {
		out[a] = guard.Policy != nil && guard.Policy.Decide(c.Request.Context(), policy.Input{Subject: id.PolicySubject(), Action: a}).Allow
	}
	return out
}

// AdminToken authenticates the operator's bearer token (portalctl, automation).
type AdminToken struct{ token []byte }

// LoadAdminToken takes the token from env (if not empty) or from
// <dataDir>/admin.token, creating that file with a random token on first use.
// created reports whether a new token was written (to tell the operator once).
func LoadAdminToken(dataDir, env string) (tok *AdminToken, created bool, err error) {
	if env != "" {
		if len(env) < 24 {
			return nil, false, errors.New("identity: PORTAL_ADMIN_TOKEN must be at least 24 characters")
		}
		return &AdminToken{token: []byte(env)}, false, nil
	}
	path := TokenFile(dataDir)
	if b, err := os.ReadFile(path); err == nil {
		return &AdminToken{token: []byte(strings.TrimSpace(string(b)))}, false, nil
	}
	var raw [32]byte
	if _, err := rand.Read(raw[:]); err != nil {
		return nil, false, err
	}
	t := "pat_" + hex.EncodeToString(raw[:])
	if err := os.MkdirAll(filepath.Dir(path), 0o750); err != nil {
		return nil, false, err
	}
	if err := os.WriteFile(path, []byte(t+"\n"), 0o600); err != nil {
		return nil, false, fmt.Errorf("identity: write %s: %w", path, err)
	}
	return &AdminToken{token: []byte(t)}, true, nil
}

// TokenFile is where the bootstrap token is kept.
func TokenFile(dataDir string) string { return filepath.Join(dataDir, "admin.token") }

// Authenticate implements Authenticator.
func (a *AdminToken) Authenticate(r *http.Request) (*Identity, error) {
	h := r.Header.Get("Authorization")
	tok, ok := strings.CutPrefix(h, "Bearer ")
	if !ok {
		return nil, nil
	}
	if subtle.ConstantTimeCompare([]byte(strings.TrimSpace(tok)), a.token) != 1 {
		return nil, ErrBadCredentials
	}
	// The operator token acts as the system administrator, and only as that:
	// the security and audit administrators' rights stay with their accounts.
	return &Identity{Audience: Staff, Subject: "operator", Username: "operator", DisplayName: "系统管理员（运维令牌）",
		Roles: []string{RoleSystemAdmin}, OrgCode: "310000", OrgPath: "/310000", Jurisdiction: "city",
		Permissions: rolePermissions(RoleSystemAdmin)}, nil
}
