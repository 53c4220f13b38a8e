package dossier

import (
	"context"
	"encoding/hex"
	"fmt"
	"strings"
	"time"

	"github.com/emmansun/gmsm/sm3"
)

// Check groups (四性).
const (
	GroupAuthenticity = "authenticity" // 真实性
	GroupIntegrity    = "integrity"    // 完整性
	GroupUsability    = "usability"    // 可用性
	GroupSecurity     = "security"     // 安全性
)

// Check codes.
const (
	CheckSignature    = "signature"
	CheckAttributes   = "attributes"
	CheckLinkage      = "linkage"
	CheckChain        = "chain"
	CheckCompleteness = "completeness"
	CheckAttachments  = "attachments"
	CheckScope        = "scope"
	CheckFormat       = "format"
	CheckReadability  = "readability"
	CheckLongTerm     = "long_term"
	CheckVirus        = "virus"
	CheckMetadata     = "metadata"
	CheckArchiveCode  = "archive_code"
	CheckDuplicates   = "duplicates"
)

// CheckOptions are what the checks need besides the package.
type CheckOptions struct {
	Notary  Notary  // verifies signature.p7s; nil fails the signature check
	Scanner Scanner // nil fails the virus check (no virus scanner installed)
	Kinds   map[string]Kind
	// LongTerm lists the long-term formats; empty means DefaultLongTermFormats.
	LongTerm []string
	Limits   Limits
	Now      func() time.Time
}

// Report is the outcome of the archive checks (检测报告).
type Report struct {
	Passed      bool      `json:"passed"`
	Results     []Result  `json:"results"`
	ArchiveCode string    `json:"archive_code,omitempty"` // 档号, as metadata.json states it
	Title       string    `json:"title,omitempty"`
	Items       int       `json:"items"`
	PackageSM3  string    `json:"package_sm3"`
	CheckedAt   time.Time `json:"checked_at"`
}

// Result is the outcome of one check.
type Result struct {
	Code  string            `json:"code"`
	Group string            `json:"group"`
	Name  map[string]string `json:"name"` // zh-CN and en
	// Passed says whether the check passed.
	Passed bool `json:"passed"`
	// Reason says why the check failed, naming the items, files or fields
	// at fault; for some passed checks it says what was verified.
	Reason string `json:"reason,omitempty"`
}

// Failed lists the codes of the checks that failed.
func (r *Report) Failed() []string {
	var out []string
	for _, res := range r.Results {
		if !res.Passed {
			out = append(out, res.Code)
		}
	}
	return out
}

// Result returns the result of one check, or nil.
func (r *Report) Result(code string) *Result {
	for i := range r.Results {
		if r.Results[i].Code == code {
			return &r.Results[i]
		}
	}
	return nil
}

// CheckInfo describes one check.
type CheckInfo struct {
	Code  string            `json:"code"`
	Group string            `json:"group"`
	Name  map[string]string `json:"name"`
}

// run is one check's state while it runs.
type run struct {
	ctx  context.Context
	p    *pkg
	o    *CheckOptions
	note string // said about a passed check
}

type check struct {
	code, group string
	zh, en      string
	fn          func(*run) []string // the problems found; none means passed
}

