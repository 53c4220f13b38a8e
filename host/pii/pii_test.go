package pii

import (
	"errors"
	"strings"
	"testing"
)

func TestSealOpenRotate(t *testing.T) {
	old, err := ParseKeys(NewKeySpec("k1"))
	if err != nil {
		t.Fatal(err)
	}
	sealed, err := old.Seal("13812345678")
	if err != nil || !strings.HasPrefix(sealed, "sm4gcm:k1:") || strings.Contains(sealed, "1381234") {
		t.Fatalf("sealed = %q, %v", sealed, err)
	}
	if again, _ := old.Seal("13812345678"); again == sealed {
		t.Fatal("sealing is deterministic: equal values would be visible as equal")
	}
	if plain, err := old.Open(sealed); err != nil || plain != "13812345678" {
		t.Fatalf("open = %q %v", plain, err)
	}
}

func TestRotationAndTampering(t *testing.T) {
	k1 := NewKeySpec("k1")
	s1, _ := ParseKeys(k1)
	sealed, _ := s1.Seal("310115199001011234")
	s2, err := ParseKeys(NewKeySpec("k2") + "," + k1)
	if err != nil {
		t.Fatal(err)
	}
	if plain, err := s2.Open(sealed); err != nil || plain != "310115199001011234" {
		t.Fatalf("old value under rotated keys: %q %v", plain, err)
	}
	resealed, err := s2.Reseal(sealed)
	if err != nil || !strings.HasPrefix(resealed, "sm4gcm:k2:") {
		t.Fatalf("reseal = %q %v", resealed, err)
	}
	// Flip one character of the ciphertext: GCM refuses it.
	b := []byte(resealed)
	b[len(b)-3] ^= 1
	if _, err := s2.Open(string(b)); !errors.Is(err, ErrOpen) {
		t.Fatalf("tampered value opened: %v", err)
	}
	// Moving a value to another key id is caught too (the id is authenticated).
	moved := strings.Replace(sealed, "sm4gcm:k1:", "sm4gcm:k2:", 1)
	if _, err := s2.Open(moved); !errors.Is(err, ErrOpen) {
		t.Fatalf("relabelled value opened: %v", err)
	}
	for _, bad := range []string{"", "k1", "k1=zz", "k1=00", "a=" + strings.Repeat("0", 32) + ",a=" + strings.Repeat("1", 32)} {
		if _, err := ParseKeys(bad); !errors.Is(err, ErrKeys) {
			t.Errorf("ParseKeys(%q) = %v", bad, err)
		}
	}
}

func TestMaskPhone(t *testing.T) {
	for _, tt := range []struct{ in, audience, want string }{
		{"13812345678", "staff", "138****5678"},
		{"13812345678", "public", "***********"},
		{"", "staff", ""},
	} {
		if got := MaskPhone(tt.in, tt.audience); got != tt.want {
			t.Errorf("MaskPhone(%q, %s) = %q", tt.in, tt.audience, got)
		}
	}
}

func TestPseudonymsAreStablePerPluginAndUnlinkableAcross(t *testing.T) {
	if _, err := NewPseudonyms([]byte("short")); err == nil {
		t.Fatal("a short key was accepted")
	}
	p, err := NewPseudonyms([]byte("0123456789abcdef0123456789abcdef"))
	if err != nil {
		t.Fatal(err)
	}
	a, b := p.Person("11010519491231002X"), p.Person(" 11010519491231002x ")
	if a != b || a == p.Person("110105194912310021") {
		t.Fatalf("person pseudonyms: %s %s", a, b)
	}
	if p.ForPlugin("registration", a) != p.ForPlugin("registration", b) || p.ForPlugin("registration", a) == p.ForPlugin("enforcement", a) {
		t.Fatal("plugin pseudonyms must be stable within a plugin and differ across plugins")
	}
	if p.ForPlugin("registration", "") != "" {
		t.Fatal("no person, no pseudonym")
	}
	q, _ := NewPseudonyms([]byte("another key, another world......"))
	if q.Person("11010519491231002X") == a {
		t.Fatal("the key must matter")
	}
}
