package dossier

import (
	"archive/zip"
	"bytes"
	"compress/zlib"
	"context"
	"crypto/rand"
	"encoding/json"
	"fmt"
	"slices"
	"strconv"
	"strings"
	"testing"
)

// validPackage archives the fixture's case dossier and returns its package.
func validPackage(t *testing.T) (*fixture, []byte) {
	t.Helper()
	f := newFixture(t, "sqlite")
	id := f.caseDossier("C-2026-0012")
	data, rep, err := f.s.Archive(context.Background(), id, testArchiveInfo)
	if err != nil {
		t.Fatalf("archive: %v (failed: %s)", err, reportText(rep))
	}
	return f, data
}

func reportText(r *Report) string {
	if r == nil {
		return "no report"
	}
	var b strings.Builder
	for _, res := range r.Results {
		if !res.Passed {
			b.WriteString("\n  " + res.Code + ": " + res.Reason)
		}
	}
	return b.String()
}

func TestValidPackagePassesEveryCheck(t *testing.T) {
	f, data := validPackage(t)
	rep := Check(context.Background(), data, f.s.CheckOptions())
	if !rep.Passed {
		t.Fatalf("valid package failed:%s", reportText(rep))
	}
	if len(rep.Results) != len(checks) {
		t.Fatalf("%d results, want %d", len(rep.Results), len(checks))
	}
	for _, r := range rep.Results {
		if r.Name["zh-CN"] == "" || r.Name["en"] == "" || r.Group == "" {
			t.Errorf("%s: incomplete result %+v", r.Code, r)
		}
	}
	if rep.ArchiveCode != "S001-2026-D30-310115D03-0001" || rep.Items != 5 {
		t.Fatalf("report: %+v", rep)
	}
	if note := rep.Result(CheckSignature).Reason; !strings.Contains(note, "测试电子印章") {
		t.Fatalf("signature note: %q", note)
	}

	// The layout is as documented.
	zr, err := zip.NewReader(bytes.NewReader(data), int64(len(data)))
	if err != nil {
		t.Fatal(err)
	}
	var names []string
	for _, zf := range zr.File {
		names = append(names, zf.Name)
	}
	want := []string{"metadata.json", "chain.json", "files/0001-立案审批表.pdf", "files/0002-现场检查照片.png",
		"files/0003-行政处罚决定书.pdf", "files/0004-送达回证.pdf", "files/0005-行政处罚决定书.pdf", "signature.p7s"}
	if !slices.Equal(names, want) {
		t.Fatalf("entries %q, want %q", names, want)
	}
	e := openEditable(t, data, f.notary)
	var md Metadata
	if err := json.Unmarshal(e.get(metadataName), &md); err != nil {
		t.Fatal(err)
	}
	if md.Fonds != "S001" || md.Year != 2026 || md.Retention != "定期30年" || md.RetentionCode != "D30" || md.OrgCode != "310115D03" ||
		md.Date != "2026-03-10" || md.Count != 5 || md.Items[3].Parent != 3 || md.Items[4].Version != 2 || md.Head != e.chain.Head {
		t.Fatalf("metadata: %+v", md)
	}
}

