package main

// Query parameters of the registry routes: each one checked, each refusal a
// message in both languages (answered 400 registration.invalid).

import (
	"fmt"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/shanghai-amr/portal/plugins/registration/registry"
	"github.com/shanghai-amr/portal/plugins/registration/search"
)

// badInput is a refused parameter: the message for people, in both languages.
type badInput struct{ zh, en string }

func bad(zh, en string, args ...any) *badInput {
	return &badInput{zh: fmt.Sprintf(zh, args...), en: fmt.Sprintf(en, args...)}
}

// The public lookup's paging bounds: it finds an entity by name or code,
// it does not list the registry.
const (
	publicDefaultLimit = 10
	publicMaxLimit     = 20
	publicMaxOffset    = 80
)

// staffParams are the parameters of GET /enterprises.
var staffParams = []string{"q", "district", "status", "kind", "established_from", "established_to", "capital_min", "capital_max", "limit", "offset"}

// publicParams are the parameters of the public lookup.
var publicParams = []string{"q", "limit", "offset"}

// staffQuery reads GET /enterprises's parameters:
//
//	q                 code, name fragment, former name or pinyin initials (≤ 60 characters)
//	district          district codes or names (310115, 浦东新区, 浦东); repeated or comma-separated
//	status            status labels (存续, 在业, 歇业, 吊销, 注销, 迁出, 撤销); repeated or comma-separated
//	kind              kind labels of the registration dictionary (个体工商户, 有限责任公司（自然人独资）…)
//	established_from  YYYY-MM-DD, inclusive
//	established_to    YYYY-MM-DD, inclusive
//	capital_min       registered capital in fen, inclusive
//	capital_max       registered capital in fen, inclusive
//	limit             1–100, default 20
//	offset            0–1000, default 0
func staffQuery(v url.Values) (search.Query, *badInput) {
	var q search.Query
	if err := onlyParams(v, staffParams); err != nil {
		return q, err
	}
	var err *badInput
	if q.Text, err = queryText(v, 0); err != nil {
		return q, err
	}
	for _, s := range listParam(v, "district") {
		d, perr := registry.ParseDistrict(s)
		if perr != nil {
			return q, bad("不是上海市的区：%s", "Not a Shanghai district: %s", s)
		}
		q.Districts = append(q.Districts, d)
	}
	for _, s := range listParam(v, "status") {
		st, perr := registry.ParseStatus(s)
		if perr != nil {
			return q, bad("未知的登记状态：%s（可选：存续、在业、歇业、吊销、注销、迁出、撤销）",
				"Unknown status %s (存续, 在业, 歇业, 吊销, 注销, 迁出 or 撤销)", s)
		}
		q.Statuses = append(q.Statuses, st)
	}
	for _, s := range listParam(v, "kind") {
		var k registry.Kind
		if k.UnmarshalText([]byte(s)) != nil {
			return q, bad("未知的市场主体类型：%s", "Unknown kind of entity: %s", s)
		}
		q.Kinds = append(q.Kinds, k)
	}
	if q.EstablishedFrom, err = dateParam(v, "established_from"); err != nil {
		return q, err
	}
	if q.EstablishedTo, err = dateParam(v, "established_to"); err != nil {
		return q, err
	}
	if !q.EstablishedFrom.IsZero() && !q.EstablishedTo.IsZero() && q.EstablishedFrom.After(q.EstablishedTo) {
		return q, bad("成立日期的起始日期晚于截止日期", "established_from is after established_to")
	}
	if q.CapitalMin, err = fenParam(v, "capital_min"); err != nil {
		return q, err
	}
	if q.CapitalMax, err = fenParam(v, "capital_max"); err != nil {
		return q, err
	}
	if q.CapitalMax > 0 && q.CapitalMin > q.CapitalMax {
		return q, bad("注册资本下限大于上限", "capital_min is greater than capital_max")
	}
	if q.Limit, err = intParam(v, "limit", search.DefaultLimit, 1, search.MaxLimit); err != nil {
		return q, err
	}
	q.Offset, err = intParam(v, "offset", 0, 0, search.MaxOffset)
	return q, err
}

