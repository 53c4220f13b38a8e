// Package files is the host's file store. A file is a row (name, owner,
// purpose, uploader, the uploader's organisation path) pointing at a blob on an
// afero.Fs, addressed by the SM3 digest of its content:
//
//	blobs/ab/cd/abcd…   (64 hex digits; tmp/ holds uploads in progress)
//
// Uploading the same content twice stores one blob and two rows.
//
// An upload (Put) is streamed to a temporary blob while its SM3 is computed,
// refused as soon as it passes MaxSize (declared or not), sniffed from its
// first 512 bytes and, for ZIP containers, from their directory (OFD, DOCX,
// XLSX, PPTX) — the client's Content-Type is never trusted — checked against
// the allow-list, passed to the Scanner (the built-in EICARScanner recognises
// the EICAR test signature; production plugs in a real engine), checked
// against the owner's quota, and only then moved to its address and recorded.
// A refused or failed upload leaves no temporary blob and no row. PutTx does
// the same inside the caller's transaction (a document is numbered, signed
// and stored in one): a rollback removes the row and, when no other file
// uses it, the blob. Every upload is audited (file.upload, with the SM3,
// size, type and purpose — never the content or the name), refusals with
// outcome failure and the reason code; downloads (file.download) and refused
// reads (file.read, denied) too.
//
// Errors, all apierror codes under files.*:
//
//	files.not_found         404  unknown file, or one the caller may not see
//	files.too_large         413  over MaxSize (data: Limit)
//	files.quota_exceeded    413  the owner's quota would be passed (data: Quota)
//	files.type_not_allowed  415  sniffed type outside the allow-list (data: Type)
//	files.infected          422  the scanner found something (data: Signature)
//	files.empty             400  no content
//	files.incomplete        400  the body ended early or differs from its declared length
//	files.scan_failed       503  the scanner could not answer (fail closed)
//	files.corrupt           500  the blob is missing or no longer matches its SM3
//
// The quota is answered with 413, not 507: it is the caller's content that
// does not fit, not the server that failed (5xx answers are logged and
// alerted on as server faults).
//
// Access: the uploader may read a file, and so may a caller holding the
// permission files.read (PermRead) whose data scope covers the file's
// organisation path, decided by the policy engine like every other scoped
// resource. The uploader is recognised by staff user id (created_by), so an
// enterprise is not: it reaches its uploads through the business that
// received their ids. A file without an organisation path (uploaded by an
// enterprise, a service or the operator) is treated as city-level: only
// city-wide scopes reach it. No built-in role holds files.read; roles are
// wired elsewhere. Plugin-owned files are read by their plugin through the
// host API (OwnedBy); the HTTP API serves only the host's own files.
//
// The quota check and the blob bookkeeping are serialised within one process;
// replicas sharing the blob store may together pass a quota by one upload
// each, and a blob orphaned by a crash stays until a sweep removes it.
//
// HTTP (MountAPI):
//
//	POST /api/v1/files                signed-in staff or enterprise: upload (multipart field "file", or a raw body with ?name=); ?purpose=
//	GET  /api/v1/files/:id            uploader or files.read in scope: metadata
//	GET  /api/v1/files/:id/content    the same: the content, as an attachment
package files

import (
	"context"
	"net/http"
	"path"
	"sync"
	"time"

	"github.com/spf13/afero"

	"github.com/shanghai-amr/portal/host/apierror"
	"github.com/shanghai-amr/portal/host/audit"
	"github.com/shanghai-amr/portal/host/policy"
	"github.com/shanghai-amr/portal/host/store/ent"
)

// Defaults.
const (
	// DefaultMaxSize is the largest file accepted unless Options say otherwise.
	DefaultMaxSize int64 = 50 << 20
	// DefaultQuota is an owner's quota unless Options.Quotas name it.
	DefaultQuota int64 = 1 << 30
	// DefaultUploadTimeout bounds one HTTP upload, body included.
	DefaultUploadTimeout = 10 * time.Minute
)

// HostOwner owns the files the host itself stores (the HTTP API's files).
const HostOwner = "host"

// PermRead lets a caller read the files of the organisations in their data
// scope (besides their own uploads).
const PermRead = "files.read"

// Blob layout on the Fs.
const (
	blobDir = "blobs"
	tmpDir  = "tmp"
)

// DefaultAllowed are the content types accepted unless Options.Allowed is
// set. An entry ending in "*" matches by prefix.
var DefaultAllowed = []string{
	"application/pdf",
	"application/ofd",
	"image/jpeg", "image/png", "image/gif", "image/webp",
	"text/plain", "text/xml", "application/xml",
	"application/zip",
	"application/vnd.openxmlformats-officedocument.*",
	"video/mp4", "audio/mpeg",
}

