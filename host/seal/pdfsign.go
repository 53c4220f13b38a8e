package seal

import (
	"bytes"
	"encoding/hex"
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/emmansun/gmsm/sm3"
)

// SignInfo is what a PDF signature dictionary says besides the signature.
type SignInfo struct {
	// Reason is why the document is signed, e.g. "行政处罚决定书 沪市监浦罚〔2026〕12号".
	Reason string `json:"reason,omitempty"`
	// Location is where it is signed, e.g. "上海市浦东新区".
	Location string `json:"location,omitempty"`
	// Name is the signer's name; SignPDF uses the certificate's subject
	// when it is empty.
	Name string
}

const (
	// contentsSize is the room reserved in /Contents for the CMS, in bytes
	// (twice as many hex digits). A signature with one SM2 certificate
	// takes about 1 KiB.
	contentsSize = 8192
	// blockSize is the granularity of /PortalBlocks.
	blockSize = 4096
	// byteRangeSlot is the /ByteRange placeholder; the real array is
	// written over it, padded with spaces, once the layout is known.
	byteRangeSlot = "[0 0000000000 0000000000 0000000000]"
)

// SignPDF signs pdf with s at time at: it returns pdf with an incremental
// update appended holding a signature dictionary with a detached CMS
// signature over the whole file except that signature, an invisible
// signature field on the first page, and the catalog's /AcroForm (the
// package comment describes the update). pdf must use classic
// cross-reference tables; errors wrap ErrUnsupportedPDF or ErrMalformed for
// input that cannot be signed.
func SignPDF(pdf []byte, s Signer, at time.Time, info SignInfo) ([]byte, error) {
	cert, err := signerCert(s)
	if err != nil {
		return nil, err
	}
	f, err := parsePDF(pdf)
	if err != nil {
		return nil, err
	}
	catRef, cat, err := f.catalog()
	if err != nil {
		return nil, err
	}
	pageRef, page, err := f.firstPage()
	if err != nil {
		return nil, err
	}
	if pageRef == catRef {
		return nil, fmt.Errorf("%w: the first page is the catalog", ErrMalformed)
	}
	size := f.size()
	sigRef, fieldRef := pdfRef{num: size}, pdfRef{num: size + 1}

	// The first page's new revision lists the signature widget among its
	// annotations.
	annots, err := f.array(page.get("Annots"), "the first page's /Annots")
	if err != nil {
		return nil, err
	}
	newPage := page.clone()
	newPage.set("Annots", append(slices.Clone(annots), fieldRef))

	// The catalog's new revision has the field in its form.
	form := &pdfDict{}
	if o := cat.get("AcroForm"); o != nil {
		if form, err = f.dict(o, "/AcroForm"); err != nil {
			return nil, err
		}
		form = form.clone()
	}
	fields, err := f.array(form.get("Fields"), "/AcroForm /Fields")
	if err != nil {
		return nil, err
	}
	form.set("Fields", append(slices.Clone(fields), fieldRef))
	form.set("SigFlags", pdfAtom("3"))
	newCat := cat.clone()
	newCat.set("AcroForm", form)

	name := info.Name
	if name == "" {
		name = certName(cert)
	}

	var u bytes.Buffer // the update; its offsets in the file are len(pdf)+…
	base := len(pdf)
	if !bytes.HasSuffix(pdf, []byte("\n")) && !bytes.HasSuffix(pdf, []byte("\r")) {
		u.WriteByte('\n')
	}
	offsets := map[pdfRef]int{}

	offsets[sigRef] = base + u.Len()
	fmt.Fprintf(&u, "%d 0 obj\n<</Type /Sig /Filter /Adobe.PPKLite /SubFilter /adbe.pkcs7.detached\n/ByteRange ", sigRef.num)
	byteRangeAt := base + u.Len()
	u.WriteString(byteRangeSlot)
	u.WriteString("\n/Contents ")
	contentsAt := base + u.Len()
	u.WriteByte('<')
	u.Write(bytes.Repeat([]byte("0"), 2*contentsSize))
	u.WriteByte('>')
	fmt.Fprintf(&u, "\n/M (%s)", at.UTC().Format("D:20060102150405+00'00'"))
	for _, e := range []struct{ key, value string }{{"Reason", info.Reason}, {"Location", info.Location}, {"Name", name}} {
		if e.value != "" {
			fmt.Fprintf(&u, "\n/%s %s", e.key, textString(e.value))
		}
	}
	fmt.Fprintf(&u, "\n/PortalLength %d\n/PortalBlocks <%s>>>\nendobj\n", len(pdf), hex.EncodeToString(blockDigests(pdf, len(pdf))))

	offsets[fieldRef] = base + u.Len()
	fmt.Fprintf(&u, "%d 0 obj\n<</Type /Annot /Subtype /Widget /FT /Sig /Rect [0 0 0 0] /F 132 /V %d 0 R /T %s /P %d %d R>>\nendobj\n",
		fieldRef.num, sigRef.num, textString(fmt.Sprintf("Signature%d", len(fields)+1)), pageRef.num, pageRef.gen)

	for _, o := range []struct {
		ref pdfRef
		obj *pdfDict
	}{{pageRef, newPage}, {catRef, newCat}} {
		offsets[o.ref] = base + u.Len()
		fmt.Fprintf(&u, "%d %d obj\n", o.ref.num, o.ref.gen)
		o.obj.writeTo(&u)
		u.WriteString("\nendobj\n")
	}

	xrefAt := base + u.Len()
	writeXRef(&u, offsets)
	trailer := &pdfDict{}
	trailer.set("Size", pdfAtom(fmt.Sprint(size+2)))
	trailer.set("Root", catRef)
	trailer.set("Prev", pdfAtom(fmt.Sprint(f.startxref)))
	for _, k := range []pdfName{"Info", "ID"} {
		if v := f.trailer.get(k); v != nil {
			trailer.set(k, v)
		}
	}
	u.WriteString("trailer\n")
	trailer.writeTo(&u)
	fmt.Fprintf(&u, "\nstartxref\n%d\n%%%%EOF\n", xrefAt)

	out := append(append(make([]byte, 0, len(pdf)+u.Len()), pdf...), u.Bytes()...)
	gapStart, gapEnd := contentsAt, contentsAt+2*contentsSize+2
	br := fmt.Sprintf("[0 %d %d %d", gapStart, gapEnd, len(out)-gapEnd)
	if len(br)+1 > len(byteRangeSlot) {
		return nil, fmt.Errorf("seal: sign: the file is too large to sign (%d bytes)", len(out))
	}
	copy(out[byteRangeAt:], br+strings.Repeat(" ", len(byteRangeSlot)-len(br)-1)+"]")

	signed := append(append(make([]byte, 0, len(out)-(gapEnd-gapStart)), out[:gapStart]...), out[gapEnd:]...)
	p7, err := SignDetached(s, signed, at)
	if err != nil {
		return nil, err
	}
	if len(p7) > contentsSize {
		return nil, fmt.Errorf("seal: sign: the signature takes %d bytes, more than the %d reserved", len(p7), contentsSize)
	}
	hex.Encode(out[gapStart+1:], p7)
	return out, nil
}

