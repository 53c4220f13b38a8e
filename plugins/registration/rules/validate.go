package rules

import (
	"fmt"
	"strconv"
	"time"
)

// Violation is one broken rule.
type Violation struct {
	// Rule is the rule's id: "A-<module>" (cluster A of registration-1.md),
	// then the §3 rule number ("A-2 R4"), or for a rule §3 does not number
	// the item of the module in the source specification ("A-3 [1]"), or
	// "ID" for the identity documents the module collects ("A-2 ID").
	Rule string `json:"rule"`
	// Field is the path of the offending field, relative to the application,
	// with JSON names: "shareholders[1].instalments".
	Field string `json:"field"`
	// Message is the message shown to the applicant, by language:
	// "zh-CN" and "en".
	Message map[string]string `json:"message"`
}

// Rule ids.
const (
	RuleLegalRepPosition = "A-1 [2]"  // legal representative: a director executing company affairs or the manager
	RuleAppointment      = "A-1 R1"   // appointment method by position and company type
	RuleLegacy           = "A-1 R2"   // legacy values only for legacy enterprises
	RuleLegalRepID       = "A-1 ID"   // legal representative's ID number
	RuleMemberPositions  = "A-2 [1]"  // main members' position dictionary
	RuleDirectors        = "A-2 R4"   // director count and chairman by board
	RuleSupervisors      = "A-2 R5"   // supervisor count by supervision form
	RuleMemberID         = "A-2 ID"   // main members' ID numbers
	RuleContribution     = "A-3 [1]"  // contribution time within five years; registered capital = subscriptions
	RuleInstalments      = "A-3 R7"   // instalments sum to the subscribed contribution
	RulePromoters        = "A-3 R8"   // one or more shareholders/promoters (no longer two)
	RuleShareholderID    = "A-3 ID"   // shareholders' ID numbers and USCCs
	RuleCompanyType      = "A-4"      // company type dictionary
	RuleIndividualBiz    = "A-4 R11"  // no individual business as shareholder or promoter
	RuleTransferor       = "A-7 R13"  // transferor among the registered shareholders
	RuleJointVenture     = "A-18 R17" // JV/co-operative: type and highest authority with main members
	RuleCapitalReduction = "A-25 R22" // capital reduction only after the announcement period
)

// Validate checks an application against the rules of cluster A (New
// Company Law adaptations) and returns every violation, in a fixed order:
// by rule in the order below, then by position in the application. It
// never stops at the first violation; nil means the application passes.
func Validate(app Application) []Violation {
	var out []Violation
	for _, check := range [...]func(Application) []Violation{
		checkCompanyType,
		checkLegacy,
		checkLegalRepPosition,
		checkAppointmentMethod,
		checkMemberPositions,
		checkDirectors,
		checkSupervisors,
		checkShareholderCount,
		checkIndividualBusiness,
		checkInstalments,
		checkContributionTerm,
		checkRegisteredCapital,
		checkIDs,
		checkTransferors,
		checkJointVentureChange,
		checkCapitalReduction,
	} {
		out = append(out, check(app)...)
	}
	return out
}

func violation(rule, field, zh, en string) Violation {
	return Violation{Rule: rule, Field: field, Message: map[string]string{"zh-CN": zh, "en": en}}
}

func index(path string, i int) string { return path + "[" + strconv.Itoa(i) + "]" }

// yuan formats an amount in fen as yuan with thousands separators:
// 100000000 → "1,000,000"; 150 → "1.50".
func yuan(fen int64) string {
	sign := ""
	if fen < 0 {
		sign, fen = "-", -fen
	}
	s := strconv.FormatInt(fen/100, 10)
	for i := len(s) - 3; i > 0; i -= 3 {
		s = s[:i] + "," + s[i:]
	}
	if c := fen % 100; c != 0 {
		s += fmt.Sprintf(".%02d", c)
	}
	return sign + s
}

// day is a calendar date; times of day and zones are dropped.
func day(t time.Time) time.Time {
	y, m, d := t.Date()
	return time.Date(y, m, d, 0, 0, 0, 0, time.UTC)
}

func ymd(t time.Time) string { return t.Format("2006-01-02") }
