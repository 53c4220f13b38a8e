package org

import (
	"context"
	"fmt"

	"github.com/shanghai-amr/portal/host/store/ent"
	"github.com/shanghai-amr/portal/host/store/ent/organization"
)

// district is one of Shanghai's 16 districts (GB/T 2260 codes) with three of
// its real sub-districts or towns, after which the demo market stations are named.
type district struct {
	code, name, nameEn string
	stations           [3]string
}

var districts = []district{
	{"310101", "黄浦区", "Huangpu", [3]string{"南京东路", "外滩", "豫园"}},
	{"310104", "徐汇区", "Xuhui", [3]string{"天平路", "徐家汇", "漕河泾"}},
	{"310105", "长宁区", "Changning", [3]string{"华阳路", "新华路", "虹桥"}},
	{"310106", "静安区", "Jing'an", [3]string{"南京西路", "曹家渡", "彭浦"}},
	{"310107", "普陀区", "Putuo", [3]string{"长寿路", "真如", "桃浦"}},
	{"310109", "虹口区", "Hongkou", [3]string{"四川北路", "欧阳路", "江湾"}},
	{"310110", "杨浦区", "Yangpu", [3]string{"五角场", "殷行", "平凉路"}},
	{"310112", "闵行区", "Minhang", [3]string{"莘庄", "七宝", "吴泾"}},
	{"310113", "宝山区", "Baoshan", [3]string{"友谊路", "大场", "罗店"}},
	{"310114", "嘉定区", "Jiading", [3]string{"嘉定镇", "南翔", "安亭"}},
	{"310115", "浦东新区", "Pudong", [3]string{"陆家嘴", "张江", "川沙"}},
	{"310116", "金山区", "Jinshan", [3]string{"朱泾", "枫泾", "山阳"}},
	{"310117", "松江区", "Songjiang", [3]string{"岳阳", "泗泾", "九亭"}},
	{"310118", "青浦区", "Qingpu", [3]string{"夏阳", "朱家角", "徐泾"}},
	{"310120", "奉贤区", "Fengxian", [3]string{"南桥", "庄行", "奉城"}},
	{"310151", "崇明区", "Chongming", [3]string{"城桥", "堡镇", "陈家镇"}},
}

// DemoTree is the demonstration organisation tree: the city bureau with its
// departments, and every district bureau with departments and three stations.
func DemoTree() Node {
	root := Node{Code: "310000", Name: "上海市市场监督管理局", NameEn: "Shanghai Administration for Market Regulation",
		Kind: organization.KindCity, DivisionCode: "310000"}
	for i, d := range []struct{ name, en string }{
		{"办公室", "General Office"}, {"法规处", "Legal Affairs Division"},
		{"登记注册处", "Registration Division"}, {"执法稽查处", "Enforcement Division"},
	} {
		root.Children = append(root.Children, Node{Code: fmt.Sprintf("310000-D%02d", i+1), Name: d.name, NameEn: d.en, Kind: organization.KindDepartment})
	}
	for _, d := range districts {
		n := Node{Code: d.code, Name: d.name + "市场监督管理局", NameEn: d.nameEn + " District Administration for Market Regulation",
			Kind: organization.KindDistrict, DivisionCode: d.code}
		for i, dep := range []struct{ name, en string }{{"法制科", "Legal Section"}, {"登记许可科", "Registration Section"}, {"执法大队", "Enforcement Brigade"}} {
			n.Children = append(n.Children, Node{Code: fmt.Sprintf("%s-D%02d", d.code, i+1), Name: dep.name, NameEn: dep.en, Kind: organization.KindDepartment})
		}
		for i, s := range d.stations {
			n.Children = append(n.Children, Node{Code: fmt.Sprintf("%s-S%02d", d.code, i+1), Name: s + "市场监督管理所",
				Kind: organization.KindStation, DivisionCode: d.code})
		}
		root.Children = append(root.Children, n)
	}
	return root
}

// SeedDemo creates the demo tree when there are no organisations yet. It reports
// whether it created anything.
func SeedDemo(ctx context.Context, client *ent.Client) (bool, error) {
	n, err := client.Organization.Query().Count(ctx)
	if err != nil || n > 0 {
		return false, err
	}
	return true, Create(ctx, client, nil, DemoTree())
}
