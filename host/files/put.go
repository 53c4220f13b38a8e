package files

import (
	"context"
	"crypto/rand"
	"database/sql"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"net/http"
	"os"
	"path"
	"regexp"
	"sync"

	"github.com/emmansun/gmsm/sm3"

	"github.com/shanghai-amr/portal/host/apierror"
	"github.com/shanghai-amr/portal/host/audit"
	"github.com/shanghai-amr/portal/host/identity"
	"github.com/shanghai-amr/portal/host/store/ent"
	"github.com/shanghai-amr/portal/host/store/ent/file"
)

// PutRequest is one upload.
type PutRequest struct {
	// Owner is a plugin id or HostOwner; the quota is the owner's.
	Owner string
	// Name is the name as the client gave it; it is cleaned (CleanName).
	Name string
	// Purpose says what the file is for: evidence, attachment, document, …
	Purpose string
	// CreatedBy is the uploading user's id, 0 for a service or an enterprise.
	CreatedBy int
	// OrgPath is the uploader's organisation path: the file's data scope.
	OrgPath string
	// Body is the content, read once up to MaxSize+1 bytes.
	Body io.Reader
	// DeclaredSize is the length the client announced, -1 when unknown.
	DeclaredSize int64
	// Actor, RequestID and IP go to the audit entry. Actor defaults to the
	// username of the identity on the context.
	Actor, RequestID, IP string
}

var purposePattern = regexp.MustCompile(`^[a-z][a-z0-9_.-]{0,63}$`)

// check refuses a malformed request before anything is read.
func (r *PutRequest) check() error {
	switch {
	case r.Owner == "" || len(r.Owner) > 64:
		return apierror.Invalid("owner: 1–64 bytes")
	case r.Purpose != "" && !purposePattern.MatchString(r.Purpose):
		return apierror.Invalid("purpose: lower-case letters, digits, _ . and -, at most 64")
	case len(r.OrgPath) > 512:
		return apierror.Invalid("org_path: at most 512 bytes")
	case r.Body == nil:
		return ErrEmpty
	}
	return nil
}

// upload is one upload in progress: its temporary blob and what was learned.
type upload struct {
	tmp         string
	size        int64
	sum, ctype  string
	deduplicate bool
}

// Put stores one file and returns its row. See the package comment for the
// steps; on any error nothing is left behind. Inside a transaction use PutTx.
func (s *Store) Put(ctx context.Context, r PutRequest) (f *ent.File, err error) {
	var u upload
	defer func() { s.auditPut(ctx, &r, f, &u, reason(err)) }()
	defer s.discard(&u)
	if err := s.receive(ctx, &r, &u); err != nil {
		return nil, err
	}
	// Quota and record one at a time, so that two uploads cannot both pass
	// the quota.
	s.quotaMu.Lock()
	defer s.quotaMu.Unlock()
	if err := s.checkQuota(ctx, s.o.Client, r.Owner, u.size); err != nil {
		return nil, err
	}
	if err := s.place(&u); err != nil {
		return nil, err
	}
	f, err = s.insert(ctx, s.o.Client, &r, &u)
	s.release(ctx, u.sum, err == nil)
	return f, err
}

// PutTx is Put inside the caller's transaction: the row is inserted with tx
// and exists only if tx commits. The blob is placed at once; if tx rolls back
// and no other file uses the blob, it is removed. The audit entry is written
// when tx ends (success on commit, failure with reason "rolled_back" on
// rollback). The quota is checked in tx but not serialised with concurrent
// transactions, which may together pass it by their own sizes.
func (s *Store) PutTx(ctx context.Context, tx *ent.Tx, r PutRequest) (f *ent.File, err error) {
	var u upload
	placed := false
	f, err = func() (*ent.File, error) {
		defer s.discard(&u)
		if err := s.receive(ctx, &r, &u); err != nil {
			return nil, err
		}
		if err := s.checkQuota(ctx, tx.Client(), r.Owner, u.size); err != nil {
			return nil, err
		}
		if err := s.place(&u); err != nil {
			return nil, err
		}
		placed = true
		return s.insert(ctx, tx.Client(), &r, &u)
	}()
	// Audit writes and blob removal wait for the transaction's end: the
	// audit log writes in its own transaction, which on SQLite would wait
	// for this one.
	var once sync.Once
	end := func(ctx context.Context, committed bool) {
		once.Do(func() {
			ctx = detached(ctx)
			stored := committed && err == nil
			if placed {
				s.release(ctx, u.sum, stored)
			}
			why := reason(err)
			if why == "" && !committed {
				why = "rolled_back"
			}
			row := f
			if !stored {
				row = nil
			}
			s.auditPut(ctx, &r, row, &u, why)
		})
	}
	tx.OnCommit(func(next ent.Committer) ent.Committer {
		return ent.CommitFunc(func(ctx context.Context, tx *ent.Tx) error {
			err := next.Commit(ctx, tx)
			end(ctx, err == nil)
			return err
		})
	})
	tx.OnRollback(func(next ent.Rollbacker) ent.Rollbacker {
		return ent.RollbackFunc(func(ctx context.Context, tx *ent.Tx) error {
			err := next.Rollback(ctx, tx)
			end(ctx, false)
			return err
		})
	})
	return f, err
}

