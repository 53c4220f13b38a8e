package bundle

import (
	"archive/tar"
	"bytes"
	"compress/gzip"
	"context"
	"crypto/ed25519"
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"io"
	"io/fs"
	"maps"
	"os"
	"os/exec"
	"path"
	"path/filepath"
	"slices"
	"strings"
	"time"

	"github.com/Masterminds/semver/v3"

	"github.com/shanghai-amr/portal/sdk/manifest"
)

// versionSymbol is the SDK variable the build stamps with the release version,
// so that the binary's Describe and the bundle's plugin.yaml agree.
const versionSymbol = "github.com/shanghai-amr/portal/sdk.buildVersion"

// entryModTime is every entry's modification time (2000-01-01T00:00:00Z):
// fixed so that the same inputs give the same bytes, and not zero, which some
// tools show as missing.
const entryModTime = 946684800

// BuildOptions says what Build packs.
type BuildOptions struct {
	// PluginDir is the plugin's main package, holding plugin.yaml. The go
	// command runs there, so it must be inside a module (this one, for the
	// portal's own plugins). Required.
	PluginDir string
	// Version is the release version, a semantic version. It replaces the
	// version in plugin.yaml and is linked into the binary. Required.
	Version string
	// Key signs the bundle. Required.
	Key ed25519.PrivateKey
	// Out is the bundle file to write; it is replaced atomically. Required.
	Out string
	// Platforms are goos/goarch pairs to build for; default linux/amd64,
	// which must be among them.
	Platforms []string
	// WebDir holds static assets packed under web/. Default: <PluginDir>/web
	// if it exists. Only regular files and directories may be in it.
	WebDir string
	// GoFlags are extra flags for go build (-tags x, -gcflags …). -o and
	// -ldflags are set by Build and refused here.
	GoFlags []string
	// Stderr receives the go command's output as it runs. When nil the output
	// is kept and its tail put into the error of a failed build.
	Stderr io.Writer
}

// Built describes a bundle Build wrote.
type Built struct {
	// Path is the bundle file (BuildOptions.Out).
	Path string
	// Plugin and Version are the signed id and version.
	Plugin, Version string
	// KeyID identifies the signing key.
	KeyID string
	// Digest is the lower-case hex SHA-256 of the bundle file.
	Digest string
	// Files is the signed list: entry → SHA-256 hex.
	Files map[string]string
}

// Build compiles the plugin for each platform, stamps the version, signs the
// contents and writes the bundle. Building needs the go command on PATH; each
// binary is built with CGO_ENABLED=0 and -trimpath, and every tar entry has a
// fixed owner, mode and time, so building the same sources with the same Go
// toolchain gives a byte-identical bundle.
//
// The bundled plugin.yaml is the parsed manifest re-encoded by
// Manifest.Marshal with the new version, which is also what the SDK serves
// from a stamped binary; comments in the source plugin.yaml are not kept.
//
// Build refuses what Open would refuse with default limits, so a bundle that
// builds also installs.
func Build(ctx context.Context, opt BuildOptions) (*Built, error) {
	platforms, err := opt.check()
	if err != nil {
		return nil, err
	}
	src, err := os.ReadFile(filepath.Join(opt.PluginDir, ManifestFile))
	if err != nil {
		return nil, fmt.Errorf("bundle: build: %w", err)
	}
	m, err := manifest.Parse(src)
	if err != nil {
		return nil, fmt.Errorf("bundle: build: %s: %w", filepath.Join(opt.PluginDir, ManifestFile), err)
	}
	m.Version = opt.Version
	raw, err := m.Marshal()
	if err != nil {
		return nil, fmt.Errorf("bundle: build: %w", err)
	}
	if _, err := manifest.Parse(raw); err != nil {
		return nil, fmt.Errorf("bundle: build: stamped manifest: %w", err)
	}

	stage, err := os.MkdirTemp("", "portal-bundle-build-*")
	if err != nil {
		return nil, fmt.Errorf("bundle: build: %w", err)
	}
	defer os.RemoveAll(stage)
	s := &staging{dir: stage, files: map[string]string{}}
	if err := s.addBytes(ManifestFile, raw); err != nil {
		return nil, err
	}
	// Web assets first: a refusal there should not wait for the compiler.
	if err := s.addWeb(opt); err != nil {
		return nil, err
	}
	for _, p := range platforms {
		if err := s.buildBinary(ctx, opt, p); err != nil {
			return nil, err
		}
	}
	if err := s.checkLimits(); err != nil {
		return nil, err
	}

	stmt, err := json.MarshalIndent(Statement{Format: Format, Plugin: m.ID, Version: m.Version, Files: s.files}, "", "  ")
	if err != nil {
		return nil, fmt.Errorf("bundle: build: %w", err)
	}
	stmt = append(stmt, '\n')
	pub := opt.Key.Public().(ed25519.PublicKey)
	sig, err := json.MarshalIndent(Signature{
		Alg:   SignatureAlg,
		KeyID: KeyID(pub),
		Sig:   base64.StdEncoding.EncodeToString(ed25519.Sign(opt.Key, stmt)),
	}, "", "  ")
	if err != nil {
		return nil, fmt.Errorf("bundle: build: %w", err)
	}
	sig = append(sig, '\n')

	digest, err := s.writeArchive(opt.Out, stmt, sig)
	if err != nil {
		return nil, err
	}
	return &Built{Path: opt.Out, Plugin: m.ID, Version: m.Version, KeyID: KeyID(pub), Digest: digest, Files: s.files}, nil
}

