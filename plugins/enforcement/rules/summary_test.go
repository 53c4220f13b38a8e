package rules

import (
	"errors"
	"strings"
	"testing"
)

func TestCheckSummaryPenalty(t *testing.T) {
	const yuan = 100 // fen
	for _, tc := range []struct {
		name    string
		kind    PartyKind
		warning bool
		fine    int64
		want    error
		says    string
	}{
		{"第五十一条 a warning alone", Citizen, true, 0, nil, ""},
		{"第五十一条 a citizen, 200 yuan: the limit itself", Citizen, false, 200 * yuan, nil, ""},
		{"第五十一条 a citizen, 200.01 yuan", Citizen, false, 200*yuan + 1, ErrSummaryFineOverLimit, "对公民当场罚款不得超过200元"},
		{"第五十一条 a citizen, 201 yuan with a warning", Citizen, true, 201 * yuan, ErrSummaryFineOverLimit, "本案拟罚款201元"},
		{"第五十一条 an organisation, 3,000 yuan: the limit itself", Organisation, false, 3000 * yuan, nil, ""},
		{"第五十一条 an organisation, warning and 3,000 yuan", Organisation, true, 3000 * yuan, nil, ""},
		{"第五十一条 an organisation, 3,001 yuan", Organisation, false, 3001 * yuan, ErrSummaryFineOverLimit, "对法人或者其他组织当场罚款不得超过3000元（《中华人民共和国行政处罚法》第五十一条）"},
		{"第五十一条 a citizen fined an organisation's 3,000 yuan", Citizen, false, 3000 * yuan, ErrSummaryFineOverLimit, "应当适用普通程序"},
		{"neither warning nor fine", Organisation, false, 0, ErrSummaryNoPenalty, "至少选择一项"},
		{"a negative fine", Citizen, true, -1, ErrSummaryNoPenalty, ""},
		{"an unknown kind of party", PartyKind("company"), true, 0, ErrSummaryPartyKind, ""},
	} {
		t.Run(tc.name, func(t *testing.T) {
			err := CheckSummaryPenalty(tc.kind, tc.warning, tc.fine)
			if tc.want == nil {
				if err != nil {
					t.Fatalf("refused: %v", err)
				}
				return
			}
			if !errors.Is(err, tc.want) || !strings.Contains(err.Error(), tc.says) {
				t.Fatalf("got %v, want %v saying %q", err, tc.want, tc.says)
			}
		})
	}
	// The English message names the limit too.
	var e *Error
	if err := CheckSummaryPenalty(Organisation, false, 5000*yuan); !errors.As(err, &e) || !strings.Contains(e.Message("en"), "at most 3000 yuan (Administrative Penalty Law, article 51)") {
		t.Fatalf("English message: %v", err)
	}
	if SummaryOfficers != 2 {
		t.Fatal("第四十二条: at least two officers")
	}
}

func TestCheckBasis(t *testing.T) {
	for _, tc := range []struct {
		in string
		ok bool
	}{
		{"《中华人民共和国价格法》第十三条第一款", true},
		{"《明码标价和禁止价格欺诈规定》 第五条", true},
		{"《中华人民共和国价格法》/第四十二条", true},
		{"《中华人民共和国食品安全法》第34条", true},
		{"《中华人民共和国价格法》第十三条|《明码标价和禁止价格欺诈规定》第五条", true},
		{"价格法第十三条", false},              // R-STD-2 b: the name in 书名号
		{"《中华人民共和国价格法》，第十三条", false},    // c: only a space or "/" between
		{"《中华人民共和国价格法》第十三条|第五条", false}, // a: every provision names its law
		{"《中华人民共和国价格法》", false},         // c: the article
		{"", false},
	} {
		if err := CheckBasis(tc.in); (err == nil) != tc.ok {
			t.Errorf("R-STD-2 CheckBasis(%q) = %v, want ok=%v", tc.in, err, tc.ok)
		}
	}
}
