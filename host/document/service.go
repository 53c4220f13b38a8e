// Package document issues official documents (文书): a versioned template is
// filled with a case's or an application's data, numbered (文号), typeset to
// PDF with the issuing organisation's seal, signed with SM2 and stored. It
// verifies signed documents and hands out watermarked copies whose QR code
// points to the verification page of the original. docs/documents.md has the
// design.
package document

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"image/png"
	"log/slog"
	"net/http"
	"sort"
	"sync"
	"time"
	"unicode/utf8"

	"github.com/emmansun/gmsm/sm3"

	"github.com/shanghai-amr/portal/host/apierror"
	"github.com/shanghai-amr/portal/host/audit"
	"github.com/shanghai-amr/portal/host/files"
	"github.com/shanghai-amr/portal/host/numbering"
	"github.com/shanghai-amr/portal/host/seal"
	"github.com/shanghai-amr/portal/host/store/ent"
	"github.com/shanghai-amr/portal/host/store/ent/document"
	"github.com/shanghai-amr/portal/host/store/ent/organization"
)

// Options configures the service.
type Options struct {
	Client *ent.Client
	Audit  *audit.Log
	Files  *files.Store
	Keys   *seal.Keystore
	// Templates are the document types; Builtins() when nil.
	Templates []Template
	// VerifyURL is the public address of the verification page, without the
	// document id (e.g. https://portal.example/verify/); copies encode it.
	VerifyURL string
	// Now is the clock (tests).
	Now func() time.Time
	Log *slog.Logger
}

// Service issues and verifies documents.
type Service struct {
	o         Options
	mu        sync.RWMutex           // guards templates
	templates map[string][]*Template // by type, ascending versions

	sealMu sync.Mutex
	seals  map[string][]byte // PNG by organisation and purpose
}

// New returns a service.
func New(o Options) (*Service, error) {
	if o.Templates == nil {
		ts, err := Builtins()
		if err != nil {
			return nil, err
		}
		o.Templates = ts
	}
	if o.Now == nil {
		o.Now = time.Now
	}
	if o.Log == nil {
		o.Log = slog.New(slog.DiscardHandler)
	}
	s := &Service{o: o, templates: map[string][]*Template{}, seals: map[string][]byte{}}
	for i := range o.Templates {
		t := &o.Templates[i]
		if err := t.Check(); err != nil {
			return nil, err
		}
		s.templates[t.Type] = append(s.templates[t.Type], t)
	}
	for _, vs := range s.templates {
		sort.Slice(vs, func(i, j int) bool { return vs[i].Version < vs[j].Version })
	}
	if o.Client != nil {
		if err := s.loadPublished(context.Background()); err != nil {
			return nil, err
		}
	}
	return s, nil
}

// Errors of the service.
var (
	ErrUnknownType  = apierror.New(http.StatusNotFound, "documents.unknown_type", nil)
	ErrNotFound     = apierror.New(http.StatusNotFound, "documents.not_found", nil)
	ErrUnknownOrg   = apierror.New(http.StatusUnprocessableEntity, "documents.unknown_org", nil)
	ErrRevoked      = apierror.New(http.StatusConflict, "documents.revoked", nil)
	ErrKeyReused    = apierror.New(http.StatusConflict, "documents.request_key_reused", nil)
	errInvalidData  = apierror.New(http.StatusUnprocessableEntity, "documents.invalid_data", nil)
	errNeedsPurpose = apierror.New(http.StatusBadRequest, "documents.copy_purpose", nil)
)

// Templates returns the latest version of every document type.
func (s *Service) Templates() []*Template {
	s.mu.RLock()
	defer s.mu.RUnlock()
	out := make([]*Template, 0, len(s.templates))
	for _, vs := range s.templates {
		out = append(out, vs[len(vs)-1])
	}
	sort.Slice(out, func(i, j int) bool { return out[i].Type < out[j].Type })
	return out
}

