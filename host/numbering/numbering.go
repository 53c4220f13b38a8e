// Package numbering hands out official-document numbers (文号) such as
// 沪市监浦罚〔2026〕12号: one sequence per rule, organisation and year.
//
// A number is taken inside the caller's transaction by incrementing the
// sequence row (the UPDATE holds the row lock until commit), so a number is
// consumed only if the document that carries it is committed: numbers are
// unique and gap-free under any concurrency. Prepare creates the row outside
// the transaction beforehand, so that concurrent first allocations never race
// to insert it.
package numbering

import (
	"context"
	"errors"
	"fmt"
	"regexp"
	"strconv"
	"strings"

	"github.com/shanghai-amr/portal/host/store/ent"
	"github.com/shanghai-amr/portal/host/store/ent/numbersequence"
)

// Rule is a numbering pattern. Placeholders:
//
//	{区}      the organisation's district abbreviation (浦 for 浦东新区; empty for the city bureau)
//	{年}      the year
//	{序号}    the sequence number; {序号:4} pads it with zeros to four digits
//	{机构}    the organisation code
type Rule struct {
	Key     string // stable identifier of the sequence, e.g. enforcement.penalty_decision
	Pattern string
}

var (
	placeholder = regexp.MustCompile(`\{([^{}]*)\}`)
	keyPattern  = regexp.MustCompile(`^[a-z][a-z0-9_.\-]{1,127}$`)
)

// ErrBadRule reports a rule that cannot be used.
var ErrBadRule = errors.New("numbering: bad rule")

// Check validates a rule: a key, and a pattern with exactly one {序号} and only
// known placeholders.
func (r Rule) Check() error {
	if !keyPattern.MatchString(r.Key) {
		return fmt.Errorf("%w: key %q", ErrBadRule, r.Key)
	}
	seq := 0
	for _, m := range placeholder.FindAllStringSubmatch(r.Pattern, -1) {
		name, arg, _ := strings.Cut(m[1], ":")
		switch name {
		case "区", "年", "机构":
			if arg != "" {
				return fmt.Errorf("%w: {%s} takes no width", ErrBadRule, name)
			}
		case "序号":
			seq++
			if arg != "" {
				if w, err := strconv.Atoi(arg); err != nil || w < 1 || w > 12 {
					return fmt.Errorf("%w: {序号:%s}: width 1–12", ErrBadRule, arg)
				}
			}
		default:
			return fmt.Errorf("%w: unknown placeholder {%s} in %q", ErrBadRule, m[1], r.Pattern)
		}
	}
	if seq != 1 {
		return fmt.Errorf("%w: %q needs exactly one {序号}", ErrBadRule, r.Pattern)
	}
	if len(r.Pattern) > 120 {
		return fmt.Errorf("%w: pattern longer than 120 bytes", ErrBadRule)
	}
	return nil
}

// Format fills the pattern.
func (r Rule) Format(s Scope, year int, seq int64) string {
	return placeholder.ReplaceAllStringFunc(r.Pattern, func(m string) string {
		name, arg, _ := strings.Cut(m[1:len(m)-1], ":")
		switch name {
		case "区":
			return DistrictAbbrev(s.DivisionCode)
		case "年":
			return strconv.Itoa(year)
		case "机构":
			return s.OrgCode
		case "序号":
			if arg != "" {
				w, _ := strconv.Atoi(arg)
				return fmt.Sprintf("%0*d", w, seq)
			}
			return strconv.FormatInt(seq, 10)
		}
		return m
	})
}

// Scope is the organisation a sequence belongs to.
type Scope struct {
	OrgCode      string
	DivisionCode string // GB/T 2260 code of the organisation's district
}

// Number is one allocated number.
type Number struct {
	Text string
	Seq  int64
	Year int
}

// Prepare makes sure the sequence row exists, in its own short statement. Call
// it before the transaction that calls Next.
func Prepare(ctx context.Context, client *ent.Client, r Rule, s Scope, year int) error {
	if err := r.Check(); err != nil {
		return err
	}
	return client.NumberSequence.Create().SetRule(r.Key).SetScope(s.OrgCode).SetYear(year).SetLast(0).
		OnConflictColumns(numbersequence.FieldRule, numbersequence.FieldScope, numbersequence.FieldYear).
		Ignore().Exec(ctx)
}

// Next takes the next number of a sequence inside tx. It creates the sequence
// row if Prepare was not called (safe on SQLite, whose write transactions are
// serialised; on MySQL concurrent first inserts may deadlock, which Prepare
// avoids).
func Next(ctx context.Context, tx *ent.Tx, r Rule, s Scope, year int) (Number, error) {
	if err := r.Check(); err != nil {
		return Number{}, err
	}
	if s.OrgCode == "" || year < 1949 || year > 9999 {
		return Number{}, fmt.Errorf("%w: organisation code and a year are required", ErrBadRule)
	}
	bump := func() (int, error) {
		return tx.NumberSequence.Update().
			Where(numbersequence.Rule(r.Key), numbersequence.Scope(s.OrgCode), numbersequence.Year(year)).
			AddLast(1).Save(ctx)
	}
	n, err := bump()
	if err != nil {
		return Number{}, err
	}
	if n == 0 {
		if err := tx.NumberSequence.Create().SetRule(r.Key).SetScope(s.OrgCode).SetYear(year).SetLast(0).
			OnConflictColumns(numbersequence.FieldRule, numbersequence.FieldScope, numbersequence.FieldYear).
			Ignore().Exec(ctx); err != nil {
			return Number{}, err
		}
		if _, err := bump(); err != nil {
			return Number{}, err
		}
	}
	row, err := tx.NumberSequence.Query().
		Where(numbersequence.Rule(r.Key), numbersequence.Scope(s.OrgCode), numbersequence.Year(year)).Only(ctx)
	if err != nil {
		return Number{}, err
	}
	return Number{Text: r.Format(s, year, row.Last), Seq: row.Last, Year: year}, nil
}

// Current returns the last number handed out (0 if none).
func Current(ctx context.Context, client *ent.Client, r Rule, orgCode string, year int) (int64, error) {
	row, err := client.NumberSequence.Query().
		Where(numbersequence.Rule(r.Key), numbersequence.Scope(orgCode), numbersequence.Year(year)).Only(ctx)
	if ent.IsNotFound(err) {
		return 0, nil
	}
	if err != nil {
		return 0, err
	}
	return row.Last, nil
}

// districtAbbrev is the one-character abbreviation Shanghai's district bureaus
// use in document numbers, by GB/T 2260 code.
var districtAbbrev = map[string]string{
	"310101": "黄", "310104": "徐", "310105": "长", "310106": "静", "310107": "普", "310109": "虹",
	"310110": "杨", "310112": "闵", "310113": "宝", "310114": "嘉", "310115": "浦", "310116": "金",
	"310117": "松", "310118": "青", "310120": "奉", "310151": "崇",
}

// DistrictAbbrev returns the abbreviation for a district code, or "" (the city
// bureau, or an unknown code).
func DistrictAbbrev(divisionCode string) string { return districtAbbrev[divisionCode] }
