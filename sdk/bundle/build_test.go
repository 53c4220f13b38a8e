package bundle

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strings"
	"testing"
)

// hello is a buildable main package with its own plugin.yaml and web assets.
const hello = "testdata/hello"

func buildHello(t *testing.T, kp KeyPair, out string) *Built {
	t.Helper()
	if _, err := exec.LookPath("go"); err != nil {
		t.Skip("needs the go command")
	}
	b, err := Build(context.Background(), BuildOptions{PluginDir: hello, Version: "1.2.3", Key: kp.Private, Out: out})
	if err != nil {
		t.Fatalf("Build: %v", err)
	}
	return b
}

func TestBuildThenOpen(t *testing.T) {
	dir := t.TempDir()
	kp, err := GenerateKey("release")
	if err != nil {
		t.Fatal(err)
	}
	trust := filepath.Join(dir, "trust")
	if _, _, err := WriteKeyPair(trust, kp); err != nil {
		t.Fatal(err)
	}
	out := filepath.Join(dir, "hello-1.2.3.tar.gz")
	built := buildHello(t, kp, out)

	ring, err := LoadKeyRing(trust)
	if err != nil {
		t.Fatal(err)
	}
	v, err := Open(out, ring, Limits{})
	if err != nil {
		t.Fatalf("Open: %v", err)
	}
	defer v.Close()
	if v.Plugin != "hello" || v.Version != "1.2.3" || v.Manifest.Version != "1.2.3" {
		t.Errorf("opened %s %s (manifest %s), want hello 1.2.3 stamped", v.Plugin, v.Version, v.Manifest.Version)
	}
	if v.Digest != built.Digest || v.KeyID != built.KeyID || v.Signer != "release" {
		t.Errorf("Verified %s by %s (%s), Built %s by %s", v.Digest, v.KeyID, v.Signer, built.Digest, built.KeyID)
	}
	for _, name := range []string{"plugin.yaml", "bin/linux_amd64/plugin", "web/index.html", "web/assets/app.js"} {
		if _, ok := v.Files[name]; !ok {
			t.Errorf("bundle lacks %s; has %v", name, v.Files)
		}
	}
	if !bytes.Contains(v.ManifestRaw, []byte("version: 1.2.3")) {
		t.Errorf("bundled plugin.yaml is not stamped:\n%s", v.ManifestRaw)
	}
	bin, sum, err := v.Binary("linux", "amd64")
	if err != nil {
		t.Fatal(err)
	}
	data, err := os.ReadFile(bin)
	if err != nil {
		t.Fatal(err)
	}
	if got := sha256.Sum256(data); !bytes.Equal(got[:], sum) {
		t.Errorf("Binary hash %x, file hashes to %x", sum, got)
	}
	if runtime.GOOS == "linux" && runtime.GOARCH == "amd64" {
		outp, err := exec.Command(bin).Output()
		if err != nil || !strings.Contains(string(outp), "id: hello") {
			t.Errorf("running the bundled binary: %v, %q", err, outp)
		}
	}
}

func TestBuildIsReproducible(t *testing.T) {
	dir := t.TempDir()
	kp, err := GenerateKey("release")
	if err != nil {
		t.Fatal(err)
	}
	a := buildHello(t, kp, filepath.Join(dir, "a.tar.gz"))
	b := buildHello(t, kp, filepath.Join(dir, "b.tar.gz"))
	da, _ := os.ReadFile(a.Path)
	db, _ := os.ReadFile(b.Path)
	if !bytes.Equal(da, db) || a.Digest != b.Digest {
		t.Fatalf("two builds differ: %s vs %s", a.Digest, b.Digest)
	}
	if sum := sha256.Sum256(da); hex.EncodeToString(sum[:]) != a.Digest {
		t.Errorf("Digest %s is not the file's SHA-256", a.Digest)
	}
	if left, _ := filepath.Glob(filepath.Join(dir, ".*.tmp")); len(left) > 0 {
		t.Errorf("temporary files left: %v", left)
	}
}

func TestBuildRefusesBadOptions(t *testing.T) {
	kp, err := GenerateKey("release")
	if err != nil {
		t.Fatal(err)
	}
	out := filepath.Join(t.TempDir(), "x.tar.gz")
	tests := []struct {
		name    string
		opt     BuildOptions
		mention string
	}{
		{"no version", BuildOptions{PluginDir: hello, Key: kp.Private, Out: out}, "version"},
		{"version not semver", BuildOptions{PluginDir: hello, Version: "v1", Key: kp.Private, Out: out}, `"v1"`},
		{"no output", BuildOptions{PluginDir: hello, Version: "1.0.0", Key: kp.Private}, "output"},
		{"without linux/amd64", BuildOptions{PluginDir: hello, Version: "1.0.0", Key: kp.Private, Out: out, Platforms: []string{"linux/arm64"}}, "linux/amd64"},
		{"bad platform", BuildOptions{PluginDir: hello, Version: "1.0.0", Key: kp.Private, Out: out, Platforms: []string{"linux/amd64", "linux-arm64"}}, "linux-arm64"},
		{"ldflags", BuildOptions{PluginDir: hello, Version: "1.0.0", Key: kp.Private, Out: out, GoFlags: []string{"-ldflags=-s"}}, "-ldflags"},
		{"no plugin.yaml", BuildOptions{PluginDir: t.TempDir(), Version: "1.0.0", Key: kp.Private, Out: out}, "plugin.yaml"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := Build(context.Background(), tt.opt)
			if tt.name != "no plugin.yaml" && !errors.Is(err, ErrBuildOptions) {
				t.Errorf("Build = %v, want ErrBuildOptions", err)
			}
			if err == nil || !strings.Contains(err.Error(), tt.mention) {
				t.Fatalf("Build = %v, want an error mentioning %q", err, tt.mention)
			}
			if _, err := os.Stat(out); !errors.Is(err, os.ErrNotExist) {
				t.Errorf("a refused build wrote %s", out)
			}
		})
	}
}

func TestBuildRefusesMissingKey(t *testing.T) {
	_, err := Build(context.Background(), BuildOptions{PluginDir: hello, Version: "1.0.0", Out: filepath.Join(t.TempDir(), "x.tar.gz")})
	if !errors.Is(err, ErrBadKey) {
		t.Fatalf("Build = %v, want ErrBadKey", err)
	}
}

func TestBuildRefusesLinksInWeb(t *testing.T) {
	kp, err := GenerateKey("release")
	if err != nil {
		t.Fatal(err)
	}
	web := t.TempDir()
	if err := os.Symlink("/etc/passwd", filepath.Join(web, "passwd")); err != nil {
		t.Skip("cannot make symlinks here:", err)
	}
	_, err = Build(context.Background(), BuildOptions{PluginDir: hello, Version: "1.0.0", Key: kp.Private,
		Out: filepath.Join(t.TempDir(), "x.tar.gz"), WebDir: web})
	if !errors.Is(err, ErrLinkEntry) {
		t.Fatalf("Build = %v, want ErrLinkEntry", err)
	}
}