// Template returns one version of a type; version 0 is the latest.
func (s *Service) Template(typ string, version int) (*Template, error) {
	s.mu.RLock()
	defer s.mu.RUnlock()
	vs := s.templates[typ]
	if len(vs) == 0 {
		return nil, ErrUnknownType
	}
	if version == 0 {
		return vs[len(vs)-1], nil
	}
	for _, t := range vs {
		if t.Version == version {
			return t, nil
		}
	}
	return nil, ErrUnknownType
}

// IssueRequest asks for one document.
type IssueRequest struct {
	Type    string
	Owner   string // plugin id, or "host"
	Subject string // the business record, e.g. a case id
	OrgCode string // the issuing organisation
	Data    map[string]any
	// IssuedBy is the user who issued it (0 for a service); Actor names them in
	// the audit log.
	IssuedBy int
	Actor    string
	// RequestKey, when set, makes issuing idempotent for the owner: issuing
	// again under it returns the document already issued under it.
	RequestKey string
}

// Issue fills, numbers, renders, seals, signs and stores a document, in one
// transaction: the 文号 is consumed only if the document is stored.
func (s *Service) Issue(ctx context.Context, r IssueRequest) (*ent.Document, error) {
	if r.RequestKey != "" {
		if utf8.RuneCountInString(r.RequestKey) > 160 {
			return nil, apierror.Invalid("request_key: at most 160 characters")
		}
		if d, err := s.issuedUnder(ctx, r); d != nil || err != nil {
			return d, err
		}
	}
	tpl, err := s.Template(r.Type, 0)
	if err != nil {
		return nil, err
	}
	values, problems := tpl.Fill(r.Data)
	if problems != nil {
		return nil, errInvalidData.WithDetails(problems)
	}
	org, err := s.o.Client.Organization.Query().Where(organization.Code(r.OrgCode)).Only(ctx)
	if ent.IsNotFound(err) {
		return nil, ErrUnknownOrg
	}
	if err != nil {
		return nil, err
	}
	scope := numbering.Scope{OrgCode: org.Code, DivisionCode: org.DivisionCode}
	at := s.o.Now().UTC()
	year := at.In(shanghai).Year()
	if tpl.Numbering != "" {
		if err := numbering.Prepare(ctx, s.o.Client, tpl.rule(), scope, year); err != nil {
			return nil, err
		}
	}
	sealPNG, err := s.sealImage(org.Name, tpl.Seal)
	if err != nil {
		return nil, err
	}
	signer, err := s.o.Keys.Signer(ctx, seal.Subject{Kind: "org", Code: org.Code, Name: org.Name})
	if err != nil {
		return nil, err
	}
	data, _ := json.Marshal(r.Data)

	tx, err := s.o.Client.Tx(ctx)
	if err != nil {
		return nil, err
	}
	doc, f, err := func() (*ent.Document, *ent.File, error) {
		number := ""
		if tpl.Numbering != "" {
			n, err := numbering.Next(ctx, tx, tpl.rule(), scope, year)
			if err != nil {
				return nil, nil, err
			}
			number = n.Text
		}
		pdf, err := Render(Layout{Template: tpl, Values: values, Number: number, OrgName: org.Name, Seal: sealPNG, IssuedAt: at})
		if err != nil {
			return nil, nil, err
		}
		signed, err := seal.SignPDF(pdf, signer, at, seal.SignInfo{Reason: tpl.Title + " " + number, Location: "上海", Name: org.Name})
		if err != nil {
			return nil, nil, err
		}
		name := tpl.Title + ".pdf"
		if number != "" {
			name = tpl.Title + " " + number + ".pdf"
		}
		f, err := s.o.Files.PutTx(ctx, tx, files.PutRequest{Owner: r.Owner, Name: name, Purpose: "document",
			CreatedBy: r.IssuedBy, OrgPath: org.Path, Body: bytes.NewReader(signed), DeclaredSize: int64(len(signed))})
		if err != nil {
			return nil, nil, err
		}
		cert := signer.Certificate()
		doc, err := tx.Document.Create().SetType(tpl.Type).SetTemplateVersion(tpl.Version).SetNumber(number).
			SetTitle(tpl.Title).SetOwner(r.Owner).SetSubject(r.Subject).SetOrgCode(org.Code).SetOrgPath(org.Path).
			SetData(string(data)).SetFileID(f.ID).SetSm3(f.Sm3).SetSigner(cert.Subject.String()).
			SetCertSerial(fmt.Sprintf("%x", cert.SerialNumber)).SetSignedAt(at).SetCreatedBy(r.IssuedBy).
			SetNillableRequestKey(nonEmpty(r.RequestKey)).Save(ctx)
		return doc, f, err
	}()
	if err != nil {
		_ = tx.Rollback()
		if ent.IsConstraintError(err) && r.RequestKey != "" {
			// Issued under the same key meanwhile: that one stands, and
			// this transaction's 文号 was rolled back with it.
			if d, err := s.issuedUnder(ctx, r); d != nil || err != nil {
				return d, err
			}
		}
		return nil, err
	}
	if err := tx.Commit(); err != nil {
		return nil, err
	}
	s.audit(ctx, r.Actor, org.Path, "document.issue", doc, map[string]any{"number": doc.Number, "type": doc.Type,
		"subject": doc.Subject, "sm3": doc.Sm3, "file": f.ID, "size": f.Size})
	return doc, nil
}

