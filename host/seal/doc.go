// Package seal owns the host's electronic seals and signatures: SM2 keys for
// organisation seals and officers, a development CA, the visible seal image
// (公章), detached CMS signatures with SM2 and SM3, and PDF signatures with
// their verification (docs/documents.md, "Seals and signatures").
//
// # Keys
//
// A [Signer] is any [crypto.Signer] over an SM2 public key together with its
// certificate. The [Keystore] is the software implementation: it keeps a
// development CA and one key per [Subject] under a directory of an afero.Fs
// (<data-dir>/keys/seal in production, files mode 0600). Production puts an
// adapter to a signing service or HSM in its place; nothing else in the
// package knows the difference.
//
// # CMS
//
// [SignDetached] produces a DER ContentInfo holding a detached SignedData
// (GB/T 35275 object identifiers, SM3 digest, SM2 signature) with the signed
// attributes content type, message digest and signing time, and the signer's
// certificate. [VerifyDetached] checks the digest, the signature and, given
// roots, the chain at the signing time; its errors wrap [ErrMalformed],
// [ErrTampered], [ErrBadSignature] or [ErrUntrusted].
//
// # PDF
//
// [SignPDF] appends one incremental update to a PDF with a classic
// cross-reference table (what github.com/go-pdf/fpdf writes; cross-reference
// streams and encrypted files are refused with [ErrUnsupportedPDF]). The
// update holds, in this order:
//
//   - the signature dictionary: /Type /Sig /Filter /Adobe.PPKLite
//     /SubFilter /adbe.pkcs7.detached, /ByteRange, /Contents (a fixed-size
//     hex placeholder receiving the CMS), /M, /Reason, /Location, /Name,
//     and the portal's /PortalLength and /PortalBlocks (below);
//   - an invisible signature field widget (/Rect [0 0 0 0], /F 132) whose
//     /V is the signature dictionary;
//   - a new revision of the first page, with the widget added to /Annots;
//   - a new revision of the catalog, with /AcroForm << /Fields [...]
//     /SigFlags 3 >>;
//   - a cross-reference section and a trailer with /Prev.
//
// The byte range is the whole file except the /Contents hex string,
// angle brackets included; the CMS signs exactly those bytes.
//
// /PortalBlocks is the concatenated SM3 digests (hex) of the 4096-byte
// blocks of the file as it was before the update, the last block possibly
// shorter; /PortalLength is that file's length. The digests cannot cover the
// update itself — they are written into it — but the original file lies
// wholly inside the signed range, and the update is covered by the CMS, so
// neither can be changed without breaking the signature. They serve only to
// say where a changed file was changed: [VerifyPDF] compares them when the
// message digest does not match, and names the changed blocks and the PDF
// objects in them ("bytes 8192–12287 changed (object 4, page 1 content)").
// A change inside the update is reported as such.
//
// [VerifyPDF] checks the last signature in the file: the byte range starts
// at 0, excludes exactly the /Contents value and ends at the end of the file;
// then the CMS over the range. Its [PDFReport] lists every problem found with
// a stable code (pdf.unsigned, pdf.malformed, pdf.range, pdf.tampered,
// pdf.untrusted, pdf.signature).
//
// # Seal image
//
// [SealImage] draws the red round seal — ring, the organisation's name along
// the upper arc, a five-pointed star, the purpose underneath — on a
// transparent background, in the 楷体 font from host/fonts.
//
// The package keeps no state outside its values and logs nothing: no key
// material, no document content.
package seal
