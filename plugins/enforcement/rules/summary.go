package rules

import (
	"fmt"
	"regexp"
	"strings"
)

// The summary procedure (简易程序, 当场处罚; §1.0 "Summary procedure on-site
// flow", C2 modules 1123–1126). The digest gives the flow and R-PAY-8 but
// not the statutory limits; they are the law's:
//
//	行政处罚法 第五十一条: "违法事实确凿并有法定依据，对公民处以二百元以下、对法人或者其他组织
//	处以三千元以下罚款或者警告的行政处罚的，可以当场作出行政处罚决定。法律另有规定的，从其规定。"
//	第四十二条: "执法人员不得少于两人，法律另有规定的除外。"
//	第五十二条: "执法人员当场作出行政处罚决定的，应当向当事人出示执法证件，填写预定格式、编有号码的
//	行政处罚决定书，并当场交付当事人。…执法人员当场作出的行政处罚决定，应当报所属行政机关备案。"
//
// "法律另有规定的，从其规定" (other laws with other limits) is not modelled:
// the market-regulation laws applied here give none.

// PartyKind is who a summary penalty is imposed on: the limits differ.
type PartyKind string

const (
	// Citizen is a natural person (公民).
	Citizen PartyKind = "person"
	// Organisation is a legal person or other organisation (法人或者其他组织).
	Organisation PartyKind = "organisation"
)

const (
	// SummaryFineLimitCitizenFen: "对公民处以二百元以下…罚款" (第五十一条).
	SummaryFineLimitCitizenFen int64 = 200 * 100
	// SummaryFineLimitOrganisationFen: "对法人或者其他组织处以三千元以下罚款"
	// (第五十一条).
	SummaryFineLimitOrganisationFen int64 = 3000 * 100
	// SummaryOfficers: "执法人员不得少于两人" (第四十二条); the on-site
	// decision names both, with their certificate numbers (第五十二条).
	SummaryOfficers = 2
)

// Refusals of a summary penalty.
var (
	ErrSummaryFineOverLimit = &Error{Code: "rules.summary.fine_over_limit", ZH: "超出简易程序的罚款限额", EN: "over the summary procedure's fine limit"}
	ErrSummaryNoPenalty     = &Error{Code: "rules.summary.no_penalty", ZH: "简易程序只能给予警告或者罚款，至少选择一项", EN: "a summary penalty is a warning or a fine; give at least one"}
	ErrSummaryPartyKind     = &Error{Code: "rules.summary.party_kind", ZH: "当事人类型应为公民（person）或者法人、其他组织（organisation）", EN: "the party is a person or an organisation"}
)

// SummaryFineLimit is the highest fine, in fen, that may be imposed on the
// spot on a party of kind k (第五十一条).
func SummaryFineLimit(k PartyKind) (int64, error) {
	switch k {
	case Citizen:
		return SummaryFineLimitCitizenFen, nil
	case Organisation:
		return SummaryFineLimitOrganisationFen, nil
	}
	return 0, ErrSummaryPartyKind
}

// CheckSummaryPenalty checks a penalty decided on the spot: a warning, a fine
// of at most the limit for the party's kind, or both; anything more needs the
// general procedure (普通程序). The error names the limit and the article.
func CheckSummaryPenalty(k PartyKind, warning bool, fineFen int64) error {
	limit, err := SummaryFineLimit(k)
	if err != nil {
		return err
	}
	if fineFen < 0 || (!warning && fineFen == 0) {
		return ErrSummaryNoPenalty
	}
	if fineFen > limit {
		who, whoEN := "公民", "a citizen"
		if k == Organisation {
			who, whoEN = "法人或者其他组织", "a legal person or other organisation"
		}
		return ErrSummaryFineOverLimit.with(
			fmt.Sprintf("对%s当场罚款不得超过%s元（《中华人民共和国行政处罚法》第五十一条），本案拟罚款%s元，应当适用普通程序", who, yuan(limit), yuan(fineFen)),
			fmt.Sprintf("on the spot %s may be fined at most %s yuan (Administrative Penalty Law, article 51); %s yuan needs the general procedure", whoEN, yuan(limit), yuan(fineFen)))
	}
	return nil
}

// yuan prints fen as yuan: 3000, 200.50.
func yuan(fen int64) string {
	if fen%100 == 0 {
		return fmt.Sprint(fen / 100)
	}
	return fmt.Sprintf("%d.%02d", fen/100, fen%100)
}

// ErrBasisFormat: a provision is not written the way R-STD-2 reads it.
var ErrBasisFormat = &Error{Code: "rules.basis.format", ZH: "法律依据格式不正确", EN: "the legal provision is not in the expected form"}

// provision is R-STD-2 [1297] a–c: the first pair of 书名号 holds the law's
// name, followed — separated by nothing, a space or "/" — by "第X条".
var provision = regexp.MustCompile(`^《[^《》]+》[ /]?第[0-9一二三四五六七八九十百千零〇]+条`)

// CheckBasis checks legal provisions as entered (违反的规定, 处罚依据): one or
// more separated by "|", each starting with 《法律法规名称》第X条 (R-STD-2).
// The 款, 项 and text after the article are not checked.
func CheckBasis(s string) error {
	for _, p := range strings.Split(s, "|") {
		p = strings.TrimSpace(p)
		if !provision.MatchString(p) {
			return ErrBasisFormat.with(
				fmt.Sprintf("“%s”应以《法律法规名称》第X条开头，多条以“|”分隔（R-STD-2）", p),
				fmt.Sprintf("%q must start with 《name of the law》第X条; separate several with \"|\" (R-STD-2)", p))
		}
	}
	return nil
}
