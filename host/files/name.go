package files

import (
	"path"
	"strings"
	"unicode"
	"unicode/utf8"
)

// maxName is the longest name kept, in bytes (the column's size).
const maxName = 255

// CleanName makes a client's file name safe to store and to offer back: the
// base name only (after the last / or \), valid UTF-8, no control or
// formatting characters (which include the bidirectional overrides that
// disguise extensions), trimmed, at most 255 bytes with the extension kept.
// Chinese and other scripts stay as they are. An empty result is "file".
func CleanName(name string) string {
	name = strings.ToValidUTF8(name, "")
	if i := strings.LastIndexAny(name, `/\`); i >= 0 {
		name = name[i+1:]
	}
	name = strings.Map(func(r rune) rune {
		if unicode.IsControl(r) || unicode.Is(unicode.Cf, r) {
			return -1
		}
		return r
	}, name)
	name = strings.TrimSpace(name)
	if name == "" || name == "." || name == ".." {
		return "file"
	}
	if len(name) <= maxName {
		return name
	}
	ext := path.Ext(name)
	if len(ext) > 32 || len(ext) == len(name) {
		ext = ""
	}
	base := truncate(name[:len(name)-len(ext)], maxName-len(ext))
	return strings.TrimSpace(base) + ext
}

// truncate cuts s to at most n bytes on a character boundary.
func truncate(s string, n int) string {
	if len(s) <= n {
		return s
	}
	for n > 0 && !utf8.RuneStart(s[n]) {
		n--
	}
	return s[:n]
}

// ContentDisposition is the header value offering a file under its name: a
// filename* parameter in UTF-8, percent-encoded (RFC 6266, RFC 8187), for
// every current browser, and a plain ASCII filename for the rest — the name
// itself when it is plain ASCII, else "file" and the extension.
func ContentDisposition(disposition, name string) string {
	fallback := name
	if !plainASCII(name) {
		fallback = "file"
		if ext := path.Ext(name); plainASCII(ext) && len(ext) <= 16 {
			fallback += ext
		}
	}
	return disposition + `; filename="` + fallback + `"; filename*=UTF-8''` + encodeRFC8187(name)
}

func plainASCII(s string) bool {
	for i := 0; i < len(s); i++ {
		if c := s[i]; c < 0x20 || c > 0x7e || c == '"' || c == '\\' || c == '%' {
			return false
		}
	}
	return true
}

// encodeRFC8187 percent-encodes every byte outside attr-char.
func encodeRFC8187(s string) string {
	const hexDigits = "0123456789ABCDEF"
	var b strings.Builder
	for i := 0; i < len(s); i++ {
		c := s[i]
		if 'a' <= c && c <= 'z' || 'A' <= c && c <= 'Z' || '0' <= c && c <= '9' || strings.IndexByte("!#$&+-.^_`|~", c) >= 0 {
			b.WriteByte(c)
			continue
		}
		b.WriteByte('%')
		b.WriteByte(hexDigits[c>>4])
		b.WriteByte(hexDigits[c&15])
	}
	return b.String()
}
