package policy

import (
	"context"
	"encoding/json"
	"errors"
	"net/http"
	"regexp"
	"strings"

	"github.com/gin-gonic/gin"

	"github.com/shanghai-amr/portal/host/apierror"
	"github.com/shanghai-amr/portal/host/server"
)

// ErrInvalidPolicy answers a published module that does not compile.
var ErrInvalidPolicy = apierror.New(http.StatusBadRequest, "policy.invalid", nil)

// Publisher records a published host module so that it survives restarts,
// and audits who published it.
type Publisher func(ctx context.Context, name, src string) error

var moduleName = regexp.MustCompile(`^[a-z][a-z0-9_]{0,31}\.rego$`)

// MountAPI registers the policy administration endpoints behind the given
// guards for reading (view, test) and for publishing:
//
//	GET  /api/v1/admin/policies               version and every module's source
//	POST /api/v1/admin/policies/test          {"input": {...}} → the decision
//	PUT  /api/v1/admin/policies/host/:name    body: Rego source → new version, or 400 with the compiler's message
func (e *Engine) MountAPI(s *server.Server, read, publish []gin.HandlerFunc, save Publisher) {
	api := s.API().Group("/v1/admin/policies")
	api.GET("", append(read, func(c *gin.Context) {
		c.JSON(http.StatusOK, gin.H{"version": e.Version(), "modules": e.Modules()})
	})...)
	api.POST("/test", append(read, func(c *gin.Context) {
		var body struct {
			Input Input `json:"input"`
		}
		dec := json.NewDecoder(c.Request.Body)
		dec.DisallowUnknownFields()
		if err := dec.Decode(&body); err != nil {
			server.Fail(c, apierror.Invalid("want {\"input\": {\"subject\": …, \"action\": …, \"resource\": …}}"))
			return
		}
		c.JSON(http.StatusOK, gin.H{"version": e.Version(), "decision": e.Decide(c.Request.Context(), body.Input)})
	})...)
	api.PUT("/host/:name", append(publish, func(c *gin.Context) {
		name := c.Param("name")
		if !moduleName.MatchString(name) {
			server.Fail(c, apierror.Invalid("module names are lower case, end in .rego, at most 32 characters"))
			return
		}
		b, err := c.GetRawData()
		if err != nil {
			server.Fail(c, err)
			return
		}
		src := string(b)
		if strings.TrimSpace(src) == "" {
			server.Fail(c, apierror.Invalid("empty module"))
			return
		}
		if err := e.SetHostModule(c.Request.Context(), name, src); err != nil {
			if errors.Is(err, ErrCompile) {
				server.Fail(c, ErrInvalidPolicy.WithDetails(map[string]string{"compiler": err.Error()}))
				return
			}
			server.Fail(c, err)
			return
		}
		if err := save(c.Request.Context(), name, src); err != nil {
			server.Fail(c, err)
			return
		}
		c.JSON(http.StatusOK, gin.H{"version": e.Version()})
	})...)
}
