// Package archtest checks the architecture's one hard boundary: plugins and the
// SDK build against sdk/ only, never host/; and the host never imports a plugin.
package archtest

import (
	"encoding/json"
	"io"
	"os/exec"
	"strings"
	"testing"
)

const module = "github.com/shanghai-amr/portal/"

type pkg struct {
	ImportPath string
	Deps       []string
}

func list(t *testing.T, patterns ...string) []pkg {
	t.Helper()
	cmd := exec.Command("go", append([]string{"list", "-e", "-deps=false", "-json=ImportPath,Deps"}, patterns...)...)
	cmd.Dir = "../.."
	out, err := cmd.Output()
	if err != nil {
		t.Fatalf("go list %v: %v", patterns, err)
	}
	var pkgs []pkg
	dec := json.NewDecoder(strings.NewReader(string(out)))
	for {
		var p pkg
		if err := dec.Decode(&p); err == io.EOF {
			break
		} else if err != nil {
			t.Fatal(err)
		}
		pkgs = append(pkgs, p)
	}
	return pkgs
}

func TestPluginsAndSDKNeverImportHost(t *testing.T) {
	for _, p := range list(t, "./sdk/...", "./plugins/...") {
		if !strings.HasPrefix(p.ImportPath, module) {
			continue // pattern matched nothing yet
		}
		for _, d := range p.Deps {
			if strings.HasPrefix(d, module+"host/") || strings.HasPrefix(d, module+"internal/") {
				t.Errorf("%s depends on %s: plugins and the SDK may import only sdk/", p.ImportPath, d)
			}
		}
	}
}

func TestHostNeverImportsPlugins(t *testing.T) {
	for _, p := range list(t, "./host/...", "./cmd/...") {
		for _, d := range p.Deps {
			if strings.HasPrefix(d, module+"plugins/") {
				t.Errorf("%s depends on %s: the host loads plugins as processes, never as packages", p.ImportPath, d)
			}
		}
	}
}
