package seal

import (
	"errors"
	"testing"
	"time"

	"github.com/emmansun/gmsm/pkcs7"
	"github.com/spf13/afero"
)

func TestSignDetachedVerifies(t *testing.T) {
	ks := openKeystore(t, afero.NewMemMapFs())
	s := signer(t, ks, pudong)
	at := epoch.Add(48 * time.Hour)
	data := []byte("行政处罚决定书")
	p7, err := SignDetached(s, data, at)
	if err != nil {
		t.Fatal(err)
	}
	sig, err := VerifyDetached(data, p7, ks.Roots())
	if err != nil {
		t.Fatal(err)
	}
	if sig.Subject != pudong.Name || !sig.SigningTime.Equal(at) || !sig.ChainVerified ||
		sig.Serial != s.Certificate().SerialNumber.Text(16) || sig.Issuer != CACommonName {
		t.Errorf("signature %+v", sig)
	}

	// gmsm's own verifier agrees: the encoding is the one it expects.
	p, err := pkcs7.Parse(p7)
	if err != nil {
		t.Fatal(err)
	}
	p.Content = data
	if err := p.VerifyWithChain(ks.Roots()); err != nil {
		t.Errorf("gmsm pkcs7: %v", err)
	}

	// Without roots the chain is not checked, and the signature says so.
	if sig, err := VerifyDetached(data, p7, nil); err != nil || sig.ChainVerified {
		t.Errorf("without roots: %v, chain verified %v", err, sig.ChainVerified)
	}
}

func TestVerifyDetachedTellsFailuresApart(t *testing.T) {
	ks := openKeystore(t, afero.NewMemMapFs())
	other := openKeystore(t, afero.NewMemMapFs())
	s := signer(t, ks, pudong)
	at := epoch.Add(time.Hour)
	data := []byte("content")
	p7, err := SignDetached(s, data, at)
	if err != nil {
		t.Fatal(err)
	}
	badSig := append([]byte(nil), p7...)
	badSig[len(badSig)-1] ^= 0x01 // the last byte is the signature value's
	if _, err := SignDetached(s, data, epoch.AddDate(-1, 0, 0)); err == nil {
		t.Error("signed at a time before the certificate")
	}

	tests := []struct {
		name       string
		data, p7   []byte
		want       error
		wantSigner bool
	}{
		{"changed content", []byte("Content"), p7, ErrTampered, true},
		{"another CA", data, p7, ErrUntrusted, true},
		{"signature value", data, badSig, ErrBadSignature, true},
		{"garbage", data, []byte("not a signature"), ErrMalformed, false},
		{"empty", data, nil, ErrMalformed, false},
		{"truncated", data, p7[:len(p7)/2], ErrMalformed, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			roots := ks.Roots()
			if tt.want == ErrUntrusted {
				roots = other.Roots()
			}
			sig, err := VerifyDetached(tt.data, tt.p7, roots)
			if !errors.Is(err, tt.want) {
				t.Fatalf("error %v, want %v", err, tt.want)
			}
			if (sig != nil) != tt.wantSigner {
				t.Errorf("signature %+v with the error", sig)
			}
		})
	}
}
