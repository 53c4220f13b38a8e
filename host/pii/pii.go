// Package pii protects personal data at rest (等保三级): identity numbers and
// phone numbers are sealed with SM4-GCM before they reach the database and
// masked in every response by the caller's audience.
//
// A sealed value reads "sm4gcm:<key id>:<base64(nonce ‖ ciphertext)>". Keys
// come from configuration (PORTAL_PII_KEYS: "id=hex32,id=hex32,…", the first
// one seals; all of them open), so a key is rotated by putting the new one
// first, keeping the old ones until every value has been re-sealed
// (Sealer.Reseal), then removing them.
package pii

import (
	"crypto/cipher"
	"crypto/rand"
	"encoding/base64"
	"encoding/hex"
	"errors"
	"fmt"
	"strings"

	"github.com/emmansun/gmsm/sm4"
)

const prefix = "sm4gcm:"

// Sealer seals and opens values with SM4-GCM.
type Sealer struct {
	current string
	keys    map[string]cipher.AEAD
}

// ErrKeys reports a key configuration that cannot be used.
var ErrKeys = errors.New("pii: bad key configuration")

// ParseKeys reads "id=hex,id=hex" (16-byte SM4 keys as 32 hex digits).
func ParseKeys(spec string) (*Sealer, error) {
	s := &Sealer{keys: map[string]cipher.AEAD{}}
	for _, part := range strings.Split(spec, ",") {
		id, hx, ok := strings.Cut(strings.TrimSpace(part), "=")
		if !ok || id == "" || strings.ContainsAny(id, ":,=") {
			return nil, fmt.Errorf("%w: want id=hex32 pairs", ErrKeys)
		}
		key, err := hex.DecodeString(hx)
		if err != nil || len(key) != 16 {
			return nil, fmt.Errorf("%w: key %q must be 32 hex digits", ErrKeys, id)
		}
		block, err := sm4.NewCipher(key)
		if err != nil {
			return nil, err
		}
		aead, err := cipher.NewGCM(block)
		if err != nil {
			return nil, err
		}
		if _, dup := s.keys[id]; dup {
			return nil, fmt.Errorf("%w: key %q twice", ErrKeys, id)
		}
		s.keys[id] = aead
		if s.current == "" {
			s.current = id
		}
	}
	return s, nil
}

// NewKeySpec makes a fresh key specification "id=hex32".
func NewKeySpec(id string) string {
	k := make([]byte, 16)
	_, _ = rand.Read(k)
	return id + "=" + hex.EncodeToString(k)
}

// Seal encrypts plain with the current key; "" stays "".
func (s *Sealer) Seal(plain string) (string, error) {
	if plain == "" {
		return "", nil
	}
	aead := s.keys[s.current]
	nonce := make([]byte, aead.NonceSize())
	if _, err := rand.Read(nonce); err != nil {
		return "", err
	}
	ct := aead.Seal(nonce, nonce, []byte(plain), []byte(s.current))
	return prefix + s.current + ":" + base64.RawStdEncoding.EncodeToString(ct), nil
}

// ErrOpen means a sealed value could not be opened: unknown key or tampering.
var ErrOpen = errors.New("pii: cannot open value")

// Open decrypts a sealed value; "" stays "".
func (s *Sealer) Open(sealed string) (string, error) {
	if sealed == "" {
		return "", nil
	}
	rest, ok := strings.CutPrefix(sealed, prefix)
	id, b64, ok2 := strings.Cut(rest, ":")
	if !ok || !ok2 {
		return "", fmt.Errorf("%w: not sealed", ErrOpen)
	}
	aead, ok := s.keys[id]
	if !ok {
		return "", fmt.Errorf("%w: unknown key %q", ErrOpen, id)
	}
	raw, err := base64.RawStdEncoding.DecodeString(b64)
	if err != nil || len(raw) < aead.NonceSize() {
		return "", fmt.Errorf("%w: malformed", ErrOpen)
	}
	plain, err := aead.Open(nil, raw[:aead.NonceSize()], raw[aead.NonceSize():], []byte(id))
	if err != nil {
		return "", fmt.Errorf("%w: %v", ErrOpen, err)
	}
	return string(plain), nil
}

// Reseal opens a value under any known key and seals it under the current
// one; used to finish a key rotation.
func (s *Sealer) Reseal(sealed string) (string, error) {
	plain, err := s.Open(sealed)
	if err != nil {
		return "", err
	}
	return s.Seal(plain)
}

// MaskPhone shows the first 3 and last 4 digits of a mobile number to staff
// (138****5678) and nothing to other audiences.
func MaskPhone(phone, audience string) string {
	if phone == "" {
		return ""
	}
	if audience != "staff" || len(phone) < 8 {
		return strings.Repeat("*", len(phone))
	}
	return phone[:3] + strings.Repeat("*", len(phone)-7) + phone[len(phone)-4:]
}
