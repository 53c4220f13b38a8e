package main

import (
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/shanghai-amr/portal/sdk"
	"github.com/shanghai-amr/portal/sdk/plugintest"
)

func enterpriseCaller(uscc string) sdk.Caller {
	return sdk.Caller{Audience: "enterprise", Subject: "oidc:yiwangtongban:" + uscc, Username: "yiwangtongban:" + uscc, USCC: uscc, Locale: "zh-CN"}
}

// Eligibility (module 41) and the period's bounds, refused before anything is
// stored or any review is created.
func TestFilingRefusals(t *testing.T) {
	h := plugintest.Start(t, Plugin())
	day := func(d int) string { return time.Now().In(shanghai).AddDate(0, 0, d).Format("2006-01-02") }
	body := func(start, end string) string {
		return `{"reason":"装修","start_date":"` + start + `","end_date":"` + end + `","service_address":"上海市浦东新区"}`
	}
	for _, c := range []struct {
		name, uscc, body string
		status           int
		want             string
	}{
		{"module 41: a revoked enterprise", "91310115MA1K4PTY5A", body(day(1), day(30)), http.StatusUnprocessableEntity, "企业登记状态为“吊销”，不能办理歇业备案"},
		{"not in the registry", "91310115MA1K4PTX9X", body(day(1), day(30)), http.StatusNotFound, "未找到本企业的登记信息"},
		{"starts in the past", "91310115MA1K4PTX8J", body(day(-1), day(30)), http.StatusBadRequest, "起始日期不早于今天"},
		{"ends before it starts", "91310115MA1K4PTX8J", body(day(10), day(5)), http.StatusBadRequest, "截止日期晚于起始日期"},
		{"longer than three years (条例第三十条)", "91310115MA1K4PTX8J", body(day(1), day(3*366)), http.StatusUnprocessableEntity, "累计不得超过三年"},
		{"no reason", "91310115MA1K4PTX8J", `{"start_date":"` + day(1) + `","end_date":"` + day(30) + `"}`, http.StatusBadRequest, "请填写歇业原因"},
	} {
		t.Run(c.name, func(t *testing.T) {
			rec := h.Do(t, "POST", "/my/suspensions", c.body, enterpriseCaller(c.uscc))
			if rec.Code != c.status || !strings.Contains(rec.Body.String(), c.want) {
				t.Fatalf("%d %s, want %d %q", rec.Code, rec.Body, c.status, c.want)
			}
		})
	}
	// Nothing was stored.
	rec := h.Do(t, "GET", "/my/enterprise", "", enterpriseCaller("91310115MA1K4PTX8J"))
	if rec.Code != 200 || strings.Contains(rec.Body.String(), `"filings"`) {
		t.Fatalf("filings after refusals: %s", rec.Body)
	}
}
