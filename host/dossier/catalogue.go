package dossier

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/shanghai-amr/portal/host/store/ent"
	"github.com/shanghai-amr/portal/host/store/ent/dossier"
	"github.com/shanghai-amr/portal/host/store/ent/dossieritem"
)

// Entry is what a caller appends to a catalogue.
type Entry struct {
	Kind    string // document, evidence or attachment
	DocType string // the document type (template key); required for a document
	Title   string
	FileID  int
	// SM3 is the file's digest (hex); empty: read the file and compute it.
	SM3    string
	Format string // pdf, ofd, jpg, png, xml or txt
	// ParentSeq is, for an attachment, the entry it belongs to.
	ParentSeq int
	// Meta holds date (YYYY-MM-DD), pages, author, attachments (how many
	// attachments the entry has) and any other descriptive values.
	Meta      map[string]any
	CreatedBy int
}

// maxAppendRetries bounds retries of an append that raced another writer
// (only possible where rows are not locked).
const maxAppendRetries = 5

// errRaced means the dossier's head moved between reading and writing it.
var errRaced = errors.New("dossier: head moved")

// Append adds an entry at the end of a dossier's catalogue and returns it.
// The entry's version is the number of earlier entries with the same title
// plus one; its hash chains it to the previous head. Appending what is
// already the latest version of an entry (same title, kind, type, parent and
// content: a retry) changes nothing and returns that entry. Appending to an
// archived dossier fails with ErrArchived.
func (s *Service) Append(ctx context.Context, dossierID int, e Entry) (*Item, error) {
	if err := s.prepare(ctx, &e); err != nil {
		return nil, err
	}
	var meta map[string]any
	metaJSON := ""
	if len(e.Meta) > 0 {
		b, err := canonicalJSON(e.Meta)
		if err != nil {
			return nil, errInvalidEntry("meta cannot be encoded: %v", err)
		}
		metaJSON = string(b)
		if meta, err = decodeMeta(metaJSON); err != nil {
			return nil, errInvalidEntry("meta: %v", err)
		}
	}
	var (
		out      *Item
		d        *ent.Dossier
		repeated bool
	)
	for attempt := 0; ; attempt++ {
		err := s.inTx(ctx, func(tx *ent.Tx) error {
			var err error
			if d, err = s.lock(ctx, tx, dossierID); err != nil {
				return err
			}
			if d.Status == dossier.StatusArchived {
				return ErrArchived
			}
			seq := d.Items + 1
			if e.ParentSeq >= seq {
				return errInvalidEntry("parent entry %d does not exist", e.ParentSeq)
			}
			same := tx.DossierItem.Query().Where(dossieritem.DossierID(d.ID), dossieritem.Title(e.Title))
			latest, err := same.Clone().Order(ent.Desc(dossieritem.FieldSeq)).First(ctx)
			if err != nil && !ent.IsNotFound(err) {
				return err
			}
			if latest != nil && latest.Kind == e.Kind && latest.Sm3 == e.SM3 && latest.DocType == e.DocType &&
				latest.ParentSeq == e.ParentSeq {
				// Already the latest version of this entry (a retried
				// append): nothing changes.
				it, err := itemOf(latest)
				out, repeated = &it, true
				return err
			}
			earlier, err := same.Count(ctx)
			if err != nil {
				return err
			}
			it := &Item{Seq: seq, Kind: e.Kind, DocType: e.DocType, Title: e.Title, FileID: e.FileID, SM3: e.SM3,
				Format: e.Format, Version: earlier + 1, ParentSeq: e.ParentSeq, Meta: meta, CreatedBy: e.CreatedBy,
				CreatedAt: s.o.Now().UTC(), Prev: d.Head}
			if it.Hash, err = it.ComputeHash(d.Head); err != nil {
				return err
			}
			c := tx.DossierItem.Create().SetDossierID(d.ID).SetSeq(seq).SetKind(it.Kind).SetTitle(it.Title).
				SetFileID(it.FileID).SetSm3(it.SM3).SetFormat(it.Format).SetVersion(it.Version).SetPrev(it.Prev).
				SetHash(it.Hash).SetCreatedAt(it.CreatedAt)
			if it.DocType != "" {
				c.SetDocType(it.DocType)
			}
			if it.ParentSeq != 0 {
				c.SetParentSeq(it.ParentSeq)
			}
			if metaJSON != "" {
				c.SetMeta(metaJSON)
			}
			if it.CreatedBy != 0 {
				c.SetCreatedBy(it.CreatedBy)
			}
			if _, err := c.Save(ctx); err != nil {
				return err
			}
			// The guard on the old head and count makes a racing writer
			// (possible only without row locks) fail and retry.
			n, err := tx.Dossier.Update().Where(dossier.ID(d.ID), dossier.Head(d.Head), dossier.Items(d.Items)).
				SetHead(it.Hash).SetItems(seq).Save(ctx)
			if err != nil {
				return err
			}
			if n != 1 {
				return errRaced
			}
			out = it
			return nil
		})
		if err == nil {
			break
		}
		if (errors.Is(err, errRaced) || ent.IsConstraintError(err)) && attempt < maxAppendRetries {
			continue
		}
		return nil, err
	}
	if repeated {
		return out, nil
	}
	s.audit(ctx, e.CreatedBy, "dossier.append", d, map[string]any{"seq": out.Seq, "kind": out.Kind, "doc_type": out.DocType,
		"title": out.Title, "version": out.Version, "file_id": out.FileID, "sm3": out.SM3, "hash": out.Hash})
	return out, nil
}