// receive checks the request, streams the body to a temporary blob while
// hashing it, sniffs and checks the type and scans the content. The caller
// discards the temporary blob (discard) whatever happens.
func (s *Store) receive(ctx context.Context, r *PutRequest, u *upload) error {
	if err := r.check(); err != nil {
		return err
	}
	if r.DeclaredSize > s.o.MaxSize {
		return TooLarge(s.o.MaxSize)
	}
	r.Name = CleanName(r.Name)
	if err := s.o.Fs.MkdirAll(tmpDir, 0o750); err != nil {
		return fmt.Errorf("files: %w", err)
	}
	var rnd [16]byte
	_, _ = rand.Read(rnd[:])
	name := path.Join(tmpDir, hex.EncodeToString(rnd[:]))
	tf, err := s.o.Fs.OpenFile(name, os.O_RDWR|os.O_CREATE|os.O_EXCL, 0o640)
	if err != nil {
		return fmt.Errorf("files: %w", err)
	}
	u.tmp = name
	defer tf.Close()

	h := sm3.New()
	head := &headBuffer{}
	n, err := io.Copy(io.MultiWriter(tf, h, head), io.LimitReader(r.Body, s.o.MaxSize+1))
	u.size = n
	var tooLarge *http.MaxBytesError
	switch {
	case errors.As(err, &tooLarge) || n > s.o.MaxSize:
		return TooLarge(s.o.MaxSize)
	case err != nil:
		return ErrIncomplete.Wrap(err)
	case n == 0:
		return ErrEmpty
	case r.DeclaredSize >= 0 && n != r.DeclaredSize:
		return ErrIncomplete.Wrap(fmt.Errorf("declared %d bytes, received %d", r.DeclaredSize, n))
	}
	u.sum = hex.EncodeToString(h.Sum(nil))

	u.ctype = sniff(head.b, tf, n)
	if !s.allowed(u.ctype) {
		return TypeNotAllowed(u.ctype)
	}

	if _, err := tf.Seek(0, io.SeekStart); err != nil {
		return fmt.Errorf("files: %w", err)
	}
	if err := s.o.Scanner.Scan(ctx, struct{ io.Reader }{tf}); err != nil {
		var hit *Infected
		if errors.As(err, &hit) {
			return infected(hit.Signature)
		}
		return ErrScanFailed.Wrap(err)
	}
	if err := tf.Sync(); err != nil {
		return fmt.Errorf("files: %w", err)
	}
	return nil
}

// discard removes the upload's temporary blob if it is still there.
func (s *Store) discard(u *upload) {
	if u.tmp != "" {
		_ = s.o.Fs.Remove(u.tmp)
		u.tmp = ""
	}
}

// checkQuota refuses size more bytes for owner if they would pass its quota.
func (s *Store) checkQuota(ctx context.Context, db *ent.Client, owner string, size int64) error {
	q := s.Quota(owner)
	if q < 0 {
		return nil
	}
	used, err := used(ctx, db, owner)
	if err != nil {
		return err
	}
	if used+size > q {
		return QuotaExceeded(q)
	}
	return nil
}

