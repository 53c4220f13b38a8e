package bundle

import (
	"archive/tar"
	"bytes"
	"compress/gzip"
	"crypto/ed25519"
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"maps"
	"os"
	"path"
	"path/filepath"
	"slices"
	"strings"

	"github.com/shanghai-amr/portal/sdk/manifest"
)

// Sizes of the entries Open keeps in memory besides extracting them. A
// statement listing DefaultMaxEntries files is well under a megabyte.
const (
	maxStatement = 8 << 20
	maxManifest  = 8 << 20
	maxSignature = 4 << 10
)

// tarOverhead bounds the archive bytes per entry that are not content (the
// header, a PAX header for long names, padding), for the limit on the
// decompressed stream.
const tarOverhead = 4 << 10

// Verified is a bundle that passed every check of Open, extracted into Dir.
// Nothing outside Dir was written. The caller moves Dir into its store (a
// rename works when the store is on the same file system as os.TempDir(),
// which $TMPDIR chooses) or copies from it, and calls Close in any case.
type Verified struct {
	// Manifest is the parsed plugin.yaml; ManifestRaw its exact bytes.
	Manifest    *manifest.Manifest
	ManifestRaw []byte
	// Plugin and Version are the signed id and version; the manifest agrees.
	Plugin, Version string
	// KeyID identifies the signing key; Signer is its name in the key ring
	// (the trusted .pub file's name without .pub).
	KeyID, Signer string
	// Digest is the lower-case hex SHA-256 of the whole bundle file: the
	// bundle's content address.
	Digest string
	// Files is the signed list: entry → lower-case hex SHA-256.
	Files map[string]string
	// Dir holds every entry at its path in the bundle (bundle.json and
	// bundle.sig included), binaries mode 0755, other files 0644.
	Dir string
}

// Binary returns the extracted executable for a platform and its SHA-256 as
// signed in bundle.json, for go-plugin's SecureConfig to check again at every
// start.
func (v *Verified) Binary(goos, goarch string) (path string, sha256 []byte, err error) {
	name := binaryPath(goos, goarch)
	h, ok := v.Files[name]
	if !ok {
		return "", nil, fmt.Errorf("%w: %s/%s (bundle has %s)", ErrNoPlatform, goos, goarch, strings.Join(v.Platforms(), ", "))
	}
	sum, err := hex.DecodeString(h)
	if err != nil {
		return "", nil, fmt.Errorf("%w: %s: bad hash %q", ErrMalformed, name, h)
	}
	return filepath.Join(v.Dir, filepath.FromSlash(name)), sum, nil
}

// Platforms lists the goos/goarch pairs the bundle has binaries for, sorted.
func (v *Verified) Platforms() []string {
	var ps []string
	for name := range v.Files {
		if p, ok := platformOf(name); ok {
			ps = append(ps, p)
		}
	}
	slices.Sort(ps)
	return ps
}

// Close removes Dir. It is safe to call more than once, and after the
// caller has moved Dir away.
func (v *Verified) Close() error {
	if v.Dir == "" {
		return nil
	}
	err := os.RemoveAll(v.Dir)
	v.Dir = ""
	if err != nil {
		return fmt.Errorf("bundle: %w", err)
	}
	return nil
}

// Open verifies the bundle at path against the trusted keys in ring and
// extracts it into a new temporary directory. It reads the archive once, as a
// stream, writing each entry under the directory through an os.Root (so no
// entry can land outside it even if a check were wrong) and hashing it on the
// way; nothing is executed or installed. The checks, each refusal wrapping
// its sentinel and naming the entry:
//
//   - while reading: gzip and tar well-formed (ErrMalformed); each name a
//     clean relative path (ErrUnsafePath); only regular files and
//     directories (ErrLinkEntry); only the bundle layout (ErrMalformed); no
//     name twice (ErrTampered); entry, total and count within lim, counted
//     on the bytes actually read, and the decompressed stream bounded too
//     (ErrTooLarge);
//   - then: bundle.json and bundle.sig present (ErrUnsigned); the key
//     trusted (ErrUnknownKey); the signature valid over bundle.json's bytes
//     (ErrBadSignature); bundle.json well-formed (ErrMalformed); every listed
//     file present with its hash, and nothing unlisted (ErrTampered); a
//     linux/amd64 binary and a plugin.yaml that manifest.Parse accepts
//     (ErrMalformed); the manifest's id and version those signed
//     (ErrManifestMismatch).
//
// On any refusal the directory is removed. A nil ring trusts no key.
func Open(path string, ring *KeyRing, lim Limits) (*Verified, error) {
	return OpenIn(path, "", ring, lim)
}

