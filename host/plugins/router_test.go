package plugins

import (
	"context"
	"net/http"
	"net/http/httptest"
	"testing"

	"github.com/gin-gonic/gin"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"
)

// A plugin call cancelled because the client went away is recorded as 499,
// not as the plugin's failure (502) with an error in the log.
func TestCallFailedClientGone(t *testing.T) {
	gin.SetMode(gin.TestMode)
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	w := httptest.NewRecorder()
	c, _ := gin.CreateTestContext(w)
	c.Request = httptest.NewRequest(http.MethodGet, "/api/plugins/notice/public/notices", nil).WithContext(ctx)
	(&Router{}).callFailed(c, nil, status.Error(codes.Canceled, context.Canceled.Error()))
	if c.Writer.Status() != statusClientClosed || w.Body.Len() != 0 {
		t.Fatalf("client gone: status %d, body %q; want 499 and no body", c.Writer.Status(), w.Body.String())
	}
}
