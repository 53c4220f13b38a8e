package main

import (
	"bytes"
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// portalctl runs the CLI in-process and returns its exit status and output.
func portalctl(t *testing.T, args ...string) (code int, stdout, stderr string) {
	t.Helper()
	var out, errb bytes.Buffer
	code = run(context.Background(), args, streams{out: &out, err: &errb})
	return code, out.String(), errb.String()
}

func TestKeysBuildVerify(t *testing.T) {
	dir := t.TempDir()
	keys := filepath.Join(dir, "keys")
	code, out, errs := portalctl(t, "keys", "generate", "--name", "release", "--out", keys)
	if code != 0 {
		t.Fatalf("keys generate: exit %d\n%s", code, errs)
	}
	if !strings.Contains(out, "key id") {
		t.Errorf("keys generate printed %q", out)
	}
	// The host's trust store holds only the public half.
	trust := filepath.Join(dir, "trust")
	os.MkdirAll(trust, 0o755)
	pub, _ := os.ReadFile(filepath.Join(keys, "release.pub"))
	os.WriteFile(filepath.Join(trust, "release.pub"), pub, 0o644)

	file := filepath.Join(dir, "hello-1.0.0.tar.gz")
	code, out, errs = portalctl(t, "bundle", "build", "--plugin", "../../sdk/bundle/testdata/hello",
		"--version", "1.0.0", "--key", filepath.Join(keys, "release.key"), "--out", file)
	if code != 0 {
		t.Fatalf("bundle build: exit %d\n%s", code, errs)
	}
	for _, want := range []string{file, "hello 1.0.0", "digest", "sha256:"} {
		if !strings.Contains(out, want) {
			t.Errorf("bundle build output lacks %q:\n%s", want, out)
		}
	}

	code, out, errs = portalctl(t, "bundle", "verify", "--trust", trust, file)
	if code != 0 {
		t.Fatalf("bundle verify: exit %d\n%s", code, errs)
	}
	for _, want := range []string{"hello", "1.0.0", "release (key ", "bin/linux_amd64/plugin", "plugin.yaml", "web/index.html"} {
		if !strings.Contains(out, want) {
			t.Errorf("bundle verify output lacks %q:\n%s", want, out)
		}
	}

	// With an empty trust store the same bundle is refused, in one line.
	code, _, errs = portalctl(t, "bundle", "verify", "--trust", t.TempDir(), file)
	if code != 1 || !strings.HasPrefix(errs, "portalctl: bundle: signed by an untrusted key") || strings.Count(errs, "\n") != 1 {
		t.Errorf("verify with no trusted keys: exit %d, stderr %q", code, errs)
	}
}

func TestUsage(t *testing.T) {
	tests := []struct {
		name   string
		args   []string
		code   int
		stderr string
	}{
		{"no command", nil, 2, "commands:"},
		{"unknown command", []string{"frobnicate"}, 2, `unknown command "frobnicate"`},
		{"unknown verb", []string{"keys", "rotate"}, 2, `unknown command "keys rotate"`},
		{"group alone", []string{"bundle"}, 2, "bundle verify"},
		{"help", []string{"--help"}, 0, ""},
		{"command help", []string{"bundle", "build", "--help"}, 0, "usage: portalctl bundle build --plugin DIR"},
		{"missing flag", []string{"keys", "generate"}, 2, "portalctl: keys generate: --name is required"},
		{"unknown flag", []string{"keys", "generate", "--colour"}, 2, "flag provided but not defined: -colour"},
		{"missing argument", []string{"bundle", "verify", "--trust", "x"}, 2, "want 1 argument(s), got 0"},
		{"failure", []string{"bundle", "verify", "--trust", "x", "/nonexistent.tar.gz"}, 1, "portalctl: bundle: stat /nonexistent.tar.gz: no such file"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			code, _, errs := portalctl(t, tt.args...)
			if code != tt.code || !strings.Contains(errs, tt.stderr) {
				t.Errorf("exit %d, stderr:\n%s\nwant exit %d and %q", code, errs, tt.code, tt.stderr)
			}
		})
	}
}
