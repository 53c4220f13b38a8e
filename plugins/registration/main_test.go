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
	const agent = `"agent":{"name":"李娜","id_number":"310115199202050035","mobile":"13812345678"}`
	body := func(start, end string) string {
		return `{"reason":"装修","start_date":"` + start + `","end_date":"` + end + `","service_address":"上海市浦东新区",` + agent + `}`
	}
	with := func(extra string) string {
		return `{"reason":"装修","start_date":"` + day(1) + `","end_date":"` + day(30) + `","service_address":"上海市浦东新区",` + extra + `}`
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
		{"module 42: no agent", "91310115MA1K4PTX8J", with(`"mode":"online"`), http.StatusBadRequest, "请填写委托代理人姓名"},
		{"module 42: the agent's identity number", "91310115MA1K4PTX8J", with(`"agent":{"name":"李娜","id_number":"310115199202050036","mobile":"13812345678"}`), http.StatusBadRequest, "委托代理人身份证号码不正确"},
		{"module 42: the agent's mobile", "91310115MA1K4PTX8J", with(`"agent":{"name":"李娜","id_number":"310115199202050035","mobile":"1381234"}`), http.StatusBadRequest, "手机号码应为11位数字"},
		{"module 42: the mode", "91310115MA1K4PTX8J", with(agent + `,"mode":"fax"`), http.StatusBadRequest, "提交方式应为全程网办"},
		{"module 64: an unknown role", "91310115MA1K4PTX8J", with(agent + `,"persons":[{"role":"chef","name":"张明","id_number":"310115198503120012"}]`), http.StatusBadRequest, "第1位人员的身份不正确"},
		{"module 64: a signer's identity number", "91310115MA1K4PTX8J", with(agent + `,"persons":[{"role":"legal_rep","name":"张明","id_number":"310115198503120013"}]`), http.StatusBadRequest, "张明的身份证号码不正确"},
		{"module 64: the same person twice in one role", "91310115MA1K4PTX8J", with(agent + `,"persons":[{"role":"director","name":"张明","id_number":"310115198503120012"},{"role":"director","name":"张明","id_number":"310115198503120012"}]`), http.StatusBadRequest, "张明以董事身份重复填写"},
		{"module 64: the legal representative must be the registered one", "91310115MA1K4PTX8J", with(agent + `,"persons":[{"role":"legal_rep","name":"张明","id_number":"310115199202050035"}]`), http.StatusBadRequest, "张明不是登记的法定代表人（张明）"},
		{"module 43: a required tax field", "91310115MA1K4PTX8J", with(agent + `,"departments":{"tax":{"tax_authority":"浦东税务局"}}`), http.StatusBadRequest, "税务：发票已缴销必须填写"},
		{"module 44: a count", "91310115MA1K4PTX8J", with(agent + `,"departments":{"social_security":{"ss_account":"1","ss_insured":"-3"}}`), http.StatusBadRequest, "在职参保人数应为不小于0的整数"},
		{"modules 43–46: an unknown department", "91310115MA1K4PTX8J", with(agent + `,"departments":{"police":{}}`), http.StatusBadRequest, "没有“police”这个部门"},
		{"modules 43–46: an unknown field", "91310115MA1K4PTX8J", with(agent + `,"departments":{"housing_fund":{"hf_account":"1","hf_members":"2","hf_secret":"x"}}`), http.StatusBadRequest, "住房公积金：没有“hf_secret”这一项"},
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
