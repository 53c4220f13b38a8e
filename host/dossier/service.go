package dossier

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"strings"
	"time"

	"github.com/shanghai-amr/portal/host/apierror"
	"github.com/shanghai-amr/portal/host/audit"
	"github.com/shanghai-amr/portal/host/identity"
	"github.com/shanghai-amr/portal/host/store/ent"
	"github.com/shanghai-amr/portal/host/store/ent/dossier"
)

// Blobs reads a stored file's content by id (host/files implements it).
type Blobs interface {
	Bytes(ctx context.Context, fileID int) ([]byte, error)
}

// Notary signs and verifies detached signatures (host/seal: CMS SignedData,
// SM2/SM3, signing time).
type Notary interface {
	Sign(ctx context.Context, data []byte) (sig []byte, err error)
	Verify(data, sig []byte) (signer string, signedAt time.Time, err error)
}

// Scanner is the virus-scan hook.
type Scanner interface {
	Scan(ctx context.Context, r io.Reader) error
}

// Kind is a dossier kind (general case, summary case, licence application, …).
type Kind struct {
	// Required lists the document types the scope check (归档范围) requires.
	Required []string
	// Retention is the default 保管期限 (永久, 定期30年 or 定期10年) when
	// Archive is not given one.
	Retention string
}

// Errors the API answers with.
var (
	ErrNotFound       = apierror.New(http.StatusNotFound, "dossier.not_found", nil)
	ErrArchived       = apierror.New(http.StatusConflict, "dossier.archived", nil)
	ErrNotArchived    = apierror.New(http.StatusConflict, "dossier.not_archived", nil)
	ErrKindMismatch   = apierror.New(http.StatusConflict, "dossier.kind_mismatch", nil)
	ErrChanged        = apierror.New(http.StatusConflict, "dossier.changed", nil)
	ErrArchiveFileSet = apierror.New(http.StatusConflict, "dossier.archive_file_set", nil)
	// ErrChecksFailed is returned by Archive together with the report.
	ErrChecksFailed = apierror.New(http.StatusUnprocessableEntity, "dossier.checks_failed", nil)
)

// errUnknownKind is the 400 for a kind that is not configured.
func errUnknownKind(kind string) *apierror.Error {
	return apierror.New(http.StatusBadRequest, "dossier.unknown_kind", map[string]any{"Kind": kind})
}

// errInvalidEntry is the 400 for an entry that cannot be appended.
func errInvalidEntry(format string, args ...any) *apierror.Error {
	return apierror.New(http.StatusBadRequest, "dossier.invalid_entry", map[string]any{"Detail": fmt.Sprintf(format, args...)})
}

// errInvalidArchive is the 400 for archive information that cannot be used.
func errInvalidArchive(format string, args ...any) *apierror.Error {
	return apierror.New(http.StatusBadRequest, "dossier.invalid_archive", map[string]any{"Detail": fmt.Sprintf(format, args...)})
}

// Options configure a Service.
type Options struct {
	Client  *ent.Client
	Audit   *audit.Log // nil: nothing is audited (tests)
	Blobs   Blobs
	Notary  Notary
	Scanner Scanner
	// Kinds are the dossier kinds by key. Empty: any kind may be opened and
	// the scope check fails for want of a configured kind.
	Kinds map[string]Kind
	// LockRows takes row locks (MySQL); SQLite serialises writers itself.
	LockRows bool
	// Limits bound what Check unpacks; zero values take the defaults.
	Limits Limits
	Now    func() time.Time
	Log    *slog.Logger
}

// Service keeps dossiers.
type Service struct {
	o Options
}

// New returns a service.
func New(o Options) *Service {
	if o.Now == nil {
		o.Now = time.Now
	}
	if o.Log == nil {
		o.Log = slog.Default()
	}
	return &Service{o: o}
}

