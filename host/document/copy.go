package document

import (
	"context"
	"crypto/rand"
	"encoding/json"
	"fmt"
	"strings"
	"unicode/utf8"

	qrcode "github.com/skip2/go-qrcode"

	"github.com/shanghai-amr/portal/host/store/ent"
	"github.com/shanghai-amr/portal/host/store/ent/document"
	"github.com/shanghai-amr/portal/host/store/ent/documentcopy"
)

// CopyRequest asks for a watermarked copy.
type CopyRequest struct {
	DocumentID int
	UserID     int
	Username   string // printed on the watermark and recorded
	Purpose    string // e.g. 行政复议, 诉讼, 当事人查阅
	OrgPath    string // of the requester, for the audit log
}

// Copy re-renders an issued document as a copy (副本) with a watermark naming
// who took it, when and why, a copy code, and a QR code that opens the
// verification page of the original. The copy is recorded and audited; it is
// not signed — the original is the evidence.
func (s *Service) Copy(ctx context.Context, r CopyRequest) ([]byte, *ent.DocumentCopy, error) {
	purpose := strings.TrimSpace(r.Purpose)
	if purpose == "" || utf8.RuneCountInString(purpose) > 100 {
		return nil, nil, errNeedsPurpose
	}
	d, err := s.Get(ctx, r.DocumentID)
	if err != nil {
		return nil, nil, err
	}
	if d.Status == document.StatusRevoked {
		return nil, nil, ErrRevoked
	}
	tpl, err := s.Template(d.Type, d.TemplateVersion)
	if err != nil {
		return nil, nil, err
	}
	var data map[string]any
	if err := json.Unmarshal([]byte(d.Data), &data); err != nil {
		return nil, nil, fmt.Errorf("document %d: data: %w", d.ID, err)
	}
	values, problems := tpl.Fill(data)
	if problems != nil {
		return nil, nil, errInvalidData.WithDetails(problems)
	}
	org := s.public(ctx, d)
	sealPNG, err := s.sealImage(org.Issuer, tpl.Seal)
	if err != nil {
		return nil, nil, err
	}
	code := copyCode()
	link := s.verifyURL(d) + "&c=" + code
	qr, err := qrcode.Encode(link, qrcode.Medium, 256)
	if err != nil {
		return nil, nil, err
	}
	now := s.o.Now()
	mark := &CopyMark{
		Code:    code,
		Lines:   []string{"副本 " + code, r.Username + " " + now.In(shanghai).Format("2006-01-02 15:04"), "用途：" + purpose},
		QR:      qr,
		Caption: fmt.Sprintf("副本编号 %s · 扫描右侧二维码核验原件（SM3 %s…）", code, d.Sm3[:16]),
	}
	pdf, err := Render(Layout{Template: tpl, Values: values, Number: d.Number, OrgName: org.Issuer, Seal: sealPNG,
		IssuedAt: d.SignedAt, Copy: mark})
	if err != nil {
		return nil, nil, err
	}
	c, err := s.o.Client.DocumentCopy.Create().SetDocumentID(d.ID).SetCode(code).SetUserID(r.UserID).
		SetUsername(r.Username).SetPurpose(purpose).Save(ctx)
	if err != nil {
		return nil, nil, err
	}
	s.audit(ctx, r.Username, r.OrgPath, "document.copy", d, map[string]any{"code": code, "purpose": purpose})
	return pdf, c, nil
}

// Copies lists the copies taken of a document, newest first.
func (s *Service) Copies(ctx context.Context, id int) ([]*ent.DocumentCopy, error) {
	return s.o.Client.DocumentCopy.Query().Where(documentcopy.DocumentID(id)).
		Order(ent.Desc(documentcopy.FieldID)).All(ctx)
}

func (s *Service) copies(ctx context.Context, id int) (int, error) {
	return s.o.Client.DocumentCopy.Query().Where(documentcopy.DocumentID(id)).Count(ctx)
}

// copyCode is 12 characters from an alphabet without look-alikes.
func copyCode() string {
	const alphabet = "23456789ABCDEFGHJKLMNPQRSTUVWXYZ"
	var b [12]byte
	_, _ = rand.Read(b[:])
	for i := range b {
		b[i] = alphabet[int(b[i])%len(alphabet)]
	}
	return string(b[:])
}
