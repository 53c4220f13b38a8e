package bundle

import (
	"archive/tar"
	"bytes"
	"compress/gzip"
	"crypto/ed25519"
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"errors"
	"io/fs"
	"maps"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"testing"
)

// The tests below craft archives by hand, the way an attacker would, and sign
// them with a freshly generated key, so that each refusal is caused by the
// one thing the test changes.

const helloManifest = `id: hello
version: 1.0.0
name: {zh-CN: 你好}
host: ">=0.1.0-0"
protocol: 1
`

// tarEntry is one crafted archive member. Size is set from Body for regular
// files.
type tarEntry struct {
	tar.Header
	Body []byte
}

func file(name string, body string) tarEntry {
	return tarEntry{Header: tar.Header{Typeflag: tar.TypeReg, Name: name, Mode: 0o644}, Body: []byte(body)}
}

// validFiles is the content of a small, correct bundle.
func validFiles() map[string]string {
	return map[string]string{
		"plugin.yaml":            helloManifest,
		"bin/linux_amd64/plugin": "\x7fELF pretend binary",
		"web/index.html":         "<!doctype html><title>你好</title>",
	}
}

func testKey(t *testing.T) (KeyPair, *KeyRing) {
	t.Helper()
	kp, err := GenerateKey("release")
	if err != nil {
		t.Fatal(err)
	}
	ring := NewKeyRing()
	ring.Add(kp.Name, kp.Public)
	return kp, ring
}

func sha(s string) string {
	h := sha256.Sum256([]byte(s))
	return hex.EncodeToString(h[:])
}

