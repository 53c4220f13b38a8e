package sdk

import (
	"context"
	"encoding/json"
	"net/http/httptest"
	"testing"
)

func TestWriteErrorSpeaksTheCallersLanguage(t *testing.T) {
	m := Message{ZH: "没有该记录", EN: "No such record"}
	for _, c := range []struct{ locale, want string }{{"zh-CN", m.ZH}, {"", m.ZH}, {"en", m.EN}, {"en-GB", m.EN}} {
		r := httptest.NewRequest("GET", "/", nil).WithContext(context.WithValue(context.Background(), callerKey{}, Caller{Locale: c.locale}))
		w := httptest.NewRecorder()
		WriteError(w, r, 404, "x.not_found", m, map[string]string{"field": "id"})
		var body struct {
			Code, Message string
			Details       map[string]string
		}
		if err := json.Unmarshal(w.Body.Bytes(), &body); err != nil || w.Code != 404 || body.Code != "x.not_found" || body.Message != c.want || body.Details["field"] != "id" {
			t.Errorf("%q: %d %s", c.locale, w.Code, w.Body)
		}
		if ct := w.Header().Get("Content-Type"); ct != "application/json; charset=utf-8" {
			t.Errorf("content type %q", ct)
		}
	}
}