// OpenIn is Open extracting under workDir ("" for the system's temporary
// folder). A host that keeps verified bundles passes a folder on the same file
// system as their home, so that moving Verified.Dir there is a rename.
func OpenIn(path, workDir string, ring *KeyRing, lim Limits) (*Verified, error) {
	lim = lim.withDefaults()
	// Opening a FIFO or device would block or read without end.
	if fi, err := os.Stat(path); err != nil {
		return nil, fmt.Errorf("bundle: %w", err)
	} else if !fi.Mode().IsRegular() {
		return nil, fmt.Errorf("%w: %s is not a regular file", ErrMalformed, path)
	}
	f, err := os.Open(path)
	if err != nil {
		return nil, fmt.Errorf("bundle: %w", err)
	}
	defer f.Close()
	dir, err := os.MkdirTemp(workDir, "portal-bundle-*")
	if err != nil {
		return nil, fmt.Errorf("bundle: %w", err)
	}
	v, err := open(f, dir, ring, lim)
	if err != nil {
		os.RemoveAll(dir)
		return nil, err
	}
	return v, nil
}

func open(f *os.File, dir string, ring *KeyRing, lim Limits) (*Verified, error) {
	root, err := os.OpenRoot(dir)
	if err != nil {
		return nil, fmt.Errorf("bundle: %w", err)
	}
	defer root.Close()
	x := &extraction{root: root, lim: lim, hashes: map[string]string{}, kept: map[string][]byte{}}
	fileHash := sha256.New()
	if err := x.read(io.TeeReader(f, fileHash)); err != nil {
		return nil, err
	}
	// The digest covers the whole file, including anything after the
	// compressed stream that the readers above did not need.
	if _, err := io.Copy(fileHash, f); err != nil {
		return nil, fmt.Errorf("bundle: %w", err)
	}
	v, err := x.verify(ring)
	if err != nil {
		return nil, err
	}
	v.Digest = hex.EncodeToString(fileHash.Sum(nil))
	v.Dir = dir
	return v, nil
}

// extraction is the state of one Open.
type extraction struct {
	root   *os.Root
	lim    Limits
	hashes map[string]string // extracted file → SHA-256 hex
	kept   map[string][]byte // bundle.json, bundle.sig, plugin.yaml
}

// read extracts the archive, checking each entry before writing it.
func (x *extraction) read(r io.Reader) error {
	gz, err := gzip.NewReader(r)
	if err != nil {
		return fmt.Errorf("%w: not gzip-compressed: %v", ErrMalformed, err)
	}
	stream := &cappedReader{r: gz, left: x.lim.MaxTotal + int64(x.lim.MaxEntries)*tarOverhead + 1<<20}
	tr := tar.NewReader(stream)
	var entries int
	var total int64
	for {
		hdr, err := tr.Next()
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			return stream.explain(fmt.Errorf("%w: not a tar archive: %v", ErrMalformed, err))
		}
		entries++
		if entries > x.lim.MaxEntries {
			return fmt.Errorf("%w: more than %d entries (at %q)", ErrTooLarge, x.lim.MaxEntries, hdr.Name)
		}
		name := hdr.Name
		if hdr.Typeflag == tar.TypeDir {
			name = strings.TrimSuffix(name, "/")
		}
		if err := checkPath(name); err != nil {
			return fmt.Errorf("%w: entry %q %v", ErrUnsafePath, hdr.Name, err)
		}
		switch hdr.Typeflag {
		case tar.TypeReg:
		case tar.TypeDir:
			if !layout(name, true) {
				return fmt.Errorf("%w: unexpected directory %q", ErrMalformed, hdr.Name)
			}
			continue // created as needed for the files in it
		default:
			return fmt.Errorf("%w: entry %q is a %s, not a regular file", ErrLinkEntry, hdr.Name, typeName(hdr.Typeflag))
		}
		if !layout(name, false) {
			return fmt.Errorf("%w: unexpected entry %q", ErrMalformed, name)
		}
		if _, dup := x.hashes[name]; dup {
			return fmt.Errorf("%w: entry %q appears twice", ErrTampered, name)
		}
		if hdr.Size > x.lim.MaxEntry {
			return fmt.Errorf("%w: entry %q is %d bytes, over the limit of %d", ErrTooLarge, name, hdr.Size, x.lim.MaxEntry)
		}
		n, err := x.extract(name, tr, min(x.lim.MaxEntry, x.lim.MaxTotal-total))
		if err != nil {
			return stream.explain(err)
		}
		total += n
	}
	// Read to the end so gzip checks the stream's checksum and length.
	if _, err := io.Copy(io.Discard, stream); err != nil {
		return stream.explain(fmt.Errorf("%w: after the last entry: %v", ErrMalformed, err))
	}
	return nil
}