// issuedUnder returns the owner's document issued under r.RequestKey, nil if
// there is none; ErrKeyReused if it is of another type or subject.
func (s *Service) issuedUnder(ctx context.Context, r IssueRequest) (*ent.Document, error) {
	d, err := s.o.Client.Document.Query().Where(document.Owner(r.Owner), document.RequestKey(r.RequestKey)).Only(ctx)
	if ent.IsNotFound(err) {
		return nil, nil
	} else if err != nil {
		return nil, err
	}
	if d.Type != r.Type || d.Subject != r.Subject {
		return nil, ErrKeyReused.WithDetails(map[string]any{"request_key": r.RequestKey, "type": d.Type, "subject": d.Subject})
	}
	return d, nil
}

func nonEmpty(s string) *string {
	if s == "" {
		return nil
	}
	return &s
}

// shanghai is the time zone of document dates and numbering years.
var shanghai = time.FixedZone("CST", 8*3600)

func (s *Service) sealImage(org, purpose string) ([]byte, error) {
	s.sealMu.Lock()
	defer s.sealMu.Unlock()
	key := org + "|" + purpose
	if b, ok := s.seals[key]; ok {
		return b, nil
	}
	img, err := seal.SealImage(org, purpose, 496)
	if err != nil {
		return nil, err
	}
	var buf bytes.Buffer
	if err := png.Encode(&buf, img); err != nil {
		return nil, err
	}
	s.seals[key] = buf.Bytes()
	return buf.Bytes(), nil
}

// Get returns one document.
func (s *Service) Get(ctx context.Context, id int) (*ent.Document, error) {
	d, err := s.o.Client.Document.Get(ctx, id)
	if ent.IsNotFound(err) {
		return nil, ErrNotFound
	}
	return d, err
}

// Original returns the signed PDF of a document.
func (s *Service) Original(ctx context.Context, d *ent.Document) ([]byte, error) {
	return s.o.Files.Bytes(ctx, d.FileID)
}

// Verification is the answer to "is this file a genuine document?".
type Verification struct {
	Valid    bool            `json:"valid"`
	SM3      string          `json:"sm3"`
	Report   *seal.PDFReport `json:"report"`
	Document *Public         `json:"document,omitempty"`
	Summary  string          `json:"summary"`
}

// Public is what anyone holding a document may learn about it.
type Public struct {
	ID            int       `json:"id"`
	Type          string    `json:"type"`
	Title         string    `json:"title"`
	Number        string    `json:"number,omitempty"`
	Issuer        string    `json:"issuer"`
	SignedAt      time.Time `json:"signed_at"`
	SM3           string    `json:"sm3"`
	Status        string    `json:"status"`
	RevokeReason  string    `json:"revoke_reason,omitempty"`
	CertSerial    string    `json:"cert_serial"`
	CopiesIssued  int       `json:"copies_issued"`
	VerifyPageURL string    `json:"verify_url,omitempty"`
}

