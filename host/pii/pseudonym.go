package pii

import (
	"crypto/hmac"
	"encoding/hex"
	"fmt"
	"strings"

	"github.com/emmansun/gmsm/sm3"
)

// Pseudonyms turn a resident identity number into stable pseudonyms
// (HMAC-SM3 under a host secret): one for the host, and from it one per
// plugin, so that a plugin can recognise the person who signs in as the
// signer named on an application without ever seeing the number, and two
// plugins cannot join their records by it. The key is separate from the
// sealing keys because pseudonyms must survive a sealing-key rotation.
type Pseudonyms struct{ key []byte }

// NewPseudonyms returns pseudonyms under key (at least 16 bytes).
func NewPseudonyms(key []byte) (*Pseudonyms, error) {
	if len(key) < 16 {
		return nil, fmt.Errorf("%w: the pseudonym key needs at least 16 bytes", ErrKeys)
	}
	return &Pseudonyms{key: append([]byte(nil), key...)}, nil
}

func (p *Pseudonyms) mac(parts ...string) string {
	m := hmac.New(sm3.New, p.key)
	m.Write([]byte(strings.Join(parts, "\x00")))
	return hex.EncodeToString(m.Sum(nil))
}

// Person is the host's pseudonym of an identity number (letters folded to
// upper case, as the check character X may be written either way).
func (p *Pseudonyms) Person(idNumber string) string {
	return p.mac("person", strings.ToUpper(strings.TrimSpace(idNumber)))
}

// ForPlugin is the pseudonym plugin sees for the person whose host pseudonym
// is person; empty for an empty person.
func (p *Pseudonyms) ForPlugin(plugin, person string) string {
	if person == "" {
		return ""
	}
	return p.mac("plugin", plugin, person)[:40]
}
