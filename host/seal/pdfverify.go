package seal

import (
	"bytes"
	"encoding/asn1"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/emmansun/gmsm/sm3"
	"github.com/emmansun/gmsm/smx509"
)

// Problem codes of a PDFReport: stable, for programs and translations.
const (
	ProblemUnsigned  = "pdf.unsigned"  // no signature in the file
	ProblemMalformed = "pdf.malformed" // the signature or the file cannot be read
	ProblemRange     = "pdf.range"     // the signed range does not cover the file exactly
	ProblemTampered  = "pdf.tampered"  // signed bytes were changed
	ProblemUntrusted = "pdf.untrusted" // the signer does not chain to the trusted CA
	ProblemSignature = "pdf.signature" // the signature value is wrong or out of the certificate's validity
)

// problemError is the error a problem code stands for.
func problemError(code string) error {
	switch code {
	case ProblemUnsigned:
		return ErrUnsigned
	case ProblemRange:
		return ErrRange
	case ProblemTampered:
		return ErrTampered
	case ProblemUntrusted:
		return ErrUntrusted
	case ProblemSignature:
		return ErrBadSignature
	default:
		return ErrMalformed
	}
}

// Problem is one reason a PDF signature does not hold.
type Problem struct {
	// Code is one of the Problem… constants.
	Code string `json:"code"`
	// Message says what is wrong, in English, for people: "bytes
	// 8192–12287 changed (object 4, page 1 content)".
	Message string `json:"message"`
	// Offset is the byte of the file where the problem starts, or -1 when
	// it has no particular place.
	Offset int64 `json:"offset"`
	// Object is the number of the PDF object at Offset (the first one, if
	// the problem spans several; the message names them all), or 0.
	Object int
}

// PDFReport is the outcome of VerifyPDF.
type PDFReport struct {
	// Valid says the last signature covers the whole file, is unchanged and
	// verifies, and — if roots were given — its signer chains to them.
	Valid bool `json:"valid"`
	// Signature is the signer, when the signature could be read.
	Signature *Signature `json:"signature,omitempty"`
	// Info is what the signature dictionary says.
	Info SignInfo `json:"info"`
	// Problems lists everything found wrong; empty when Valid.
	Problems []Problem
}

// Summary is the report in one line.
func (r *PDFReport) Summary() string {
	if r.Valid && r.Signature != nil {
		s := fmt.Sprintf("valid: signed by %s (certificate %s) at %s", r.Signature.Subject, r.Signature.Serial,
			r.Signature.SigningTime.UTC().Format(time.DateTime+" UTC"))
		if !r.Signature.ChainVerified {
			s += "; certificate chain not checked"
		}
		return s
	}
	msgs := make([]string, len(r.Problems))
	for i, p := range r.Problems {
		msgs[i] = p.Message
	}
	s := "not valid: " + strings.Join(msgs, "; ")
	if r.Signature != nil {
		s += fmt.Sprintf(" (signed by %s, certificate %s)", r.Signature.Subject, r.Signature.Serial)
	}
	return s
}

// Err is nil for a valid report; otherwise an error saying Summary that
// matches (errors.Is) the error of each problem: ErrUnsigned, ErrMalformed,
// ErrRange, ErrTampered, ErrUntrusted or ErrBadSignature.
func (r *PDFReport) Err() error {
	if r.Valid {
		return nil
	}
	return reportError{r}
}

type reportError struct{ r *PDFReport }

func (e reportError) Error() string { return "seal: signature " + e.r.Summary() }

func (e reportError) Unwrap() []error {
	var errs []error
	for _, p := range e.r.Problems {
		errs = append(errs, problemError(p.Code))
	}
	return errs
}

func (r *PDFReport) add(code string, offset int64, object int, format string, args ...any) {
	r.Problems = append(r.Problems, Problem{Code: code, Message: fmt.Sprintf(format, args...), Offset: offset, Object: object})
}

// VerifyPDF verifies the last signature of a PDF (package comment): that
// its byte range covers the whole file except the signature value, that the
// signed bytes match the CMS signature, that the signature verifies, and,
// when roots is not nil, that the signer's certificate chains to roots at the
// signing time. With roots nil the chain is not checked, and the report's
// Signature.ChainVerified says so.
//
// The report is returned in every case, so that a caller can show what was
// found; the error is report.Err(): nil exactly when the report is valid.
func VerifyPDF(pdf []byte, roots *smx509.CertPool) (*PDFReport, error) {
	r := &PDFReport{}
	r.verify(pdf, roots)
	r.Valid = len(r.Problems) == 0
	return r, r.Err()
}