// statement lists files as Build would.
func statement(t *testing.T, plugin, version string, files map[string]string) []byte {
	t.Helper()
	st := Statement{Format: Format, Plugin: plugin, Version: version, Files: map[string]string{}}
	for name, body := range files {
		st.Files[name] = sha(body)
	}
	b, err := json.Marshal(st)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

func signature(key ed25519.PrivateKey, stmt []byte) []byte {
	b, _ := json.Marshal(Signature{
		Alg:   SignatureAlg,
		KeyID: KeyID(key.Public().(ed25519.PublicKey)),
		Sig:   base64.StdEncoding.EncodeToString(ed25519.Sign(key, stmt)),
	})
	return b
}

// signedEntries is a correct bundle's members: files listed and signed.
func signedEntries(t *testing.T, key ed25519.PrivateKey, files map[string]string) []tarEntry {
	t.Helper()
	stmt := statement(t, "hello", "1.0.0", files)
	es := []tarEntry{file(StatementFile, string(stmt)), file(SignatureFile, string(signature(key, stmt)))}
	for _, name := range slices.Sorted(maps.Keys(files)) {
		es = append(es, file(name, files[name]))
	}
	return es
}

// craft writes entries as a .tar.gz, followed by trailer bytes inside the
// gzip stream after the end of the tar archive.
func craft(t *testing.T, entries []tarEntry, trailer ...[]byte) string {
	t.Helper()
	var buf bytes.Buffer
	gz := gzip.NewWriter(&buf)
	tw := tar.NewWriter(gz)
	for _, e := range entries {
		h := e.Header
		if h.Typeflag == tar.TypeReg {
			h.Size = int64(len(e.Body))
		}
		if err := tw.WriteHeader(&h); err != nil {
			t.Fatalf("crafting %q: %v", h.Name, err)
		}
		if len(e.Body) > 0 {
			if _, err := tw.Write(e.Body); err != nil {
				t.Fatal(err)
			}
		}
	}
	if err := tw.Close(); err != nil {
		t.Fatal(err)
	}
	for _, b := range trailer {
		gz.Write(b)
	}
	if err := gz.Close(); err != nil {
		t.Fatal(err)
	}
	return writeTemp(t, buf.Bytes())
}

func writeTemp(t *testing.T, data []byte) string {
	t.Helper()
	p := filepath.Join(t.TempDir(), "bundle.tar.gz")
	if err := os.WriteFile(p, data, 0o644); err != nil {
		t.Fatal(err)
	}
	return p
}

// refused opens path, expects a refusal wrapping want whose message contains
// mention, and checks that nothing was left in the temporary directory.
func refused(t *testing.T, path string, ring *KeyRing, lim Limits, want error, mention string) {
	t.Helper()
	tmp := t.TempDir()
	t.Setenv("TMPDIR", tmp)
	v, err := Open(path, ring, lim)
	if err == nil {
		v.Close()
		t.Fatalf("Open accepted the bundle; want %v", want)
	}
	if !errors.Is(err, want) {
		t.Fatalf("Open: %v\nwant an error wrapping %v", err, want)
	}
	if !strings.Contains(err.Error(), mention) {
		t.Errorf("Open: %v\nwant the message to mention %q", err, mention)
	}
	if left, _ := os.ReadDir(tmp); len(left) > 0 {
		t.Errorf("refused bundle left %d entries in the temporary directory", len(left))
	}
}

func TestOpenAcceptsSignedBundle(t *testing.T) {
	kp, ring := testKey(t)
	files := validFiles()
	p := craft(t, append([]tarEntry{{Header: tar.Header{Typeflag: tar.TypeDir, Name: "web/", Mode: 0o755}}},
		signedEntries(t, kp.Private, files)...))
	v, err := Open(p, ring, Limits{})
	if err != nil {
		t.Fatalf("Open: %v", err)
	}
	defer v.Close()
	if v.Plugin != "hello" || v.Version != "1.0.0" || v.Manifest.ID != "hello" || v.Signer != "release" || v.KeyID != KeyID(kp.Public) {
		t.Errorf("Verified = %+v", v)
	}
	if string(v.ManifestRaw) != helloManifest {
		t.Errorf("ManifestRaw = %q", v.ManifestRaw)
	}
	data, _ := os.ReadFile(p)
	if sum := sha256.Sum256(data); v.Digest != hex.EncodeToString(sum[:]) {
		t.Errorf("Digest = %s, want the file's SHA-256", v.Digest)
	}
	bin, sum, err := v.Binary("linux", "amd64")
	if err != nil {
		t.Fatal(err)
	}
	if hex.EncodeToString(sum) != sha(files["bin/linux_amd64/plugin"]) {
		t.Errorf("Binary hash = %x", sum)
	}
	if fi, err := os.Stat(bin); err != nil || fi.Mode().Perm() != 0o755 {
		t.Errorf("binary %s: %v, mode %v", bin, err, fi.Mode())
	}
	if got, _ := os.ReadFile(filepath.Join(v.Dir, "web", "index.html")); string(got) != files["web/index.html"] {
		t.Errorf("web/index.html = %q", got)
	}
	if _, _, err := v.Binary("linux", "arm64"); !errors.Is(err, ErrNoPlatform) {
		t.Errorf("Binary(linux, arm64) = %v, want ErrNoPlatform", err)
	}
	dir := v.Dir
	if err := v.Close(); err != nil {
		t.Fatal(err)
	}
	if _, err := os.Stat(dir); !errors.Is(err, os.ErrNotExist) {
		t.Errorf("Close left %s", dir)
	}
}

func TestOpenRefusesUnsigned(t *testing.T) {
	kp, ring := testKey(t)
	es := signedEntries(t, kp.Private, validFiles())
	t.Run("no signature", func(t *testing.T) {
		refused(t, craft(t, slices.Delete(slices.Clone(es), 1, 2)), ring, Limits{}, ErrUnsigned, SignatureFile)
	})
	t.Run("no statement", func(t *testing.T) {
		refused(t, craft(t, slices.Delete(slices.Clone(es), 0, 1)), ring, Limits{}, ErrUnsigned, StatementFile)
	})
}

func TestOpenRefusesUnknownKey(t *testing.T) {
	kp, _ := testKey(t)
	_, otherRing := testKey(t)
	p := craft(t, signedEntries(t, kp.Private, validFiles()))
	refused(t, p, otherRing, Limits{}, ErrUnknownKey, KeyID(kp.Public))
	refused(t, p, nil, Limits{}, ErrUnknownKey, KeyID(kp.Public))
}

func TestOpenRefusesBadSignature(t *testing.T) {
	kp, ring := testKey(t)
	files := validFiles()
	stmt := statement(t, "hello", "1.0.0", files)
	body := func(stmt, sig []byte) []tarEntry {
		es := []tarEntry{file(StatementFile, string(stmt)), file(SignatureFile, string(sig))}
		for name, b := range files {
			es = append(es, file(name, b))
		}
		return es
	}
	t.Run("statement changed after signing", func(t *testing.T) {
		changed := bytes.Replace(stmt, []byte(`"1.0.0"`), []byte(`"1.0.1"`), 1)
		refused(t, craft(t, body(changed, signature(kp.Private, stmt))), ring, Limits{}, ErrBadSignature, SignatureFile)
	})
	t.Run("signed by another key claiming a trusted id", func(t *testing.T) {
		other, _ := testKey(t)
		var sig Signature
		json.Unmarshal(signature(other.Private, stmt), &sig)
		sig.KeyID = KeyID(kp.Public)
		forged, _ := json.Marshal(sig)
		refused(t, craft(t, body(stmt, forged)), ring, Limits{}, ErrBadSignature, KeyID(kp.Public))
	})
	t.Run("unsupported algorithm", func(t *testing.T) {
		var sig Signature
		json.Unmarshal(signature(kp.Private, stmt), &sig)
		sig.Alg = "sm2"
		other, _ := json.Marshal(sig)
		refused(t, craft(t, body(stmt, other)), ring, Limits{}, ErrBadSignature, `"sm2"`)
	})
	t.Run("signature not base64", func(t *testing.T) {
		garbled, _ := json.Marshal(Signature{Alg: SignatureAlg, KeyID: KeyID(kp.Public), Sig: "!!"})
		refused(t, craft(t, body(stmt, garbled)), ring, Limits{}, ErrBadSignature, SignatureFile)
	})
}

func TestOpenRefusesTampered(t *testing.T) {
	kp, ring := testKey(t)
	files := validFiles()
	signed := signedEntries(t, kp.Private, files)
	replace := func(name, body string) []tarEntry {
		es := slices.Clone(signed)
		for i := range es {
			if es[i].Name == name {
				es[i] = file(name, body)
			}
		}
		return es
	}
	without := func(name string) []tarEntry {
		return slices.DeleteFunc(slices.Clone(signed), func(e tarEntry) bool { return e.Name == name })
	}
	tests := []struct {
		name    string
		entries []tarEntry
		mention string
	}{
		{"binary replaced", replace("bin/linux_amd64/plugin", "\x7fELF evil"), "bin/linux_amd64/plugin"},
		{"web asset changed", replace("web/index.html", "<script>steal()</script>"), "web/index.html"},
		{"listed file missing", without("web/index.html"), "web/index.html"},
		{"unlisted file added", append(slices.Clone(signed), file("web/extra.js", "steal()")), "web/extra.js"},
		{"entry twice", append(slices.Clone(signed), file("bin/linux_amd64/plugin", "\x7fELF evil")), "bin/linux_amd64/plugin"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			refused(t, craft(t, tt.entries), ring, Limits{}, ErrTampered, tt.mention)
		})
	}
}

