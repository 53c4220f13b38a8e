// Package idcode validates and masks Chinese identification codes: the
// unified social credit code of organisations (统一社会信用代码, GB 32100-2015)
// and the resident identity number (公民身份号码, GB 11643-1999). Both end in
// a check character computed from the others; validation recomputes it.
package idcode

import (
	"errors"
	"fmt"
	"strings"
	"time"
)

// uscc alphabet: digits and upper-case letters without I, O, Z, S, V.
const usccAlphabet = "0123456789ABCDEFGHJKLMNPQRTUWXY"

var usccWeights = [17]int{1, 3, 9, 27, 19, 26, 16, 17, 20, 29, 25, 13, 8, 24, 10, 30, 28}

// Errors of validation; messages say which rule failed.
var (
	ErrLength   = errors.New("idcode: wrong length")
	ErrCharset  = errors.New("idcode: character not allowed")
	ErrChecksum = errors.New("idcode: check character does not match")
	ErrDate     = errors.New("idcode: birth date is not a real date")
)

// USCCCheck returns the check character for the first 17 characters.
func USCCCheck(first17 string) (byte, error) {
	if len(first17) != 17 {
		return 0, fmt.Errorf("%w: want 17 characters, got %d", ErrLength, len(first17))
	}
	sum := 0
	for i := range 17 {
		v := strings.IndexByte(usccAlphabet, first17[i])
		if v < 0 {
			return 0, fmt.Errorf("%w: %q at position %d", ErrCharset, first17[i], i+1)
		}
		sum += v * usccWeights[i]
	}
	c := (31 - sum%31) % 31
	return usccAlphabet[c], nil
}

// ValidUSCC checks an 18-character unified social credit code.
func ValidUSCC(code string) error {
	if len(code) != 18 {
		return fmt.Errorf("%w: want 18 characters, got %d", ErrLength, len(code))
	}
	want, err := USCCCheck(code[:17])
	if err != nil {
		return err
	}
	if code[17] != want {
		return fmt.Errorf("%w: got %q, want %q", ErrChecksum, code[17], want)
	}
	return nil
}

var idWeights = [17]int{7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2}

const idChecks = "10X98765432"

// ValidResidentID checks an 18-character resident identity number: digits,
// a real birth date in positions 7–14, and the check character (0–9 or X).
func ValidResidentID(id string) error {
	if len(id) != 18 {
		return fmt.Errorf("%w: want 18 characters, got %d", ErrLength, len(id))
	}
	sum := 0
	for i := range 17 {
		if id[i] < '0' || id[i] > '9' {
			return fmt.Errorf("%w: %q at position %d", ErrCharset, id[i], i+1)
		}
		sum += int(id[i]-'0') * idWeights[i]
	}
	if _, err := time.Parse("20060102", id[6:14]); err != nil {
		return fmt.Errorf("%w: %s", ErrDate, id[6:14])
	}
	if want := idChecks[sum%11]; id[17] != want {
		return fmt.Errorf("%w: got %q, want %q", ErrChecksum, id[17], want)
	}
	return nil
}

// MaskResidentID shows the first 6 and last 4 characters only
// (110105********002X), for responses and logs that must not carry the
// full number.
func MaskResidentID(id string) string {
	if len(id) < 10 {
		return strings.Repeat("*", len(id))
	}
	return id[:6] + strings.Repeat("*", len(id)-10) + id[len(id)-4:]
}
