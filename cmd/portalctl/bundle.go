package main

import (
	"context"
	"flag"
	"fmt"
	"maps"
	"slices"
	"strings"
	"text/tabwriter"

	"github.com/shanghai-amr/portal/sdk/bundle"
)

// bundleCommands build and check signed plugin bundles (docs/bundles.md).
func bundleCommands() map[string]command {
	return map[string]command{
		"bundle build": {
			synopsis: "bundle build --plugin DIR --version V --key KEYFILE --out FILE [--platform linux/amd64,linux/arm64] [--web DIR]",
			summary:  "build and sign a plugin bundle",
			doc: "Compile the plugin in DIR for each platform, stamp version V into its binary and plugin.yaml, " +
				"sign the contents with KEYFILE and write the bundle to FILE.",
			run: bundleBuild,
		},
		"bundle verify": {
			synopsis: "bundle verify --trust DIR FILE",
			summary:  "check a bundle as a host would on install",
			doc: "Check FILE as a host would on install, trusting the *.pub keys in DIR, " +
				"and print what it contains; the exit status is 1 with the reason if the host would refuse it.",
			run: bundleVerify,
		},
	}
}

func bundleBuild(ctx context.Context, std streams, fs *flag.FlagSet, args []string) error {
	dir := fs.String("plugin", "", "the plugin's main package directory, holding plugin.yaml (required)")
	version := fs.String("version", "", "release version, semver (required)")
	keyFile := fs.String("key", "", "private key file from 'portalctl keys generate' (required)")
	out := fs.String("out", "", "bundle file to write (required)")
	web := fs.String("web", "", "static assets to pack under web/ (default: DIR/web if it exists)")
	platforms := fs.String("platform", bundle.RequiredPlatform, "comma-separated goos/goarch list; must include "+bundle.RequiredPlatform)
	if err := parse(fs, args, 0); err != nil {
		return err
	}
	if err := required([2]string{"plugin", *dir}, [2]string{"version", *version}, [2]string{"key", *keyFile}, [2]string{"out", *out}); err != nil {
		return err
	}
	key, err := bundle.LoadPrivateKey(*keyFile)
	if err != nil {
		return err
	}
	var ps []string
	for p := range strings.SplitSeq(*platforms, ",") {
		if p = strings.TrimSpace(p); p != "" {
			ps = append(ps, p)
		}
	}
	b, err := bundle.Build(ctx, bundle.BuildOptions{
		PluginDir: *dir,
		Version:   *version,
		Key:       key,
		Out:       *out,
		Platforms: ps,
		WebDir:    *web,
		Stderr:    std.err, // the compiler's messages, as they come
	})
	if err != nil {
		return err
	}
	w := tabwriter.NewWriter(std.out, 0, 0, 2, ' ', 0)
	fmt.Fprintf(w, "bundle\t%s\n", b.Path)
	fmt.Fprintf(w, "plugin\t%s %s\n", b.Plugin, b.Version)
	fmt.Fprintf(w, "digest\tsha256:%s\n", b.Digest)
	fmt.Fprintf(w, "key id\t%s\n", b.KeyID)
	return w.Flush()
}

func bundleVerify(_ context.Context, std streams, fs *flag.FlagSet, args []string) error {
	trust := fs.String("trust", "", "directory of trusted *.pub keys, as a host's <data-dir>/trust (required)")
	if err := parse(fs, args, 1); err != nil {
		return err
	}
	if err := required([2]string{"trust", *trust}); err != nil {
		return err
	}
	ring, err := bundle.LoadKeyRing(*trust)
	if err != nil {
		return err
	}
	v, err := bundle.Open(fs.Arg(0), ring, bundle.Limits{})
	if err != nil {
		return err
	}
	defer v.Close()
	w := tabwriter.NewWriter(std.out, 0, 0, 2, ' ', 0)
	fmt.Fprintf(w, "plugin\t%s\n", v.Plugin)
	fmt.Fprintf(w, "version\t%s\n", v.Version)
	fmt.Fprintf(w, "signer\t%s (key %s)\n", v.Signer, v.KeyID)
	fmt.Fprintf(w, "digest\tsha256:%s\n", v.Digest)
	fmt.Fprintf(w, "platforms\t%s\n", strings.Join(v.Platforms(), ", "))
	fmt.Fprintf(w, "files\t\n")
	for _, name := range slices.Sorted(maps.Keys(v.Files)) {
		fmt.Fprintf(w, "  %s\t%s\n", name, v.Files[name])
	}
	return w.Flush()
}