func (r *PDFReport) verify(pdf []byte, roots *smx509.CertPool) {
	objs := scanObjects(pdf)
	sig, span, err := lastSignature(pdf, objs)
	switch {
	case errors.Is(err, ErrUnsigned):
		r.add(ProblemUnsigned, -1, 0, "the file has no signature")
		return
	case err != nil:
		r.add(ProblemMalformed, span.start, span.num, "the signature dictionary (object %d) cannot be read: %s", span.num, detail(err))
		return
	}
	r.Info = SignInfo{Reason: decodeText(sig.get("Reason")), Location: decodeText(sig.get("Location")), Name: decodeText(sig.get("Name"))}

	br, ok := byteRange(sig.get("ByteRange"))
	contents, _ := sig.get("Contents").(pdfAtom)
	if !ok || len(contents) < 2 || contents[0] != '<' {
		r.add(ProblemMalformed, span.start, span.num, "the signature dictionary (object %d) has no usable /ByteRange and /Contents", span.num)
		return
	}
	size := int64(len(pdf))
	gapStart := int64(sig.offset("Contents"))
	gapEnd := gapStart + int64(len(contents))
	end := br[2] + br[3]
	if br[0]+br[1] > br[2] || end > size {
		r.add(ProblemRange, -1, 0, "range does not cover the file: the signed range [%d %d %d %d] lies outside the file of %d bytes (truncated?)",
			br[0], br[1], br[2], br[3], size)
		return
	}
	if br[0] != 0 {
		r.add(ProblemRange, 0, 0, "range does not cover the file: bytes 0–%d are not signed", br[0]-1)
	}
	if br[0]+br[1] != gapStart || br[2] != gapEnd {
		left := "nothing"
		if br[0]+br[1] < br[2] {
			left = fmt.Sprintf("bytes %d–%d", br[0]+br[1], br[2]-1)
		}
		r.add(ProblemRange, br[0]+br[1], span.num, "range does not cover the file: it leaves out %s, but the signature value is at bytes %d–%d",
			left, gapStart, gapEnd-1)
	}
	if end < size {
		r.add(ProblemRange, end, firstObject(objs, end, size-1), "bytes after the signed range: bytes %d–%d were added after signing%s",
			end, size-1, inParens(objectsIn(objs, end, size-1, nil)))
	}

	p7 := derPrefix(decodeHex(contents[1 : len(contents)-1]))
	signed := append(append(make([]byte, 0, br[1]+br[3]), pdf[br[0]:br[0]+br[1]]...), pdf[br[2]:end]...)
	s, err := VerifyDetached(signed, p7, roots)
	r.Signature = s
	errs := []error{err}
	if j, ok := err.(interface{ Unwrap() []error }); ok {
		errs = j.Unwrap()
	}
	for _, err := range errs {
		switch {
		case err == nil:
		case errors.Is(err, ErrTampered):
			r.locateChange(pdf, sig, span.num, br, objs)
		case errors.Is(err, ErrUntrusted):
			r.add(ProblemUntrusted, -1, 0, "the signer is not trusted: %s", detail(err))
		case errors.Is(err, ErrBadSignature):
			r.add(ProblemSignature, -1, 0, "the signature is invalid: %s", detail(err))
		default:
			r.add(ProblemMalformed, gapStart, span.num, "the signature value cannot be read: %s", detail(err))
		}
	}
}

// detail is an error's message without the package's sentinel prefix.
func detail(err error) string {
	s := err.Error()
	for _, sentinel := range []error{ErrMalformed, ErrUnsupportedPDF, ErrTampered, ErrBadSignature, ErrUntrusted} {
		s = strings.TrimPrefix(s, sentinel.Error()+": ")
	}
	return s
}

// lastSignature finds the signature dictionary that ends last in the file:
// the last object holding /ByteRange and /Contents. Objects that merely
// mention /ByteRange (a stream, say) are passed over; one that cannot be
// parsed is an error, with its span.
func lastSignature(pdf []byte, objs []objSpan) (*pdfDict, objSpan, error) {
	for i := len(objs) - 1; i >= 0; i-- {
		o := objs[i]
		if !bytes.Contains(pdf[o.start:o.end], []byte("/ByteRange")) {
			continue
		}
		_, _, obj, stream, err := readIndirect(pdf, o.start)
		if err != nil {
			return nil, o, err
		}
		if d, ok := obj.(*pdfDict); ok && !stream && d.get("ByteRange") != nil && d.get("Contents") != nil {
			return d, o, nil
		}
	}
	return nil, objSpan{}, ErrUnsigned
}

// byteRange reads /ByteRange: four non-negative integers.
func byteRange(o pdfObject) ([4]int64, bool) {
	var br [4]int64
	a, ok := o.(pdfArray)
	if !ok || len(a) != 4 {
		return br, false
	}
	for i, v := range a {
		at, _ := v.(pdfAtom)
		n, ok := unsigned(at, 1<<40)
		if !ok {
			return br, false
		}
		br[i] = n
	}
	return br, true
}