// check validates the options and returns the platforms to build, sorted.
func (opt *BuildOptions) check() ([]string, error) {
	switch {
	case opt.PluginDir == "":
		return nil, fmt.Errorf("%w: no plugin directory", ErrBuildOptions)
	case opt.Out == "":
		return nil, fmt.Errorf("%w: no output file", ErrBuildOptions)
	case len(opt.Key) != ed25519.PrivateKeySize:
		return nil, fmt.Errorf("%w: build needs an ed25519 private key", ErrBadKey)
	}
	if _, err := semver.StrictNewVersion(opt.Version); err != nil {
		return nil, fmt.Errorf("%w: version %q is not a semantic version (1.4.0, 2.0.0-rc.1)", ErrBuildOptions, opt.Version)
	}
	for _, f := range opt.GoFlags {
		name, _, _ := strings.Cut(strings.TrimLeft(f, "-"), "=")
		if strings.HasPrefix(f, "-") && (name == "o" || name == "ldflags") {
			return nil, fmt.Errorf("%w: go flag %s is set by the build", ErrBuildOptions, f)
		}
	}
	platforms := opt.Platforms
	if len(platforms) == 0 {
		platforms = []string{RequiredPlatform}
	}
	platforms = slices.Clone(platforms)
	slices.Sort(platforms)
	platforms = slices.Compact(platforms)
	for _, p := range platforms {
		if !platformPattern.MatchString(p) {
			return nil, fmt.Errorf("%w: platform %q is not goos/goarch (linux/amd64)", ErrBuildOptions, p)
		}
	}
	if !slices.Contains(platforms, RequiredPlatform) {
		return nil, fmt.Errorf("%w: platforms %v must include %s", ErrBuildOptions, platforms, RequiredPlatform)
	}
	return platforms, nil
}

// staging collects the bundle's files in a private directory, hashing each as
// it is copied there; the archive is written from these copies, so the hashes
// hold even if the sources change meanwhile.
type staging struct {
	dir   string
	files map[string]string // entry → SHA-256 hex
	sizes []int64
}

func (s *staging) path(name string) string {
	return filepath.Join(s.dir, "files", filepath.FromSlash(name))
}

func (s *staging) addBytes(name string, data []byte) error {
	return s.add(name, bytes.NewReader(data))
}

