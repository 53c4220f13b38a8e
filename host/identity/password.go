package identity

import (
	"crypto/rand"
	"crypto/subtle"
	"encoding/base64"
	"errors"
	"fmt"
	"strings"
	"unicode"

	"golang.org/x/crypto/argon2"
)

// Argon2id parameters: OWASP's minimum (19 MiB, 2 passes, 1 lane), which keeps
// a login near 30 ms on one core so that 100 concurrent logins stay within the
// 3-second floor on a 2-core host. Stored hashes carry their parameters, so
// raising them later re-hashes on the next login.
const (
	argonMemory  = 19 * 1024
	argonTime    = 2
	argonThreads = 1
	argonKeyLen  = 32
)

// HashPassword returns the PHC string of an argon2id hash of password.
func HashPassword(password string) (string, error) {
	salt := make([]byte, 16)
	if _, err := rand.Read(salt); err != nil {
		return "", err
	}
	key := argon2.IDKey([]byte(password), salt, argonTime, argonMemory, argonThreads, argonKeyLen)
	b64 := base64.RawStdEncoding
	return fmt.Sprintf("$argon2id$v=%d$m=%d,t=%d,p=%d$%s$%s", argon2.Version, argonMemory, argonTime, argonThreads,
		b64.EncodeToString(salt), b64.EncodeToString(key)), nil
}

// CheckPassword reports whether password matches the PHC string, in time that
// does not depend on where they differ.
func CheckPassword(phc, password string) bool {
	parts := strings.Split(phc, "$")
	if len(parts) != 6 || parts[1] != "argon2id" {
		return false
	}
	var m, t uint32
	var p uint8
	if _, err := fmt.Sscanf(parts[3], "m=%d,t=%d,p=%d", &m, &t, &p); err != nil || m == 0 || t == 0 || p == 0 || m > 1<<22 {
		return false
	}
	b64 := base64.RawStdEncoding
	salt, err1 := b64.DecodeString(parts[4])
	want, err2 := b64.DecodeString(parts[5])
	if err1 != nil || err2 != nil || len(want) == 0 {
		return false
	}
	got := argon2.IDKey([]byte(password), salt, t, m, p, uint32(len(want)))
	return subtle.ConstantTimeCompare(got, want) == 1
}

// dummyHash is checked against when the username is unknown, so that the
// answer takes as long as for a known user.
var dummyHash = func() string {
	h, err := HashPassword("portal-dummy-password-never-matches")
	if err != nil {
		panic(err)
	}
	return h
}()

// ErrWeakPassword explains which password rule failed.
var ErrWeakPassword = errors.New("identity: weak password")

// CheckPolicy enforces the password policy (等保三级): at least 10 characters,
// at least three of upper case, lower case, digits and symbols, and not
// containing the username.
func CheckPolicy(username, password string) error {
	if len([]rune(password)) < 10 {
		return fmt.Errorf("%w: at least 10 characters", ErrWeakPassword)
	}
	if len(password) > 128 {
		return fmt.Errorf("%w: at most 128 bytes", ErrWeakPassword)
	}
	var upper, lower, digit, other bool
	for _, r := range password {
		switch {
		case unicode.IsUpper(r):
			upper = true
		case unicode.IsLower(r):
			lower = true
		case unicode.IsDigit(r):
			digit = true
		default:
			other = true
		}
	}
	classes := 0
	for _, b := range []bool{upper, lower, digit, other} {
		if b {
			classes++
		}
	}
	if classes < 3 {
		return fmt.Errorf("%w: use at least three of upper case, lower case, digits and symbols", ErrWeakPassword)
	}
	if username != "" && strings.Contains(strings.ToLower(password), strings.ToLower(username)) {
		return fmt.Errorf("%w: must not contain the username", ErrWeakPassword)
	}
	return nil
}