// blockDigests returns the SM3 digests of b[:n] in blockSize blocks, the
// last one possibly shorter, concatenated.
func blockDigests(b []byte, n int) []byte {
	out := make([]byte, 0, (n+blockSize-1)/blockSize*sm3.Size)
	for i := 0; i < n; i += blockSize {
		d := sm3.Sum(b[i:min(i+blockSize, n)])
		out = append(out, d[:]...)
	}
	return out
}

// writeXRef writes a cross-reference section for the objects at offsets, in
// subsections of consecutive numbers.
func writeXRef(u *bytes.Buffer, offsets map[pdfRef]int) {
	refs := make([]pdfRef, 0, len(offsets))
	for r := range offsets {
		refs = append(refs, r)
	}
	slices.SortFunc(refs, func(a, b pdfRef) int { return a.num - b.num })
	u.WriteString("xref\n")
	for i := 0; i < len(refs); {
		j := i + 1
		for j < len(refs) && refs[j].num == refs[j-1].num+1 {
			j++
		}
		fmt.Fprintf(u, "%d %d\n", refs[i].num, j-i)
		for _, r := range refs[i:j] {
			fmt.Fprintf(u, "%010d %05d n \n", offsets[r], r.gen) // 20 bytes, as the format requires
		}
		i = j
	}
}
