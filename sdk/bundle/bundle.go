// Package bundle builds, signs and verifies plugin bundles: the files an
// operator installs to add a plugin to the portal.
//
// A bundle is a gzip-compressed tar archive holding exactly
//
//	plugin.yaml                  the manifest, with the released version stamped in
//	bin/<goos>_<goarch>/plugin   one executable per platform; linux_amd64 is required
//	web/...                      optional static assets
//	bundle.json                  the statement: plugin id, version, SHA-256 of every other entry
//	bundle.sig                   an ed25519 signature over the exact bytes of bundle.json
//
// and nothing else: only regular files (and, when reading, directories), at
// clean relative paths. The signature covers bundle.json; bundle.json covers
// every other file by hash, so one signature check and one hash per file prove
// the whole archive.
//
// Invariants: Build writes archives that Open accepts, byte-identical for the
// same inputs. Open accepts an archive only if it is signed by a key in the
// caller's KeyRing, every entry is listed with a matching hash, nothing
// listed is missing, and the manifest names the signed plugin and version.
// Every refusal wraps one of the exported Err* sentinels and names the
// offending entry; a refused bundle leaves nothing behind.
package bundle

import (
	"errors"
	"path"
	"regexp"
	"strings"
)

// Names of the fixed entries.
const (
	ManifestFile  = "plugin.yaml"
	StatementFile = "bundle.json"
	SignatureFile = "bundle.sig"
)

// Format is the bundle.json format this package writes and reads.
const Format = 1

// SignatureAlg is the only signature algorithm this package writes and reads.
const SignatureAlg = "ed25519"

// RequiredPlatform must be in every bundle: it is what the portal is deployed on.
const RequiredPlatform = "linux/amd64"

// Refusals. Open, Build and the key functions wrap exactly one of these, so
// callers (and portalctl's exit messages) can tell the reasons apart with
// errors.Is.
var (
	// ErrUnsigned: bundle.json or bundle.sig is missing.
	ErrUnsigned = errors.New("bundle: unsigned")
	// ErrUnknownKey: the signing key is not in the trusted key ring.
	ErrUnknownKey = errors.New("bundle: signed by an untrusted key")
	// ErrBadSignature: bundle.sig does not verify bundle.json with its key,
	// or uses an algorithm other than ed25519.
	ErrBadSignature = errors.New("bundle: bad signature")
	// ErrTampered: a file's hash differs from bundle.json, a listed file is
	// missing, an unlisted file is present, or an entry appears twice.
	ErrTampered = errors.New("bundle: tampered")
	// ErrUnsafePath: an entry's name is absolute, contains .. or a backslash,
	// or is not already in clean form (tar-slip and its relatives).
	ErrUnsafePath = errors.New("bundle: unsafe path")
	// ErrLinkEntry: an entry is a symbolic or hard link, device, FIFO or any
	// other type that is neither a regular file nor a directory.
	ErrLinkEntry = errors.New("bundle: link or special entry")
	// ErrTooLarge: an entry, the whole archive or the number of entries is
	// over its limit.
	ErrTooLarge = errors.New("bundle: too large")
	// ErrManifestMismatch: plugin.yaml names a different plugin or version
	// than the signed bundle.json.
	ErrManifestMismatch = errors.New("bundle: manifest does not match the signed statement")
	// ErrMalformed: not a gzip-compressed tar, bad JSON, an unexpected entry,
	// no linux/amd64 binary, or a plugin.yaml that manifest.Parse refuses.
	ErrMalformed = errors.New("bundle: malformed")
	// ErrNoPlatform: the bundle has no binary for the requested platform.
	ErrNoPlatform = errors.New("bundle: no binary for this platform")
	// ErrBuildOptions: Build was asked for something it cannot make (no
	// version, a version that is not semver, no linux/amd64, a go flag it
	// sets itself).
	ErrBuildOptions = errors.New("bundle: bad build options")
	// ErrBadKey: a key file is not a PEM-encoded ed25519 key of the expected
	// kind, or a key name is not a plain file name.
	ErrBadKey = errors.New("bundle: bad key")
)

