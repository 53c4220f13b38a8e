package idcode

import (
	"errors"
	"testing"
)

func TestResidentID(t *testing.T) {
	for _, tt := range []struct {
		id  string
		err error
	}{
		{"11010519491231002X", nil}, // the standard's own example
		{"11010519491231002x", ErrChecksum},
		{"110105194912310021", ErrChecksum},
		{"11010519490231002X", ErrDate}, // 31 February
		{"1101051949123100", ErrLength},
		{"11010A19491231002X", ErrCharset},
	} {
		if err := ValidResidentID(tt.id); !errors.Is(err, tt.err) {
			t.Errorf("%s: %v, want %v", tt.id, err, tt.err)
		}
	}
	if got := MaskResidentID("11010519491231002X"); got != "110105********002X" {
		t.Errorf("mask = %s", got)
	}
}

func TestUSCC(t *testing.T) {
	// Published codes of real enterprises (from their business licences).
	for _, code := range []string{"914403001922038216", "91330100716105852F", "91110000802100433B"} {
		if err := ValidUSCC(code); err != nil {
			t.Errorf("%s: %v", code, err)
		}
	}
	check, err := USCCCheck("91310000MA1FL0000")
	if err != nil {
		t.Fatal(err)
	}
	code := "91310000MA1FL0000" + string(check)
	if err := ValidUSCC(code); err != nil {
		t.Fatalf("%s: %v", code, err)
	}
	wrong := code[:17] + "0"
	if code[17] == '0' {
		wrong = code[:17] + "1"
	}
	for _, tt := range []struct {
		code string
		err  error
	}{
		{wrong, ErrChecksum},
		{"91310000MA1FL000", ErrLength},
		{"91310000MI1FL0000X", ErrCharset}, // I is not in the alphabet
	} {
		if err := ValidUSCC(tt.code); !errors.Is(err, tt.err) {
			t.Errorf("%s: %v, want %v", tt.code, err, tt.err)
		}
	}
}

// Every check character the algorithm can produce is in the alphabet, and
// exactly one is valid for each prefix.
func TestUSCCCheckIsTotal(t *testing.T) {
	valid := 0
	for _, c := range usccAlphabet {
		if ValidUSCC("91310115MA1K4PTX8"+string(c)) == nil {
			valid++
		}
	}
	if valid != 1 {
		t.Fatalf("%d valid check characters", valid)
	}
}