// Options configures a Store.
type Options struct {
	// Client is the host database. Required.
	Client *ent.Client
	// Fs holds the blobs (the OS file system under <data-dir>/files in
	// production, afero.NewMemMapFs in tests). Required.
	Fs afero.Fs
	// Audit records uploads, downloads and refusals. Optional (tests).
	Audit *audit.Log
	// Policy decides files.read against the file's organisation. Without it
	// only uploaders read their files (fail closed).
	Policy *policy.Engine
	// MaxSize is the largest file, in bytes. Default DefaultMaxSize.
	MaxSize int64
	// Quotas are per-owner quotas in bytes; an owner not named gets
	// DefaultQuota, a negative quota is unlimited.
	Quotas map[string]int64
	// Scanner checks every upload before it is stored. Default EICARScanner.
	Scanner Scanner
	// Allowed are the accepted content types (see DefaultAllowed).
	Allowed []string
	// UploadTimeout bounds one HTTP upload, reading the body included; it
	// replaces the server's shorter request deadline on the upload route.
	// Default DefaultUploadTimeout.
	UploadTimeout time.Duration
}

// Store keeps files.
type Store struct {
	o Options
	// quotaMu serialises Put's quota check and insert in this process.
	quotaMu sync.Mutex
	// blobMu guards placing and removing blobs and pending: the uploads of
	// this process placed on a blob whose row is not committed yet. A blob is
	// removed only by the last of them to fail, and only if no row uses it.
	blobMu  sync.Mutex
	pending map[string]int
}

// New returns a store.
func New(o Options) *Store {
	if o.MaxSize <= 0 {
		o.MaxSize = DefaultMaxSize
	}
	if o.Scanner == nil {
		o.Scanner = EICARScanner{}
	}
	if o.Allowed == nil {
		o.Allowed = DefaultAllowed
	}
	if o.UploadTimeout <= 0 {
		o.UploadTimeout = DefaultUploadTimeout
	}
	return &Store{o: o, pending: map[string]int{}}
}

// MaxSize is the largest file accepted, in bytes.
func (s *Store) MaxSize() int64 { return s.o.MaxSize }

// Quota is owner's quota in bytes; negative means unlimited.
func (s *Store) Quota(owner string) int64 {
	if q, ok := s.o.Quotas[owner]; ok {
		return q
	}
	return DefaultQuota
}

// BlobPath is where the blob with SM3 digest sum (hex) lives on the Fs.
func BlobPath(sum string) string {
	if len(sum) < 4 {
		return path.Join(blobDir, sum)
	}
	return path.Join(blobDir, sum[:2], sum[2:4], sum)
}

// Errors. TooLarge, QuotaExceeded, TypeNotAllowed and Infected carry data.
var (
	ErrNotFound   = apierror.New(http.StatusNotFound, "files.not_found", nil)
	ErrEmpty      = apierror.New(http.StatusBadRequest, "files.empty", nil)
	ErrIncomplete = apierror.New(http.StatusBadRequest, "files.incomplete", nil)
	ErrScanFailed = apierror.New(http.StatusServiceUnavailable, "files.scan_failed", nil)
	ErrCorrupt    = apierror.New(http.StatusInternalServerError, "files.corrupt", nil)
)

// TooLarge is the 413 for a file over limit bytes.
func TooLarge(limit int64) *apierror.Error {
	return apierror.New(http.StatusRequestEntityTooLarge, "files.too_large", map[string]any{"Limit": apierror.HumanBytes(limit)})
}

// QuotaExceeded is the 413 for an upload that would pass the owner's quota.
func QuotaExceeded(quota int64) *apierror.Error {
	return apierror.New(http.StatusRequestEntityTooLarge, "files.quota_exceeded", map[string]any{"Quota": apierror.HumanBytes(quota)})
}

// TypeNotAllowed is the 415 for a sniffed type outside the allow-list.
func TypeNotAllowed(contentType string) *apierror.Error {
	return apierror.New(http.StatusUnsupportedMediaType, "files.type_not_allowed", map[string]any{"Type": contentType})
}

func infected(signature string) *apierror.Error {
	return apierror.New(http.StatusUnprocessableEntity, "files.infected", map[string]any{"Signature": signature})
}

// detached keeps ctx's values but not its cancellation: cleanup and audit
// records must happen even when the request has ended.
func detached(ctx context.Context) context.Context { return context.WithoutCancel(ctx) }
