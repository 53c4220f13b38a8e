package dossier

import (
	"archive/zip"
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"path"
	"strings"
	"unicode/utf8"
)

// Limits bound what Check unpacks, so that a hostile package (a zip bomb)
// cannot exhaust memory.
type Limits struct {
	MaxEntries  int   // entries in the ZIP; default 10 000
	MaxUnpacked int64 // total uncompressed bytes; default 1 GiB
}

func (l Limits) withDefaults() Limits {
	if l.MaxEntries <= 0 {
		l.MaxEntries = 10_000
	}
	if l.MaxUnpacked <= 0 {
		l.MaxUnpacked = 1 << 30
	}
	return l
}

// Names of the package's parts.
const (
	metadataName  = "metadata.json"
	chainName     = "chain.json"
	signatureName = "signature.p7s"
	filesDir      = "files/"
)

// pkg is a package as the checks see it.
type pkg struct {
	// fatal, when set, is why the package could not be read at all; every
	// check fails with it.
	fatal string
	// files are the entries' contents by name (the first of duplicates).
	files map[string][]byte
	// names lists the safe entries in ZIP order.
	names []string
	// unsafe lists entries refused for their names; duplicate, names that
	// occur more than once.
	unsafe    []string
	duplicate []string

	metaRaw  []byte
	meta     map[string]any // decoded metadata.json, numbers as json.Number
	metaErr  string         // why metadata.json could not be used
	items    []pkgItem
	chain    *chainFile
	chainErr string
	sm3      string // of the whole ZIP
}

// pkgItem is one item of metadata.json, read leniently: a field of the wrong
// type reads as its zero value (the metadata check reports it).
type pkgItem struct {
	Seq         int
	Kind        string
	DocType     string
	Title       string
	Version     int
	Parent      int
	Attachments int
	HasAttach   bool
	Format      string
	Size        int64
	HasSize     bool
	SM3         string
	File        string
}

func (it *pkgItem) String() string { return fmt.Sprintf("item %d", it.Seq) }

// chainFile is chain.json.
type chainFile struct {
	Owner   string `json:"owner"`
	Subject string `json:"subject"`
	Kind    string `json:"kind"`
	Head    string `json:"head"`
	Entries []Item `json:"entries"`
}

// unsafeName says why an entry name may not be unpacked, or "".
func unsafeName(name string) string {
	switch {
	case name == "":
		return "has an empty name"
	case !utf8.ValidString(name):
		return "has a name that is not UTF-8"
	case strings.ContainsAny(name, "\\"):
		return "has a back slash in its name"
	case strings.HasPrefix(name, "/") || len(name) > 1 && name[1] == ':':
		return "has an absolute path"
	case strings.IndexFunc(name, func(r rune) bool { return r < 0x20 || r == 0x7F }) >= 0:
		return "has a control character in its name"
	}
	for _, part := range strings.Split(name, "/") {
		if part == ".." {
			return "has a path that leaves the package (..)"
		}
	}
	if path.Clean(name) != strings.TrimSuffix(name, "/") {
		return "has a path that is not clean"
	}
	return ""
}

