package rules

import (
	"errors"
	"strings"

	"github.com/shanghai-amr/portal/sdk/idcode"
)

// checkIndividualBusiness: module 4, R11 — for every company type, no
// shareholder or promoter is an individual business: neither by its declared
// kind nor by its USCC, whose first two characters "92" mark an individual
// business registered by market regulation (GB 32100-2015: 9 = 工商, 2 =
// 个体工商户).
//
//	“增加校验：所有公司类型都增加一个校验：股东或发起人不能是个体工商户。”
func checkIndividualBusiness(app Application) []Violation {
	var out []Violation
	for i, s := range app.Shareholders {
		field := ""
		switch {
		case s.Kind == IndividualBusiness:
			field = index("shareholders", i) + ".kind"
		case s.IDType == USCC && strings.HasPrefix(s.IDNumber, "92"):
			field = index("shareholders", i) + ".idNumber"
		default:
			continue
		}
		out = append(out, violation(RuleIndividualBiz, field,
			"股东或发起人不能是个体工商户（"+s.Name+"）",
			"a shareholder or promoter cannot be an individual business ("+s.Name+")"))
	}
	return out
}

// checkIDs: modules 1–3 — the legal representative, the main members and
// the shareholders carry an identity document (证件类型、证件号码); main members
// and the legal representative are natural persons; a shareholder's document
// fits its kind. Resident ID numbers must pass the GB 11643-1999 check and
// USCCs the GB 32100-2015 check; other documents are checked for presence
// only.
//
//	“法定代表人信息采集……主要成员（董事、监事、经理）调整……股东/发起人信息采集”
//	(modules 1–3; the digest's entities: “LegalRepresentative: name, ID type/no.”)
func checkIDs(app Application) []Violation {
	out := checkID(RuleLegalRepID, "legalRep", app.LegalRep.Person, true)
	for i, m := range app.Members {
		out = append(out, checkID(RuleMemberID, index("members", i), m.Person, true)...)
	}
	for i, s := range app.Shareholders {
		path := index("shareholders", i)
		switch s.Kind {
		case NaturalPerson:
			out = append(out, checkID(RuleShareholderID, path, s.Person, true)...)
		case Enterprise, Organisation, IndividualBusiness:
			out = append(out, checkID(RuleShareholderID, path, s.Person, false)...)
		default:
			out = append(out, violation(RuleShareholderID, path+".kind",
				"股东"+s.Name+"的类型“"+string(s.Kind)+"”不在字典中",
				"kind “"+string(s.Kind)+"” of shareholder "+s.Name+" is not in the dictionary"))
		}
	}
	return out
}

// checkID checks one person's document; natural says whether the person is
// a natural person (personal documents) or an organisation (USCC or proof
// of an overseas entity).
func checkID(rule, path string, p Person, natural bool) []Violation {
	fits := p.IDType.entity()
	if natural {
		fits = p.IDType.personal()
	}
	if !fits {
		zh, en := "组织应当使用统一社会信用代码或境外主体资格证明", "an organisation uses a USCC or proof of an overseas entity"
		if natural {
			zh, en = "自然人应当使用居民身份证、护照等个人证件", "a natural person uses a resident ID card, passport or other personal document"
		}
		return []Violation{violation(rule, path+".idType",
			p.Name+"的证件类型“"+string(p.IDType)+"”不适用："+zh,
			"document type “"+string(p.IDType)+"” does not fit "+p.Name+": "+en)}
	}
	var err error
	var zh, en string
	switch {
	case p.IDNumber == "":
		return []Violation{violation(rule, path+".idNumber",
			p.Name+"的证件号码不能为空", p.Name+"'s document number is missing")}
	case p.IDType == ResidentID:
		err, zh, en = idcode.ValidResidentID(p.IDNumber), "居民身份证号码", "resident ID number"
	case p.IDType == USCC:
		err, zh, en = idcode.ValidUSCC(p.IDNumber), "统一社会信用代码", "unified social credit code"
	}
	if err == nil {
		return nil
	}
	why := label{"校验位不符", "wrong check character"}
	switch {
	case errors.Is(err, idcode.ErrLength):
		why = label{"位数不对", "wrong length"}
	case errors.Is(err, idcode.ErrCharset):
		why = label{"含有不允许的字符", "character not allowed"}
	case errors.Is(err, idcode.ErrDate):
		why = label{"出生日期无效", "birth date is not a real date"}
	}
	return []Violation{violation(rule, path+".idNumber",
		p.Name+"的"+zh+"无效："+why.zh,
		p.Name+"'s "+en+" is invalid: "+why.en)}
}