// Statement is bundle.json, the signed list of the bundle's contents.
type Statement struct {
	// Format is 1.
	Format int `json:"format"`
	// Plugin is the manifest's id.
	Plugin string `json:"plugin"`
	// Version is the manifest's version.
	Version string `json:"version"`
	// Files maps every entry except bundle.json and bundle.sig to the
	// lower-case hex SHA-256 of its content.
	Files map[string]string `json:"files"`
}

// Signature is bundle.sig.
type Signature struct {
	// Alg is "ed25519".
	Alg string `json:"alg"`
	// KeyID is KeyID of the signer's public key.
	KeyID string `json:"key_id"`
	// Sig is the standard base64 encoding of the signature over the exact
	// bytes of bundle.json.
	Sig string `json:"sig"`
}

// Limits bound what Open reads, so that a hostile archive cannot exhaust disk
// or memory. Zero fields take the defaults.
type Limits struct {
	// MaxEntry is the largest size of one entry in bytes (default
	// DefaultMaxEntry).
	MaxEntry int64
	// MaxTotal is the largest sum of entry sizes in bytes (default
	// DefaultMaxTotal).
	MaxTotal int64
	// MaxEntries is the largest number of entries, directories included
	// (default DefaultMaxEntries).
	MaxEntries int
}

// Default limits: generous for a Go binary per platform plus a front end,
// small enough that a hostile upload cannot fill the data disk.
const (
	DefaultMaxEntry   = 256 << 20
	DefaultMaxTotal   = 512 << 20
	DefaultMaxEntries = 10000
)

func (l Limits) withDefaults() Limits {
	if l.MaxEntry <= 0 {
		l.MaxEntry = DefaultMaxEntry
	}
	if l.MaxTotal <= 0 {
		l.MaxTotal = DefaultMaxTotal
	}
	if l.MaxEntries <= 0 {
		l.MaxEntries = DefaultMaxEntries
	}
	return l
}

// platformPattern is goos/goarch as the go command spells them.
var platformPattern = regexp.MustCompile(`^[a-z0-9]+/[a-z0-9]+$`)

// binaryPath is where the executable for a platform lives in a bundle.
func binaryPath(goos, goarch string) string {
	return "bin/" + goos + "_" + goarch + "/plugin"
}

// checkPath refuses entry names that could land outside the extraction
// directory or mean different files to different tools.
func checkPath(name string) error {
	switch {
	case name == "":
		return errors.New("empty name")
	case strings.ContainsRune(name, '\\'):
		return errors.New("contains a backslash")
	case strings.ContainsRune(name, 0):
		return errors.New("contains a NUL byte")
	case path.IsAbs(name) || (len(name) >= 2 && name[1] == ':'):
		return errors.New("is absolute")
	case name == ".." || strings.HasPrefix(name, "../") || strings.Contains(name, "/../") || strings.HasSuffix(name, "/.."):
		return errors.New("contains ..")
	case path.Clean(name) != name || name == ".":
		return errors.New("is not in clean form")
	}
	return nil
}

// layout reports whether name may appear in a bundle as a file (or, with
// dir set, as a directory): only the fixed entries, binaries and web assets.
func layout(name string, dir bool) bool {
	if dir {
		if name == "bin" || name == "web" || strings.HasPrefix(name, "web/") {
			return true
		}
		goos, goarch, ok := strings.Cut(strings.TrimPrefix(name, "bin/"), "_")
		return strings.HasPrefix(name, "bin/") && ok && platformPattern.MatchString(goos+"/"+goarch)
	}
	switch {
	case name == ManifestFile || name == StatementFile || name == SignatureFile:
		return true
	case strings.HasPrefix(name, "web/"):
		return true
	case strings.HasPrefix(name, "bin/") && strings.HasSuffix(name, "/plugin"):
		_, ok := platformOf(name)
		return ok
	}
	return false
}

// platformOf returns "goos/goarch" for a binary path bin/<goos>_<goarch>/plugin.
func platformOf(name string) (string, bool) {
	mid, ok := strings.CutPrefix(name, "bin/")
	if !ok {
		return "", false
	}
	mid, ok = strings.CutSuffix(mid, "/plugin")
	if !ok {
		return "", false
	}
	goos, goarch, ok := strings.Cut(mid, "_")
	if !ok || !platformPattern.MatchString(goos+"/"+goarch) {
		return "", false
	}
	return goos + "/" + goarch, true
}