// TestBrokenPackages mutates the valid package once per check. Each case
// names the check it targets and the full set of checks expected to fail:
// usually that one alone; where a change necessarily breaks more (a changed
// file no longer matches both its metadata and the chain), the set says so.
func TestBrokenPackages(t *testing.T) {
	f, valid := validPackage(t)
	opts := f.s.CheckOptions()
	pdf1 := func(e *editable) []byte { return e.get(e.fileOf(1)) }
	cases := []struct {
		name     string
		intended string
		want     []string // every check expected to fail
		reason   string   // the intended check's reason mentions this
		mutate   func(e *editable)
		opts     func(o *CheckOptions)
	}{
		{name: "file byte changed", intended: CheckAttributes, want: []string{CheckAttributes, CheckChain}, reason: "item 1 (files/0001-立案审批表.pdf): SM3",
			mutate: func(e *editable) {
				b := bytes.Clone(pdf1(e))
				i := bytes.Index(b, []byte("Case filing"))
				b[i] = 'K' // same length: the PDF stays readable
				e.set(e.fileOf(1), b)
			}},
		{name: "size in metadata wrong", intended: CheckAttributes, want: []string{CheckAttributes}, reason: "item 2 (files/0002-现场检查照片.png): size is",
			mutate: func(e *editable) {
				n, _ := asInt(e.item(2)["size"])
				e.item(2)["size"] = n + 1
			}},
		{name: "file dropped", intended: CheckLinkage, want: []string{CheckLinkage}, reason: "item 2: its file files/0002-现场检查照片.png is not in the package",
			mutate: func(e *editable) { e.remove(e.fileOf(2)) }},
		{name: "stray file", intended: CheckLinkage, want: []string{CheckLinkage}, reason: "file files/0099-extra.pdf has no item",
			mutate: func(e *editable) { e.set("files/0099-extra.pdf", makePDF("stray", pdfOpts{})) }},
		{name: "stray entry outside files", intended: CheckLinkage, want: []string{CheckLinkage}, reason: "unexpected entry notes.txt",
			mutate: func(e *editable) { e.set("notes.txt", []byte("hello")) }},
		{name: "chain.json edited", intended: CheckChain, want: []string{CheckChain}, reason: "chain.json entry 2: hash does not match",
			mutate: func(e *editable) { e.chain.Entries[1].Title = "现场检查照片（改）" }},
		{name: "chain.json entry removed", intended: CheckChain, want: []string{CheckChain, CheckCompleteness}, reason: "metadata.json records head",
			mutate: func(e *editable) {
				e.chain.Entries = e.chain.Entries[:4]
				e.chain.Head = e.chain.Entries[3].Hash
			}},
		{name: "chain.json missing", intended: CheckChain, want: []string{CheckChain}, reason: "chain.json is missing",
			mutate: func(e *editable) { e.remove(chainName) }},
		{name: "seq broken", intended: CheckCompleteness, want: []string{CheckCompleteness}, reason: "item #5 has seq 6 where 5 is due",
			mutate: func(e *editable) { e.item(5)["seq"] = 6 }},
		{name: "count wrong", intended: CheckCompleteness, want: []string{CheckCompleteness}, reason: "states count 6 but lists 5",
			mutate: func(e *editable) { e.meta["count"] = 6 }},
		{name: "declared attachment missing", intended: CheckAttachments, want: []string{CheckAttachments}, reason: "item 3 declares 2 attachments but the package has 1",
			mutate: func(e *editable) { e.item(3)["attachments"] = 2 }},
		{name: "attachment parent missing", intended: CheckAttachments, want: []string{CheckAttachments}, reason: "item 4 is an attachment of item 9",
			mutate: func(e *editable) { e.item(4)["parent"] = 9 }},
		{name: "required document type removed", intended: CheckScope, want: []string{CheckScope}, reason: "case_filing_approval",
			mutate: func(e *editable) { e.item(1)["doc_type"] = "other_document" }},
		{name: "unknown kind", intended: CheckScope, want: []string{CheckScope}, reason: `dossier kind "general_case" is not configured`,
			opts: func(o *CheckOptions) { o.Kinds = nil }},
		{name: "pdf renamed to png", intended: CheckFormat, want: []string{CheckFormat}, reason: "file files/0004-送达回证.png: named .png but its content is pdf",
			mutate: func(e *editable) {
				e.rename(e.fileOf(4), "files/0004-送达回证.png")
				e.item(4)["file"] = "files/0004-送达回证.png"
				e.item(4)["format"] = "png"
			}},
		{name: "pdf truncated", intended: CheckReadability, want: []string{CheckReadability}, reason: "file files/0004-送达回证.pdf has no %%EOF",
			mutate: func(e *editable) {
				b := e.get(e.fileOf(4))
				e.setContent(4, b[:len(b)-40])
			}},
		{name: "pdf xref offset wrong", intended: CheckReadability, want: []string{CheckReadability}, reason: "has object 3 not where its cross-reference entry says",
			mutate: func(e *editable) {
				// Move object 3's cross-reference entry one byte on.
				b := bytes.Clone(e.get(e.fileOf(4)))
				entry := bytes.Index(b, []byte("xref\n0 6\n")) + len("xref\n0 6\n") + 3*20
				off, err := strconv.Atoi(string(b[entry : entry+10]))
				if err != nil {
					t.Fatal(err)
				}
				copy(b[entry:], fmt.Sprintf("%010d", off+1))
				e.setContent(4, b)
			}},
		{name: "png truncated", intended: CheckReadability, want: []string{CheckReadability}, reason: "file files/0002-现场检查照片.png is not a readable image",
			mutate: func(e *editable) {
				b := e.get(e.fileOf(2))
				e.setContent(2, b[:len(b)/2])
			}},
		{name: "pdf encrypted", intended: CheckLongTerm, want: []string{CheckLongTerm}, reason: "file files/0004-送达回证.pdf is encrypted (/Encrypt)",
			mutate: func(e *editable) { e.setContent(4, makePDF("Service receipt", pdfOpts{encrypt: true})) }},
		{name: "pdf with javascript", intended: CheckLongTerm, want: []string{CheckLongTerm}, reason: "file files/0001-立案审批表.pdf contains JavaScript",
			mutate: func(e *editable) { e.setContent(1, makePDF("Case filing approval", pdfOpts{js: true})) }},
		{name: "eicar", intended: CheckVirus, want: []string{CheckVirus}, reason: "entry files/0004-送达回证.pdf: infected",
			mutate: func(e *editable) { e.setContent(4, append(bytes.Clone(e.get(e.fileOf(4))), eicar...)) }},
		{name: "no scanner", intended: CheckVirus, want: []string{CheckVirus}, reason: "no virus scanner is installed",
			opts: func(o *CheckOptions) { o.Scanner = nil }},
		{name: "title with control characters", intended: CheckMetadata, want: []string{CheckMetadata}, reason: "item 2: title contains the control character U+0007",
			mutate: func(e *editable) { e.item(2)["title"] = "现场\a检查照片" }},
		{name: "title too long", intended: CheckMetadata, want: []string{CheckMetadata}, reason: "item 2: title is 201 characters long (at most 200)",
			mutate: func(e *editable) { e.item(2)["title"] = strings.Repeat("照", 201) }},
		{name: "title with markup", intended: CheckMetadata, want: []string{CheckMetadata}, reason: `metadata: title contains the special character '<'`,
			mutate: func(e *editable) { e.meta["title"] = "<script>alert(1)</script>" }},
		{name: "year not a number", intended: CheckMetadata, want: []string{CheckMetadata, CheckArchiveCode}, reason: "metadata: year must be an integer, not a string",
			mutate: func(e *editable) { e.meta["year"] = "2026" }},
		{name: "impossible date", intended: CheckMetadata, want: []string{CheckMetadata}, reason: `item 3: date "2026-02-30" is not a date`,
			mutate: func(e *editable) { e.item(3)["date"] = "2026-02-30" }},
		{name: "pages not positive", intended: CheckMetadata, want: []string{CheckMetadata}, reason: "item 1: pages is 0 (at least 1)",
			mutate: func(e *editable) { e.item(1)["pages"] = 0 }},
		{name: "retention outside the value set", intended: CheckMetadata, want: []string{CheckMetadata, CheckArchiveCode}, reason: `retention "定期5年" is not one of`,
			mutate: func(e *editable) { e.meta["retention"] = "定期5年" }},
		{name: "wrong archive code year", intended: CheckArchiveCode, want: []string{CheckArchiveCode}, reason: "has year 2025 but the metadata's year is 2026",
			mutate: func(e *editable) { e.meta["archive_code"] = "S001-2025-D30-310115D03-0001" }},
		{name: "malformed archive code", intended: CheckArchiveCode, want: []string{CheckArchiveCode}, reason: "does not have the form",
			mutate: func(e *editable) { e.meta["archive_code"] = "S001/2026/D30/310115D03/1" }},
		{name: "same content twice", intended: CheckDuplicates, want: []string{CheckDuplicates}, reason: "items 1 and 4 have the same content",
			mutate: func(e *editable) { e.setContent(4, pdf1(e)) }},
		{name: "repeated seq", intended: CheckDuplicates, want: []string{CheckCompleteness, CheckDuplicates}, reason: "件号 (seq) 4 occurs 2 times",
			mutate: func(e *editable) { e.item(5)["seq"] = 4 }},
		{name: "metadata tampered, old signature", intended: CheckSignature, want: []string{CheckSignature}, reason: "signature.p7s does not verify over metadata.json",
			mutate: func(e *editable) {
				e.meta["title"] = "沪市监浦罚〔2026〕99号 另一案"
				e.keepSignature = true
			}},
		{name: "signature missing", intended: CheckSignature, want: []string{CheckSignature}, reason: "signature.p7s is missing",
			mutate: func(e *editable) { e.remove(signatureName) }},
		{name: "no notary", intended: CheckSignature, want: []string{CheckSignature}, reason: "no notary",
			opts: func(o *CheckOptions) { o.Notary = nil }},
		{name: "absolute path entry", intended: CheckVirus, want: []string{CheckLinkage, CheckVirus}, reason: `entry "/etc/cron.d/x" has an absolute path`,
			mutate: func(e *editable) { e.set("/etc/cron.d/x", []byte("* * * * * root true")) }},
		{name: "path traversal entry", intended: CheckVirus, want: []string{CheckLinkage, CheckVirus}, reason: `entry "files/../../evil.pdf" has a path that leaves the package`,
			mutate: func(e *editable) { e.set("files/../../evil.pdf", makePDF("evil", pdfOpts{})) }},
		{name: "duplicate entry name", intended: CheckDuplicates, want: []string{CheckDuplicates}, reason: "entry files/0001-立案审批表.pdf occurs more than once",
			mutate: func(e *editable) {
				e.entries = append(e.entries, zipEntry{e.fileOf(1), makePDF("shadow", pdfOpts{})})
			}},
		// Signed garbage: the signature holds, everything that reads the
		// metadata fails.
		{name: "metadata.json not JSON", intended: CheckMetadata,
			want:   []string{CheckAttributes, CheckLinkage, CheckChain, CheckCompleteness, CheckAttachments, CheckScope, CheckMetadata, CheckArchiveCode, CheckDuplicates},
			reason: "metadata.json is not valid JSON",
			mutate: func(e *editable) { e.metaBytes = []byte(`{"schema": "portal-dossier/1",`) }},
		{name: "metadata.json missing", intended: CheckMetadata,
			want:   []string{CheckSignature, CheckAttributes, CheckLinkage, CheckChain, CheckCompleteness, CheckAttachments, CheckScope, CheckMetadata, CheckArchiveCode, CheckDuplicates},
			reason: "metadata.json is missing",
			mutate: func(e *editable) { e.remove(metadataName) }},
	}
	all := func() []string {
		var out []string
		for _, c := range checks {
			out = append(out, c.code)
		}
		return out
	}()
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			data := valid
			if tc.mutate != nil {
				e := openEditable(t, valid, f.notary)
				tc.mutate(e)
				data = e.pack()
			}
			o := opts
			if tc.opts != nil {
				tc.opts(&o)
			}
			rep := Check(context.Background(), data, o)
			if len(rep.Results) != len(all) {
				t.Fatalf("%d results, want all %d", len(rep.Results), len(all))
			}
			if rep.Passed {
				t.Fatal("the broken package passed")
			}
			res := rep.Result(tc.intended)
			if res.Passed {
				t.Fatalf("%s passed; failures:%s", tc.intended, reportText(rep))
			}
			if !strings.Contains(res.Reason, tc.reason) {
				t.Errorf("%s reason %q does not mention %q", tc.intended, res.Reason, tc.reason)
			}
			if got, want := failedSet(rep), strings.Join(sorted(tc.want, all), ","); got != want {
				t.Errorf("failed %s, want %s:%s", got, want, reportText(rep))
			}
		})
	}
}

