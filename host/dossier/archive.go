package dossier

import (
	"archive/zip"
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"strconv"
	"strings"
	"time"
	"unicode"

	"github.com/go-sql-driver/mysql"

	"github.com/shanghai-amr/portal/host/audit"
	"github.com/shanghai-amr/portal/host/clock"
	"github.com/shanghai-amr/portal/host/store/ent"
	"github.com/shanghai-amr/portal/host/store/ent/dossier"
)

// ArchiveInfo is what archiving needs beyond the dossier itself.
type ArchiveInfo struct {
	Fonds string // 全宗号, 1–16 letters or digits
	Year  int    // 年度; 0: the year of archiving
	// Retention is the 保管期限: 永久, 定期30年 or 定期10年; "": the kind's.
	Retention string
	// OrgCode is the 机构(问题)代码 in the 档号, letters and digits; "": the
	// dossier's organisation code without its other characters.
	OrgCode string
	// Number is the 件号; 0: the next free number under the same fonds,
	// year, retention and organisation code.
	Number int
	// Responsible is the 责任者 (the organisation's name); "": the dossier's
	// organisation code.
	Responsible string
}

// Metadata is metadata.json (see the package documentation).
type Metadata struct {
	Schema        string         `json:"schema"`
	Fonds         string         `json:"fonds"`          // 全宗号
	ArchiveCode   string         `json:"archive_code"`   // 档号
	Year          int            `json:"year"`           // 年度
	Retention     string         `json:"retention"`      // 保管期限
	RetentionCode string         `json:"retention_code"` // Y, D30, D10
	OrgCode       string         `json:"org_code"`       // 机构(问题)代码
	Organisation  string         `json:"organisation"`   // the dossier's organisation code
	Title         string         `json:"title"`          // 题名
	Responsible   string         `json:"responsible"`    // 责任者
	Date          string         `json:"date"`           // 日期 (archiving date)
	Kind          string         `json:"kind"`
	Owner         string         `json:"owner"`
	Subject       string         `json:"subject"`
	Count         int            `json:"count"`
	Head          string         `json:"head"` // the chain head
	Items         []MetadataItem `json:"items"`
}

// MetadataItem is one item of metadata.json. Date, author, pages and
// attachments are the entry's meta values as recorded.
type MetadataItem struct {
	Seq         int    `json:"seq"` // 件内顺序号
	Kind        string `json:"kind"`
	DocType     string `json:"doc_type,omitempty"`
	Title       string `json:"title"`
	Version     int    `json:"version"`
	Parent      int    `json:"parent,omitempty"`
	Attachments any    `json:"attachments,omitempty"`
	Date        any    `json:"date"`
	Author      any    `json:"author,omitempty"`
	Format      string `json:"format"`
	Pages       any    `json:"pages,omitempty"`
	Size        int    `json:"size"`
	SM3         string `json:"sm3"`
	File        string `json:"file"`
}

// maxCodeRetries bounds rebuilds when an automatically numbered 档号 was
// taken by a dossier archived at the same time.
const maxCodeRetries = 10

// Archive builds the dossier's archive package, checks it and, only if every
// check passes, marks the dossier archived with its 档号. It returns the ZIP
// (for the caller to store with host/files and record with SetArchiveFile)
// and the check report. When a check fails it returns the package, the
// report and ErrChecksFailed and leaves the dossier open.
func (s *Service) Archive(ctx context.Context, dossierID int, info ArchiveInfo) ([]byte, *Report, error) {
	if s.o.Notary == nil || s.o.Blobs == nil {
		return nil, nil, errors.New("dossier: archiving needs a notary and a file store")
	}
	for attempt := 0; ; attempt++ {
		zipData, rep, err := s.archiveOnce(ctx, dossierID, info)
		if errors.Is(err, errCodeTaken) && info.Number == 0 && attempt < maxCodeRetries {
			continue
		}
		if errors.Is(err, errCodeTaken) {
			err = ErrChanged
		}
		return zipData, rep, err
	}
}

var errCodeTaken = errors.New("dossier: archive code taken")

// isDeadlock reports MySQL's deadlock error (1213), which InnoDB's gap locks
// on the unique 档号 index can produce between two concurrent archivings.
func isDeadlock(err error) bool {
	var me *mysql.MySQLError
	return errors.As(err, &me) && me.Number == 1213
}