// place moves the temporary blob to its address, or drops it when the same
// content is there already, and counts the upload as pending on the blob
// until release.
func (s *Store) place(u *upload) error {
	s.blobMu.Lock()
	defer s.blobMu.Unlock()
	addr := BlobPath(u.sum)
	if fi, err := s.o.Fs.Stat(addr); err == nil && fi.Size() == u.size {
		u.deduplicate = true
	} else {
		// New content (or a damaged blob at the address: replaced).
		if err := s.o.Fs.MkdirAll(path.Dir(addr), 0o750); err != nil {
			return fmt.Errorf("files: %w", err)
		}
		if err := s.o.Fs.Rename(u.tmp, addr); err != nil {
			return fmt.Errorf("files: place blob: %w", err)
		}
		u.tmp = ""
	}
	s.pending[u.sum]++
	return nil
}

// release ends a pending upload on blob sum. When the upload was not stored,
// no other upload is pending on the blob and no row uses it, the blob goes.
func (s *Store) release(ctx context.Context, sum string, stored bool) {
	s.blobMu.Lock()
	defer s.blobMu.Unlock()
	if s.pending[sum]--; s.pending[sum] <= 0 {
		delete(s.pending, sum)
	} else {
		return
	}
	if stored {
		return
	}
	inUse, err := s.o.Client.File.Query().Where(file.Sm3(sum)).Exist(detached(ctx))
	if err == nil && !inUse {
		_ = s.o.Fs.Remove(BlobPath(sum))
	}
}

func (s *Store) insert(ctx context.Context, db *ent.Client, r *PutRequest, u *upload) (*ent.File, error) {
	row, err := db.File.Create().SetSm3(u.sum).SetSize(u.size).SetName(r.Name).SetContentType(u.ctype).
		SetOwner(r.Owner).SetPurpose(r.Purpose).SetCreatedBy(r.CreatedBy).SetOrgPath(r.OrgPath).Save(ctx)
	if err != nil {
		return nil, fmt.Errorf("files: record: %w", err)
	}
	return row, nil
}

// Used is the sum of the sizes of owner's files, in bytes.
func (s *Store) Used(ctx context.Context, owner string) (int64, error) {
	return used(ctx, s.o.Client, owner)
}

func used(ctx context.Context, db *ent.Client, owner string) (int64, error) {
	var v []struct {
		Sum sql.NullInt64 `json:"sum"`
	}
	if err := db.File.Query().Where(file.Owner(owner)).Aggregate(ent.Sum(file.FieldSize)).Scan(ctx, &v); err != nil {
		return 0, fmt.Errorf("files: quota: %w", err)
	}
	if len(v) == 0 {
		return 0, nil
	}
	return v[0].Sum.Int64, nil
}

// reason is the audit reason for an upload's error: its API code ("" for none).
func reason(err error) string {
	if err == nil {
		return ""
	}
	return apierror.From(err).Code
}

// auditPut records an upload's outcome: success when why is empty.
func (s *Store) auditPut(ctx context.Context, r *PutRequest, f *ent.File, u *upload, why string) {
	if s.o.Audit == nil {
		return
	}
	actor := r.Actor
	if actor == "" {
		if who := identity.From(ctx); who.Audience != identity.Anonymous {
			actor = who.Username
		}
	}
	e := audit.Entry{Actor: actor, OrgPath: r.OrgPath, Action: "file.upload", RequestID: r.RequestID, IP: r.IP}
	detail := map[string]any{"owner": r.Owner, "purpose": r.Purpose, "size": u.size}
	if u.ctype != "" {
		detail["type"] = u.ctype
	}
	if u.sum != "" {
		detail["sm3"] = u.sum
	}
	if why == "" && f != nil {
		e.Resource, e.Outcome = fmt.Sprintf("file:%d", f.ID), audit.Success
		if u.deduplicate {
			detail["deduplicated"] = true
		}
	} else {
		e.Resource, e.Outcome = "file", audit.Failure
		detail["reason"] = why
		if r.DeclaredSize >= 0 {
			detail["declared_size"] = r.DeclaredSize
		}
	}
	e.Detail = detail
	_, _ = s.o.Audit.Write(detached(ctx), e)
}

// headBuffer keeps the first sniffLen bytes written to it.
type headBuffer struct{ b []byte }

func (h *headBuffer) Write(p []byte) (int, error) {
	if room := sniffLen - len(h.b); room > 0 {
		h.b = append(h.b, p[:min(room, len(p))]...)
	}
	return len(p), nil
}
