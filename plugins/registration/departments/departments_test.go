package departments

import (
	"context"
	"errors"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
)

// Modules 43–46: each department's form, normalised; every problem named.
func TestValidate(t *testing.T) {
	got, err := Validate(map[string]map[string]string{
		"tax":             {"tax_authority": " 浦东税务局 ", "invoices_cleared": "是"},
		"social_security": {"ss_account": "31011500012345", "ss_insured": "012"},
	})
	if err != nil {
		t.Fatal(err)
	}
	if got["tax"]["tax_authority"] != "浦东税务局" || got["tax"]["invoices_cleared"] != "yes" || got["social_security"]["ss_insured"] != "12" {
		t.Fatalf("normalised: %v", got)
	}
	for _, c := range []struct {
		name  string
		forms map[string]map[string]string
		want  string
	}{
		{"module 43: required", map[string]map[string]string{"tax": {"tax_authority": "x"}}, "税务：发票已缴销必须填写"},
		{"module 43: yes or no", map[string]map[string]string{"tax": {"tax_authority": "x", "invoices_cleared": "maybe"}}, "应为“是”或“否”"},
		{"module 45: a count", map[string]map[string]string{"housing_fund": {"hf_account": "1", "hf_members": "1.5"}}, "缴存职工人数应为不小于0的整数"},
		{"module 46: too long", map[string]map[string]string{"medical_insurance": {"mi_account": strings.Repeat("医", 101), "mi_insured": "1"}}, "不能超过100个字"},
		{"an unknown department", map[string]map[string]string{"customs": {}}, "没有“customs”这个部门"},
		{"an unknown field", map[string]map[string]string{"medical_insurance": {"mi_account": "1", "mi_insured": "1", "x": "y"}}, "没有“x”这一项"},
	} {
		_, err := Validate(c.forms)
		var e *Error
		if !errors.As(err, &e) || !strings.Contains(err.Error(), c.want) || e.Problems[0].MessageEn == "" {
			t.Errorf("%s: %v, want %q", c.name, err, c.want)
		}
	}
}

// Modules 67–69: a push is signed, the sandbox answers signed; a forged push
// or an unsigned answer is refused; no endpoint means the push waits.
func TestChannelAndSandbox(t *testing.T) {
	secret := []byte("exchange secret for the test....")
	sb := httptest.NewServer(&Sandbox{Secret: secret})
	defer sb.Close()
	ch := &Channel{Endpoints: map[string]string{"tax": sb.URL + "/tax"}, Secret: secret}
	ack, err := ch.Push(context.Background(), Message{ID: "m1", Department: "tax", Event: "suspension.filed", USCC: "91310115MA1K4PTX8J"})
	if err != nil || ack.Status != "done" || ack.MessageID != "m1" || !strings.Contains(ack.Result, "税务部门") {
		t.Fatalf("push: %+v %v", ack, err)
	}
	wrong := &Channel{Endpoints: ch.Endpoints, Secret: []byte("another secret..................")}
	if _, err := wrong.Push(context.Background(), Message{ID: "m2", Department: "tax", Event: "suspension.filed"}); err == nil || !strings.Contains(err.Error(), "401") {
		t.Fatalf("a push under another secret: %v", err)
	}
	unsigned := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { _, _ = w.Write([]byte(`{"status":"done"}`)) }))
	defer unsigned.Close()
	ch.Endpoints["housing_fund"] = unsigned.URL
	if _, err := ch.Push(context.Background(), Message{ID: "m3", Department: "housing_fund"}); err == nil || !strings.Contains(err.Error(), "not signed") {
		t.Fatalf("an unsigned answer: %v", err)
	}
	if _, err := ch.Push(context.Background(), Message{ID: "m4", Department: "medical_insurance"}); !errors.Is(err, ErrNotConfigured) {
		t.Fatalf("no endpoint: %v", err)
	}
	if Verify(secret, []byte("body"), Sign(secret, []byte("bodY"))) || !Verify(secret, []byte("body"), Sign(secret, []byte("body"))) || Verify(secret, []byte("b"), "zz") {
		t.Fatal("Verify")
	}
}
