package bundle

import (
	"crypto/ed25519"
	"crypto/rand"
	"crypto/sha256"
	"crypto/x509"
	"encoding/hex"
	"encoding/pem"
	"errors"
	"fmt"
	"io/fs"
	"maps"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
)

// KeyPair is a named ed25519 signing key. The name only chooses file names
// (<name>.key, <name>.pub) and is shown as the signer; trust rests on the key
// itself, identified by KeyID.
type KeyPair struct {
	Name    string
	Public  ed25519.PublicKey
	Private ed25519.PrivateKey
}

// keyName keeps key names usable as file names everywhere.
var keyName = regexp.MustCompile(`^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$`)

// GenerateKey makes a new key pair from the operating system's randomness.
func GenerateKey(name string) (KeyPair, error) {
	if !keyName.MatchString(name) {
		return KeyPair{}, fmt.Errorf("%w: name %q: use letters, digits, '.', '_' and '-'", ErrBadKey, name)
	}
	pub, priv, err := ed25519.GenerateKey(rand.Reader)
	if err != nil {
		return KeyPair{}, fmt.Errorf("bundle: generate key: %w", err)
	}
	return KeyPair{Name: name, Public: pub, Private: priv}, nil
}

// KeyID identifies a public key: the hex of the first 16 bytes of its SHA-256.
// bundle.sig names the signer by it.
func KeyID(pub ed25519.PublicKey) string {
	sum := sha256.Sum256(pub)
	return hex.EncodeToString(sum[:16])
}

// WriteKeyPair writes kp to dir as <kp.Name>.key (PKCS #8 "PRIVATE KEY" PEM,
// mode 0600) and <kp.Name>.pub (PKIX "PUBLIC KEY" PEM, mode 0644), creating
// dir if needed, and returns the two paths. It never overwrites an existing
// file: replacing a signing key by accident would orphan every host that
// trusts it.
func WriteKeyPair(dir string, kp KeyPair) (keyPath, pubPath string, err error) {
	if !keyName.MatchString(kp.Name) {
		return "", "", fmt.Errorf("%w: name %q: use letters, digits, '.', '_' and '-'", ErrBadKey, kp.Name)
	}
	if len(kp.Private) != ed25519.PrivateKeySize || len(kp.Public) != ed25519.PublicKeySize {
		return "", "", fmt.Errorf("%w: key pair %q is incomplete", ErrBadKey, kp.Name)
	}
	privDER, err := x509.MarshalPKCS8PrivateKey(kp.Private)
	if err != nil {
		return "", "", fmt.Errorf("bundle: encode private key: %w", err)
	}
	pubDER, err := x509.MarshalPKIXPublicKey(kp.Public)
	if err != nil {
		return "", "", fmt.Errorf("bundle: encode public key: %w", err)
	}
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return "", "", fmt.Errorf("bundle: %w", err)
	}
	keyPath = filepath.Join(dir, kp.Name+".key")
	pubPath = filepath.Join(dir, kp.Name+".pub")
	for _, p := range []string{keyPath, pubPath} {
		if _, err := os.Lstat(p); err == nil {
			return "", "", fmt.Errorf("bundle: %s: not overwriting a key: %w", p, fs.ErrExist)
		}
	}
	if err := writeNew(keyPath, pem.EncodeToMemory(&pem.Block{Type: "PRIVATE KEY", Bytes: privDER}), 0o600); err != nil {
		return "", "", err
	}
	if err := writeNew(pubPath, pem.EncodeToMemory(&pem.Block{Type: "PUBLIC KEY", Bytes: pubDER}), 0o644); err != nil {
		os.Remove(keyPath)
		return "", "", err
	}
	return keyPath, pubPath, nil
}

// writeNew creates path with exactly mode (regardless of umask) and data,
// failing if it exists.
func writeNew(path string, data []byte, mode os.FileMode) error {
	f, err := os.OpenFile(path, os.O_WRONLY|os.O_CREATE|os.O_EXCL, mode)
	if err != nil {
		return fmt.Errorf("bundle: %w", err)
	}
	_, err = f.Write(data)
	if err == nil {
		err = f.Chmod(mode)
	}
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	if err != nil {
		os.Remove(path)
		return fmt.Errorf("bundle: write %s: %w", path, err)
	}
	return nil
}

