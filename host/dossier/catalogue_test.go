package dossier

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"strings"
	"sync"
	"testing"

	"github.com/shanghai-amr/portal/host/apierror"
	"github.com/shanghai-amr/portal/host/store/ent/auditentry"
	"github.com/shanghai-amr/portal/host/store/ent/dossier"
	"github.com/shanghai-amr/portal/host/store/storetest"
)

func isAPIError(err error, code string) bool {
	var e *apierror.Error
	return errors.As(err, &e) && e.Code == code
}

func TestOpenIsIdempotent(t *testing.T) {
	storetest.Each(t, func(t *testing.T, dialect string) {
		f := newFixture(t, dialect)
		ctx := context.Background()
		a, err := f.s.Open(ctx, "enforcement", "C-1", "general_case", "某案", "310115-D03", "/310000/310115/310115-D03")
		if err != nil {
			t.Fatal(err)
		}
		b, err := f.s.Open(ctx, "enforcement", "C-1", "general_case", "某案", "310115-D03", "/310000/310115/310115-D03")
		if err != nil || b.ID != a.ID {
			t.Fatalf("second open: %v, id %d vs %d", err, b.ID, a.ID)
		}
		if _, err := f.s.Open(ctx, "enforcement", "C-1", "licence", "某案", "310115-D03", ""); !errors.Is(err, ErrKindMismatch) {
			t.Fatalf("other kind: %v", err)
		}
		if _, err := f.s.Open(ctx, "enforcement", "C-2", "no_such_kind", "某案", "310115-D03", ""); !isAPIError(err, "dossier.unknown_kind") {
			t.Fatalf("unknown kind: %v", err)
		}
		if _, err := f.s.Open(ctx, "enforcement", "C-3", "general_case", "某案\x00", "310115-D03", ""); !isAPIError(err, "request.invalid") {
			t.Fatalf("bad title: %v", err)
		}
	})
}

func TestAppendOrderVersionsAndChain(t *testing.T) {
	storetest.Each(t, func(t *testing.T, dialect string) {
		f := newFixture(t, dialect)
		ctx := context.Background()
		d, err := f.s.Open(ctx, "enforcement", "C-1", "general_case", "某案", "310115-D03", "/310000/310115/310115-D03")
		if err != nil {
			t.Fatal(err)
		}
		a := f.append(d.ID, f.entry(KindDocument, "penalty_notice", "行政处罚告知书", "pdf", makePDF("notice v1", pdfOpts{}), map[string]any{"date": "2026-02-01", "pages": 2}))
		b := f.append(d.ID, f.entry(KindEvidence, "", "询问笔录", "pdf", makePDF("record", pdfOpts{}), nil))
		v2 := f.entry(KindDocument, "penalty_notice", "行政处罚告知书", "pdf", makePDF("notice v2", pdfOpts{}), map[string]any{"date": "2026-02-03"})
		c := f.append(d.ID, v2)
		// A retried append of the latest version changes nothing.
		if again := f.append(d.ID, v2); again.Seq != c.Seq || again.Hash != c.Hash || again.Version != 2 {
			t.Fatalf("the same version appended again: %+v, first %+v", again, c)
		}
		att := f.entry(KindAttachment, "", "告知书送达回证", "pdf", makePDF("receipt", pdfOpts{}), nil)
		att.ParentSeq = 3
		x := f.append(d.ID, att)
		for i, it := range []*Item{a, b, c, x} {
			if it.Seq != i+1 {
				t.Fatalf("entry %d has seq %d", i+1, it.Seq)
			}
		}
		if a.Version != 1 || b.Version != 1 || c.Version != 2 || x.Version != 1 {
			t.Fatalf("versions %d %d %d %d", a.Version, b.Version, c.Version, x.Version)
		}
		if a.Prev != "" || b.Prev != a.Hash || c.Prev != b.Hash || x.Prev != c.Hash || x.ParentSeq != 3 {
			t.Fatal("entries do not chain")
		}
		items, err := f.s.Catalogue(ctx, d.ID)
		if err != nil {
			t.Fatal(err)
		}
		if len(items) != 4 || items[3].Hash != x.Hash || items[0].Meta["pages"] == nil {
			t.Fatalf("catalogue: %+v", items)
		}
		// What was returned, what is stored and what the chain says agree.
		if err := VerifyChain(items); err != nil {
			t.Fatal(err)
		}
		if err := f.s.Verify(ctx, d.ID); err != nil {
			t.Fatal(err)
		}
		row, _ := f.s.Get(ctx, d.ID)
		if row.Head != x.Hash || row.Items != 4 {
			t.Fatalf("dossier head %s items %d", row.Head, row.Items)
		}
		// Appends are audited, and the audit chain holds.
		n, err := f.st.Client.AuditEntry.Query().Where(auditentry.Action("dossier.append"), auditentry.Resource(fmt.Sprintf("dossier:%d", d.ID))).Count(ctx)
		if err != nil || n != 4 {
			t.Fatalf("audited appends: %d, %v", n, err)
		}
		if _, err := f.audit.Verify(ctx); err != nil {
			t.Fatal(err)
		}
		if _, err := f.s.Catalogue(ctx, d.ID+100); !errors.Is(err, ErrNotFound) {
			t.Fatalf("missing dossier: %v", err)
		}
	})
}

