package dossier

import (
	"bytes"
	"fmt"
	"regexp"
	"strconv"
)

// checkVirus: a scanner is installed (系统环境中是否安装杀毒软件), finds
// nothing in any entry, and no entry has an unsafe name.
func checkVirus(r *run) []string {
	var problems []string
	for _, u := range r.p.unsafe {
		problems = append(problems, u+" (refused as unsafe)")
	}
	if r.o.Scanner == nil {
		return append(problems, "no virus scanner is installed")
	}
	for _, name := range r.p.names {
		if err := r.ctx.Err(); err != nil {
			return append(problems, "scan interrupted: "+err.Error())
		}
		if err := r.o.Scanner.Scan(r.ctx, bytes.NewReader(r.p.files[name])); err != nil {
			problems = append(problems, fmt.Sprintf("entry %s: %v", name, err))
		}
	}
	if len(problems) == 0 {
		r.note = fmt.Sprintf("%d entries scanned", len(r.p.names))
	}
	return problems
}

// checkMetadata applies the metadata rules (see rules.go).
func checkMetadata(r *run) []string {
	if p := r.needMetadata(); p != nil {
		return p
	}
	return metadataProblems(r.p.meta)
}

// archiveCodePattern is the 档号: {全宗号}-{年度}-{Y|D30|D10}-{机构代码}-{件号}.
var archiveCodePattern = regexp.MustCompile(`^([0-9A-Za-z]{1,16})-([0-9]{4})-(Y|D30|D10)-([0-9A-Za-z]{1,16})-([0-9]{4})$`)

// checkArchiveCode: the 档号 has its form and agrees with the fonds, year,
// retention and organisation code of the metadata.
func checkArchiveCode(r *run) []string {
	if p := r.needMetadata(); p != nil {
		return p
	}
	code := r.p.metaString("archive_code")
	m := archiveCodePattern.FindStringSubmatch(code)
	if m == nil {
		return []string{fmt.Sprintf("档号 %q does not have the form {全宗号}-{年度}-{Y|D30|D10}-{机构代码}-{件号, 4 digits}", clip(code))}
	}
	var problems []string
	if fonds := r.p.metaString("fonds"); m[1] != fonds {
		problems = append(problems, fmt.Sprintf("档号 %s has fonds %s but the metadata's fonds is %q", code, m[1], clip(fonds)))
	}
	if year, ok := r.p.metaInt("year"); !ok || m[2] != strconv.FormatInt(year, 10) {
		problems = append(problems, fmt.Sprintf("档号 %s has year %s but the metadata's year is %v", code, m[2], r.p.meta["year"]))
	}
	if ret := r.p.metaString("retention"); m[3] != RetentionCode(ret) {
		problems = append(problems, fmt.Sprintf("档号 %s has retention code %s but the metadata's retention is %q", code, m[3], clip(ret)))
	}
	if org := r.p.metaString("org_code"); m[4] != org {
		problems = append(problems, fmt.Sprintf("档号 %s has organisation code %s but the metadata's org_code is %q", code, m[4], clip(org)))
	}
	if m[5] == "0000" {
		problems = append(problems, fmt.Sprintf("档号 %s has 件号 0000 (件号 starts at 0001)", code))
	}
	return problems
}

// checkDuplicates: no 件号 (seq) twice, no two items with the same content
// unless one is a new version of the other (same title, another version), no
// title and version twice, no ZIP entry name twice.
func checkDuplicates(r *run) []string {
	if p := r.needMetadata(); p != nil {
		return p
	}
	var problems []string
	seqs := map[int]int{}
	for i := range r.p.items {
		seqs[r.p.items[i].Seq]++
	}
	for i := range r.p.items {
		seq := r.p.items[i].Seq
		if n := seqs[seq]; n > 1 {
			problems = append(problems, fmt.Sprintf("件号 (seq) %d occurs %d times", seq, n))
			seqs[seq] = 0 // report once
		}
	}
	type titleVersion struct {
		title   string
		version int
	}
	versions := map[titleVersion]int{}
	bySM3 := map[string][]*pkgItem{}
	for i := range r.p.items {
		a := &r.p.items[i]
		key := titleVersion{a.Title, a.Version}
		if other, ok := versions[key]; ok {
			problems = append(problems, fmt.Sprintf("items %d and %d are both version %d of %q", other, a.Seq, a.Version, clip(a.Title)))
		} else {
			versions[key] = a.Seq
		}
		if a.SM3 == "" {
			continue
		}
		for _, b := range bySM3[a.SM3] {
			if a.Title == b.Title && a.Version != b.Version {
				continue // a new version with unchanged content
			}
			problems = append(problems, fmt.Sprintf("items %d and %d have the same content (SM3 %s)", b.Seq, a.Seq, short(a.SM3)))
		}
		bySM3[a.SM3] = append(bySM3[a.SM3], a)
	}
	for _, name := range r.p.duplicate {
		problems = append(problems, fmt.Sprintf("entry %s occurs more than once in the ZIP", name))
	}
	return problems
}
