package dossier

// The metadata rules (元数据项数据长度、类型、值域、合理性、特殊字符), applied by
// the metadata check to metadata.json and, for the fields an entry supplies,
// by Append:
//
// Special characters, every string: valid UTF-8 (no U+FFFD), no control
// characters (C0, DEL, C1) and no invisible format characters (bidirectional
// overrides, zero-width characters: Unicode category Cf). Free-text fields
// (title, responsible, organisation, author) additionally may not contain
// < > " ' nor start or end with white space.
//
// Dossier level (all required):
//
//	schema          "portal-dossier/1"
//	fonds           1–16 letters or digits (全宗号)
//	archive_code    string, at most 64 characters (its format: the archive_code check)
//	year            integer of 4 digits, from 1949 to the year of date (年度)
//	retention       永久, 定期30年 or 定期10年 (保管期限)
//	retention_code  Y, D30 or D10, matching retention
//	org_code        1–16 letters or digits (机构(问题)代码)
//	organisation    free text, at most 64 characters
//	title           free text, 1–200 characters (题名)
//	responsible     free text, 1–100 characters (责任者)
//	date            YYYY-MM-DD, a real calendar date (日期)
//	kind            1–64 of a-z 0-9 _ . -
//	owner, subject  1–64 and 1–128 characters
//	count           non-negative integer
//	head            "" or 64 lower-case hex digits
//	items           array of objects
//
// Item level:
//
//	seq          positive integer (required)
//	kind         document, evidence or attachment (required)
//	doc_type     1–64 of a-z 0-9 _ (required for a document)
//	title        free text, 1–200 characters (required)
//	version      positive integer (required)
//	parent       positive integer for an attachment, absent or 0 otherwise
//	attachments  non-negative integer (optional)
//	date         YYYY-MM-DD, not after the dossier's date (required)
//	author       free text, at most 100 characters (optional)
//	format       pdf, ofd, jpg, png, xml or txt (required)
//	pages        positive integer (optional)
//	size         non-negative integer (required)
//	sm3          64 lower-case hex digits (required)
//	file         files/…, at most 255 bytes (required)

import (
	"encoding/json"
	"fmt"
	"math"
	"regexp"
	"sort"
	"strconv"
	"strings"
	"time"
	"unicode"
	"unicode/utf8"
)

// Limits and value sets of the metadata.
const (
	SchemaVersion  = "portal-dossier/1"
	maxTitle       = 200
	maxResponsible = 100
	maxAuthor      = 100
	maxOrgName     = 64
	maxFilePath    = 255
	minYear        = 1949
)

// Retention periods (保管期限) and their 档号 codes.
var retentionCodes = map[string]string{"永久": "Y", "定期30年": "D30", "定期10年": "D10"}

// RetentionCode returns the 档号 code of a retention period, or "".
func RetentionCode(retention string) string { return retentionCodes[retention] }

// Entry kinds.
const (
	KindDocument   = "document"
	KindEvidence   = "evidence"
	KindAttachment = "attachment"
)

var entryKinds = map[string]bool{KindDocument: true, KindEvidence: true, KindAttachment: true}

var (
	codePattern    = regexp.MustCompile(`^[0-9A-Za-z]{1,16}$`)
	docTypePattern = regexp.MustCompile(`^[a-z0-9_]{1,64}$`)
	kindPattern    = regexp.MustCompile(`^[a-z0-9_.-]{1,64}$`)
	sm3Pattern     = regexp.MustCompile(`^[0-9a-f]{64}$`)
)

// charProblem describes the first forbidden character in s, or "".
func charProblem(s string, freeText bool) string {
	if !utf8.ValidString(s) {
		return "is not valid UTF-8"
	}
	for i, r := range s {
		switch {
		case r == utf8.RuneError:
			return fmt.Sprintf("contains an invalid character at byte %d", i)
		case unicode.IsControl(r):
			return fmt.Sprintf("contains the control character %U at byte %d", r, i)
		case unicode.Is(unicode.Cf, r):
			return fmt.Sprintf("contains the invisible format character %U at byte %d", r, i)
		case freeText && strings.ContainsRune(`<>"'`, r):
			return fmt.Sprintf("contains the special character %q", r)
		}
	}
	if freeText && s != strings.TrimSpace(s) {
		return "starts or ends with white space"
	}
	return ""
}

// textProblem checks a free-text value of at most max characters.
func textProblem(s string, max int, required bool) string {
	if s == "" {
		if required {
			return "is empty"
		}
		return ""
	}
	if n := utf8.RuneCountInString(s); n > max {
		return fmt.Sprintf("is %d characters long (at most %d)", n, max)
	}
	return charProblem(s, true)
}

