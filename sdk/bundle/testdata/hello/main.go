// Command hello is the smallest main package Build can bundle: it prints its
// embedded manifest. It is not a real plugin and does not import the SDK, so
// the bundle tests do not depend on the plugin runtime.
package main

import (
	_ "embed"
	"os"
)

//go:embed plugin.yaml
var manifest []byte

func main() {
	os.Stdout.Write(manifest)
}
