package seal

import (
	"fmt"
	"image"
	"math"
	"strings"
	"unicode/utf8"

	"golang.org/x/image/font/opentype"
	"golang.org/x/image/font/sfnt"
	"golang.org/x/image/math/fixed"
	"golang.org/x/image/vector"

	"github.com/shanghai-amr/portal/host/fonts"
)

// The seal's ink: the red of official seals, opaque.
const inkR, inkG, inkB = 0xE0, 0x10, 0x1A

// The seal's proportions, as fractions of its diameter, after the usual
// 42 mm organisation seal: a 1.5 mm ring, 6 mm characters on the arc, a
// 14 mm star, 4 mm characters for the purpose.
const (
	sealRing       = 0.035
	sealGap        = 0.025 // between the ring and the name
	sealNameSize   = 0.14
	sealStar       = 0.165 // star's outer radius
	sealStarInner  = 0.382 // inner radius / outer radius of a regular star
	sealPurpose    = 0.085
	sealPurposeY   = 0.52 // purpose line's centre below the seal's centre, in radii
	sealMinArc     = 150 * math.Pi / 180
	sealMaxArc     = 250 * math.Pi / 180
	sealMinSizePx  = 64
	sealMaxSizePx  = 4096
	sealMaxNameLen = 40
)

// SealImage draws an organisation's round seal (公章), sizePx pixels square:
// a red ring, the organisation's name along the upper arc with each
// character turned to follow the circle, a five-pointed star in the centre
// and the purpose (e.g. "行政处罚专用章"; empty for the organisation's
// general seal) in a straight line under the star. The background is
// transparent, so that the seal can be stamped over text. Characters are
// narrowed, never shrunk, when the name or purpose is long.
//
// The characters are set in the 楷体 font of host/fonts; the error wraps
// fonts.ErrMissing when it is not installed.
func SealImage(orgName, purpose string, sizePx int) (*image.NRGBA, error) {
	orgName, purpose = strings.TrimSpace(orgName), strings.TrimSpace(purpose)
	if sizePx < sealMinSizePx || sizePx > sealMaxSizePx {
		return nil, fmt.Errorf("seal: image size %d px: want %d to %d", sizePx, sealMinSizePx, sealMaxSizePx)
	}
	if orgName == "" || utf8.RuneCountInString(orgName) > sealMaxNameLen || utf8.RuneCountInString(purpose) > sealMaxNameLen {
		return nil, fmt.Errorf("seal: image: the name must have 1 to %d characters and the purpose at most %d", sealMaxNameLen, sealMaxNameLen)
	}
	ttf, err := fonts.Load(fonts.Kai)
	if err != nil {
		return nil, err
	}
	font, err := opentype.Parse(ttf)
	if err != nil {
		return nil, fmt.Errorf("seal: image: font: %w", err)
	}

	d := float64(sizePx)
	outer := d/2 - 1 // a pixel's margin for anti-aliasing
	c := point{d / 2, d / 2}
	ring := d * sealRing
	pen := &sealPen{z: vector.NewRasterizer(sizePx, sizePx), font: font}

	// The ring: the outer circle one way, the inner the other, so that the
	// rasteriser's winding leaves the middle empty.
	pen.circle(c, outer, false)
	pen.circle(c, outer-ring, true)

	// The star.
	var star []point
	for k := range 10 {
		r := d * sealStar
		if k%2 == 1 {
			r *= sealStarInner
		}
		a := -math.Pi/2 + float64(k)*math.Pi/5
		star = append(star, point{c.x + r*math.Cos(a), c.y + r*math.Sin(a)})
	}
	pen.polygon(star)

	// The name along the upper arc: glyph centres on a circle inside the
	// ring, spread over an arc between sealMinArc and sealMaxArc.
	name := []rune(orgName)
	size := d * sealNameSize
	radius := outer - ring - d*sealGap - size/2
	arc := min(max(float64(len(name))*size/radius, sealMinArc), sealMaxArc)
	step := arc / float64(len(name))
	narrow := min(1, step*radius/size)
	for i, r := range name {
		a := -arc/2 + step*(float64(i)+0.5) // from the top, clockwise
		at := point{c.x + radius*math.Sin(a), c.y - radius*math.Cos(a)}
		if err := pen.glyph(r, size, at, a, narrow); err != nil {
			return nil, err
		}
	}

	// The purpose, straight, under the star: narrowed to the chord.
	if p := []rune(purpose); len(p) > 0 {
		size := d * sealPurpose
		y := (outer - ring) * sealPurposeY
		half := outer - ring - d*sealGap
		room := 2 * math.Sqrt(max(half*half-(y+size/2)*(y+size/2), 0))
		narrow := min(1, room/(float64(len(p))*size))
		w := size * narrow
		for i, r := range p {
			at := point{c.x + (float64(i)-float64(len(p)-1)/2)*w, c.y + y}
			if err := pen.glyph(r, size, at, 0, narrow); err != nil {
				return nil, err
			}
		}
	}

	mask := image.NewAlpha(image.Rect(0, 0, sizePx, sizePx))
	pen.z.Draw(mask, mask.Bounds(), image.Opaque, image.Point{})
	img := image.NewNRGBA(mask.Bounds())
	for i, a := range mask.Pix {
		if a != 0 {
			img.Pix[4*i], img.Pix[4*i+1], img.Pix[4*i+2], img.Pix[4*i+3] = inkR, inkG, inkB, a
		}
	}
	return img, nil
}

