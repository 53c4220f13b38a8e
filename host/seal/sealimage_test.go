package seal

import (
	"errors"
	"image"
	"testing"

	"github.com/shanghai-amr/portal/host/fonts"
)

func TestSealImageIsRedOnTheRingAndCentreAndTransparentOutside(t *testing.T) {
	size := 240
	img, err := SealImage("上海市浦东新区市场监督管理局", "行政处罚专用章", size)
	if errors.Is(err, fonts.ErrMissing) {
		t.Skip(err)
	}
	if err != nil {
		t.Fatal(err)
	}
	if img.Bounds() != image.Rect(0, 0, size, size) {
		t.Fatalf("bounds %v", img.Bounds())
	}
	red := func(x, y int) bool {
		c := img.NRGBAAt(x, y)
		return c.A > 200 && c.R > 200 && c.G < 60 && c.B < 60
	}
	ring := int(sealRing*float64(size)/2) + 1 // the middle of the ring's width
	for name, p := range map[string]image.Point{
		"ring, top": {size / 2, ring}, "ring, left": {ring, size / 2},
		"ring, bottom": {size / 2, size - 1 - ring}, "ring, right": {size - 1 - ring, size / 2},
		"star, centre": {size / 2, size / 2},
	} {
		if !red(p.X, p.Y) {
			t.Errorf("%s %v is %v, want red", name, p, img.NRGBAAt(p.X, p.Y))
		}
	}
	for _, p := range []image.Point{{0, 0}, {size - 1, 0}, {0, size - 1}, {size - 1, size - 1}, {size / 7, size / 7}} {
		if a := img.NRGBAAt(p.X, p.Y).A; a != 0 {
			t.Errorf("corner %v has alpha %d, want transparent", p, a)
		}
	}
	// The name is drawn: the band between the ring and the star has ink.
	inked := 0
	for x := size / 4; x < 3*size/4; x++ {
		for y := ring * 3; y < size/4; y++ {
			if img.NRGBAAt(x, y).A > 128 {
				inked++
			}
		}
	}
	if inked < 100 {
		t.Errorf("only %d inked pixels where the name should be", inked)
	}
}

func TestSealImageRefusesBadArguments(t *testing.T) {
	for _, tt := range []struct {
		name, purpose string
		size          int
	}{
		{"", "", 200},
		{"上海市市场监督管理局", "", 10},
		{"上海市市场监督管理局", "", 100000},
	} {
		if _, err := SealImage(tt.name, tt.purpose, tt.size); err == nil {
			t.Errorf("SealImage(%q, %q, %d) succeeded", tt.name, tt.purpose, tt.size)
		}
	}
}
