package search

import (
	"strings"
	"unicode"
	"unicode/utf8"

	"golang.org/x/text/width"

	"github.com/shanghai-amr/portal/plugins/registration/registry"
)

// Normalize folds a name or a query for matching:
//   - full-width forms to half-width (golang.org/x/text/width), so ＡＢＣ is
//     abc and （上海） is (上海);
//   - every bracket — （）【】〔〕［］｛｝[]{} — to ( and );
//   - Latin letters to lower case;
//   - white space, the ideographic space and control characters removed.
//
// Chinese characters are kept as they are.
func Normalize(s string) string { return string(appendNorm(nil, s)) }

func appendNorm(dst []byte, s string) []byte {
	for _, r := range s {
		r = foldRune(r)
		if r < 0 {
			continue
		}
		dst = utf8.AppendRune(dst, r)
	}
	return dst
}

// foldRune maps one rune; -1 drops it.
func foldRune(r rune) rune {
	switch {
	case r >= 0x4E00 && r <= 0x9FFF: // CJK unified ideographs, the common case
		return r
	case r < 0x80:
		switch {
		case r >= 'A' && r <= 'Z':
			return r + 'a' - 'A'
		case r <= ' ' || r == 0x7F:
			return -1
		case r == '[' || r == '{':
			return '('
		case r == ']' || r == '}':
			return ')'
		}
		return r
	}
	switch r {
	case '【', '〔', '〖', '［', '｛', '「', '『', '﹝', '⦅':
		return '('
	case '】', '〕', '〗', '］', '｝', '」', '』', '﹞', '⦆':
		return ')'
	case '\u3000', '\u00a0', '\u200b', '\ufeff':
		return -1
	}
	if f := width.LookupRune(r).Folded(); f != 0 {
		return foldRune(f)
	}
	if unicode.IsSpace(r) || unicode.IsControl(r) {
		return -1
	}
	return r
}

// Parts of a normalised name: [0, coreLo) is the region (上海, 上海市浦东新区
// 张江镇 …), [coreLo, coreHi) the core — trade name (字号) and industry
// expression — and [coreHi, end) the organisation form (有限公司, 股份有限公司
// …, including a branch tail such as 有限公司徐汇区分公司).

var (
	regionHeads  = []string{"上海市", "上海"}
	districtTok  []string            // full names, then short ones
	districtFull []string            // full names
	townTok      map[string][]string // district full name → its towns, full and short names
	// legalForms are organisation forms; the first one found after the
	// region starts the suffix.
	legalForms = []string{"股份有限公司", "有限责任公司", "有限公司", "合伙企业", "专业合作社", "个人独资企业"}
	// tailForms end a name when none of legalForms occurs.
	tailForms = []string{"分公司", "公司", "厂", "个体工商户"}
	// regionMarks are region marks inside a core; they score as region and
	// do not count for pinyin initials.
	regionMarks = []string{"(上海)", "(中国)"}
)

func init() {
	townTok = map[string][]string{}
	for _, d := range registry.Districts {
		districtTok = append(districtTok, d.Name())
		districtFull = append(districtFull, d.Name())
		var ts []string
		for _, t := range registry.Towns(d) {
			ts = append(ts, t)
			for _, suf := range []string{"新村街道", "街道", "新镇", "镇", "乡"} {
				if s, ok := strings.CutSuffix(t, suf); ok && len(s) >= 6 {
					ts = append(ts, s)
					break
				}
			}
		}
		townTok[d.Name()] = ts
	}
	for _, d := range registry.Districts {
		districtTok = append(districtTok, d.Short())
	}
}

func cutAny(s string, toks []string) (string, bool) {
	best := ""
	for _, t := range toks {
		if len(t) > len(best) && strings.HasPrefix(s, t) {
			best = t
		}
	}
	return s[len(best):], best != ""
}

// splitName finds the core of a normalised name.
func splitName(n string) (coreLo, coreHi int) {
	rest := n
	if r, ok := cutAny(rest, regionHeads); ok {
		rest = r
	}
	if r, ok := cutAny(rest, districtFull); ok {
		// Individual businesses name their town: 浦东新区张江镇…, 上海浦东新区张江…
		d := rest[:len(rest)-len(r)]
		rest = r
		if r, ok := cutAny(rest, townTok[d]); ok && r != "" {
			rest = r
		}
	} else if r, ok := cutAny(rest, districtTok); ok {
		rest = r // 上海浦东…: a company; what follows is its trade name
	}
	coreLo = len(n) - len(rest)
	coreHi = len(n)
	found := false
	for _, f := range legalForms {
		if i := strings.Index(n[coreLo:], f); i >= 0 && (!found || coreLo+i < coreHi) {
			coreHi, found = coreLo+i, true
		}
	}
	if !found {
		for _, f := range tailForms {
			if strings.HasSuffix(n[coreLo:], f) && len(n)-len(f) > coreLo {
				coreHi = len(n) - len(f)
				break
			}
		}
	}
	if coreHi <= coreLo { // nothing but region and form: the whole name is the core
		return 0, len(n)
	}
	return coreLo, coreHi
}

// coreForInitials drops region marks such as (上海) from a core.
func coreForInitials(core string) string {
	for _, m := range regionMarks {
		core = strings.ReplaceAll(core, m, "")
	}
	return core
}