// prepare validates and normalises an entry, computing its SM3 when absent.
func (s *Service) prepare(ctx context.Context, e *Entry) error {
	e.Kind = strings.TrimSpace(e.Kind)
	e.DocType = strings.TrimSpace(e.DocType)
	e.Title = strings.TrimSpace(e.Title)
	e.Format = normalizeFormat(e.Format)
	e.SM3 = strings.ToLower(strings.TrimSpace(e.SM3))
	switch {
	case !entryKinds[e.Kind]:
		return errInvalidEntry("kind %q is not document, evidence or attachment", clip(e.Kind))
	case e.Kind == KindDocument && e.DocType == "":
		return errInvalidEntry("a document needs its document type")
	case e.DocType != "" && !docTypePattern.MatchString(e.DocType):
		return errInvalidEntry("document type %q is not 1–64 of a-z 0-9 _", clip(e.DocType))
	case e.FileID <= 0:
		return errInvalidEntry("file id must be positive")
	case !allowedFormats[e.Format]:
		return errInvalidEntry("format %q is not one of %s", clip(e.Format), formatList)
	case e.Kind == KindAttachment && e.ParentSeq <= 0:
		return errInvalidEntry("an attachment needs the entry it belongs to")
	case e.Kind != KindAttachment && e.ParentSeq != 0:
		return errInvalidEntry("only an attachment has a parent entry")
	case e.CreatedBy < 0:
		return errInvalidEntry("created_by must not be negative")
	}
	if p := textProblem(e.Title, maxTitle, true); p != "" {
		return errInvalidEntry("title %s", p)
	}
	if problems := entryMetaProblems(e.Meta); len(problems) > 0 {
		return errInvalidEntry("%s", strings.Join(problems, "; "))
	}
	if e.SM3 == "" {
		if s.o.Blobs == nil {
			return errInvalidEntry("sm3 is required (no file store to read the file from)")
		}
		b, err := s.o.Blobs.Bytes(ctx, e.FileID)
		if err != nil {
			return fmt.Errorf("dossier: read file %d: %w", e.FileID, err)
		}
		e.SM3 = sm3Hex(b)
	} else if !sm3Pattern.MatchString(e.SM3) {
		return errInvalidEntry("sm3 is not 64 hex digits")
	}
	return nil
}

// Catalogue returns a dossier's entries in order.
func (s *Service) Catalogue(ctx context.Context, dossierID int) ([]Item, error) {
	if _, err := s.Get(ctx, dossierID); err != nil {
		return nil, err
	}
	return catalogue(ctx, s.o.Client, dossierID)
}

func catalogue(ctx context.Context, db *ent.Client, dossierID int) ([]Item, error) {
	rows, err := db.DossierItem.Query().Where(dossieritem.DossierID(dossierID)).Order(ent.Asc(dossieritem.FieldSeq)).All(ctx)
	if err != nil {
		return nil, err
	}
	items := make([]Item, len(rows))
	for i, r := range rows {
		if items[i], err = itemOf(r); err != nil {
			return nil, err
		}
	}
	return items, nil
}

// itemOf is a stored entry.
func itemOf(r *ent.DossierItem) (Item, error) {
	meta, err := decodeMeta(r.Meta)
	if err != nil {
		return Item{}, fmt.Errorf("dossier %d: entry %d: stored meta: %w", r.DossierID, r.Seq, err)
	}
	return Item{Seq: r.Seq, Kind: r.Kind, DocType: r.DocType, Title: r.Title, FileID: r.FileID, SM3: r.Sm3,
		Format: r.Format, Version: r.Version, ParentSeq: r.ParentSeq, Meta: meta, CreatedBy: r.CreatedBy,
		CreatedAt: r.CreatedAt.UTC(), Prev: r.Prev, Hash: r.Hash}, nil
}

// Verify checks a dossier's stored catalogue: the chain verifies and ends at
// the head and count the dossier records. A break is a *ChainError.
func (s *Service) Verify(ctx context.Context, dossierID int) error {
	d, err := s.Get(ctx, dossierID)
	if err != nil {
		return err
	}
	items, err := catalogue(ctx, s.o.Client, dossierID)
	if err != nil {
		return err
	}
	if err := VerifyChain(items); err != nil {
		return err
	}
	if len(items) != d.Items {
		return &ChainError{Seq: len(items) + 1, Reason: fmt.Sprintf("the dossier records %d entries but %d are stored", d.Items, len(items))}
	}
	if Head(items) != d.Head {
		return &ChainError{Seq: len(items), Reason: "the dossier's head is not the last entry's hash"}
	}
	return nil
}

// metaDate returns an entry's date: its meta date, else the day it was
// added (Shanghai time).
func metaDate(it *Item, loc *time.Location) any {
	if v, ok := it.Meta["date"]; ok {
		return v
	}
	return it.CreatedAt.In(loc).Format(time.DateOnly)
}