// checks are all the checks, in report order. The names follow R-ARC-1.
var checks = []check{
	{CheckSignature, GroupAuthenticity, "数字签名有效性", "Digital signature valid", checkSignature},
	{CheckAttributes, GroupAuthenticity, "内容数据的电子属性一致性", "Electronic attributes consistent", checkAttributes},
	{CheckLinkage, GroupAuthenticity, "元数据是否关联内容数据", "Metadata linked to content", checkLinkage},
	{CheckChain, GroupAuthenticity, "哈希链完整性", "Hash chain intact", checkChain},
	{CheckCompleteness, GroupIntegrity, "内容数据完整性", "Catalogue complete", checkCompleteness},
	{CheckAttachments, GroupIntegrity, "附件数据完整性", "Attachments complete", checkAttachments},
	{CheckScope, GroupIntegrity, "归档范围", "Archiving scope", checkScope},
	{CheckFormat, GroupUsability, "内容数据格式", "Content format", checkFormat},
	{CheckReadability, GroupUsability, "内容数据的可读性", "Content readable", checkReadability},
	{CheckLongTerm, GroupUsability, "内容数据格式长期可用性", "Long-term format", checkLongTerm},
	{CheckVirus, GroupSecurity, "病毒感染", "Virus scan", checkVirus},
	{CheckMetadata, GroupSecurity, "元数据项长度、类型、值域、合理性与特殊字符", "Metadata length, type, values and characters", checkMetadata},
	{CheckArchiveCode, GroupSecurity, "档号规范性", "Archive code well-formed", checkArchiveCode},
	{CheckDuplicates, GroupSecurity, "元数据项重复性", "No duplicates", checkDuplicates},
}

// Checks lists every check Check runs, in report order.
func Checks() []CheckInfo {
	out := make([]CheckInfo, len(checks))
	for i, c := range checks {
		out[i] = CheckInfo{Code: c.code, Group: c.group, Name: map[string]string{"zh-CN": c.zh, "en": c.en}}
	}
	return out
}

// maxReasons bounds how many problems one reason lists.
const maxReasons = 10

// Check runs every archive check on a package and reports each of them,
// never stopping at the first failure. It does not panic on malformed input:
// a package that cannot be read fails every check with the reason.
func Check(ctx context.Context, zipData []byte, o CheckOptions) *Report {
	if o.Now == nil {
		o.Now = time.Now
	}
	p := readPackage(zipData, o.Limits)
	rep := &Report{Passed: true, PackageSM3: p.sm3, CheckedAt: o.Now().UTC(), Items: len(p.items),
		ArchiveCode: p.metaString("archive_code"), Title: p.metaString("title")}
	for _, c := range checks {
		res := Result{Code: c.code, Group: c.group, Name: map[string]string{"zh-CN": c.zh, "en": c.en}}
		var problems []string
		r := &run{ctx: ctx, p: p, o: &o}
		if p.fatal != "" {
			problems = []string{p.fatal}
		} else {
			problems = safeRun(c, r)
		}
		res.Passed = len(problems) == 0
		if res.Passed {
			res.Reason = r.note
		} else {
			res.Reason = joinProblems(problems)
			rep.Passed = false
		}
		rep.Results = append(rep.Results, res)
	}
	return rep
}

// safeRun runs a check, turning a panic (a bug, or a hook that panics) into
// a failure of that check alone.
func safeRun(c check, r *run) (problems []string) {
	defer func() {
		if v := recover(); v != nil {
			problems = []string{fmt.Sprintf("the check could not be completed: internal error: %v", v)}
		}
	}()
	return c.fn(r)
}

func joinProblems(problems []string) string {
	if len(problems) <= maxReasons {
		return strings.Join(problems, "; ")
	}
	return strings.Join(problems[:maxReasons], "; ") + fmt.Sprintf("; and %d more", len(problems)-maxReasons)
}

// needMetadata returns the problem that keeps a check from reading the
// metadata, or nil.
func (r *run) needMetadata() []string {
	if r.p.meta == nil {
		return []string{r.p.metaErr}
	}
	return nil
}

// itemName names an item and its file in a reason.
func itemName(it *pkgItem) string {
	if it.File == "" {
		return fmt.Sprintf("item %d", it.Seq)
	}
	return fmt.Sprintf("item %d (%s)", it.Seq, it.File)
}

func sm3Hex(b []byte) string {
	sum := sm3.Sum(b)
	return hex.EncodeToString(sum[:])
}

func short(hash string) string {
	if len(hash) > 12 {
		return hash[:12] + "…"
	}
	return hash
}