// Verify checks a signed PDF: signature, integrity, certificate chain, and —
// when its digest matches an issued document — that document's status.
func (s *Service) Verify(ctx context.Context, pdf []byte) (*Verification, error) {
	sum := sm3.Sum(pdf)
	v := &Verification{SM3: fmt.Sprintf("%x", sum[:])}
	// VerifyPDF's error is the report's verdict (report.Err()); the report
	// says what is wrong and where.
	rep, _ := seal.VerifyPDF(pdf, s.o.Keys.Roots())
	v.Report = rep
	v.Valid = rep.Valid
	v.Summary = rep.Summary()
	d, err := s.o.Client.Document.Query().Where(document.Sm3(v.SM3)).First(ctx)
	if err == nil {
		v.Document = s.public(ctx, d)
		if d.Status == document.StatusRevoked {
			v.Valid = false
			v.Summary = "revoked: " + d.RevokeReason
		}
	} else if !ent.IsNotFound(err) {
		return nil, err
	}
	return v, nil
}

func (s *Service) public(ctx context.Context, d *ent.Document) *Public {
	issuer := d.OrgCode
	if o, err := s.o.Client.Organization.Query().Where(organization.Code(d.OrgCode)).Only(ctx); err == nil {
		issuer = o.Name
	}
	copies, _ := s.copies(ctx, d.ID)
	return &Public{ID: d.ID, Type: d.Type, Title: d.Title, Number: d.Number, Issuer: issuer, SignedAt: d.SignedAt,
		SM3: d.Sm3, Status: string(d.Status), RevokeReason: d.RevokeReason, CertSerial: d.CertSerial,
		CopiesIssued: copies, VerifyPageURL: s.verifyURL(d)}
}

func (s *Service) verifyURL(d *ent.Document) string {
	return fmt.Sprintf("%s%d?h=%s", s.o.VerifyURL, d.ID, d.Sm3[:16])
}

// Lookup answers the QR code's link: the document with that id whose digest
// starts with h (so ids cannot be enumerated).
func (s *Service) Lookup(ctx context.Context, id int, h string) (*Public, error) {
	d, err := s.o.Client.Document.Get(ctx, id)
	if ent.IsNotFound(err) || (err == nil && (len(h) < 16 || len(h) > 64 || d.Sm3[:len(h)] != h)) {
		return nil, ErrNotFound
	}
	if err != nil {
		return nil, err
	}
	return s.public(ctx, d), nil
}

// Revoke marks a document revoked (e.g. after a review overturns it); its
// verification then says so. The file stays, as evidence.
func (s *Service) Revoke(ctx context.Context, id int, reason, actor, orgPath string) (*ent.Document, error) {
	if reason == "" || len([]rune(reason)) > 500 {
		return nil, apierror.Invalid("reason: 1–500 characters")
	}
	d, err := s.Get(ctx, id)
	if err != nil {
		return nil, err
	}
	if d.Status == document.StatusRevoked {
		return nil, ErrRevoked
	}
	d, err = d.Update().SetStatus(document.StatusRevoked).SetRevokeReason(reason).Save(ctx)
	if err != nil {
		return nil, err
	}
	s.audit(ctx, actor, orgPath, "document.revoke", d, map[string]any{"reason": reason})
	return d, nil
}

func (s *Service) audit(ctx context.Context, actor, orgPath, action string, d *ent.Document, detail map[string]any) {
	if s.o.Audit == nil {
		return
	}
	if _, err := s.o.Audit.Write(context.WithoutCancel(ctx), audit.Entry{Actor: actor, OrgPath: orgPath, Action: action,
		Resource: fmt.Sprintf("document:%d", d.ID), Outcome: audit.Success, Detail: detail}); err != nil {
		s.o.Log.Error("audit write failed", "action", action, "document", d.ID, "err", err)
	}
}
