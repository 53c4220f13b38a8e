package seal

import (
	"context"
	"time"

	"github.com/emmansun/gmsm/smx509"
)

// Notary signs and verifies detached CMS signatures with one key — the
// archive's — in the shape the electronic dossier asks for.
type Notary struct {
	Keys    *Keystore
	Subject Subject
	// Now is the signing clock; time.Now when nil.
	Now func() time.Time
}

// ArchiveSubject is the key archive packages are signed with.
var ArchiveSubject = Subject{Kind: KindOrg, Code: "archive", Name: "上海市市场监督管理局 电子档案封装"}

// Sign returns a detached CMS SignedData (SM2/SM3, signing time) over data.
func (n Notary) Sign(ctx context.Context, data []byte) ([]byte, error) {
	s, err := n.Keys.Signer(ctx, n.Subject)
	if err != nil {
		return nil, err
	}
	now := time.Now
	if n.Now != nil {
		now = n.Now
	}
	return SignDetached(s, data, now())
}

// Verify checks a detached signature over data against the key store's roots.
func (n Notary) Verify(data, sig []byte) (string, time.Time, error) {
	return VerifyWith(data, sig, n.Keys.Roots())
}

// VerifyWith checks a detached signature against roots and names the signer.
func VerifyWith(data, sig []byte, roots *smx509.CertPool) (string, time.Time, error) {
	s, err := VerifyDetached(data, sig, roots)
	if err != nil {
		return "", time.Time{}, err
	}
	return s.Subject, s.SigningTime, nil
}
