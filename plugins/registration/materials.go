package main

import (
	"encoding/hex"
	"encoding/json"
	"fmt"
	"strings"

	"github.com/emmansun/gmsm/sm3"

	"github.com/shanghai-amr/portal/plugins/registration/departments"
)

// material is one of an application's generated materials (module 51).
type material struct {
	Key     string   `json:"key"`
	Title   string   `json:"title"`
	TitleEn string   `json:"title_en"`
	Lines   []string `json:"lines"`
}

// materialKeys are the materials a reviewer may comment on (module 64),
// with the departments' forms.
var materialKeys = map[string]bool{"application": true, "commitment": true, "authenticity": true}

// materialsOf generates the application's materials: 市场主体歇业备案申请书,
// 歇业备案承诺书 and 材料真实性承诺书, and one page per department form.
// They are what the signers read and what their signatures cover.
func materialsOf(e *enterprise, f *filing) []material {
	what := "歇业备案"
	if f.Kind == "extension" {
		what = "延长歇业期限"
	}
	mode := map[string]string{modeOnline: "全程网办", modeOffline: "线下提交"}[f.Mode]
	app := []string{
		"企业名称：" + e.Name,
		"统一社会信用代码：" + e.USCC,
		"住所：" + e.Address,
		"法定代表人（负责人）：" + e.LegalRep,
		"申请事项：" + what + "（" + mode + "）",
		fmt.Sprintf("歇业期限：自%s起至%s止", f.StartDate, f.EndDate),
		"歇业原因：" + f.Reason,
		"歇业期间法律文书送达地址：" + f.ServiceAddress,
	}
	if a := f.Agent; a != nil {
		app = append(app, fmt.Sprintf("委托代理人：%s（%s %s），手机 %s", a.Name, a.IDType, a.IDMasked, a.Mobile))
	}
	var names []string
	for _, d := range f.Departments {
		if dep, ok := departments.ByCode(d.Code); ok {
			names = append(names, dep.Name)
		}
	}
	if len(names) > 0 {
		app = append(app, "一并办理："+strings.Join(names, "、"))
	}
	var signers []string
	for _, p := range f.Persons {
		signers = append(signers, roles[p.Role][0]+" "+p.Name+"（"+p.IDMasked+"）")
	}
	if len(signers) > 0 {
		app = append(app, "签署人员："+strings.Join(signers, "；"))
	}
	out := []material{
		{Key: "application", Title: "市场主体" + what + "申请书", TitleEn: "Application for " + map[bool]string{true: "a suspension extension", false: "suspension filing"}[f.Kind == "extension"], Lines: app},
		{Key: "commitment", Title: "歇业备案承诺书", TitleEn: "Suspension commitment", Lines: []string{
			"本市场主体" + e.Name + "承诺：",
			"一、歇业期间不从事经营活动；歇业期间开展经营活动的，视为恢复营业，将依法通过国家企业信用信息公示系统向社会公示。",
			"二、歇业期间以" + f.ServiceAddress + "作为法律文书送达地址，并依法履行年度报告等义务。",
			"三、已妥善处理债权债务和劳动关系，未因歇业损害他人合法权益。",
		}},
		{Key: "authenticity", Title: "材料真实性承诺书", TitleEn: "Statement that the materials are true", Lines: []string{
			"申请人承诺所提交的申请材料及填报信息真实、合法、有效，复印件与原件一致，并对因材料虚假所引发的一切后果承担法律责任。",
		}},
	}
	for _, d := range f.Departments {
		dep, ok := departments.ByCode(d.Code)
		if !ok {
			continue
		}
		lines := []string{}
		for _, fl := range dep.Fields {
			if v, ok := d.Form[fl.Key]; ok {
				if fl.Kind == "yesno" {
					v = map[string]string{"yes": "是", "no": "否"}[v]
				}
				lines = append(lines, fl.Label+"："+v)
			}
		}
		out = append(out, material{Key: d.Code, Title: dep.Name + "部门信息表", TitleEn: dep.NameEn + " form", Lines: lines})
	}
	return out
}

// digestOf is the SM3 digest of the materials' canonical JSON: what a
// signature covers. Any change to the application changes it.
func digestOf(ms []material) string {
	b, _ := json.Marshal(ms)
	sum := sm3.Sum(b)
	return hex.EncodeToString(sum[:])
}