// publicQuery reads the public lookup's parameters: q (a name of at least
// two characters, or a code), limit 1–20 (default 10), offset 0–80.
func publicQuery(v url.Values) (search.Query, *badInput) {
	var q search.Query
	if err := onlyParams(v, publicParams); err != nil {
		return q, err
	}
	var err *badInput
	if q.Text, err = queryText(v, 2); err != nil {
		return q, err
	}
	if q.Limit, err = intParam(v, "limit", publicDefaultLimit, 1, publicMaxLimit); err != nil {
		return q, err
	}
	q.Offset, err = intParam(v, "offset", 0, 0, publicMaxOffset)
	return q, err
}

// onlyParams refuses a parameter the route does not know (a misspelt filter
// would otherwise be ignored in silence) and a repeated single-valued one.
func onlyParams(v url.Values, known []string) *badInput {
	for name, vals := range v {
		if !slices.Contains(known, name) {
			return bad("不支持的查询参数：%s", "Unknown query parameter: %s", name)
		}
		if len(vals) > 1 && !multiValued(name) {
			return bad("查询参数 %s 只能给一次", "The query parameter %s may be given once", name)
		}
	}
	return nil
}

func multiValued(name string) bool { return name == "district" || name == "status" || name == "kind" }

// queryText is q, trimmed; at least minRunes characters when minRunes > 0,
// at most search.MaxQueryRunes after normalisation.
func queryText(v url.Values, minRunes int) (string, *badInput) {
	q := strings.TrimSpace(v.Get("q"))
	n := utf8.RuneCountInString(search.Normalize(q))
	switch {
	case n > search.MaxQueryRunes:
		return "", bad("查询条件过长（最多%d个字）", "The query is too long (at most %d characters)", search.MaxQueryRunes)
	case minRunes > 0 && n < minRunes:
		return "", bad("请输入企业名称（至少%d个字）或统一社会信用代码", "Give a name (at least %d characters) or a unified social credit code", minRunes)
	}
	return q, nil
}

// listParam is every value of a list parameter, repeated or comma-separated
// (full-width commas too), blanks dropped.
func listParam(v url.Values, name string) []string {
	var out []string
	for _, s := range v[name] {
		for _, part := range strings.FieldsFunc(s, func(r rune) bool { return r == ',' || r == '，' || r == '、' }) {
			if part = strings.TrimSpace(part); part != "" {
				out = append(out, part)
			}
		}
	}
	return out
}

func dateParam(v url.Values, name string) (time.Time, *badInput) {
	s := strings.TrimSpace(v.Get(name))
	if s == "" {
		return time.Time{}, nil
	}
	t, err := time.ParseInLocation(time.DateOnly, s, registry.CST)
	if err != nil {
		return time.Time{}, bad("%s 应为日期，格式 YYYY-MM-DD", "%s must be a date, YYYY-MM-DD", name)
	}
	return t, nil
}

// fenParam is an amount of money in fen (分), 0 or more; 0 when absent.
func fenParam(v url.Values, name string) (int64, *badInput) {
	s := strings.TrimSpace(v.Get(name))
	if s == "" {
		return 0, nil
	}
	n, err := strconv.ParseInt(s, 10, 64)
	if err != nil || n < 0 {
		return 0, bad("%s 应为不小于0的整数，单位为分", "%s must be a whole number of fen, 0 or more", name)
	}
	return n, nil
}

func intParam(v url.Values, name string, def, lo, hi int) (int, *badInput) {
	s := strings.TrimSpace(v.Get(name))
	if s == "" {
		return def, nil
	}
	n, err := strconv.Atoi(s)
	if err != nil || n < lo || n > hi {
		return 0, bad("%s 应为 %d 到 %d 之间的整数", "%s must be a whole number from %d to %d", name, lo, hi)
	}
	return n, nil
}