// readPackage unpacks a package within the limits. It never panics on
// malformed input: problems are recorded for the checks to report.
func readPackage(data []byte, lim Limits) *pkg {
	lim = lim.withDefaults()
	p := &pkg{files: map[string][]byte{}, sm3: sm3Hex(data)}
	zr, err := zip.NewReader(bytes.NewReader(data), int64(len(data)))
	if errors.Is(err, zip.ErrInsecurePath) && zr != nil {
		err = nil // names are vetted below, entry by entry
	}
	if err != nil {
		p.fatal = "the package is not a readable ZIP archive: " + err.Error()
		return p
	}
	if len(zr.File) > lim.MaxEntries {
		p.fatal = fmt.Sprintf("the package has %d entries, more than the limit of %d", len(zr.File), lim.MaxEntries)
		return p
	}
	var total int64
	for _, f := range zr.File {
		if why := unsafeName(f.Name); why != "" {
			p.unsafe = append(p.unsafe, fmt.Sprintf("entry %q %s", clip(f.Name), why))
			continue
		}
		if strings.HasSuffix(f.Name, "/") { // a directory
			continue
		}
		if _, dup := p.files[f.Name]; dup {
			p.duplicate = append(p.duplicate, f.Name)
			continue
		}
		rc, err := f.Open()
		if err != nil {
			p.fatal = fmt.Sprintf("entry %q cannot be opened: %v", clip(f.Name), err)
			return p
		}
		// Read no more than what is left of the budget, whatever the header
		// claims: a lying header cannot make us unpack more.
		b, err := readLimited(rc, lim.MaxUnpacked-total)
		_ = rc.Close()
		if err != nil {
			if errors.Is(err, errTooLarge) {
				p.fatal = fmt.Sprintf("the package unpacks to more than %d bytes (limit), at entry %q", lim.MaxUnpacked, clip(f.Name))
			} else {
				p.fatal = fmt.Sprintf("entry %q cannot be read: %v", clip(f.Name), err)
			}
			return p
		}
		total += int64(len(b))
		p.files[f.Name] = b
		p.names = append(p.names, f.Name)
	}
	p.readMetadata()
	p.readChain()
	return p
}

func (p *pkg) readMetadata() {
	raw, ok := p.files[metadataName]
	if !ok {
		p.metaErr = "metadata.json is missing"
		return
	}
	p.metaRaw = raw
	v, err := decodeJSON(raw)
	if err != nil {
		p.metaErr = "metadata.json is not valid JSON: " + err.Error()
		return
	}
	m, ok := v.(map[string]any)
	if !ok {
		p.metaErr = "metadata.json is not a JSON object"
		return
	}
	p.meta = m
	list, _ := m["items"].([]any)
	for _, v := range list {
		obj, _ := v.(map[string]any)
		it := pkgItem{
			Seq: intField(obj, "seq"), Kind: strField(obj, "kind"), DocType: strField(obj, "doc_type"),
			Title: strField(obj, "title"), Version: intField(obj, "version"), Parent: intField(obj, "parent"),
			Attachments: intField(obj, "attachments"), Format: strField(obj, "format"),
			SM3: strField(obj, "sm3"), File: strField(obj, "file"),
		}
		_, it.HasAttach = asInt(obj["attachments"])
		var size int64
		size, it.HasSize = asInt(obj["size"])
		it.Size = size
		p.items = append(p.items, it)
	}
}

func (p *pkg) readChain() {
	raw, ok := p.files[chainName]
	if !ok {
		p.chainErr = "chain.json is missing"
		return
	}
	dec := json.NewDecoder(bytes.NewReader(raw))
	dec.UseNumber()
	var c chainFile
	if err := dec.Decode(&c); err != nil {
		p.chainErr = "chain.json is not valid: " + err.Error()
		return
	}
	p.chain = &c
}

// metaString is a top-level string field of metadata.json ("" if absent).
func (p *pkg) metaString(key string) string { return strField(p.meta, key) }

// metaInt is a top-level integer field of metadata.json.
func (p *pkg) metaInt(key string) (int64, bool) { return asInt(p.meta[key]) }

func strField(m map[string]any, key string) string {
	s, _ := m[key].(string)
	return s
}

func intField(m map[string]any, key string) int {
	n, ok := asInt(m[key])
	if !ok || n < -1<<31 || n > 1<<31-1 {
		return 0
	}
	return int(n)
}

// fileOf returns an item's file content, if the package has it.
func (p *pkg) fileOf(it *pkgItem) ([]byte, bool) {
	if it.File == "" {
		return nil, false
	}
	b, ok := p.files[it.File]
	return b, ok
}

// contentFiles lists the entries under files/, in ZIP order.
func (p *pkg) contentFiles() []string {
	var out []string
	for _, n := range p.names {
		if strings.HasPrefix(n, filesDir) {
			out = append(out, n)
		}
	}
	return out
}