func TestAppendComputesSM3AndValidates(t *testing.T) {
	f := newFixture(t, "sqlite")
	ctx := context.Background()
	d, err := f.s.Open(ctx, "enforcement", "C-1", "general_case", "某案", "310115-D03", "")
	if err != nil {
		t.Fatal(err)
	}
	content := makePDF("computed", pdfOpts{})
	e := f.entry(KindEvidence, "", "现场笔录", "PDF", content, nil)
	e.SM3 = ""
	it := f.append(d.ID, e)
	if it.SM3 != sm3Hex(content) || it.Format != "pdf" {
		t.Fatalf("sm3 %s format %s", it.SM3, it.Format)
	}
	valid := func() Entry { return f.entry(KindEvidence, "", "照片", "png", makePNG(t, 2), nil) }
	for name, mutate := range map[string]func(*Entry){
		"kind":                  func(e *Entry) { e.Kind = "note" },
		"document without type": func(e *Entry) { e.Kind = KindDocument },
		"doc type":              func(e *Entry) { e.DocType = "Bad Type" },
		"no file":               func(e *Entry) { e.FileID = 0 },
		"format":                func(e *Entry) { e.Format = "docx" },
		"sm3":                   func(e *Entry) { e.SM3 = "abc" },
		"title control":         func(e *Entry) { e.Title = "照\x1b片" },
		"title markup":          func(e *Entry) { e.Title = `照片"` },
		"title too long":        func(e *Entry) { e.Title = strings.Repeat("照", 201) },
		"attachment no parent":  func(e *Entry) { e.Kind = KindAttachment },
		"parent not attachment": func(e *Entry) { e.ParentSeq = 1 },
		"parent in the future":  func(e *Entry) { e.Kind, e.ParentSeq = KindAttachment, 2 },
		"meta date":             func(e *Entry) { e.Meta = map[string]any{"date": "2026/02/01"} },
		"meta pages":            func(e *Entry) { e.Meta = map[string]any{"pages": -1} },
		"meta author":           func(e *Entry) { e.Meta = map[string]any{"author": "<b>"} },
	} {
		e := valid()
		mutate(&e)
		_, err := f.s.Append(ctx, d.ID, e)
		var ae *apierror.Error
		if !errors.As(err, &ae) || ae.Code != "dossier.invalid_entry" || ae.Status != http.StatusBadRequest {
			t.Errorf("%s: %v", name, err)
		}
	}
	if _, err := f.s.Append(ctx, 999, valid()); !errors.Is(err, ErrNotFound) {
		t.Fatalf("no dossier: %v", err)
	}
	items, _ := f.s.Catalogue(ctx, d.ID)
	if len(items) != 1 {
		t.Fatalf("refused entries were stored: %d", len(items))
	}
}