func (s *Service) archiveOnce(ctx context.Context, dossierID int, info ArchiveInfo) ([]byte, *Report, error) {
	d, err := s.Get(ctx, dossierID)
	if err != nil {
		return nil, nil, err
	}
	if d.Status == dossier.StatusArchived {
		return nil, nil, ErrArchived
	}
	now := s.o.Now().In(clock.Shanghai)
	if err := s.completeInfo(ctx, d, &info, now); err != nil {
		return nil, nil, err
	}
	code := archiveCode(info)
	items, err := catalogue(ctx, s.o.Client, d.ID)
	if err != nil {
		return nil, nil, err
	}
	zipData, unread, err := s.buildPackage(ctx, d, items, info, code, now)
	if err != nil {
		return nil, nil, err
	}
	rep := Check(ctx, zipData, s.CheckOptions())
	if len(unread) > 0 {
		if r := rep.Result(CheckLinkage); r != nil {
			r.Reason = strings.TrimPrefix(r.Reason+"; "+strings.Join(unread, "; "), "; ")
		}
	}
	detail := map[string]any{"archive_code": code, "package_sm3": rep.PackageSM3, "failed": rep.Failed()}
	if !rep.Passed {
		s.auditOutcome(ctx, 0, "dossier.archive", d, audit.Failure, detail)
		return zipData, rep, ErrChecksFailed
	}
	err = s.inTx(ctx, func(tx *ent.Tx) error {
		// Is the 档号 free? On MySQL the locking read serialises archivings
		// and comes before the dossier's own row lock, so that two
		// archivings take their locks in the same order; the unique index on
		// archive_code backs it, and a deadlock or duplicate between two
		// archivings of the same 档号 is retried with the next number.
		// SQLite serialises writers.
		q := tx.Dossier.Query().Where(dossier.ArchiveCode(code), dossier.IDNEQ(d.ID))
		if s.o.LockRows {
			q.ForUpdate()
		}
		holders, err := q.IDs(ctx)
		if err != nil {
			return err
		}
		if len(holders) > 0 {
			return errCodeTaken
		}
		cur, err := s.lock(ctx, tx, d.ID)
		if err != nil {
			return err
		}
		switch {
		case cur.Status == dossier.StatusArchived:
			return ErrArchived
		case cur.Head != Head(items) || cur.Items != len(items):
			return ErrChanged // an entry was appended while the package was built
		}
		return tx.Dossier.UpdateOneID(d.ID).SetStatus(dossier.StatusArchived).SetArchiveCode(code).
			SetArchivedAt(now.UTC()).Exec(ctx)
	})
	if ent.IsConstraintError(err) || isDeadlock(err) {
		return nil, nil, errCodeTaken
	}
	if err != nil {
		return nil, nil, err
	}
	s.audit(ctx, 0, "dossier.archive", d, detail)
	return zipData, rep, nil
}

// CheckOptions are the options the service checks packages with.
func (s *Service) CheckOptions() CheckOptions {
	return CheckOptions{Notary: s.o.Notary, Scanner: s.o.Scanner, Kinds: s.o.Kinds, Limits: s.o.Limits, Now: s.o.Now}
}

// Check runs the archive checks on a package with the service's options.
func (s *Service) Check(ctx context.Context, zipData []byte) *Report {
	return Check(ctx, zipData, s.CheckOptions())
}

// completeInfo fills in defaults and validates the archive information.
func (s *Service) completeInfo(ctx context.Context, d *ent.Dossier, info *ArchiveInfo, now time.Time) error {
	info.Fonds = strings.TrimSpace(info.Fonds)
	if !codePattern.MatchString(info.Fonds) {
		return errInvalidArchive("fonds (全宗号) must be 1–16 letters or digits")
	}
	if info.Year == 0 {
		info.Year = now.Year()
	}
	if info.Year < minYear || info.Year > now.Year() {
		return errInvalidArchive("year (年度) %d must be from %d to %d", info.Year, minYear, now.Year())
	}
	if info.Retention == "" {
		info.Retention = s.o.Kinds[d.Kind].Retention
	}
	if RetentionCode(info.Retention) == "" {
		return errInvalidArchive("retention (保管期限) %q must be 永久, 定期30年 or 定期10年", clip(info.Retention))
	}
	if info.OrgCode == "" {
		info.OrgCode = strings.Map(func(r rune) rune {
			if r < 0x80 && (unicode.IsLetter(r) || unicode.IsDigit(r)) {
				return r
			}
			return -1
		}, d.OrgCode)
	}
	if !codePattern.MatchString(info.OrgCode) {
		return errInvalidArchive("organisation code (机构代码) %q must be 1–16 letters or digits", clip(info.OrgCode))
	}
	if info.Responsible == "" {
		info.Responsible = d.OrgCode
	}
	if p := textProblem(info.Responsible, maxResponsible, true); p != "" {
		return errInvalidArchive("responsible (责任者) %s", p)
	}
	if info.Number < 0 || info.Number > 9999 {
		return errInvalidArchive("number (件号) must be from 1 to 9999")
	}
	if info.Number == 0 {
		n, err := s.nextNumber(ctx, archiveCodePrefix(*info))
		if err != nil {
			return err
		}
		info.Number = n
	}
	return nil
}

func archiveCodePrefix(info ArchiveInfo) string {
	return fmt.Sprintf("%s-%04d-%s-%s-", info.Fonds, info.Year, RetentionCode(info.Retention), info.OrgCode)
}

// archiveCode is the 档号 {全宗号}-{年度}-{保管期限代码}-{机构代码}-{件号:4}.
func archiveCode(info ArchiveInfo) string {
	return fmt.Sprintf("%s%04d", archiveCodePrefix(info), info.Number)
}

