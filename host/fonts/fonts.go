// Package fonts finds the CJK TrueType fonts that documents and seals are set
// in. None is shipped in the repository: scripts/ci-deps.sh installs them from
// Debian's packages (licences in docs/documents.md), and a deployment with
// licensed GB/T 9704 fonts points Dirs at them.
package fonts

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"sync"
)

// Role is what a font is used for.
type Role string

// The roles of official-document typesetting.
const (
	Body  Role = "body"  // 宋体 (in place of 仿宋_GB2312)
	Kai   Role = "kai"   // 楷体: signature lines and seal text
	Title Role = "title" // 黑体 (in place of 小标宋)
)

// candidates are the file names tried for each role, best first.
var candidates = map[Role][]string{
	Body:  {"fangsong_GB2312.ttf", "gbsn00lp.ttf"},
	Kai:   {"kaiti_GB2312.ttf", "gkai00mp.ttf"},
	Title: {"FZXiaoBiaoSong-B05S.ttf", "simhei.ttf", "DroidSansFallbackFull.ttf"},
}

// Dirs are searched, in order, for the font files. A deployment may prepend
// its own directory.
var Dirs = []string{
	"/usr/share/fonts/truetype/arphic-gbsn00lp",
	"/usr/share/fonts/truetype/arphic-gkai00mp",
	"/usr/share/fonts/truetype/droid",
	"/usr/share/fonts/truetype",
}

// ErrMissing says a font is not installed, and how to install it.
var ErrMissing = errors.New("fonts: CJK font not installed (run scripts/ci-deps.sh, or apt-get install fonts-arphic-gbsn00lp fonts-arphic-gkai00mp fonts-droid-fallback)")

var (
	mu    sync.Mutex
	cache = map[Role][]byte{}
)

// Load returns the TrueType data of the font for a role, read once.
func Load(r Role) ([]byte, error) {
	mu.Lock()
	defer mu.Unlock()
	if b, ok := cache[r]; ok {
		return b, nil
	}
	names, ok := candidates[r]
	if !ok {
		return nil, fmt.Errorf("fonts: unknown role %q", r)
	}
	for _, dir := range Dirs {
		for _, n := range names {
			b, err := os.ReadFile(filepath.Join(dir, n))
			if err == nil {
				cache[r] = b
				return b, nil
			}
		}
	}
	return nil, fmt.Errorf("%w: %s", ErrMissing, r)
}