// LoadPrivateKey reads a key written by WriteKeyPair.
func LoadPrivateKey(path string) (ed25519.PrivateKey, error) {
	der, err := readPEM(path, "PRIVATE KEY")
	if err != nil {
		return nil, err
	}
	k, err := x509.ParsePKCS8PrivateKey(der)
	if err != nil {
		return nil, fmt.Errorf("%w: %s: %v", ErrBadKey, path, err)
	}
	priv, ok := k.(ed25519.PrivateKey)
	if !ok {
		return nil, fmt.Errorf("%w: %s: a %T, not an ed25519 key", ErrBadKey, path, k)
	}
	return priv, nil
}

// LoadPublicKey reads a public key written by WriteKeyPair.
func LoadPublicKey(path string) (ed25519.PublicKey, error) {
	der, err := readPEM(path, "PUBLIC KEY")
	if err != nil {
		return nil, err
	}
	k, err := x509.ParsePKIXPublicKey(der)
	if err != nil {
		return nil, fmt.Errorf("%w: %s: %v", ErrBadKey, path, err)
	}
	pub, ok := k.(ed25519.PublicKey)
	if !ok {
		return nil, fmt.Errorf("%w: %s: a %T, not an ed25519 key", ErrBadKey, path, k)
	}
	return pub, nil
}

func readPEM(path, typ string) ([]byte, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("bundle: %w", err)
	}
	b, _ := pem.Decode(data)
	if b == nil {
		return nil, fmt.Errorf("%w: %s: no PEM block", ErrBadKey, path)
	}
	if b.Type != typ {
		return nil, fmt.Errorf("%w: %s: PEM block %q, want %q", ErrBadKey, path, b.Type, typ)
	}
	return b.Bytes, nil
}

// KeyRing is the set of public keys whose signatures a host accepts, by key
// id. The zero value is not usable; use NewKeyRing or LoadKeyRing. A KeyRing
// is not safe for concurrent Add; build it, then share it.
type KeyRing struct {
	keys  map[string]ed25519.PublicKey
	names map[string]string
}

// NewKeyRing returns an empty key ring, which trusts nothing.
func NewKeyRing() *KeyRing {
	return &KeyRing{keys: map[string]ed25519.PublicKey{}, names: map[string]string{}}
}

// Add trusts pub under name (shown as the signer) and returns its key id.
func (r *KeyRing) Add(name string, pub ed25519.PublicKey) string {
	id := KeyID(pub)
	r.keys[id] = pub
	r.names[id] = name
	return id
}

// Lookup returns the trusted key with id and its name.
func (r *KeyRing) Lookup(id string) (pub ed25519.PublicKey, name string, ok bool) {
	if r == nil {
		return nil, "", false
	}
	pub, ok = r.keys[id]
	return pub, r.names[id], ok
}

// IDs returns the trusted key ids, sorted.
func (r *KeyRing) IDs() []string {
	if r == nil {
		return nil
	}
	return slices.Sorted(maps.Keys(r.keys))
}

// Len is the number of trusted keys.
func (r *KeyRing) Len() int {
	if r == nil {
		return 0
	}
	return len(r.keys)
}

// LoadKeyRing trusts every *.pub file in dir (the host uses
// <data-dir>/trust), naming each key by its file name without .pub. A missing
// dir is an empty ring, so a fresh host refuses every bundle rather than
// failing to start; an unreadable or malformed .pub file is an error, so a
// broken trust store is noticed instead of silently shrinking.
func LoadKeyRing(dir string) (*KeyRing, error) {
	r := NewKeyRing()
	entries, err := os.ReadDir(dir)
	if errors.Is(err, fs.ErrNotExist) {
		return r, nil
	}
	if err != nil {
		return nil, fmt.Errorf("bundle: trust store: %w", err)
	}
	for _, e := range entries {
		name, ok := strings.CutSuffix(e.Name(), ".pub")
		if !ok || e.IsDir() {
			continue
		}
		pub, err := LoadPublicKey(filepath.Join(dir, e.Name()))
		if err != nil {
			return nil, err
		}
		r.Add(name, pub)
	}
	return r, nil
}