func TestVerifyChainPinpointsTampering(t *testing.T) {
	storetest.Each(t, func(t *testing.T, dialect string) {
		f := newFixture(t, dialect)
		ctx := context.Background()
		id := f.caseDossier("C-7")
		items, err := f.s.Catalogue(ctx, id)
		if err != nil {
			t.Fatal(err)
		}
		var ce *ChainError

		// An entry changed in place: its own hash no longer matches.
		edited := append([]Item(nil), items...)
		edited[2].Title = "行政处罚决定书（改）"
		if err := VerifyChain(edited); !errors.As(err, &ce) || ce.Seq != 3 {
			t.Fatalf("edited entry: %v", err)
		}
		// Re-hashed too: the next entry's link breaks.
		edited[2].Hash, _ = edited[2].ComputeHash(edited[2].Prev)
		if err := VerifyChain(edited); !errors.As(err, &ce) || ce.Seq != 4 || !strings.Contains(ce.Reason, "prev") {
			t.Fatalf("re-hashed entry: %v", err)
		}
		// An entry removed.
		if err := VerifyChain(append(append([]Item(nil), items[:1]...), items[2:]...)); !errors.As(err, &ce) || ce.Seq != 2 {
			t.Fatalf("removed entry: %v", err)
		}
		// Meta changed: numbers count as content.
		edited = append([]Item(nil), items...)
		edited[0].Meta = map[string]any{"date": "2026-02-01", "pages": 2, "author": "浦东新区市场监督管理局"}
		if err := VerifyChain(edited); !errors.As(err, &ce) || ce.Seq != 1 {
			t.Fatalf("edited meta: %v", err)
		}

		// Tampering in the database is found by Verify.
		if _, err := f.st.DB.ExecContext(ctx, "UPDATE dossier_items SET sm3 = ? WHERE dossier_id = ? AND seq = 2", strings.Repeat("0", 64), id); err != nil {
			t.Fatal(err)
		}
		if err := f.s.Verify(ctx, id); !errors.As(err, &ce) || ce.Seq != 2 {
			t.Fatalf("database tampering: %v", err)
		}
	})
}

func TestArchivedDossierRefusesAppends(t *testing.T) {
	storetest.Each(t, func(t *testing.T, dialect string) {
		f := newFixture(t, dialect)
		ctx := context.Background()
		id := f.caseDossier("C-9")
		if _, rep, err := f.s.Archive(ctx, id, testArchiveInfo); err != nil {
			t.Fatalf("archive: %v%s", err, reportText(rep))
		}
		_, err := f.s.Append(ctx, id, f.entry(KindEvidence, "", "补充照片", "png", makePNG(t, 9), nil))
		var ae *apierror.Error
		if !errors.As(err, &ae) || ae.Code != "dossier.archived" || ae.Status != http.StatusConflict {
			t.Fatalf("append to archived: %v", err)
		}
		if _, _, err := f.s.Archive(ctx, id, testArchiveInfo); !errors.Is(err, ErrArchived) {
			t.Fatalf("archive twice: %v", err)
		}
	})
}

func TestConcurrentAppendsKeepOneChain(t *testing.T) {
	storetest.Each(t, func(t *testing.T, dialect string) {
		f := newFixture(t, dialect)
		ctx := context.Background()
		d, err := f.s.Open(ctx, "enforcement", "C-16", "general_case", "并发案", "310115-D03", "")
		if err != nil {
			t.Fatal(err)
		}
		const n = 16
		entries := make([]Entry, n)
		for i := range entries {
			entries[i] = f.entry(KindEvidence, "", "现场照片", "png", makePNG(t, uint8(i)), map[string]any{"date": "2026-02-01", "n": i})
		}
		var wg sync.WaitGroup
		errs := make(chan error, n)
		for i := range entries {
			wg.Add(1)
			go func(e Entry) {
				defer wg.Done()
				if _, err := f.s.Append(ctx, d.ID, e); err != nil {
					errs <- err
				}
			}(entries[i])
		}
		wg.Wait()
		close(errs)
		for err := range errs {
			t.Fatal(err)
		}
		items, err := f.s.Catalogue(ctx, d.ID)
		if err != nil {
			t.Fatal(err)
		}
		if len(items) != n {
			t.Fatalf("%d entries, want %d", len(items), n)
		}
		for i, it := range items {
			if it.Seq != i+1 || it.Version != i+1 { // same title: the version counts the earlier ones
				t.Fatalf("entry %d: seq %d version %d", i+1, it.Seq, it.Version)
			}
		}
		if err := f.s.Verify(ctx, d.ID); err != nil {
			t.Fatal(err)
		}
	})
}

