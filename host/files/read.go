package files

import (
	"bytes"
	"context"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"strconv"
	"strings"

	"github.com/emmansun/gmsm/sm3"
	"github.com/spf13/afero"

	"github.com/shanghai-amr/portal/host/identity"
	"github.com/shanghai-amr/portal/host/policy"
	"github.com/shanghai-amr/portal/host/store/ent"
)

// Stat returns a file's row.
func (s *Store) Stat(ctx context.Context, id int) (*ent.File, error) {
	f, err := s.o.Client.File.Get(ctx, id)
	if ent.IsNotFound(err) {
		return nil, ErrNotFound
	}
	if err != nil {
		return nil, err
	}
	return f, nil
}

// Open returns a file's row and its blob, to read; the caller closes it.
// A missing blob is files.corrupt.
func (s *Store) Open(ctx context.Context, id int) (*ent.File, afero.File, error) {
	f, err := s.Stat(ctx, id)
	if err != nil {
		return nil, nil, err
	}
	b, err := s.openBlob(f)
	if err != nil {
		return nil, nil, err
	}
	return f, b, nil
}

func (s *Store) openBlob(f *ent.File) (afero.File, error) {
	b, err := s.o.Fs.Open(BlobPath(f.Sm3))
	if errors.Is(err, fs.ErrNotExist) {
		return nil, ErrCorrupt.Wrap(fmt.Errorf("file %d: blob %s is missing", f.ID, f.Sm3))
	}
	if err != nil {
		return nil, fmt.Errorf("files: %w", err)
	}
	return b, nil
}

// Bytes returns a file's whole content, checked against its SM3 (a
// convenience for small files: it is all held in memory).
func (s *Store) Bytes(ctx context.Context, id int) ([]byte, error) {
	f, b, err := s.Open(ctx, id)
	if err != nil {
		return nil, err
	}
	defer b.Close()
	var buf bytes.Buffer
	buf.Grow(int(min(f.Size, s.o.MaxSize)))
	if err := s.check(f, io.TeeReader(b, &buf)); err != nil {
		return nil, err
	}
	return buf.Bytes(), nil
}

// Verify re-hashes a file's blob and compares it with the row: files.corrupt
// when the blob is missing or changed.
func (s *Store) Verify(ctx context.Context, id int) error {
	f, b, err := s.Open(ctx, id)
	if err != nil {
		return err
	}
	defer b.Close()
	return s.check(f, b)
}

// check reads r to its end (at most one byte past the row's size) and
// compares its length and SM3 with the row.
func (s *Store) check(f *ent.File, r io.Reader) error {
	h := sm3.New()
	n, err := io.Copy(h, io.LimitReader(r, f.Size+1))
	if err != nil {
		return fmt.Errorf("files: read blob %s: %w", f.Sm3, err)
	}
	if sum := hex.EncodeToString(h.Sum(nil)); n != f.Size || sum != f.Sm3 {
		return ErrCorrupt.Wrap(fmt.Errorf("file %d: blob %s has changed (%d bytes, SM3 %s)", f.ID, f.Sm3, n, sum))
	}
	return nil
}

// OwnedBy reports whether f belongs to owner (a plugin id or HostOwner).
func OwnedBy(f *ent.File, owner string) bool { return f != nil && f.Owner == owner }

// CanRead reports whether who may read f: its uploader, or a holder of
// files.read whose data scope covers f's organisation path (decided by the
// policy engine, as for any scoped resource). A file without an organisation
// path is decided as if it belonged to the city level ("/"), so only
// city-wide scopes reach it. Without a policy engine only uploaders read.
func (s *Store) CanRead(ctx context.Context, who *identity.Identity, f *ent.File) bool {
	if who == nil || f == nil || who.Audience == identity.Anonymous {
		return false
	}
	if id := UserID(who); id != 0 && id == f.CreatedBy {
		return true
	}
	org := f.OrgPath
	if org == "" {
		org = "/"
	}
	return s.o.Policy.Allows(ctx, policy.OnOrg(who.PolicySubject(), PermRead, org))
}

// UserID is the staff user id behind an identity (its subject is
// "user:<id>"), or 0 for anyone else: enterprises, the public, the operator
// token, services.
func UserID(who *identity.Identity) int {
	if who == nil || who.Audience != identity.Staff {
		return 0
	}
	v, ok := strings.CutPrefix(who.Subject, "user:")
	if !ok {
		return 0
	}
	id, err := strconv.Atoi(v)
	if err != nil || id <= 0 {
		return 0
	}
	return id
}