// derPrefix cuts the zero padding after the DER signature in /Contents.
// Anything that is not one DER value followed by zeros is returned whole
// for the CMS parser to refuse.
func derPrefix(b []byte) []byte {
	var v asn1.RawValue
	rest, err := asn1.Unmarshal(b, &v)
	if err != nil || len(bytes.Trim(rest, "\x00")) != 0 {
		return b
	}
	return v.FullBytes
}

// locateChange explains a message digest mismatch with /PortalBlocks: the
// blocks of the original file that changed, and the objects in them.
func (r *PDFReport) locateChange(pdf []byte, sig *pdfDict, sigNum int, br [4]int64, objs []objSpan) {
	la, _ := sig.get("PortalLength").(pdfAtom)
	n, ok1 := unsigned(la, 1<<40)
	ba, ok2 := sig.get("PortalBlocks").(pdfAtom)
	var blocks []byte
	if ok2 {
		blocks, ok2 = stringBytes(ba)
	}
	if !ok1 || !ok2 || n > br[1] || int64(len(blocks)) != (n+blockSize-1)/blockSize*sm3.Size {
		r.add(ProblemTampered, -1, 0, "the signed content was changed after signing (the signature has no block digests to say where)")
		return
	}
	labels := objectLabels(pdf, sigNum)
	now := blockDigests(pdf, int(n))
	changed := func(i int64) bool {
		return !bytes.Equal(now[i*sm3.Size:(i+1)*sm3.Size], blocks[i*sm3.Size:(i+1)*sm3.Size])
	}
	found := false
	for i := int64(0); i*blockSize < n; {
		if !changed(i) {
			i++
			continue
		}
		j := i + 1
		for j*blockSize < n && changed(j) {
			j++
		}
		from, to := i*blockSize, min(j*blockSize, n)-1
		where := objectsIn(objs, from, to, labels)
		if where == "" {
			where = "outside any object: cross-reference table or trailer"
		}
		r.add(ProblemTampered, from, firstObject(objs, from, to), "bytes %d–%d changed (%s)", from, to, where)
		found = true
		i = j
	}
	if !found {
		// The original file is intact: the change is in the signed part of
		// the update, which the block digests cannot cover.
		to := br[2] + br[3] - 1
		r.add(ProblemTampered, n, firstObject(objs, n, to), "bytes %d–%d changed: the signature's own update, after the original document%s",
			n, to, inParens(objectsIn(objs, n, to, labels)))
	}
}

// firstObject is the number of the first object overlapping bytes
// from–to, or 0.
func firstObject(objs []objSpan, from, to int64) int {
	for _, o := range objs {
		if o.start <= to && o.end > from {
			return o.num
		}
	}
	return 0
}

// objectsIn names the objects overlapping bytes from–to, with what they
// are when labels knows: "object 3, page 1; object 4, page 1 content"; ""
// if there are none.
func objectsIn(objs []objSpan, from, to int64, labels map[int]string) string {
	const most = 5
	var parts []string
	seen := map[int]bool{}
	for _, o := range objs {
		if o.start > to || o.end <= from || seen[o.num] {
			continue
		}
		seen[o.num] = true
		if len(parts) < most {
			p := fmt.Sprintf("object %d", o.num)
			if l := labels[o.num]; l != "" {
				p += ", " + l
			}
			parts = append(parts, p)
		}
	}
	if more := len(seen) - len(parts); more > 0 {
		parts = append(parts, fmt.Sprintf("%d more objects", more))
	}
	return strings.Join(parts, "; ")
}

// inParens is " (s)", or "" for an empty s.
func inParens(s string) string {
	if s == "" {
		return ""
	}
	return " (" + s + ")"
}

// objectLabels says what some objects are — catalog, pages, their content,
// the signature — from the file's cross-reference. It is best effort: a
// file damaged where it was changed may give no labels at all.
func objectLabels(pdf []byte, sigNum int) map[int]string {
	labels := map[int]string{sigNum: "signature dictionary"}
	f, err := parsePDF(pdf)
	if err != nil {
		return labels
	}
	if ref, ok := f.trailer.get("Root").(pdfRef); ok {
		labels[ref.num] = "catalog"
	}
	if ref, ok := f.trailer.get("Info").(pdfRef); ok {
		labels[ref.num] = "document information"
	}
	_ = f.walkPages(func(n int, ref pdfRef, page *pdfDict) bool {
		labels[ref.num] = fmt.Sprintf("page %d", n)
		contents := page.get("Contents")
		if a, ok := contents.(pdfArray); ok {
			for _, c := range a {
				if r, ok := c.(pdfRef); ok {
					labels[r.num] = fmt.Sprintf("page %d content", n)
				}
			}
		} else if r, ok := contents.(pdfRef); ok {
			labels[r.num] = fmt.Sprintf("page %d content", n)
		}
		return n < maxPageNodes
	})
	return labels
}