func TestArchiveMarksDossierAndNumbers(t *testing.T) {
	storetest.Each(t, func(t *testing.T, dialect string) {
		f := newFixture(t, dialect)
		ctx := context.Background()
		first, second := f.caseDossier("C-1"), f.caseDossier("C-2")
		data, rep, err := f.s.Archive(ctx, first, testArchiveInfo)
		if err != nil || !rep.Passed || len(data) == 0 {
			t.Fatalf("archive: %v%s", err, reportText(rep))
		}
		d, _ := f.s.Get(ctx, first)
		if d.Status != dossier.StatusArchived || d.ArchiveCode != "S001-2026-D30-310115D03-0001" || d.ArchivedAt == nil {
			t.Fatalf("archived dossier: %+v", d)
		}
		// The next dossier under the same fonds, year, retention and
		// organisation gets the next 件号; another retention starts again.
		if _, _, err := f.s.Archive(ctx, second, testArchiveInfo); err != nil {
			t.Fatal(err)
		}
		if d, _ := f.s.Get(ctx, second); d.ArchiveCode != "S001-2026-D30-310115D03-0002" {
			t.Fatalf("second code %s", d.ArchiveCode)
		}
		third := f.caseDossier("C-3")
		info := testArchiveInfo
		info.Retention = "永久"
		if _, _, err := f.s.Archive(ctx, third, info); err != nil {
			t.Fatal(err)
		}
		if d, _ := f.s.Get(ctx, third); d.ArchiveCode != "S001-2026-Y-310115D03-0001" {
			t.Fatalf("third code %s", d.ArchiveCode)
		}

		// The stored package is recorded once.
		if err := f.s.SetArchiveFile(ctx, first, 41); err != nil {
			t.Fatal(err)
		}
		if err := f.s.SetArchiveFile(ctx, first, 41); err != nil {
			t.Fatalf("same file again: %v", err)
		}
		if err := f.s.SetArchiveFile(ctx, first, 42); !errors.Is(err, ErrArchiveFileSet) {
			t.Fatalf("another file: %v", err)
		}
		open := f.caseDossier("C-4")
		if err := f.s.SetArchiveFile(ctx, open, 43); !errors.Is(err, ErrNotArchived) {
			t.Fatalf("open dossier: %v", err)
		}
		if d, _ := f.s.Get(ctx, first); d.ArchiveFileID != 41 {
			t.Fatalf("archive file %d", d.ArchiveFileID)
		}
		n, _ := f.st.Client.AuditEntry.Query().Where(auditentry.Action("dossier.archive")).Count(ctx)
		if n != 3 {
			t.Fatalf("audited archives: %d", n)
		}
		// A 件号 given by the caller is used as it is.
		info.Number = 77
		fifth := f.caseDossier("C-5")
		if _, _, err := f.s.Archive(ctx, fifth, info); err != nil {
			t.Fatal(err)
		}
		if d, _ := f.s.Get(ctx, fifth); d.ArchiveCode != "S001-2026-Y-310115D03-0077" {
			t.Fatalf("given number: %s", d.ArchiveCode)
		}
	})
}

