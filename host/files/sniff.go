package files

import (
	"archive/zip"
	"bytes"
	"io"
	"net/http"
	"strings"
)

// sniffLen is how much of the head net/http's sniffer looks at.
const sniffLen = 512

// Content types recognised inside ZIP containers.
const (
	typeZip  = "application/zip"
	typeOFD  = "application/ofd"
	typeDOCX = "application/vnd.openxmlformats-officedocument.wordprocessingml.document"
	typeXLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
	typePPTX = "application/vnd.openxmlformats-officedocument.presentationml.presentation"
)

// sniff names the content type from the content alone: the head (up to 512
// bytes) and, for a ZIP container, its directory. The answer has no
// parameters (no charset).
func sniff(head []byte, content io.ReaderAt, size int64) string {
	switch {
	case bytes.HasPrefix(head, []byte("%PDF-")):
		return "application/pdf"
	case bytes.HasPrefix(head, []byte("PK\x03\x04")):
		return zipType(content, size)
	}
	t, _, _ := strings.Cut(http.DetectContentType(head), ";")
	return strings.TrimSpace(t)
}

// zipType tells OFD (GB/T 33190: OFD.xml at the root) and Office Open XML
// documents from other ZIP files by their entries.
func zipType(content io.ReaderAt, size int64) string {
	zr, err := zip.NewReader(content, size)
	if err != nil {
		return typeZip
	}
	var contentTypes bool
	prefix := map[string]bool{}
	for _, f := range zr.File {
		switch name := f.Name; {
		case strings.EqualFold(name, "OFD.xml"):
			return typeOFD
		case name == "[Content_Types].xml":
			contentTypes = true
		default:
			if top, _, ok := strings.Cut(name, "/"); ok {
				prefix[top] = true
			}
		}
	}
	if contentTypes {
		switch {
		case prefix["word"]:
			return typeDOCX
		case prefix["xl"]:
			return typeXLSX
		case prefix["ppt"]:
			return typePPTX
		}
	}
	return typeZip
}

// allowed reports whether the allow-list accepts ct; an entry ending in "*"
// matches by prefix.
func (s *Store) allowed(ct string) bool {
	ct = strings.ToLower(ct)
	for _, a := range s.o.Allowed {
		a = strings.ToLower(a)
		if p, ok := strings.CutSuffix(a, "*"); ok && strings.HasPrefix(ct, p) || a == ct {
			return true
		}
	}
	return false
}
