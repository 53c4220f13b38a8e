package seal

import "errors"

// Errors callers tell apart with errors.Is. Every error of the package wraps
// at most one of them with a "seal: " prefix and the details.
var (
	// ErrMalformed: the input is not what it claims to be (a PDF, a CMS
	// SignedData, a key file) or is damaged beyond reading.
	ErrMalformed = errors.New("seal: malformed input")
	// ErrUnsupportedPDF: a valid PDF the signer does not handle
	// (cross-reference streams, encryption).
	ErrUnsupportedPDF = errors.New("seal: unsupported PDF")
	// ErrUnsigned: the PDF holds no signature dictionary.
	ErrUnsigned = errors.New("seal: not signed")
	// ErrRange: the signed byte range of a PDF does not cover the file
	// exactly (bytes added after signing, or a forged range).
	ErrRange = errors.New("seal: signed range does not cover the file")
	// ErrTampered: the signed content does not match the message digest
	// in the signature: it was changed after signing.
	ErrTampered = errors.New("seal: content changed after signing")
	// ErrBadSignature: the signature value does not verify with the
	// signer's certificate, or was made outside the certificate's validity.
	ErrBadSignature = errors.New("seal: signature invalid")
	// ErrUntrusted: the signer's certificate does not chain to the trusted
	// roots or is not meant for signing.
	ErrUntrusted = errors.New("seal: signer not trusted")
	// ErrSubject: a Subject that cannot have a key (unknown kind, bad code).
	ErrSubject = errors.New("seal: invalid subject")
)