// sorted puts codes in report order.
func sorted(codes, order []string) []string {
	out := slices.Clone(codes)
	slices.SortFunc(out, func(a, b string) int { return slices.Index(order, a) - slices.Index(order, b) })
	return out
}

func TestUnreadablePackagesFailEveryCheck(t *testing.T) {
	f, valid := validPackage(t)
	zeros := func() []byte {
		var buf bytes.Buffer
		zw := zip.NewWriter(&buf)
		w, _ := zw.Create("files/0001-bomb.txt")
		_, _ = w.Write(make([]byte, 8<<20)) // 8 MiB of zeros: a few KiB packed
		_ = zw.Close()
		return buf.Bytes()
	}()
	random := make([]byte, 4096)
	_, _ = rand.Read(random)
	cases := []struct {
		name   string
		data   []byte
		limits Limits
		reason string
	}{
		{"empty", nil, Limits{}, "not a readable ZIP"},
		{"random bytes", random, Limits{}, "not a readable ZIP"},
		{"truncated zip", valid[:len(valid)/2], Limits{}, "not a readable ZIP"},
		{"zip bomb", zeros, Limits{MaxUnpacked: 1 << 20}, "unpacks to more than 1048576 bytes"},
		{"over total size", valid, Limits{MaxUnpacked: 2000}, "unpacks to more than 2000 bytes"},
		{"too many entries", valid, Limits{MaxEntries: 3}, "more than the limit of 3"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			o := f.s.CheckOptions()
			o.Limits = tc.limits
			rep := Check(context.Background(), tc.data, o)
			if len(rep.Results) != len(checks) || rep.Passed {
				t.Fatalf("report: %+v", rep)
			}
			for _, r := range rep.Results {
				if r.Passed || !strings.Contains(r.Reason, tc.reason) {
					t.Errorf("%s: passed=%v reason %q, want failure mentioning %q", r.Code, r.Passed, r.Reason, tc.reason)
				}
			}
		})
	}
}

