package main

import (
	"context"
	"flag"
	"fmt"
	"text/tabwriter"

	"github.com/shanghai-amr/portal/sdk/bundle"
)

// keyCommands manage the ed25519 keys that sign plugin bundles.
func keyCommands() map[string]command {
	return map[string]command{
		"keys generate": {
			synopsis: "keys generate --name NAME [--out DIR]",
			summary:  "create a key pair for signing bundles",
			doc: "Create a bundle signing key: DIR/NAME.key (private, mode 0600; keep it off hosts) and " +
				"DIR/NAME.pub (copy it to <data-dir>/trust/ on every host that should accept this signer).",
			run: keysGenerate,
		},
	}
}

func keysGenerate(_ context.Context, std streams, fs *flag.FlagSet, args []string) error {
	name := fs.String("name", "", "key name: letters, digits, '.', '_', '-' (required)")
	out := fs.String("out", ".", "directory to write the key files to")
	if err := parse(fs, args, 0); err != nil {
		return err
	}
	if err := required([2]string{"name", *name}); err != nil {
		return err
	}
	kp, err := bundle.GenerateKey(*name)
	if err != nil {
		return err
	}
	keyPath, pubPath, err := bundle.WriteKeyPair(*out, kp)
	if err != nil {
		return err
	}
	w := tabwriter.NewWriter(std.out, 0, 0, 2, ' ', 0)
	fmt.Fprintf(w, "key id\t%s\n", bundle.KeyID(kp.Public))
	fmt.Fprintf(w, "private key\t%s\n", keyPath)
	fmt.Fprintf(w, "public key\t%s\n", pubPath)
	return w.Flush()
}