func (s *staging) add(name string, r io.Reader) error {
	if err := checkPath(name); err != nil {
		return fmt.Errorf("%w: %q %v", ErrUnsafePath, name, err)
	}
	if _, dup := s.files[name]; dup {
		return fmt.Errorf("bundle: build: %s added twice", name)
	}
	p := s.path(name)
	if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
		return fmt.Errorf("bundle: build: %w", err)
	}
	f, err := os.OpenFile(p, os.O_WRONLY|os.O_CREATE|os.O_EXCL, 0o644)
	if err != nil {
		return fmt.Errorf("bundle: build: %w", err)
	}
	h := sha256.New()
	n, err := io.Copy(io.MultiWriter(f, h), r)
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	if err != nil {
		return fmt.Errorf("bundle: build: %s: %w", name, err)
	}
	s.files[name] = hex.EncodeToString(h.Sum(nil))
	s.sizes = append(s.sizes, n)
	return nil
}

func (s *staging) addFile(name, src string) error {
	f, err := os.Open(src)
	if err != nil {
		return fmt.Errorf("bundle: build: %w", err)
	}
	defer f.Close()
	return s.add(name, f)
}

// buildBinary runs go build for one platform.
func (s *staging) buildBinary(ctx context.Context, opt BuildOptions, platform string) error {
	goos, goarch, _ := strings.Cut(platform, "/")
	out := filepath.Join(s.dir, "go", goos+"_"+goarch, "plugin")
	args := append([]string{"build", "-trimpath"}, opt.GoFlags...)
	args = append(args, "-ldflags", "-X "+versionSymbol+"="+opt.Version, "-o", out, ".")
	cmd := exec.CommandContext(ctx, "go", args...)
	cmd.Dir = opt.PluginDir
	// Later entries win, so these override the caller's environment.
	cmd.Env = append(os.Environ(), "CGO_ENABLED=0", "GOOS="+goos, "GOARCH="+goarch)
	var output bytes.Buffer
	if opt.Stderr != nil {
		cmd.Stdout, cmd.Stderr = opt.Stderr, opt.Stderr
	} else {
		cmd.Stdout, cmd.Stderr = &output, &output
	}
	if err := cmd.Run(); err != nil {
		if tail := lastLines(output.String(), 10); tail != "" {
			return fmt.Errorf("bundle: build: go build for %s: %w: %s", platform, err, tail)
		}
		return fmt.Errorf("bundle: build: go build for %s: %w", platform, err)
	}
	return s.addFile(binaryPath(goos, goarch), out)
}

func lastLines(s string, n int) string {
	lines := strings.Split(strings.TrimSpace(s), "\n")
	if len(lines) > n {
		lines = lines[len(lines)-n:]
	}
	return strings.Join(lines, "\n")
}

// addWeb stages the web assets, refusing anything Open would refuse.
func (s *staging) addWeb(opt BuildOptions) error {
	dir := opt.WebDir
	if dir == "" {
		dir = filepath.Join(opt.PluginDir, "web")
		if fi, err := os.Stat(dir); err != nil || !fi.IsDir() {
			return nil
		}
	}
	return filepath.WalkDir(dir, func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			return fmt.Errorf("bundle: build: %w", err)
		}
		rel, err := filepath.Rel(dir, p)
		if err != nil {
			return fmt.Errorf("bundle: build: %w", err)
		}
		name := path.Join("web", filepath.ToSlash(rel))
		switch {
		case d.IsDir():
			return nil
		case !d.Type().IsRegular():
			return fmt.Errorf("%w: %s is not a regular file (bundles carry no links)", ErrLinkEntry, p)
		}
		return s.addFile(name, p)
	})
}

func (s *staging) checkLimits() error {
	lim := Limits{}.withDefaults()
	// The two signature files are small; count them as entries.
	if len(s.sizes)+2 > lim.MaxEntries {
		return fmt.Errorf("%w: %d entries, more than %d", ErrTooLarge, len(s.sizes)+2, lim.MaxEntries)
	}
	var total int64
	for name := range s.files {
		fi, err := os.Stat(s.path(name))
		if err != nil {
			return fmt.Errorf("bundle: build: %w", err)
		}
		if fi.Size() > lim.MaxEntry {
			return fmt.Errorf("%w: %s is %d bytes, more than %d", ErrTooLarge, name, fi.Size(), lim.MaxEntry)
		}
		total += fi.Size()
	}
	if total > lim.MaxTotal {
		return fmt.Errorf("%w: %d bytes in all, more than %d", ErrTooLarge, total, lim.MaxTotal)
	}
	return nil
}