func TestOpenRefusesTarSlip(t *testing.T) {
	kp, ring := testKey(t)
	signed := signedEntries(t, kp.Private, validFiles())
	for _, name := range []string{
		"../../../tmp/evil",
		"web/../../evil",
		"/etc/cron.d/evil",
		`web\..\..\evil`,
		"C:/evil",
		"./plugin.yaml",
		"web//index.html",
		"web/./index.html",
		"..",
	} {
		t.Run(name, func(t *testing.T) {
			// First, so the refusal happens before anything else is read.
			es := append([]tarEntry{file(name, "x")}, signed...)
			refused(t, craft(t, es), ring, Limits{}, ErrUnsafePath, strconv.Quote(name))
		})
	}
	t.Run("directory ../", func(t *testing.T) {
		es := append([]tarEntry{{Header: tar.Header{Typeflag: tar.TypeDir, Name: "../", Mode: 0o755}}}, signed...)
		refused(t, craft(t, es), ring, Limits{}, ErrUnsafePath, "../")
	})
}

func TestOpenRefusesSymlink(t *testing.T) {
	kp, ring := testKey(t)
	es := append([]tarEntry{{Header: tar.Header{Typeflag: tar.TypeSymlink, Name: "web/passwd", Linkname: "/etc/passwd"}}},
		signedEntries(t, kp.Private, validFiles())...)
	refused(t, craft(t, es), ring, Limits{}, ErrLinkEntry, "web/passwd")
}

func TestOpenRefusesLinksAndSpecialFiles(t *testing.T) {
	kp, ring := testKey(t)
	signed := signedEntries(t, kp.Private, validFiles())
	for _, h := range []tar.Header{
		{Typeflag: tar.TypeSymlink, Name: "web/app.js", Linkname: "../../../../etc/shadow"},
		{Typeflag: tar.TypeLink, Name: "web/app.js", Linkname: "plugin.yaml"},
		{Typeflag: tar.TypeChar, Name: "web/tty", Devmajor: 5, Devminor: 0},
		{Typeflag: tar.TypeBlock, Name: "web/sda", Devmajor: 8},
		{Typeflag: tar.TypeFifo, Name: "web/pipe"},
	} {
		t.Run(typeName(h.Typeflag), func(t *testing.T) {
			es := append([]tarEntry{{Header: h}}, signed...)
			refused(t, craft(t, es), ring, Limits{}, ErrLinkEntry, h.Name)
		})
	}
}