type point struct{ x, y float64 }

// sealPen adds the seal's shapes to a rasteriser.
type sealPen struct {
	z    *vector.Rasterizer
	font *sfnt.Font
	buf  sfnt.Buffer
}

func (p *sealPen) polygon(pts []point) {
	p.z.MoveTo(float32(pts[0].x), float32(pts[0].y))
	for _, q := range pts[1:] {
		p.z.LineTo(float32(q.x), float32(q.y))
	}
	p.z.ClosePath()
}

// circle adds a circle as a 256-gon, counter-clockwise if ccw.
func (p *sealPen) circle(c point, r float64, ccw bool) {
	const n = 256
	pts := make([]point, n)
	for k := range pts {
		a := 2 * math.Pi * float64(k) / n
		if ccw {
			a = -a
		}
		pts[k] = point{c.x + r*math.Cos(a), c.y + r*math.Sin(a)}
	}
	p.polygon(pts)
}

// glyph adds the outline of r, set size pixels to the em, its em box
// narrowed horizontally by narrow, turned by angle (radians, clockwise) and
// centred on at.
func (p *sealPen) glyph(r rune, size float64, at point, angle, narrow float64) error {
	gi, err := p.font.GlyphIndex(&p.buf, r)
	if err != nil || gi == 0 {
		return fmt.Errorf("seal: image: the font has no glyph for %q", r)
	}
	ppem := fixed.Int26_6(size * 64)
	adv, err := p.font.GlyphAdvance(&p.buf, gi, ppem, 0)
	if err != nil {
		return fmt.Errorf("seal: image: glyph %q: %w", r, err)
	}
	m, err := p.font.Metrics(&p.buf, ppem, 0)
	if err != nil {
		return fmt.Errorf("seal: image: font metrics: %w", err)
	}
	segs, err := p.font.LoadGlyph(&p.buf, gi, ppem, nil)
	if err != nil {
		return fmt.Errorf("seal: image: glyph %q: %w", r, err)
	}
	// The em box's centre in the glyph's coordinates (y down, origin on
	// the baseline).
	cx := float64(adv) / 64 / 2
	cy := float64(m.Descent-m.Ascent) / 64 / 2
	sin, cos := math.Sincos(angle)
	tr := func(q fixed.Point26_6) (float32, float32) {
		x := (float64(q.X)/64 - cx) * narrow
		y := float64(q.Y)/64 - cy
		return float32(at.x + x*cos - y*sin), float32(at.y + x*sin + y*cos)
	}
	open := false
	for _, s := range segs {
		switch s.Op {
		case sfnt.SegmentOpMoveTo:
			if open {
				p.z.ClosePath()
			}
			p.z.MoveTo(tr(s.Args[0]))
			open = true
		case sfnt.SegmentOpLineTo:
			p.z.LineTo(tr(s.Args[0]))
		case sfnt.SegmentOpQuadTo:
			bx, by := tr(s.Args[0])
			cx, cy := tr(s.Args[1])
			p.z.QuadTo(bx, by, cx, cy)
		case sfnt.SegmentOpCubeTo:
			bx, by := tr(s.Args[0])
			cx, cy := tr(s.Args[1])
			dx, dy := tr(s.Args[2])
			p.z.CubeTo(bx, by, cx, cy, dx, dy)
		}
	}
	if open {
		p.z.ClosePath()
	}
	return nil
}