// extract writes one file, reading at most limit bytes of it.
func (x *extraction) extract(name string, r io.Reader, limit int64) (int64, error) {
	if dir := path.Dir(name); dir != "." {
		if err := x.root.MkdirAll(dir, 0o755); err != nil {
			return 0, fmt.Errorf("%w: entry %q: %v", ErrMalformed, name, err)
		}
	}
	f, err := x.root.OpenFile(name, os.O_WRONLY|os.O_CREATE|os.O_EXCL, entryMode(name))
	if err != nil {
		return 0, fmt.Errorf("%w: entry %q: %v", ErrMalformed, name, err)
	}
	defer f.Close()
	h := sha256.New()
	w := io.MultiWriter(f, h)
	var kept *bytes.Buffer
	if keep := keptLimit(name); keep > 0 {
		kept = &bytes.Buffer{}
		w = io.MultiWriter(w, kept)
		limit = min(limit, keep)
	}
	// One byte more than allowed tells an entry at the limit from one over.
	n, err := io.Copy(w, io.LimitReader(r, limit+1))
	if err != nil {
		return n, fmt.Errorf("%w: entry %q: %v", ErrMalformed, name, err)
	}
	if n > limit {
		return n, fmt.Errorf("%w: entry %q is over the limit of %d bytes (or the total is)", ErrTooLarge, name, limit)
	}
	if err := f.Chmod(entryMode(name)); err != nil {
		return n, fmt.Errorf("bundle: entry %q: %w", name, err)
	}
	if err := f.Close(); err != nil {
		return n, fmt.Errorf("bundle: entry %q: %w", name, err)
	}
	x.hashes[name] = hex.EncodeToString(h.Sum(nil))
	if kept != nil {
		x.kept[name] = kept.Bytes()
	}
	return n, nil
}

// keptLimit is how much of an entry Open keeps in memory: the three small
// files it parses, nothing of the rest.
func keptLimit(name string) int64 {
	switch name {
	case StatementFile:
		return maxStatement
	case SignatureFile:
		return maxSignature
	case ManifestFile:
		return maxManifest
	}
	return 0
}