func TestOpenRefusesTooLarge(t *testing.T) {
	kp, ring := testKey(t)
	files := validFiles()
	files["web/big.bin"] = strings.Repeat("x", 4096)
	signed := signedEntries(t, kp.Private, files)
	t.Run("entry over MaxEntry", func(t *testing.T) {
		refused(t, craft(t, signed), ring, Limits{MaxEntry: 4095}, ErrTooLarge, "web/big.bin")
	})
	t.Run("total over MaxTotal", func(t *testing.T) {
		// Every entry fits alone; together they do not.
		refused(t, craft(t, signed), ring, Limits{MaxTotal: 4200}, ErrTooLarge, "web/big.bin")
	})
	t.Run("too many entries", func(t *testing.T) {
		refused(t, craft(t, signed), ring, Limits{MaxEntries: 4}, ErrTooLarge, "4 entries")
	})
	t.Run("decompression bomb after the archive", func(t *testing.T) {
		// 8 MiB of zeros compress to a few kilobytes; the limit is on what
		// is read after decompression, not on the file's size.
		small := signedEntries(t, kp.Private, validFiles())
		p := craft(t, small, make([]byte, 8<<20))
		if fi, _ := os.Stat(p); fi.Size() > 64<<10 {
			t.Fatalf("bomb is %d bytes; the test wants a small file", fi.Size())
		}
		refused(t, p, ring, Limits{MaxTotal: 1 << 10, MaxEntries: 10}, ErrTooLarge, "decompressed")
	})
}

func TestOpenRefusesManifestMismatch(t *testing.T) {
	kp, ring := testKey(t)
	for _, tt := range []struct{ name, manifest, mention string }{
		{"other version", strings.Replace(helloManifest, "1.0.0", "1.0.1", 1), "1.0.1"},
		{"other plugin", strings.Replace(helloManifest, "id: hello", "id: enforcement", 1), `"enforcement"`},
	} {
		t.Run(tt.name, func(t *testing.T) {
			files := validFiles()
			files["plugin.yaml"] = tt.manifest
			// Signed as hello 1.0.0, whatever plugin.yaml says.
			refused(t, craft(t, signedEntries(t, kp.Private, files)), ring, Limits{}, ErrManifestMismatch, tt.mention)
		})
	}
}

func TestOpenRefusesMalformed(t *testing.T) {
	kp, ring := testKey(t)
	signedWith := func(files map[string]string) string { return craft(t, signedEntries(t, kp.Private, files)) }
	badStatement := func() string {
		stmt := []byte(`{"format":1,"plugin":"hello",`)
		es := []tarEntry{file(StatementFile, string(stmt)), file(SignatureFile, string(signature(kp.Private, stmt)))}
		for name, b := range validFiles() {
			es = append(es, file(name, b))
		}
		return craft(t, es)
	}
	var plainTar bytes.Buffer
	tw := tar.NewWriter(&plainTar)
	tw.WriteHeader(&tar.Header{Typeflag: tar.TypeReg, Name: "plugin.yaml", Size: 1, Mode: 0o644})
	tw.Write([]byte("x"))
	tw.Close()
	var gzNotTar bytes.Buffer
	gz := gzip.NewWriter(&gzNotTar)
	gz.Write(bytes.Repeat([]byte("not a tar header "), 64))
	gz.Close()

	tests := []struct {
		name    string
		path    string
		mention string
	}{
		{"not gzip", writeTemp(t, plainTar.Bytes()), "gzip"},
		{"gzip but not tar", writeTemp(t, gzNotTar.Bytes()), "tar"},
		{"truncated", writeTemp(t, func() []byte { b, _ := os.ReadFile(signedWith(validFiles())); return b[:len(b)/2] }()), "bundle"},
		{"statement not JSON", badStatement(), StatementFile},
		{"manifest invalid", signedWith(func() map[string]string {
			f := validFiles()
			f["plugin.yaml"] = helloManifest + "routes: [{method: GET, path: /x, audience: [staff]}]\n"
			return f
		}()), "routes[0].permission"},
		{"no plugin.yaml", signedWith(func() map[string]string { f := validFiles(); delete(f, "plugin.yaml"); return f }()), "plugin.yaml"},
		{"no linux/amd64 binary", signedWith(func() map[string]string {
			f := validFiles()
			f["bin/linux_arm64/plugin"] = f["bin/linux_amd64/plugin"]
			delete(f, "bin/linux_amd64/plugin")
			return f
		}()), "bin/linux_amd64/plugin"},
		{"unexpected entry", signedWith(func() map[string]string { f := validFiles(); f["README.md"] = "hi"; return f }()), "README.md"},
		{"binary with another name", signedWith(func() map[string]string { f := validFiles(); f["bin/linux_amd64/tool"] = "x"; return f }()), "bin/linux_amd64/tool"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			refused(t, tt.path, ring, Limits{}, ErrMalformed, tt.mention)
		})
	}
}

