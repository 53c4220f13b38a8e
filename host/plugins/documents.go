package plugins

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"path"
	"strconv"
	"strings"

	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"

	"github.com/shanghai-amr/portal/host/document"
	"github.com/shanghai-amr/portal/host/dossier"
	"github.com/shanghai-amr/portal/host/files"
	"github.com/shanghai-amr/portal/host/numbering"
	"github.com/shanghai-amr/portal/host/policy"
	"github.com/shanghai-amr/portal/host/store/ent"
	entdossier "github.com/shanghai-amr/portal/host/store/ent/dossier"
	"github.com/shanghai-amr/portal/host/store/ent/organization"
	"github.com/shanghai-amr/portal/sdk/proto/pluginv1"
)

// maxFileMessage bounds a file carried in one plugin↔host message.
const maxFileMessage = 16 << 20

// readableFile returns a file the plugin may read: its own, or one the user
// it acts for may read. Anything else is NotFound (ids reveal nothing).
func (h *hostServices) readableFile(ctx context.Context, id string) (*ent.File, error) {
	if h.files == nil {
		return nil, status.Error(codes.Unavailable, "no file store")
	}
	n, err := strconv.Atoi(id)
	if err != nil || n <= 0 {
		return nil, status.Error(codes.InvalidArgument, "file_id must be a positive number")
	}
	f, err := h.files.Stat(ctx, n)
	if err != nil {
		return nil, hostError(ctx, err)
	}
	if files.OwnedBy(f, h.plugin) {
		return f, nil
	}
	if a := actorFrom(ctx); a.user != nil && h.files.CanRead(ctx, a.user, f) {
		return f, nil
	}
	return nil, status.Errorf(codes.NotFound, "no file %s", id)
}

func fileInfo(f *ent.File) *pluginv1.FileInfo {
	return &pluginv1.FileInfo{FileId: strconv.Itoa(f.ID), Name: f.Name, Size: f.Size, ContentType: f.ContentType,
		Sm3: f.Sm3, Owner: f.Owner, Purpose: f.Purpose}
}

// StatFile describes a file.
func (h *hostServices) StatFile(ctx context.Context, r *pluginv1.StatFileRequest) (*pluginv1.FileInfo, error) {
	f, err := h.readableFile(ctx, r.FileId)
	if err != nil {
		return nil, err
	}
	return fileInfo(f), nil
}

// GetFile returns a file's content (at most 16 MiB), checked against its SM3.
func (h *hostServices) GetFile(ctx context.Context, r *pluginv1.GetFileRequest) (*pluginv1.FileContent, error) {
	f, err := h.readableFile(ctx, r.FileId)
	if err != nil {
		return nil, err
	}
	if f.Size > maxFileMessage {
		return nil, status.Errorf(codes.ResourceExhausted, "file %d is %d bytes; the plugin API carries at most %d", f.ID, f.Size, maxFileMessage)
	}
	b, err := h.files.Bytes(ctx, f.ID)
	if err != nil {
		return nil, hostError(ctx, err)
	}
	return &pluginv1.FileContent{Info: fileInfo(f), Content: b}, nil
}

// PutFile stores a file owned by the plugin, under the plugin's quota.
func (h *hostServices) PutFile(ctx context.Context, r *pluginv1.PutFileRequest) (*pluginv1.FileInfo, error) {
	if h.files == nil {
		return nil, status.Error(codes.Unavailable, "no file store")
	}
	if len(r.Content) > maxFileMessage {
		return nil, status.Errorf(codes.ResourceExhausted, "at most %d bytes per message; let the user upload larger files to /api/v1/files", maxFileMessage)
	}
	a := actorFrom(ctx)
	f, err := h.files.Put(ctx, files.PutRequest{Owner: h.plugin, Name: r.Name, Purpose: r.Purpose, CreatedBy: files.UserID(a.user),
		OrgPath: a.orgPath(), Body: bytes.NewReader(r.Content), DeclaredSize: int64(len(r.Content)), Actor: a.name()})
	if err != nil {
		return nil, hostError(ctx, err)
	}
	return fileInfo(f), nil
}

