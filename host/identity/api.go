package identity

import (
	"net/http"
	"strconv"
	"time"

	"github.com/gin-gonic/gin"

	"github.com/shanghai-amr/portal/host/apierror"
	"github.com/shanghai-amr/portal/host/audit"
	"github.com/shanghai-amr/portal/host/server"
	"github.com/shanghai-amr/portal/host/store/ent/session"
	"github.com/shanghai-amr/portal/host/store/ent/user"
)

// MountAPI registers the authentication and session endpoints:
//
//	POST   /api/v1/auth/login      {"username","password"} → session, token, CSRF token; sets the cookie
//	POST   /api/v1/auth/logout     ends the caller's session
//	GET    /api/v1/auth/me         the caller's identity
//	GET    /api/v1/auth/csrf       {"csrf_token"} of the cookie session (enterprise and public sign-ins get it here)
//	POST   /api/v1/auth/password   {"old_password","new_password"}
//	POST   /api/v1/auth/can        {"actions":[...]} → {"allowed":{action: bool}} (for buttons)
//	GET    /api/v1/admin/sessions  active sessions (sessions.read)
//	DELETE /api/v1/admin/sessions/:id (sessions.manage)
func (s *Sessions) MountAPI(srv *server.Server, auth gin.HandlerFunc) {
	api := srv.API().Group("/v1")
	api.POST("/auth/login", s.login)
	authed := api.Group("", auth)
	authed.POST("/auth/logout", requireSignedIn, s.logout)
	authed.GET("/auth/me", requireSignedIn, func(c *gin.Context) { c.JSON(http.StatusOK, From(c.Request.Context())) })
	authed.GET("/auth/csrf", requireSignedIn, s.csrf)
	authed.POST("/auth/password", requireSignedIn, s.changePassword)
	authed.POST("/auth/can", requireSignedIn, func(c *gin.Context) {
		var in struct {
			Actions []string `json:"actions"`
		}
		if !server.Decode(c, &in) {
			return
		}
		if len(in.Actions) == 0 || len(in.Actions) > 200 {
			server.Fail(c, apierror.Invalid("actions: 1–200 permission names"))
			return
		}
		c.JSON(http.StatusOK, gin.H{"allowed": Can(c, in.Actions)})
	})
	authed.GET("/admin/sessions", Require("sessions.read"), func(c *gin.Context) {
		list, err := s.Active(c.Request.Context())
		if err != nil {
			server.Fail(c, err)
			return
		}
		c.JSON(http.StatusOK, gin.H{"sessions": list})
	})
	authed.DELETE("/admin/sessions/:id", Require("sessions.manage"), func(c *gin.Context) {
		id, err := strconv.Atoi(c.Param("id"))
		if err != nil {
			server.Fail(c, apierror.Invalid("session id must be a number"))
			return
		}
		if err := s.End(c.Request.Context(), id); err != nil {
			server.Fail(c, apierror.New(http.StatusNotFound, "auth.no_session", nil).Wrap(err))
			return
		}
		who := From(c.Request.Context())
		s.record(c.Request.Context(), who.Username, who.OrgPath, c.ClientIP(), "auth.session.end", audit.Success, "session "+c.Param("id"))
		c.Status(http.StatusNoContent)
	})
}

func requireSignedIn(c *gin.Context) {
	if From(c.Request.Context()).Audience == Anonymous {
		server.Fail(c, Unauthenticated)
		return
	}
	c.Next()
}

func (s *Sessions) login(c *gin.Context) {
	var in struct {
		Username string `json:"username"`
		Password string `json:"password"`
	}
	if !server.Decode(c, &in) {
		return
	}
	sess, err := s.Login(c.Request.Context(), in.Username, in.Password, c.ClientIP(), c.Request.UserAgent())
	if err != nil {
		server.Fail(c, err)
		return
	}
	setSessionCookie(c, sess.Token, sess.ExpiresAt)
	c.JSON(http.StatusOK, sess)
}

// setSessionCookie hands the browser its session: HttpOnly, SameSite=Lax,
// Secure under TLS.
func setSessionCookie(c *gin.Context, token string, expires time.Time) {
	http.SetCookie(c.Writer, &http.Cookie{
		Name: SessionCookie, Value: token, Path: "/", HttpOnly: true, SameSite: http.SameSiteLaxMode,
		Secure: c.Request.TLS != nil, Expires: expires,
	})
}

func (s *Sessions) logout(c *gin.Context) {
	id := From(c.Request.Context())
	if id.SessionID != 0 {
		if err := s.End(c.Request.Context(), id.SessionID); err != nil {
			server.Fail(c, err)
			return
		}
	}
	http.SetCookie(c.Writer, &http.Cookie{Name: SessionCookie, Value: "", Path: "/", MaxAge: -1, HttpOnly: true, SameSite: http.SameSiteLaxMode})
	s.record(c.Request.Context(), id.Username, id.OrgPath, c.ClientIP(), "auth.logout", audit.Success, "")
	c.Status(http.StatusNoContent)
}

func (s *Sessions) changePassword(c *gin.Context) {
	var in struct {
		Old string `json:"old_password"`
		New string `json:"new_password"`
	}
	if !server.Decode(c, &in) {
		return
	}
	id := From(c.Request.Context())
	ctx := c.Request.Context()
	u, err := s.client.User.Query().Where(user.Username(id.Username)).Only(ctx)
	if err != nil {
		server.Fail(c, apierror.New(http.StatusBadRequest, "auth.no_password", nil).Wrap(err))
		return
	}
	if !CheckPassword(u.PasswordHash, in.Old) {
		s.record(ctx, id.Username, id.OrgPath, c.ClientIP(), "auth.password.change", audit.Failure, "wrong old password")
		server.Fail(c, ErrInvalidLogin)
		return
	}
	if err := CheckPolicy(u.Username, in.New); err != nil {
		server.Fail(c, apierror.New(http.StatusBadRequest, "auth.weak_password", map[string]any{"Detail": err.Error()}))
		return
	}
	hash, err := HashPassword(in.New)
	if err != nil {
		server.Fail(c, err)
		return
	}
	if err := u.Update().SetPasswordHash(hash).SetPasswordChangedAt(time.Now().UTC()).Exec(ctx); err != nil {
		server.Fail(c, err)
		return
	}
	s.record(ctx, id.Username, id.OrgPath, c.ClientIP(), "auth.password.change", audit.Success, "")
	c.Status(http.StatusNoContent)
}

// csrf answers the CSRF token of the caller's cookie session. Sign-in with a
// password returns it; a sign-in through an identity provider ends in a
// redirect, so the page asks here. Only same-origin script can read the
// answer (no CORS), which is what makes the token a proof.
func (s *Sessions) csrf(c *gin.Context) {
	ck, err := c.Request.Cookie(SessionCookie)
	if err != nil || ck.Value == "" {
		server.Fail(c, apierror.Invalid("no cookie session: a bearer token needs no CSRF token"))
		return
	}
	sess, err := s.client.Session.Query().Where(session.TokenHash(tokenHash(ck.Value))).Only(c.Request.Context())
	if err != nil {
		server.Fail(c, Unauthenticated)
		return
	}
	c.JSON(http.StatusOK, gin.H{"csrf_token": sess.CsrfToken})
}
