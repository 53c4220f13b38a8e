package main

import (
	"encoding/json"
	"net/http"
	"strings"
	"testing"

	"github.com/shanghai-amr/portal/sdk/plugintest"
)

// summaryBody is a valid on-site capture by pd_li and zj_zhao, changed by
// edit (a JSON object merged over it, one level deep for party).
func summaryBody(t *testing.T, edit string) string {
	t.Helper()
	base := map[string]any{
		"cause": "未按规定明码标价",
		"party": map[string]any{"kind": "organisation", "name": "上海浦东示例科技有限公司", "id_number": "91310115MA1K4PTX8J",
			"address": "上海市浦东新区张江路100号", "legal_rep": "张明"},
		"officers": []map[string]any{{"username": "pd_li", "certificate_no": "31011500123"}, {"username": "zj_zhao", "certificate_no": "31011500456"}},
		"place":    "上海市浦东新区张江路100号店堂内",
		"facts":    "当事人在其经营场所销售的12种商品未标明价格。",
		"violated": "《中华人民共和国价格法》第十三条第一款", "basis": "《明码标价和禁止价格欺诈规定》第二十条",
		"fine_yuan": 500, "review_organ": "上海市浦东新区人民政府", "court": "上海铁路运输法院",
	}
	if edit != "" {
		var e map[string]any
		if err := json.Unmarshal([]byte(edit), &e); err != nil {
			t.Fatal(err)
		}
		for k, v := range e {
			if k == "party" {
				p := base["party"].(map[string]any)
				for pk, pv := range v.(map[string]any) {
					p[pk] = pv
				}
				continue
			}
			base[k] = v
		}
	}
	b, _ := json.Marshal(base)
	return string(b)
}