// Open returns the dossier of owner+subject, creating it when it does not
// exist. Opening an existing dossier with another kind is a conflict.
func (s *Service) Open(ctx context.Context, owner, subject, kind, title, orgCode, orgPath string) (*ent.Dossier, error) {
	switch {
	case strings.TrimSpace(owner) == "" || strings.TrimSpace(subject) == "":
		return nil, apierror.Invalid("owner and subject are required")
	case strings.TrimSpace(kind) == "":
		return nil, apierror.Invalid("kind is required")
	case textProblem(title, maxTitle, true) != "":
		return nil, apierror.Invalid("title " + textProblem(title, maxTitle, true))
	case strings.TrimSpace(orgCode) == "":
		return nil, apierror.Invalid("organisation is required")
	case len(owner) > 64 || len(subject) > 128 || len(kind) > 64 || len(orgCode) > 64 || len(orgPath) > 512:
		return nil, apierror.Invalid("a field is too long")
	}
	if len(s.o.Kinds) > 0 {
		if _, ok := s.o.Kinds[kind]; !ok {
			return nil, errUnknownKind(kind)
		}
	}
	existing := func() (*ent.Dossier, error) {
		d, err := s.o.Client.Dossier.Query().Where(dossier.Owner(owner), dossier.Subject(subject)).Only(ctx)
		if err != nil {
			return nil, err
		}
		if d.Kind != kind {
			return nil, ErrKindMismatch
		}
		return d, nil
	}
	d, err := existing()
	if err == nil || !ent.IsNotFound(err) {
		return d, err
	}
	d, err = s.o.Client.Dossier.Create().SetOwner(owner).SetSubject(subject).SetKind(kind).SetTitle(title).
		SetOrgCode(orgCode).SetOrgPath(orgPath).SetCreatedAt(s.o.Now().UTC()).Save(ctx)
	if ent.IsConstraintError(err) {
		return existing() // opened concurrently by someone else
	}
	if err != nil {
		return nil, err
	}
	s.audit(ctx, 0, "dossier.open", d, map[string]any{"owner": owner, "subject": subject, "kind": kind})
	return d, nil
}

// Get returns a dossier.
func (s *Service) Get(ctx context.Context, id int) (*ent.Dossier, error) {
	d, err := s.o.Client.Dossier.Get(ctx, id)
	if ent.IsNotFound(err) {
		return nil, ErrNotFound
	}
	return d, err
}

// SetArchiveFile records the stored archive package of an archived dossier.
// It may be called again with the same file; another file is a conflict.
func (s *Service) SetArchiveFile(ctx context.Context, id, fileID int) error {
	if fileID <= 0 {
		return apierror.Invalid("file id must be positive")
	}
	err := s.inTx(ctx, func(tx *ent.Tx) error {
		d, err := s.lock(ctx, tx, id)
		if err != nil {
			return err
		}
		switch {
		case d.Status != dossier.StatusArchived:
			return ErrNotArchived
		case d.ArchiveFileID == fileID:
			return nil
		case d.ArchiveFileID != 0:
			return ErrArchiveFileSet
		}
		return tx.Dossier.UpdateOneID(id).SetArchiveFileID(fileID).Exec(ctx)
	})
	if err != nil {
		return err
	}
	s.audit(ctx, 0, "dossier.archive_file", &ent.Dossier{ID: id}, map[string]any{"file_id": fileID})
	return nil
}

// lock reads a dossier inside tx, locking its row where the database needs it.
func (s *Service) lock(ctx context.Context, tx *ent.Tx, id int) (*ent.Dossier, error) {
	q := tx.Dossier.Query().Where(dossier.ID(id))
	if s.o.LockRows {
		q.ForUpdate()
	}
	d, err := q.Only(ctx)
	if ent.IsNotFound(err) {
		return nil, ErrNotFound
	}
	return d, err
}

func (s *Service) inTx(ctx context.Context, fn func(*ent.Tx) error) error {
	tx, err := s.o.Client.Tx(ctx)
	if err != nil {
		return err
	}
	if err := fn(tx); err != nil {
		_ = tx.Rollback()
		return err
	}
	return tx.Commit()
}

// audit records an action on a dossier. The actor is the caller on the
// context, else the user id given, else "system".
func (s *Service) audit(ctx context.Context, userID int, action string, d *ent.Dossier, detail map[string]any) {
	s.auditOutcome(ctx, userID, action, d, audit.Success, detail)
}

func (s *Service) auditOutcome(ctx context.Context, userID int, action string, d *ent.Dossier, outcome audit.Outcome, detail map[string]any) {
	if s.o.Audit == nil {
		return
	}
	who := identity.From(ctx)
	actor, orgPath := who.Username, who.OrgPath
	if actor == "" && userID != 0 {
		actor = fmt.Sprintf("user:%d", userID)
	}
	if _, err := s.o.Audit.Write(context.WithoutCancel(ctx), audit.Entry{Actor: actor, OrgPath: orgPath, Action: action,
		Resource: fmt.Sprintf("dossier:%d", d.ID), Outcome: outcome, Detail: detail}); err != nil {
		s.o.Log.Error("audit write failed", "action", action, "dossier", d.ID, "err", err)
	}
}
