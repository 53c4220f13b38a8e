package dict

// Defaults are the dictionaries every portal starts with; administrators may
// change them (Seed never overwrites).
func Defaults() []Dictionary {
	districts := []struct{ code, zh, en string }{
		{"310101", "黄浦区", "Huangpu"}, {"310104", "徐汇区", "Xuhui"}, {"310105", "长宁区", "Changning"},
		{"310106", "静安区", "Jing'an"}, {"310107", "普陀区", "Putuo"}, {"310109", "虹口区", "Hongkou"},
		{"310110", "杨浦区", "Yangpu"}, {"310112", "闵行区", "Minhang"}, {"310113", "宝山区", "Baoshan"},
		{"310114", "嘉定区", "Jiading"}, {"310115", "浦东新区", "Pudong New Area"}, {"310116", "金山区", "Jinshan"},
		{"310117", "松江区", "Songjiang"}, {"310118", "青浦区", "Qingpu"}, {"310120", "奉贤区", "Fengxian"},
		{"310151", "崇明区", "Chongming"},
	}
	d := Dictionary{Key: "district", Title: map[string]string{"zh-CN": "上海市行政区划", "en": "Districts of Shanghai"}}
	for _, x := range districts {
		d.Items = append(d.Items, Item{Value: x.code, Label: map[string]string{"zh-CN": x.zh, "en": x.en}})
	}
	sources := Dictionary{Key: "case_source", Title: map[string]string{"zh-CN": "案件线索来源", "en": "Sources of case leads"},
		Items: []Item{
			{"inspection", map[string]string{"zh-CN": "监督检查发现", "en": "Found in an inspection"}},
			{"complaint", map[string]string{"zh-CN": "投诉举报", "en": "Complaint or report"}},
			{"assigned", map[string]string{"zh-CN": "上级交办", "en": "Assigned by a higher authority"}},
			{"transfer", map[string]string{"zh-CN": "部门移送", "en": "Transferred by another department"}},
			{"monitoring", map[string]string{"zh-CN": "监测发现", "en": "Found by monitoring"}},
			{"other", map[string]string{"zh-CN": "其他", "en": "Other"}},
		}}
	return []Dictionary{d, sources}
}