// TestArchiveFailureLeavesDossierOpen follows scenario S11: a file that
// cannot be found, an entry whose file differs from its recorded SM3 and a
// missing required document block archiving with a report naming each;
// once fixed, the dossier archives.
func TestArchiveFailureLeavesDossierOpen(t *testing.T) {
	f := newFixture(t, "sqlite")
	ctx := context.Background()
	d, err := f.s.Open(ctx, "enforcement", "C-11", "general_case", "某某公司无照经营案", "310115-D03", "")
	if err != nil {
		t.Fatal(err)
	}
	f.append(d.ID, f.entry(KindDocument, "case_filing_approval", "立案审批表", "pdf", makePDF("filing", pdfOpts{}), map[string]any{"date": "2026-02-01"}))
	photo := f.append(d.ID, f.entry(KindEvidence, "", "现场照片", "png", makePNG(t, 3), map[string]any{"date": "2026-02-02"}))
	f.blobs.drop(photo.FileID)
	wrong := f.entry(KindEvidence, "", "询问笔录", "pdf", makePDF("record", pdfOpts{}), map[string]any{"date": "2026-02-03"})
	wrong.SM3 = sm3Hex([]byte("something else"))
	f.append(d.ID, wrong)

	data, rep, err := f.s.Archive(ctx, d.ID, testArchiveInfo)
	if !errors.Is(err, ErrChecksFailed) && !isAPIError(err, "dossier.checks_failed") {
		t.Fatalf("err %v", err)
	}
	if rep == nil || data == nil {
		t.Fatal("no report or package")
	}
	if got := failedSet(rep); got != "attributes,linkage,chain,scope" {
		t.Fatalf("failed %s:%s", got, reportText(rep))
	}
	if r := rep.Result(CheckLinkage).Reason; !strings.Contains(r, "item 2: its file files/0002-现场照片.png is not in the package") ||
		!strings.Contains(r, "file 2 not found") {
		t.Fatalf("linkage reason %q", r)
	}
	if r := rep.Result(CheckAttributes).Reason; !strings.Contains(r, "item 3 (files/0003-询问笔录.pdf): SM3") {
		t.Fatalf("attributes reason %q", r)
	}
	if r := rep.Result(CheckScope).Reason; !strings.Contains(r, "penalty_decision") {
		t.Fatalf("scope reason %q", r)
	}
	row, _ := f.s.Get(ctx, d.ID)
	if row.Status != dossier.StatusOpen || row.ArchiveCode != "" {
		t.Fatalf("dossier changed: %+v", row)
	}
	n, _ := f.st.Client.AuditEntry.Query().Where(auditentry.Action("dossier.archive"), auditentry.OutcomeEQ(auditentry.OutcomeFailure)).Count(ctx)
	if n != 1 {
		t.Fatalf("failed archive audited %d times", n)
	}
}

func TestArchiveInfoValidation(t *testing.T) {
	f := newFixture(t, "sqlite")
	ctx := context.Background()
	id := f.caseDossier("C-1")
	for name, info := range map[string]ArchiveInfo{
		"fonds":       {Fonds: "S-001"},
		"future year": {Fonds: "S001", Year: 2027},
		"retention":   {Fonds: "S001", Retention: "定期5年"},
		"org code":    {Fonds: "S001", OrgCode: "310115-D03"},
		"number":      {Fonds: "S001", Number: 10000},
		"responsible": {Fonds: "S001", Responsible: "局<b>"},
	} {
		if _, _, err := f.s.Archive(ctx, id, info); !isAPIError(err, "dossier.invalid_archive") {
			t.Errorf("%s: %v", name, err)
		}
	}
	if _, _, err := f.s.Archive(ctx, 999, testArchiveInfo); !errors.Is(err, ErrNotFound) {
		t.Fatalf("no dossier: %v", err)
	}
}

func TestConcurrentArchivesGetDistinctNumbers(t *testing.T) {
	storetest.Each(t, func(t *testing.T, dialect string) {
		f := newFixture(t, dialect)
		ctx := context.Background()
		const n = 4
		ids := make([]int, n)
		for i := range ids {
			ids[i] = f.caseDossier(fmt.Sprintf("C-%d", i))
		}
		var wg sync.WaitGroup
		errs := make(chan error, n)
		for _, id := range ids {
			wg.Add(1)
			go func(id int) {
				defer wg.Done()
				if _, rep, err := f.s.Archive(ctx, id, testArchiveInfo); err != nil {
					errs <- fmt.Errorf("dossier %d: %w%s", id, err, reportText(rep))
				}
			}(id)
		}
		wg.Wait()
		close(errs)
		for err := range errs {
			t.Fatal(err)
		}
		seen := map[string]bool{}
		for _, id := range ids {
			d, _ := f.s.Get(ctx, id)
			if d.Status != dossier.StatusArchived || seen[d.ArchiveCode] {
				t.Fatalf("dossier %d: %s %s", id, d.Status, d.ArchiveCode)
			}
			seen[d.ArchiveCode] = true
		}
		for i := 1; i <= n; i++ {
			if code := fmt.Sprintf("S001-2026-D30-310115D03-%04d", i); !seen[code] {
				t.Fatalf("codes %v lack %s", seen, code)
			}
		}
	})
}