// Captures outside the summary procedure are refused before anything is
// stored or any host service is asked: the penalty limits of 行政处罚法
// 第五十一条 (a warning, or at most 200 yuan for a citizen and 3,000 yuan for
// an organisation), two officers with certificates (第四十二条), the party's
// identity (C2 1125, R-ID-1), the legal provisions (R-STD-2) and the review of
// a statement (R-NOT-3).
func TestSummaryCaptureRefusals(t *testing.T) {
	h := plugintest.Start(t, Plugin())
	officer := plugintest.Staff("pd_li", "310115-D03")
	english := officer
	english.Locale = "en"
	person := `{"party":{"kind":"person","name":"王某","id_type":"resident_id","id_number":"310115199202050035","legal_rep":""}`
	for _, c := range []struct {
		name, body string
		locale     bool
		status     int
		code, want string
	}{
		{"第五十一条: an organisation fined 3,001 yuan", summaryBody(t, `{"fine_yuan":3001}`), false, http.StatusUnprocessableEntity,
			"enforcement.summary.fine_over_limit", "对法人或者其他组织当场罚款不得超过3000元（《中华人民共和国行政处罚法》第五十一条），本案拟罚款3001元，应当适用普通程序"},
		{"第五十一条: a citizen fined 201 yuan", summaryBody(t, person+`,"fine_yuan":201}`), false, http.StatusUnprocessableEntity,
			"enforcement.summary.fine_over_limit", "对公民当场罚款不得超过200元"},
		{"第五十一条: the limit in English", summaryBody(t, person+`,"fine_yuan":500,"warning":true}`), true, http.StatusUnprocessableEntity,
			"enforcement.summary.fine_over_limit", "a citizen may be fined at most 200 yuan (Administrative Penalty Law, article 51); 500 yuan needs the general procedure"},
		{"第五十一条: neither a warning nor a fine", summaryBody(t, `{"fine_yuan":0}`), false, http.StatusUnprocessableEntity,
			"enforcement.summary.no_penalty", "简易程序只能给予警告或者罚款"},
		{"a negative fine", summaryBody(t, `{"fine_yuan":-5,"warning":true}`), false, http.StatusBadRequest, "enforcement.invalid", "fine_yuan"},
		{"第四十二条: one officer", summaryBody(t, `{"officers":[{"username":"pd_li","certificate_no":"31011500123"}]}`), false,
			http.StatusBadRequest, "enforcement.invalid", "exactly two enforcement officers"},
		{"第四十二条: the caller is not one of them", summaryBody(t, `{"officers":[{"username":"zj_zhao","certificate_no":"31011500456"},{"username":"hp_liu","certificate_no":"31010100789"}]}`), false,
			http.StatusBadRequest, "enforcement.invalid", "one of them you"},
		{"第五十二条: an officer without a certificate number", summaryBody(t, `{"officers":[{"username":"pd_li","certificate_no":"31011500123"},{"username":"zj_zhao","certificate_no":""}]}`), false,
			http.StatusBadRequest, "enforcement.invalid", "enforcement certificate number"},
		{"第四十二条: the same certificate twice", summaryBody(t, `{"officers":[{"username":"pd_li","certificate_no":"31011500123"},{"username":"zj_zhao","certificate_no":"31011500123"}]}`), false,
			http.StatusBadRequest, "enforcement.invalid", "two different people"},
		{"C2 1125: an organisation's credit code", summaryBody(t, `{"party":{"id_number":"91310115MA1K4PTX8X"}}`), false,
			http.StatusBadRequest, "enforcement.invalid", "unified social credit code"},
		{"C2 1125, R-ID-1: a person's identity number", summaryBody(t, `{"party":{"kind":"person","name":"王某","id_type":"resident_id","id_number":"310115199202050036","legal_rep":""},"fine_yuan":50}`), false,
			http.StatusBadRequest, "enforcement.invalid", "not a valid resident identity number"},
		{"R-ID-1: an unknown identity document", summaryBody(t, `{"party":{"kind":"person","id_type":"library_card","id_number":"A12345","legal_rep":""},"fine_yuan":50}`), false,
			http.StatusBadRequest, "enforcement.invalid", "party.id_type"},
		{"an unknown kind of party", summaryBody(t, `{"party":{"kind":"company"}}`), false, http.StatusBadRequest, "enforcement.invalid", "party.kind"},
		{"R-STD-2: the provision violated", summaryBody(t, `{"violated":"价格法第十三条"}`), false, http.StatusBadRequest, "enforcement.invalid", "violated:"},
		{"R-STD-2: the legal basis", summaryBody(t, `{"basis":"《明码标价和禁止价格欺诈规定》"}`), false, http.StatusBadRequest, "enforcement.invalid", "basis:"},
		{"R-NOT-3: a statement without its review", summaryBody(t, `{"statement":"我店刚开业，请求从轻处罚。"}`), false, http.StatusBadRequest, "enforcement.invalid", "R-NOT-3"},
		{"第五十二条: no place", summaryBody(t, `{"place":""}`), false, http.StatusBadRequest, "enforcement.invalid", "place"},
		{"not JSON", `{"party":`, false, http.StatusBadRequest, "enforcement.bad_json", "请求格式不正确"},
	} {
		t.Run(c.name, func(t *testing.T) {
			who := officer
			if c.locale {
				who = english
			}
			rec := h.Do(t, "POST", "/summary-cases", c.body, who)
			var got struct{ Code, Message string }
			_ = json.Unmarshal(rec.Body.Bytes(), &got)
			if rec.Code != c.status || got.Code != c.code || !strings.Contains(got.Message, c.want) {
				t.Fatalf("%d %s, want %d %s %q", rec.Code, rec.Body, c.status, c.code, c.want)
			}
		})
	}
	// Nothing was stored and nothing audited.
	rec := h.Do(t, "GET", "/summary-cases", "", officer)
	if rec.Code != http.StatusOK || strings.TrimSpace(rec.Body.String()) != `{"cases":[]}` {
		t.Fatalf("list after refusals: %d %s", rec.Code, rec.Body)
	}
	if a := h.Audit(); len(a) != 0 {
		t.Fatalf("refusals were audited as changes: %+v", a)
	}
}

// A summary case that does not exist answers 404 on every route.
func TestSummaryRoutesAnswerNotFound(t *testing.T) {
	h := plugintest.Start(t, Plugin())
	for _, r := range []string{"GET /summary-cases/7", "POST /summary-cases/7/issue", "POST /summary-cases/7/acknowledge",
		"POST /summary-cases/7/unit-filing", "POST /summary-cases/7/agency-filing", "POST /summary-cases/7/payment-order",
		"POST /summary-cases/7/sandbox-pay", "POST /summary-cases/7/close"} {
		method, path, _ := strings.Cut(r, " ")
		body := ""
		if method == "POST" {
			body = `{"approve":true,"signer_name":"张明","capacity":"legal_rep"}`
		}
		if rec := h.Do(t, method, path, body, plugintest.Staff("pd_wang", "310115")); rec.Code != http.StatusNotFound {
			t.Errorf("%s: %d %s", r, rec.Code, rec.Body)
		}
	}
}
