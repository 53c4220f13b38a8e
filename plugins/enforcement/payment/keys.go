package payment

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"sync"
)

// Key is a signing key (the platform's ACCESS_KEY, 接口对接申请签名密钥key).
// Its String, GoString, LogValue and MarshalText never show the secret, so a
// Key printed or logged by mistake leaks only its id.
type Key struct {
	// ID names the key (e.g. "2025-06"); it travels in X-Pay-Key-Id so the
	// receiver picks the right key during a rotation.
	ID string
	// Secret is the shared HMAC-SM3 secret, at least 16 bytes.
	Secret []byte
}

func (k Key) String() string   { return fmt.Sprintf("Key{ID:%q, Secret:<redacted>}", k.ID) }
func (k Key) GoString() string { return k.String() }

// LogValue shows the id only.
func (k Key) LogValue() slog.Value { return slog.GroupValue(slog.String("id", k.ID)) }

// MarshalText shows the id only (JSON, YAML, …).
func (k Key) MarshalText() ([]byte, error) { return []byte("key:" + k.ID + ":<redacted>"), nil }

func (k Key) valid() error {
	if k.ID == "" || len(k.ID) > 64 {
		return errors.New("payment: key id must be 1–64 bytes")
	}
	if len(k.Secret) < 16 {
		return fmt.Errorf("payment: key %q: secret must be at least 16 bytes", k.ID)
	}
	return nil
}

// KeyProvider hands out the keys of one side of the platform link. The key
// is rotated monthly ("每个月1号凌晨0至1点", R-PAY-NT-5): during a rotation
// VerificationKeys answers the current and the previous key, so messages
// signed with either are accepted, and SigningKey the current one.
// A deployment implements it over its secret store; KeyRing is an in-memory
// one.
type KeyProvider interface {
	SigningKey(ctx context.Context) (Key, error)
	VerificationKeys(ctx context.Context) ([]Key, error)
}

// KeyRing is a KeyProvider holding the current key and, after Rotate, the
// previous one. It is safe for concurrent use.
type KeyRing struct {
	mu       sync.RWMutex
	current  Key
	previous *Key
}

// NewKeyRing starts a ring with its current key.
func NewKeyRing(current Key) (*KeyRing, error) {
	if err := current.valid(); err != nil {
		return nil, err
	}
	return &KeyRing{current: current}, nil
}

// Rotate makes next the current key; the current one stays accepted for
// verification as the previous key until the next Rotate or DropPrevious.
func (r *KeyRing) Rotate(next Key) error {
	if err := next.valid(); err != nil {
		return err
	}
	r.mu.Lock()
	defer r.mu.Unlock()
	if next.ID == r.current.ID {
		return fmt.Errorf("payment: key %q is already current", next.ID)
	}
	prev := r.current
	r.current, r.previous = next, &prev
	return nil
}

// DropPrevious ends the rotation window: only the current key verifies.
func (r *KeyRing) DropPrevious() {
	r.mu.Lock()
	r.previous = nil
	r.mu.Unlock()
}

// SigningKey answers the current key.
func (r *KeyRing) SigningKey(context.Context) (Key, error) {
	r.mu.RLock()
	defer r.mu.RUnlock()
	return r.current, nil
}

// VerificationKeys answers the current key and the previous one if any.
func (r *KeyRing) VerificationKeys(context.Context) ([]Key, error) {
	r.mu.RLock()
	defer r.mu.RUnlock()
	keys := []Key{r.current}
	if r.previous != nil {
		keys = append(keys, *r.previous)
	}
	return keys, nil
}

// String never shows secrets.
func (r *KeyRing) String() string {
	r.mu.RLock()
	defer r.mu.RUnlock()
	if r.previous != nil {
		return fmt.Sprintf("KeyRing{current:%q, previous:%q}", r.current.ID, r.previous.ID)
	}
	return fmt.Sprintf("KeyRing{current:%q}", r.current.ID)
}