// validDate reports whether s is a real calendar date written YYYY-MM-DD.
func validDate(s string) bool {
	if len(s) != 10 {
		return false
	}
	_, err := time.Parse(time.DateOnly, s)
	return err == nil
}

// asInt reads an integer JSON value (json.Number, a float without fraction
// or a Go integer); ok is false for anything else.
func asInt(v any) (int64, bool) {
	switch n := v.(type) {
	case json.Number:
		i, err := strconv.ParseInt(string(n), 10, 64)
		return i, err == nil
	case float64:
		if n != math.Trunc(n) || math.Abs(n) > 1<<53 {
			return 0, false
		}
		return int64(n), true
	case int:
		return int64(n), true
	case int64:
		return n, true
	case int32:
		return int64(n), true
	}
	return 0, false
}

// fieldReader reads typed fields of one JSON object and collects what is
// wrong with them, each problem prefixed with where it is.
type fieldReader struct {
	obj      map[string]any
	where    string // "metadata" or "item 3"
	problems *[]string
}

func (f fieldReader) add(format string, args ...any) {
	*f.problems = append(*f.problems, f.where+": "+fmt.Sprintf(format, args...))
}

// str returns a string field; a missing required field or a value of another
// type is a problem.
func (f fieldReader) str(key string, required bool) (string, bool) {
	v, present := f.obj[key]
	if !present || v == nil {
		if required {
			f.add("%s is missing", key)
		}
		return "", false
	}
	s, ok := v.(string)
	if !ok {
		f.add("%s must be a string, not %s", key, jsonType(v))
		return "", false
	}
	if p := charProblem(s, false); p != "" {
		f.add("%s %s", key, p)
	}
	return s, true
}

// integer returns an integer field, at least min.
func (f fieldReader) integer(key string, required bool, min int64) (int64, bool) {
	v, present := f.obj[key]
	if !present || v == nil {
		if required {
			f.add("%s is missing", key)
		}
		return 0, false
	}
	n, ok := asInt(v)
	if !ok {
		f.add("%s must be an integer, not %s", key, jsonType(v))
		return 0, false
	}
	if n < min {
		f.add("%s is %d (at least %d)", key, n, min)
		return n, false
	}
	return n, true
}

// text checks a free-text field.
func (f fieldReader) text(key string, max int, required bool) string {
	s, ok := f.str(key, required)
	if !ok {
		return ""
	}
	// str has reported control and format characters already.
	if p := charProblem(s, false); p == "" {
		if p := textProblem(s, max, required); p != "" {
			f.add("%s %s", key, p)
		}
	} else if n := utf8.RuneCountInString(s); n > max {
		f.add("%s is %d characters long (at most %d)", key, n, max)
	}
	return s
}

// pattern checks a string field against a pattern.
func (f fieldReader) pattern(key string, re *regexp.Regexp, required bool, want string) string {
	s, ok := f.str(key, required)
	if ok && (s != "" || required) && !re.MatchString(s) {
		f.add("%s %q is not %s", key, clip(s), want)
	}
	return s
}

func jsonType(v any) string {
	switch v.(type) {
	case string:
		return "a string"
	case json.Number, float64, int, int64:
		return "a number"
	case bool:
		return "a boolean"
	case []any:
		return "an array"
	case map[string]any:
		return "an object"
	case nil:
		return "null"
	}
	return fmt.Sprintf("%T", v)
}

// clip shortens a value quoted in a reason.
func clip(s string) string {
	const max = 40
	if utf8.RuneCountInString(s) <= max {
		return s
	}
	r := []rune(s)
	return string(r[:max]) + "…"
}