func TestKeyPairRoundTripsThroughFiles(t *testing.T) {
	dir := t.TempDir()
	kp, err := GenerateKey("release-2025")
	if err != nil {
		t.Fatal(err)
	}
	keyPath, pubPath, err := WriteKeyPair(dir, kp)
	if err != nil {
		t.Fatal(err)
	}
	if keyPath != filepath.Join(dir, "release-2025.key") || pubPath != filepath.Join(dir, "release-2025.pub") {
		t.Errorf("paths = %s, %s", keyPath, pubPath)
	}
	for p, mode := range map[string]os.FileMode{keyPath: 0o600, pubPath: 0o644} {
		if fi, err := os.Stat(p); err != nil || fi.Mode().Perm() != mode {
			t.Errorf("%s: %v, mode %v, want %v", p, err, fi.Mode().Perm(), mode)
		}
	}
	priv, err := LoadPrivateKey(keyPath)
	if err != nil || !priv.Equal(kp.Private) {
		t.Errorf("LoadPrivateKey = %v", err)
	}
	pub, err := LoadPublicKey(pubPath)
	if err != nil || !pub.Equal(kp.Public) {
		t.Errorf("LoadPublicKey = %v", err)
	}
	if id := KeyID(pub); len(id) != 32 {
		t.Errorf("KeyID = %q, want 32 hex digits", id)
	}
	if _, _, err := WriteKeyPair(dir, kp); !errors.Is(err, fs.ErrExist) {
		t.Errorf("WriteKeyPair over an existing key = %v, want fs.ErrExist", err)
	}
	if _, err := LoadPublicKey(keyPath); !errors.Is(err, ErrBadKey) {
		t.Errorf("LoadPublicKey(private key file) = %v, want ErrBadKey", err)
	}
	if _, err := LoadPrivateKey(pubPath); !errors.Is(err, ErrBadKey) {
		t.Errorf("LoadPrivateKey(public key file) = %v, want ErrBadKey", err)
	}
	if _, err := GenerateKey("../evil"); !errors.Is(err, ErrBadKey) {
		t.Errorf("GenerateKey(../evil) = %v, want ErrBadKey", err)
	}
}

func TestLoadKeyRing(t *testing.T) {
	t.Run("missing directory trusts nothing", func(t *testing.T) {
		r, err := LoadKeyRing(filepath.Join(t.TempDir(), "trust"))
		if err != nil || r.Len() != 0 {
			t.Fatalf("LoadKeyRing = %v, %v", r, err)
		}
	})
	t.Run("reads every .pub", func(t *testing.T) {
		dir := t.TempDir()
		var ids []string
		for _, name := range []string{"a", "b"} {
			kp, _ := GenerateKey(name)
			if _, _, err := WriteKeyPair(dir, kp); err != nil {
				t.Fatal(err)
			}
			ids = append(ids, KeyID(kp.Public))
		}
		os.WriteFile(filepath.Join(dir, "README"), []byte("not a key"), 0o644)
		r, err := LoadKeyRing(dir)
		if err != nil {
			t.Fatal(err)
		}
		slices.Sort(ids)
		if !slices.Equal(r.IDs(), ids) {
			t.Errorf("IDs = %v, want %v", r.IDs(), ids)
		}
		if _, name, ok := r.Lookup(KeyID(mustLoad(t, filepath.Join(dir, "b.pub")))); !ok || name != "b" {
			t.Errorf("Lookup b = %q, %v", name, ok)
		}
	})
	t.Run("a malformed key is an error", func(t *testing.T) {
		dir := t.TempDir()
		os.WriteFile(filepath.Join(dir, "broken.pub"), []byte("-----BEGIN PUBLIC KEY-----\nAAAA\n-----END PUBLIC KEY-----\n"), 0o644)
		if _, err := LoadKeyRing(dir); !errors.Is(err, ErrBadKey) {
			t.Errorf("LoadKeyRing = %v, want ErrBadKey", err)
		}
	})
}

func mustLoad(t *testing.T, p string) ed25519.PublicKey {
	t.Helper()
	pub, err := LoadPublicKey(p)
	if err != nil {
		t.Fatal(err)
	}
	return pub
}