// nextNumber is the next free 件号 under an archive code prefix.
func (s *Service) nextNumber(ctx context.Context, prefix string) (int, error) {
	codes, err := s.o.Client.Dossier.Query().Where(dossier.ArchiveCodeHasPrefix(prefix)).Select(dossier.FieldArchiveCode).Strings(ctx)
	if err != nil {
		return 0, err
	}
	last := 0
	for _, c := range codes {
		if n, err := strconv.Atoi(strings.TrimPrefix(c, prefix)); err == nil && n > last {
			last = n
		}
	}
	if last >= 9999 {
		return 0, errInvalidArchive("no 件号 is left under %s", prefix)
	}
	return last + 1, nil
}

// buildPackage writes the ZIP. Files that cannot be read are left out (the
// linkage check then fails); unread says which and why.
func (s *Service) buildPackage(ctx context.Context, d *ent.Dossier, items []Item, info ArchiveInfo, code string, now time.Time) (zipData []byte, unread []string, err error) {
	md := Metadata{Schema: SchemaVersion, Fonds: info.Fonds, ArchiveCode: code, Year: info.Year, Retention: info.Retention,
		RetentionCode: RetentionCode(info.Retention), OrgCode: info.OrgCode, Organisation: d.OrgCode, Title: d.Title,
		Responsible: info.Responsible, Date: now.Format(time.DateOnly), Kind: d.Kind, Owner: d.Owner, Subject: d.Subject,
		Count: len(items), Head: Head(items), Items: []MetadataItem{}}
	contents := make([][]byte, len(items))
	missing := make([]bool, len(items))
	for i := range items {
		it := &items[i]
		b, err := s.o.Blobs.Bytes(ctx, it.FileID)
		if err != nil {
			if ctx.Err() != nil {
				return nil, nil, ctx.Err()
			}
			unread = append(unread, fmt.Sprintf("item %d: file %d could not be read: %v", it.Seq, it.FileID, err))
			missing[i], b = true, nil
		}
		contents[i] = b
		md.Items = append(md.Items, MetadataItem{Seq: it.Seq, Kind: it.Kind, DocType: it.DocType, Title: it.Title,
			Version: it.Version, Parent: it.ParentSeq, Attachments: it.Meta["attachments"], Date: metaDate(it, clock.Shanghai),
			Author: it.Meta["author"], Format: it.Format, Pages: it.Meta["pages"], Size: len(b), SM3: it.SM3,
			File: fileName(it)})
	}
	metaJSON, err := indentJSON(md)
	if err != nil {
		return nil, nil, err
	}
	chainJSON, err := indentJSON(chainFile{Owner: d.Owner, Subject: d.Subject, Kind: d.Kind, Head: Head(items), Entries: items})
	if err != nil {
		return nil, nil, err
	}
	sig, err := s.o.Notary.Sign(ctx, metaJSON)
	if err != nil {
		return nil, nil, fmt.Errorf("dossier: sign metadata: %w", err)
	}
	var buf bytes.Buffer
	zw := zip.NewWriter(&buf)
	put := func(name string, b []byte) error {
		w, err := zw.CreateHeader(&zip.FileHeader{Name: name, Method: zip.Deflate, Modified: now})
		if err != nil {
			return err
		}
		_, err = w.Write(b)
		return err
	}
	if err := put(metadataName, metaJSON); err != nil {
		return nil, nil, err
	}
	if err := put(chainName, chainJSON); err != nil {
		return nil, nil, err
	}
	for i := range items {
		if missing[i] {
			continue
		}
		if err := put(md.Items[i].File, contents[i]); err != nil {
			return nil, nil, err
		}
	}
	if err := put(signatureName, sig); err != nil {
		return nil, nil, err
	}
	if err := zw.Close(); err != nil {
		return nil, nil, err
	}
	return buf.Bytes(), unread, nil
}

// fileName is an item's path in the package: files/NNNN-<title>.<format>.
func fileName(it *Item) string {
	return fmt.Sprintf("%s%04d-%s.%s", filesDir, it.Seq, safeTitle(it.Title), it.Format)
}

// safeTitle keeps letters and digits of a title (any script), turns runs of
// anything else into one "_" and keeps at most 40 characters.
func safeTitle(title string) string {
	var b strings.Builder
	n, gap := 0, false
	for _, r := range title {
		if n == 40 {
			break
		}
		if unicode.IsLetter(r) || unicode.IsDigit(r) {
			if gap && b.Len() > 0 {
				b.WriteByte('_')
				n++
			}
			b.WriteRune(r)
			n++
			gap = false
			continue
		}
		gap = true
	}
	if b.Len() == 0 {
		return "item"
	}
	return b.String()
}

func indentJSON(v any) ([]byte, error) {
	var buf bytes.Buffer
	enc := json.NewEncoder(&buf)
	enc.SetEscapeHTML(false)
	enc.SetIndent("", "  ")
	if err := enc.Encode(v); err != nil {
		return nil, err
	}
	return buf.Bytes(), nil
}
