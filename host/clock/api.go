package clock

import (
	"context"
	"io"
	"net/http"
	"strconv"

	"github.com/gin-gonic/gin"

	"github.com/shanghai-amr/portal/host/apierror"
	"github.com/shanghai-amr/portal/host/server"
)

// Persist stores a year's schedule an administrator loaded, so it is loaded
// again at every start.
type Persist func(ctx context.Context, y Year) error

// MountAPI registers the calendar administration endpoints:
//
//	GET /api/v1/admin/calendars          the loaded years
//	PUT /api/v1/admin/calendars/:year    load a year (YAML or JSON body: year, holidays, workdays)
func (c *Calendar) MountAPI(s *server.Server, read, manage []gin.HandlerFunc, persist Persist) {
	s.API().GET("/v1/admin/calendars", append(read, func(g *gin.Context) {
		g.JSON(http.StatusOK, gin.H{"years": c.Years()})
	})...)
	s.API().PUT("/v1/admin/calendars/:year", append(manage, func(g *gin.Context) {
		b, err := io.ReadAll(g.Request.Body)
		if err != nil {
			server.Fail(g, err)
			return
		}
		y, err := ParseYear(b)
		if err != nil {
			server.Fail(g, apierror.Invalid(err.Error()))
			return
		}
		if strconv.Itoa(y.Year) != g.Param("year") {
			server.Fail(g, apierror.Invalid("the body's year does not match the path"))
			return
		}
		if err := persist(g.Request.Context(), y); err != nil {
			server.Fail(g, err)
			return
		}
		if err := c.Load(y); err != nil {
			server.Fail(g, apierror.Invalid(err.Error()))
			return
		}
		g.JSON(http.StatusOK, y)
	})...)
}