// issuingOrg resolves the organisation a document or dossier belongs to: the
// one named, or the acting user's. A user must hold action in that
// organisation's scope; a plugin acting for itself must name one.
func (h *hostServices) issuingOrg(ctx context.Context, code, action string) (*ent.Organization, error) {
	a := actorFrom(ctx)
	if code == "" && a.user != nil {
		code = a.user.OrgCode
	}
	if code == "" {
		return nil, status.Error(codes.InvalidArgument, "org_code is required")
	}
	o, err := h.client.Organization.Query().Where(organization.Code(code)).Only(ctx)
	if ent.IsNotFound(err) {
		return nil, status.Errorf(codes.NotFound, "no organisation %q", code)
	} else if err != nil {
		return nil, internal(ctx, "organisation lookup failed", err)
	}
	if a.user != nil {
		in := policy.OnOrg(a.user.PolicySubject(), action, o.Path)
		in.Plugin = h.plugin
		if !h.policy.Allows(ctx, in) {
			return nil, status.Errorf(codes.PermissionDenied, "user %s may not %s for %s", a.user.Username, action, code)
		}
	}
	return o, nil
}

func documentRef(d *ent.Document) *pluginv1.DocumentRef {
	return &pluginv1.DocumentRef{DocumentId: strconv.Itoa(d.ID), Number: d.Number, FileId: strconv.Itoa(d.FileID),
		Sm3: d.Sm3, Title: d.Title, Type: d.Type, Status: string(d.Status), SignedAtUnixMs: d.SignedAt.UnixMilli()}
}

// RenderDocument issues an official document for the plugin.
func (h *hostServices) RenderDocument(ctx context.Context, r *pluginv1.RenderDocumentRequest) (*pluginv1.DocumentRef, error) {
	if h.documents == nil {
		return nil, status.Error(codes.Unavailable, "no document service")
	}
	var data map[string]any
	if err := json.Unmarshal(r.Data, &data); err != nil || data == nil {
		return nil, status.Error(codes.InvalidArgument, "data must be a JSON object")
	}
	o, err := h.issuingOrg(ctx, r.OrgCode, "documents.issue")
	if err != nil {
		return nil, err
	}
	a := actorFrom(ctx)
	d, err := h.documents.Issue(ctx, document.IssueRequest{Type: r.DocumentType, Owner: h.plugin, Subject: r.Subject,
		OrgCode: o.Code, Data: data, IssuedBy: files.UserID(a.user), Actor: a.name(), RequestKey: r.RequestKey})
	if err != nil {
		return nil, hostError(ctx, err)
	}
	return documentRef(d), nil
}

// GetDocument returns one of the plugin's documents.
func (h *hostServices) GetDocument(ctx context.Context, r *pluginv1.GetDocumentRequest) (*pluginv1.DocumentRef, error) {
	if h.documents == nil {
		return nil, status.Error(codes.Unavailable, "no document service")
	}
	id, err := strconv.Atoi(r.DocumentId)
	if err != nil {
		return nil, status.Error(codes.InvalidArgument, "document_id must be a number")
	}
	d, err := h.documents.Get(ctx, id)
	if err != nil || d.Owner != h.plugin {
		return nil, status.Errorf(codes.NotFound, "no document %s", r.DocumentId)
	}
	return documentRef(d), nil
}

// Next takes the next value of one of the plugin's sequences (named
// "<plugin id>.<name>") for an organisation and year. The value is committed
// at once: a plugin that does not use it leaves a gap. Document numbers (文号)
// are taken by RenderDocument in the document's own transaction instead.
func (h *hostServices) Next(ctx context.Context, r *pluginv1.NextNumberRequest) (*pluginv1.NextNumberResponse, error) {
	if !strings.HasPrefix(r.Sequence, h.plugin+".") {
		return nil, status.Errorf(codes.InvalidArgument, "sequence %q must start with %q", r.Sequence, h.plugin+".")
	}
	rule := numbering.Rule{Key: r.Sequence, Pattern: "{序号}"}
	scope := numbering.Scope{OrgCode: r.OrgCode}
	year := int(r.Year)
	if err := numbering.Prepare(ctx, h.client, rule, scope, year); err != nil {
		return nil, status.Error(codes.InvalidArgument, err.Error())
	}
	tx, err := h.client.Tx(ctx)
	if err != nil {
		return nil, status.Error(codes.Unavailable, "database unavailable")
	}
	n, err := numbering.Next(ctx, tx, rule, scope, year)
	if err != nil {
		_ = tx.Rollback()
		if errors.Is(err, numbering.ErrBadRule) {
			return nil, status.Error(codes.InvalidArgument, err.Error())
		}
		return nil, internal(ctx, "numbering failed", err)
	}
	if err := tx.Commit(); err != nil {
		return nil, internal(ctx, "numbering failed", err)
	}
	return &pluginv1.NextNumberResponse{Value: n.Seq}, nil
}

