// Package departments is the "one go" (一口办理) part of the suspension
// filing (modules 43–46, 60–62, 67–69): the forms of the other departments
// an entity may fill together with SAMR's — tax, human resources and social
// security, housing fund, medical insurance — and the info-exchange channel
// that pushes approved filings to them and carries their feedback back.
//
// A push is an HTTP POST of a JSON Message to the department's endpoint,
// signed with HMAC-SM3 under the exchange secret (header X-Exchange-Signature,
// hex). The department acknowledges in the response body (Ack) and may send
// its result later to the plugin's feedback route, signed the same way.
// Sandbox is a loopback stand-in for the four departments' systems, for
// development and tests.
package departments

import (
	"fmt"
	"sort"
	"strconv"
	"strings"
	"unicode/utf8"
)

// Field is one field of a department's form.
type Field struct {
	Key      string `json:"key"`
	Label    string `json:"label"`
	LabelEn  string `json:"label_en"`
	Kind     string `json:"kind"` // text, count (a whole number ≥ 0) or yesno
	Required bool   `json:"required"`
}

// Department is one of the departments the filing can be shared with.
type Department struct {
	Code   string  `json:"code"`
	Name   string  `json:"name"`
	NameEn string  `json:"name_en"`
	Guide  string  `json:"guide"` // 办事指南 and contact (module 60)
	Fields []Field `json:"fields"`
}

// All are the departments, in the order the spec lists them.
var All = []Department{
	{Code: "tax", Name: "税务", NameEn: "Tax", Guide: "国家税务总局上海市税务局 12366",
		Fields: []Field{
			{Key: "tax_authority", Label: "主管税务机关", LabelEn: "Competent tax office", Kind: "text", Required: true},
			{Key: "invoices_cleared", Label: "发票已缴销", LabelEn: "Invoices cancelled", Kind: "yesno", Required: true},
			{Key: "tax_contact", Label: "办税人员联系电话", LabelEn: "Tax contact phone", Kind: "text"},
		}},
	{Code: "social_security", Name: "人力资源和社会保障", NameEn: "Human resources and social security", Guide: "上海市人力资源和社会保障局 12333",
		Fields: []Field{
			{Key: "ss_account", Label: "单位社会保险登记号", LabelEn: "Social-insurance registration number", Kind: "text", Required: true},
			{Key: "ss_insured", Label: "在职参保人数", LabelEn: "Insured employees", Kind: "count", Required: true},
		}},
	{Code: "housing_fund", Name: "住房公积金", NameEn: "Housing fund", Guide: "上海市公积金管理中心 12329",
		Fields: []Field{
			{Key: "hf_account", Label: "单位公积金账号", LabelEn: "Housing-fund account", Kind: "text", Required: true},
			{Key: "hf_members", Label: "缴存职工人数", LabelEn: "Contributing employees", Kind: "count", Required: true},
		}},
	{Code: "medical_insurance", Name: "医疗保障", NameEn: "Medical insurance", Guide: "上海市医疗保障局 12393",
		Fields: []Field{
			{Key: "mi_account", Label: "单位医保编号", LabelEn: "Medical-insurance unit number", Kind: "text", Required: true},
			{Key: "mi_insured", Label: "参保职工人数", LabelEn: "Insured employees", Kind: "count", Required: true},
		}},
}

// ByCode finds a department.
func ByCode(code string) (*Department, bool) {
	for i := range All {
		if All[i].Code == code {
			return &All[i], true
		}
	}
	return nil, false
}

// Problem is a field at fault, with messages for people.
type Problem struct {
	Department string `json:"department"`
	Field      string `json:"field"`
	Message    string `json:"message"`
	MessageEn  string `json:"message_en"`
}

// Error lists the problems of a form.
type Error struct{ Problems []Problem }

func (e *Error) Error() string {
	parts := make([]string, len(e.Problems))
	for i, p := range e.Problems {
		parts[i] = p.Message
	}
	return strings.Join(parts, "；")
}

// Validate checks the forms the applicant filled, keyed by department code:
// known departments only, every required field, the kinds, nothing unknown.
// It returns the forms normalised (trimmed text, "yes"/"no", decimal counts).
func Validate(forms map[string]map[string]string) (map[string]map[string]string, error) {
	out := map[string]map[string]string{}
	var probs []Problem
	unknown := []string{}
	for code := range forms {
		if _, ok := ByCode(code); !ok {
			unknown = append(unknown, code)
		}
	}
	sort.Strings(unknown)
	for _, code := range unknown {
		probs = append(probs, Problem{Department: code, Message: fmt.Sprintf("没有“%s”这个部门", code), MessageEn: fmt.Sprintf("There is no department %q", code)})
	}
	for i := range All {
		d, code := &All[i], All[i].Code
		form, chosen := forms[code]
		if !chosen {
			continue
		}
		clean := map[string]string{}
		known := map[string]bool{}
		for _, f := range d.Fields {
			known[f.Key] = true
			v := strings.TrimSpace(form[f.Key])
			bad := func(zh, en string) {
				probs = append(probs, Problem{Department: code, Field: f.Key, Message: d.Name + "：" + f.Label + zh, MessageEn: d.NameEn + ": " + f.LabelEn + en})
			}
			switch {
			case v == "" && f.Required:
				bad("必须填写", " is required")
				continue
			case v == "":
				continue
			case utf8.RuneCountInString(v) > 100:
				bad("不能超过100个字", " is at most 100 characters")
				continue
			}
			switch f.Kind {
			case "count":
				n, err := strconv.Atoi(v)
				if err != nil || n < 0 || n > 10_000_000 {
					bad("应为不小于0的整数", " must be a whole number, 0 or more")
					continue
				}
				v = strconv.Itoa(n)
			case "yesno":
				switch strings.ToLower(v) {
				case "yes", "是", "true":
					v = "yes"
				case "no", "否", "false":
					v = "no"
				default:
					bad("应为“是”或“否”", " must be yes or no")
					continue
				}
			}
			clean[f.Key] = v
		}
		keys := make([]string, 0, len(form))
		for k := range form {
			keys = append(keys, k)
		}
		sort.Strings(keys)
		for _, k := range keys {
			if !known[k] {
				probs = append(probs, Problem{Department: code, Field: k, Message: fmt.Sprintf("%s：没有“%s”这一项", d.Name, k), MessageEn: fmt.Sprintf("%s: there is no field %q", d.NameEn, k)})
			}
		}
		out[code] = clean
	}
	if len(probs) > 0 {
		return nil, &Error{Problems: probs}
	}
	return out, nil
}