// TestCheckSurvivesCorruption flips bytes all over the valid package: the
// checks must always answer with every result and never panic.
func TestCheckSurvivesCorruption(t *testing.T) {
	f, valid := validPackage(t)
	o := f.s.CheckOptions()
	buf := make([]byte, 8)
	for i := 0; i < 300; i++ {
		data := bytes.Clone(valid)
		_, _ = rand.Read(buf)
		for j := 0; j < 1+int(buf[0]%4); j++ {
			pos := (int(buf[1+j])<<8 | int(buf[5-j])) * len(data) / 65536
			data[pos] ^= 1 << (buf[6] % 8)
		}
		rep := Check(context.Background(), data, o)
		if len(rep.Results) != len(checks) {
			t.Fatalf("%d results", len(rep.Results))
		}
	}
}

func FuzzCheck(f *testing.F) {
	f.Add([]byte("PK\x03\x04"))
	f.Add(makePDF("x", pdfOpts{}))
	f.Fuzz(func(t *testing.T, data []byte) {
		rep := Check(context.Background(), data, CheckOptions{Scanner: eicarScanner{}, Kinds: testKinds})
		if len(rep.Results) != len(checks) || rep.Passed {
			t.Fatalf("report: %+v", rep)
		}
	})
}

func TestReadabilityOfRealPDFs(t *testing.T) {
	for name, b := range map[string][]byte{"hand": makePDF("hello", pdfOpts{}), "fpdf": makeFPDF(t, "hello")} {
		if got := sniff(b); got != "pdf" {
			t.Fatalf("%s sniffed as %s", name, got)
		}
		if p := pdfProblem(b); p != "" {
			t.Fatalf("%s: %s", name, p)
		}
		if p := pdfLongTermProblems(b); len(p) != 0 {
			t.Fatalf("%s: %v", name, p)
		}
	}
	// An incremental update chains to the first section with /Prev.
	base := makePDF("hello", pdfOpts{})
	var off int
	if _, err := fmt.Sscan(string(base[bytes.LastIndex(base, []byte("startxref"))+len("startxref"):]), &off); err != nil {
		t.Fatal(err)
	}
	upd := append(bytes.Clone(base), "6 0 obj\n<< /Producer (update) >>\nendobj\n"...)
	upd = append(upd, fmt.Sprintf("xref\n6 1\n%010d 00000 n \ntrailer\n<< /Size 7 /Root 1 0 R /Prev %d >>\nstartxref\n%d\n%%%%EOF\n",
		len(base), off, len(upd))...)
	if p := pdfProblem(upd); p != "" {
		t.Fatalf("incremental update: %s", p)
	}
	broken := bytes.Replace(upd, []byte(fmt.Sprintf("/Prev %d", off)), []byte(fmt.Sprintf("/Prev %d", off+3)), 1)
	if p := pdfProblem(broken); !strings.Contains(p, "points at no cross-reference section") {
		t.Fatalf("broken /Prev: %q", p)
	}
	// Names hidden with #xx escapes are still found.
	hidden := bytes.Replace(makePDF("x", pdfOpts{js: true}), []byte("/JS "), []byte("/J#53 "), 1)
	if p := pdfLongTermProblems(hidden); len(p) != 1 {
		t.Fatalf("escaped /JS: %v", p)
	}
	// And so are names packed in a compressed object stream; names in
	// strings are not names.
	var packed bytes.Buffer
	zw := zlib.NewWriter(&packed)
	_, _ = zw.Write([]byte("7 0 << /S /JavaScript /JS (app.alert\\(1\\)) >>"))
	_ = zw.Close()
	objStm := append([]byte("%PDF-1.5\n8 0 obj\n<< /Type /ObjStm /N 1 /First 4 /Filter /FlateDecode /Length "+strconv.Itoa(packed.Len())+" >>\nstream\n"),
		packed.Bytes()...)
	objStm = append(objStm, "\nendstream\nendobj\n9 0 obj\n(/JS in a string)\nendobj\n"...)
	if p := pdfLongTermProblems(objStm); len(p) != 1 || !strings.Contains(p[0], "JavaScript") {
		t.Fatalf("object stream: %v", p)
	}
	if p := pdfLongTermProblems([]byte("%PDF-1.4\n1 0 obj\n(/JS /Encrypt)\nendobj\n")); len(p) != 0 {
		t.Fatalf("names in strings: %v", p)
	}
}

func TestSniff(t *testing.T) {
	for in, want := range map[string]string{
		"":                            "empty",
		"%PDF-1.7\n":                  "pdf",
		"\x89PNG\r\n\x1a\nxxxx":       "png",
		"\xFF\xD8\xFF\xE0":            "jpg",
		"<?xml version=\"1.0\"?><a/>": "xml",
		"\xEF\xBB\xBF <root/>":        "xml",
		"案件说明\n第二行":                   "txt",
		"bin\x00ary":                  "unknown",
		"PK\x03\x04garbage":           "zip",
	} {
		if got := sniff([]byte(in)); got != want {
			t.Errorf("sniff(%q) = %s, want %s", in, got, want)
		}
	}
}