// verify checks the signature, then the contents against the signed
// statement, then the manifest.
func (x *extraction) verify(ring *KeyRing) (*Verified, error) {
	stmtRaw, ok := x.kept[StatementFile]
	if !ok {
		return nil, fmt.Errorf("%w: no %s", ErrUnsigned, StatementFile)
	}
	sigRaw, ok := x.kept[SignatureFile]
	if !ok {
		return nil, fmt.Errorf("%w: no %s", ErrUnsigned, SignatureFile)
	}
	var sig Signature
	if err := strictJSON(sigRaw, &sig); err != nil {
		return nil, fmt.Errorf("%w: %s: %v", ErrMalformed, SignatureFile, err)
	}
	if sig.Alg != SignatureAlg {
		return nil, fmt.Errorf("%w: %s: algorithm %q is not supported (want %s)", ErrBadSignature, SignatureFile, sig.Alg, SignatureAlg)
	}
	pub, signer, ok := ring.Lookup(sig.KeyID)
	if !ok {
		return nil, fmt.Errorf("%w: %s: key %q is not in the trust store", ErrUnknownKey, SignatureFile, sig.KeyID)
	}
	sigBytes, err := base64.StdEncoding.DecodeString(sig.Sig)
	if err != nil || len(sigBytes) != ed25519.SignatureSize {
		return nil, fmt.Errorf("%w: %s: signature is not %d bytes of base64", ErrBadSignature, SignatureFile, ed25519.SignatureSize)
	}
	if !ed25519.Verify(pub, stmtRaw, sigBytes) {
		return nil, fmt.Errorf("%w: %s does not verify %s with key %s", ErrBadSignature, SignatureFile, StatementFile, sig.KeyID)
	}

	// From here on bundle.json is the signer's word.
	var st Statement
	if err := strictJSON(stmtRaw, &st); err != nil {
		return nil, fmt.Errorf("%w: %s: %v", ErrMalformed, StatementFile, err)
	}
	if st.Format != Format {
		return nil, fmt.Errorf("%w: %s: format %d is not supported (want %d)", ErrMalformed, StatementFile, st.Format, Format)
	}
	for _, name := range slices.Sorted(maps.Keys(st.Files)) {
		if err := checkPath(name); err != nil {
			return nil, fmt.Errorf("%w: %s lists %q, which %v", ErrUnsafePath, StatementFile, name, err)
		}
		if name == StatementFile || name == SignatureFile {
			return nil, fmt.Errorf("%w: %s lists %q", ErrMalformed, StatementFile, name)
		}
		want, err := hex.DecodeString(st.Files[name])
		if err != nil || len(want) != sha256.Size {
			return nil, fmt.Errorf("%w: %s: %q has no SHA-256 hex digest", ErrMalformed, StatementFile, name)
		}
		got, present := x.hashes[name]
		if !present {
			return nil, fmt.Errorf("%w: listed entry %q is missing", ErrTampered, name)
		}
		if got != hex.EncodeToString(want) {
			return nil, fmt.Errorf("%w: entry %q has SHA-256 %s, %s says %s", ErrTampered, name, got, StatementFile, st.Files[name])
		}
	}
	for _, name := range slices.Sorted(maps.Keys(x.hashes)) {
		if _, listed := st.Files[name]; !listed && name != StatementFile && name != SignatureFile {
			return nil, fmt.Errorf("%w: entry %q is not listed in %s", ErrTampered, name, StatementFile)
		}
	}

	if _, ok := st.Files[binaryPath("linux", "amd64")]; !ok {
		return nil, fmt.Errorf("%w: no %s", ErrMalformed, binaryPath("linux", "amd64"))
	}
	raw, ok := x.kept[ManifestFile]
	if !ok {
		return nil, fmt.Errorf("%w: no %s", ErrMalformed, ManifestFile)
	}
	m, err := manifest.Parse(raw)
	if err != nil {
		return nil, fmt.Errorf("%w: %s: %w", ErrMalformed, ManifestFile, err)
	}
	if m.ID != st.Plugin || m.Version != st.Version {
		return nil, fmt.Errorf("%w: %s is %q %s, %s signs %q %s",
			ErrManifestMismatch, ManifestFile, m.ID, m.Version, StatementFile, st.Plugin, st.Version)
	}
	return &Verified{
		Manifest: m, ManifestRaw: raw,
		Plugin: st.Plugin, Version: st.Version,
		KeyID: sig.KeyID, Signer: signer,
		Files: st.Files,
	}, nil
}

// strictJSON decodes exactly one JSON value with no unknown fields: the
// signed bytes mean one thing only.
func strictJSON(data []byte, v any) error {
	dec := json.NewDecoder(bytes.NewReader(data))
	dec.DisallowUnknownFields()
	if err := dec.Decode(v); err != nil {
		return err
	}
	if dec.More() {
		return errors.New("data after the JSON value")
	}
	return nil
}

// cappedReader bounds the decompressed archive, headers and padding
// included, so that a small file cannot expand without end.
type cappedReader struct {
	r        io.Reader
	left     int64
	exceeded bool
}

func (c *cappedReader) Read(p []byte) (int, error) {
	if c.left <= 0 {
		c.exceeded = true
		return 0, errors.New("decompressed archive over the limit")
	}
	if int64(len(p)) > c.left {
		p = p[:c.left]
	}
	n, err := c.r.Read(p)
	c.left -= int64(n)
	return n, err
}

// explain turns an error caused by the cap into ErrTooLarge.
func (c *cappedReader) explain(err error) error {
	if c.exceeded {
		return fmt.Errorf("%w: the decompressed archive is over the limit", ErrTooLarge)
	}
	return err
}

func typeName(t byte) string {
	switch t {
	case tar.TypeSymlink:
		return "symbolic link"
	case tar.TypeLink:
		return "hard link"
	case tar.TypeChar:
		return "character device"
	case tar.TypeBlock:
		return "block device"
	case tar.TypeFifo:
		return "FIFO"
	case tar.TypeGNUSparse:
		return "sparse file"
	case tar.TypeXGlobalHeader:
		return "global PAX header"
	default:
		return fmt.Sprintf("entry of type %q", t)
	}
}