func dossierInfo(d *ent.Dossier) *pluginv1.DossierInfo {
	info := &pluginv1.DossierInfo{DossierId: strconv.Itoa(d.ID), Subject: d.Subject, Status: string(d.Status),
		Items: int32(d.Items), Head: d.Head, ArchiveCode: d.ArchiveCode}
	if d.ArchiveFileID != 0 {
		info.ArchiveFileId = strconv.Itoa(d.ArchiveFileID)
	}
	return info
}

// pluginDossier finds the plugin's dossier of a subject.
func (h *hostServices) pluginDossier(ctx context.Context, subject string) (*ent.Dossier, error) {
	if h.dossiers == nil {
		return nil, status.Error(codes.Unavailable, "no dossier service")
	}
	d, err := h.client.Dossier.Query().Where(entdossier.Owner(h.plugin), entdossier.Subject(subject)).Only(ctx)
	if ent.IsNotFound(err) {
		return nil, status.Errorf(codes.NotFound, "no dossier for %q: open it first", subject)
	}
	if err != nil {
		return nil, internal(ctx, "dossier lookup failed", err)
	}
	return d, nil
}

// OpenDossier opens (or returns) the dossier of one of the plugin's records.
func (h *hostServices) OpenDossier(ctx context.Context, r *pluginv1.OpenDossierRequest) (*pluginv1.DossierInfo, error) {
	if h.dossiers == nil {
		return nil, status.Error(codes.Unavailable, "no dossier service")
	}
	o, err := h.issuingOrg(ctx, r.OrgCode, "dossiers.write")
	if err != nil {
		return nil, err
	}
	d, err := h.dossiers.Open(ctx, h.plugin, r.Subject, r.Kind, r.Title, o.Code, o.Path)
	if err != nil {
		return nil, hostError(ctx, err)
	}
	return dossierInfo(d), nil
}

// AppendDossier adds a document, evidence or attachment to a dossier. The
// file must be one the plugin may read.
func (h *hostServices) AppendDossier(ctx context.Context, r *pluginv1.AppendDossierRequest) (*pluginv1.DossierEntry, error) {
	d, err := h.pluginDossier(ctx, r.Subject)
	if err != nil {
		return nil, err
	}
	f, err := h.readableFile(ctx, r.FileId)
	if err != nil {
		return nil, err
	}
	var meta map[string]any
	if len(r.Meta) > 0 {
		if err := json.Unmarshal(r.Meta, &meta); err != nil {
			return nil, status.Error(codes.InvalidArgument, "meta must be a JSON object")
		}
	}
	format := strings.TrimPrefix(strings.ToLower(path.Ext(f.Name)), ".")
	it, err := h.dossiers.Append(ctx, d.ID, dossier.Entry{Kind: r.Kind, DocType: r.DocType, Title: r.Title, FileID: f.ID,
		SM3: f.Sm3, Format: format, ParentSeq: int(r.ParentSeq), Meta: meta, CreatedBy: files.UserID(actorFrom(ctx).user)})
	if err != nil {
		return nil, hostError(ctx, err)
	}
	return &pluginv1.DossierEntry{Seq: int32(it.Seq), Version: int32(it.Version), Hash: it.Hash}, nil
}

// ArchiveDossier archives a dossier: the package is built, signed and checked;
// only a package that passes every check is stored and the dossier closed.
// Failed checks are not an error: the result carries the report.
func (h *hostServices) ArchiveDossier(ctx context.Context, r *pluginv1.ArchiveDossierRequest) (*pluginv1.ArchiveResult, error) {
	d, err := h.pluginDossier(ctx, r.Subject)
	if err != nil {
		return nil, err
	}
	a := actorFrom(ctx)
	d2, rep, err := h.dossiers.ArchiveAndStore(ctx, h.files, d.ID, dossier.ArchiveInfo{Fonds: r.Fonds, Year: int(r.Year),
		Retention: r.Retention, OrgCode: r.OrgCode}, a.name(), files.UserID(a.user))
	report, _ := json.Marshal(rep)
	if errors.Is(err, dossier.ErrChecksFailed) {
		return &pluginv1.ArchiveResult{Archived: false, Dossier: dossierInfo(d), Report: report}, nil
	}
	if err != nil {
		return nil, hostError(ctx, err)
	}
	return &pluginv1.ArchiveResult{Archived: true, Dossier: dossierInfo(d2), Report: report}, nil
}
