package audit

import (
	"errors"
	"net/http"

	"github.com/gin-gonic/gin"

	"github.com/shanghai-amr/portal/host/apierror"
	"github.com/shanghai-amr/portal/host/server"
)

// ErrChainBroken is the API answer when Verify finds a bad entry.
var ErrChainBroken = apierror.New(http.StatusConflict, "audit.chain_broken", nil)

// MountAPI registers GET /api/v1/admin/audit/verify behind the given
// middleware (authentication, then the audit administrator's permission).
// It answers {"verified": N} or 409 audit.chain_broken naming the first bad
// entry in details.
func (l *Log) MountAPI(s *server.Server, guards ...gin.HandlerFunc) {
	s.API().GET("/v1/admin/audit/verify", append(guards, func(c *gin.Context) {
		n, err := l.Verify(c.Request.Context())
		if errors.Is(err, ErrBroken) {
			server.Fail(c, ErrChainBroken.WithDetails(map[string]any{"verified": n, "problem": err.Error()}))
			return
		}
		if err != nil {
			server.Fail(c, err)
			return
		}
		c.JSON(http.StatusOK, gin.H{"verified": n})
	})...)
}