// metadataProblems applies the metadata rules to a decoded metadata.json.
func metadataProblems(m map[string]any) []string {
	var problems []string
	f := fieldReader{obj: m, where: "metadata", problems: &problems}
	if s, ok := f.str("schema", true); ok && s != SchemaVersion {
		f.add("schema is %q, not %q", clip(s), SchemaVersion)
	}
	f.pattern("fonds", codePattern, true, "1–16 letters or digits")
	if s, ok := f.str("archive_code", true); ok && (s == "" || len(s) > 64) {
		f.add("archive_code must have 1–64 characters")
	}
	date, dateOK := f.str("date", true)
	if dateOK && !validDate(date) {
		f.add("date %q is not a date written YYYY-MM-DD", clip(date))
		dateOK = false
	}
	if y, ok := f.integer("year", true, 0); ok {
		switch {
		case y < 1000 || y > 9999:
			f.add("year %d is not 4 digits", y)
		case y < minYear:
			f.add("year %d is before %d", y, minYear)
		case dateOK && strconv.FormatInt(y, 10) > date[:4]:
			f.add("year %d is after the archiving date %s", y, date)
		}
	}
	retention, ok := f.str("retention", true)
	if ok && retentionCodes[retention] == "" {
		f.add("retention %q is not one of 永久, 定期30年, 定期10年", clip(retention))
	}
	if code, ok := f.str("retention_code", true); ok && retentionCodes[retention] != "" && code != retentionCodes[retention] {
		f.add("retention_code %q does not match retention %s (%s)", clip(code), retention, retentionCodes[retention])
	}
	f.pattern("org_code", codePattern, true, "1–16 letters or digits")
	f.text("organisation", maxOrgName, true)
	f.text("title", maxTitle, true)
	f.text("responsible", maxResponsible, true)
	f.pattern("kind", kindPattern, true, "1–64 of a-z 0-9 _ . -")
	if s, ok := f.str("owner", true); ok && (s == "" || len(s) > 64) {
		f.add("owner must have 1–64 characters")
	}
	if s, ok := f.str("subject", true); ok && (s == "" || len(s) > 128) {
		f.add("subject must have 1–128 characters")
	}
	f.integer("count", true, 0)
	if s, ok := f.str("head", true); ok && s != "" && !sm3Pattern.MatchString(s) {
		f.add("head is not 64 lower-case hex digits")
	}
	raw, present := m["items"]
	items, isArray := raw.([]any)
	switch {
	case !present:
		f.add("items is missing")
	case !isArray:
		f.add("items must be an array, not %s", jsonType(raw))
	}
	for i, v := range items {
		obj, ok := v.(map[string]any)
		where := fmt.Sprintf("item #%d", i+1)
		if ok {
			if seq, ok := asInt(obj["seq"]); ok {
				where = fmt.Sprintf("item %d", seq)
			}
		}
		g := fieldReader{obj: obj, where: where, problems: &problems}
		if !ok {
			g.add("is %s, not an object", jsonType(v))
			continue
		}
		itemProblems(g, date, dateOK)
	}
	return problems
}

// itemProblems applies the item rules; dossierDate bounds the item's date.
func itemProblems(g fieldReader, dossierDate string, haveDate bool) {
	g.integer("seq", true, 1)
	kind, ok := g.str("kind", true)
	if ok && !entryKinds[kind] {
		g.add("kind %q is not document, evidence or attachment", clip(kind))
	}
	g.pattern("doc_type", docTypePattern, kind == KindDocument, "1–64 of a-z 0-9 _")
	g.text("title", maxTitle, true)
	g.integer("version", true, 1)
	if kind == KindAttachment {
		g.integer("parent", true, 1)
	} else if p, ok := g.integer("parent", false, 0); ok && p != 0 {
		g.add("parent is set but the item is not an attachment")
	}
	g.integer("attachments", false, 0)
	if d, ok := g.str("date", true); ok {
		switch {
		case !validDate(d):
			g.add("date %q is not a date written YYYY-MM-DD", clip(d))
		case haveDate && d > dossierDate:
			g.add("date %s is after the archiving date %s", d, dossierDate)
		}
	}
	g.text("author", maxAuthor, false)
	if f, ok := g.str("format", true); ok && !allowedFormats[f] {
		g.add("format %q is not one of %s", clip(f), formatList)
	}
	g.integer("pages", false, 1)
	g.integer("size", true, 0)
	g.pattern("sm3", sm3Pattern, true, "64 lower-case hex digits")
	if p, ok := g.str("file", true); ok && (!strings.HasPrefix(p, "files/") || len(p) > maxFilePath) {
		g.add("file %q must be under files/ and at most %d bytes", clip(p), maxFilePath)
	}
}

// entryMetaProblems applies the item rules an appended entry's meta is
// subject to (date, pages, attachments, author).
func entryMetaProblems(meta map[string]any) []string {
	var problems []string
	g := fieldReader{obj: meta, where: "meta", problems: &problems}
	if d, ok := g.str("date", false); ok && !validDate(d) {
		g.add("date %q is not a date written YYYY-MM-DD", clip(d))
	}
	g.integer("pages", false, 1)
	g.integer("attachments", false, 0)
	g.text("author", maxAuthor, false)
	for k, v := range meta {
		if p := charProblem(k, false); p != "" || k == "" || len(k) > 64 {
			g.add("key %q is not a valid name", clip(k))
		}
		if k == "date" || k == "author" {
			continue // checked above
		}
		if s, ok := v.(string); ok {
			if p := charProblem(s, false); p != "" {
				g.add("%s %s", k, p)
			}
		}
	}
	sort.Strings(problems)
	return problems
}
