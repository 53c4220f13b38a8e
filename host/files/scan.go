package files

import (
	"bytes"
	"context"
	"io"
	"strings"
)

// Scanner checks content for malware before it is stored. It returns nil for
// clean content, an *Infected for a hit, and any other error when it cannot
// answer (the upload is then refused: the store fails closed).
type Scanner interface {
	Scan(ctx context.Context, r io.Reader) error
}

// Infected is a scanner's hit.
type Infected struct {
	Signature string
}

func (e *Infected) Error() string { return "files: infected: " + e.Signature }

// EICARScanner recognises the EICAR anti-virus test file's signature
// anywhere in the content: enough to prove the hook works end to end.
type EICARScanner struct{}

// eicar is put together at run time so that neither the source nor the
// binary carries the signature itself (other scanners would flag them).
var eicar = []byte(strings.Join([]string{`X5O!P%@AP[4\PZX54(P^)7CC)7}$`, `EICAR-STANDARD-ANTIVIRUS-TEST-FILE!$H+H*`}, ""))

// EICARSignature is the name EICARScanner reports.
const EICARSignature = "EICAR-Test-File"

// Scan implements Scanner.
func (EICARScanner) Scan(ctx context.Context, r io.Reader) error {
	keep := len(eicar) - 1 // a signature may straddle two reads
	buf := make([]byte, 64<<10)
	have := 0
	for {
		if err := ctx.Err(); err != nil {
			return err
		}
		n, err := r.Read(buf[have:])
		have += n
		if bytes.Contains(buf[:have], eicar) {
			return &Infected{Signature: EICARSignature}
		}
		if have > keep {
			have = copy(buf, buf[have-keep:have])
		}
		if err == io.EOF {
			return nil
		}
		if err != nil {
			return err
		}
	}
}