// writeArchive writes the tar.gz to a temporary file next to out and renames
// it into place, so readers never see half a bundle. The statement and
// signature come first, so a streaming reader can check them before the rest.
func (s *staging) writeArchive(out string, stmt, sig []byte) (digest string, err error) {
	tmp, err := os.CreateTemp(filepath.Dir(out), "."+filepath.Base(out)+".*.tmp")
	if err != nil {
		return "", fmt.Errorf("bundle: build: %w", err)
	}
	defer func() {
		if err != nil {
			tmp.Close()
			os.Remove(tmp.Name())
		}
	}()
	h := sha256.New()
	gz, err := gzip.NewWriterLevel(io.MultiWriter(tmp, h), gzip.BestCompression)
	if err != nil {
		return "", fmt.Errorf("bundle: build: %w", err)
	}
	tw := tar.NewWriter(gz)
	if err := writeEntry(tw, StatementFile, 0o644, int64(len(stmt)), bytes.NewReader(stmt)); err != nil {
		return "", err
	}
	if err := writeEntry(tw, SignatureFile, 0o644, int64(len(sig)), bytes.NewReader(sig)); err != nil {
		return "", err
	}
	// plugin.yaml, then the rest sorted: bin/…, web/….
	names := slices.SortedFunc(maps.Keys(s.files), func(a, b string) int {
		if (a == ManifestFile) != (b == ManifestFile) {
			if a == ManifestFile {
				return -1
			}
			return 1
		}
		return strings.Compare(a, b)
	})
	for _, name := range names {
		if err := s.writeStaged(tw, name); err != nil {
			return "", err
		}
	}
	if err := tw.Close(); err != nil {
		return "", fmt.Errorf("bundle: build: %w", err)
	}
	if err := gz.Close(); err != nil {
		return "", fmt.Errorf("bundle: build: %w", err)
	}
	if err := tmp.Chmod(0o644); err != nil {
		return "", fmt.Errorf("bundle: build: %w", err)
	}
	if err := tmp.Sync(); err != nil {
		return "", fmt.Errorf("bundle: build: %w", err)
	}
	if err := tmp.Close(); err != nil {
		return "", fmt.Errorf("bundle: build: %w", err)
	}
	if err := os.Rename(tmp.Name(), out); err != nil {
		return "", fmt.Errorf("bundle: build: %w", err)
	}
	return hex.EncodeToString(h.Sum(nil)), nil
}

func (s *staging) writeStaged(tw *tar.Writer, name string) error {
	f, err := os.Open(s.path(name))
	if err != nil {
		return fmt.Errorf("bundle: build: %w", err)
	}
	defer f.Close()
	fi, err := f.Stat()
	if err != nil {
		return fmt.Errorf("bundle: build: %w", err)
	}
	return writeEntry(tw, name, entryMode(name), fi.Size(), f)
}

// entryMode is the mode of an entry in a bundle and on disk after Open:
// binaries are executable, everything else is read-only data.
func entryMode(name string) os.FileMode {
	if _, ok := platformOf(name); ok {
		return 0o755
	}
	return 0o644
}

func writeEntry(tw *tar.Writer, name string, mode os.FileMode, size int64, r io.Reader) error {
	hdr := &tar.Header{
		Typeflag: tar.TypeReg,
		Name:     name,
		Size:     size,
		Mode:     int64(mode),
		ModTime:  time.Unix(entryModTime, 0).UTC(),
	}
	if err := tw.WriteHeader(hdr); err != nil {
		return fmt.Errorf("bundle: build: %s: %w", name, err)
	}
	if _, err := io.Copy(tw, r); err != nil {
		return fmt.Errorf("bundle: build: %s: %w", name, err)
	}
	return nil
}
