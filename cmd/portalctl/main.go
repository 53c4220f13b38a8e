// Command portalctl is the portal's administration and packaging CLI.
//
//	portalctl keys generate --name NAME [--out DIR]
//	portalctl bundle build  --plugin DIR --version V --key KEYFILE --out FILE [--platform linux/amd64,linux/arm64]
//	portalctl bundle verify --trust DIR FILE
//	portalctl plugin list|install|upgrade|rollback|enable|disable|uninstall|logs …
//	portalctl doc verify [--ca CA.pem] FILE
//	portalctl dossier check [--ca CA.pem] FILE
//
// Every command takes --help. Exit status: 0 on success; 1 when the command
// failed, with one line "portalctl: …" on stderr naming the reason; 2 for a
// mistake in the command line, with a hint on stderr.
//
// Commands are entries in a table keyed by "group verb"; each file
// contributes one group through a function returning its entries (keys.go,
// bundle.go), and commands() merges them.
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"maps"
	"os"
	"os/signal"
	"slices"
	"strings"
	"syscall"
)

// command is one "portalctl group verb".
type command struct {
	// synopsis is the command line after "portalctl", as shown in usage.
	synopsis string
	// summary is a few words for the command list.
	summary string
	// doc is the paragraph --help shows under the synopsis.
	doc string
	// run executes the command: it defines its flags on fs (which prints
	// the synopsis and summary for --help), then parses args, the arguments
	// after "group verb", with parse.
	run func(ctx context.Context, std streams, fs *flag.FlagSet, args []string) error
}

// streams are the command's standard output and error; tests pass buffers.
type streams struct {
	out, err io.Writer
}

// commands is the dispatch table. A new group is a function in its own file
// returning its entries, added to this list.
func commands() map[string]command {
	all := map[string]command{}
	for _, group := range []map[string]command{
		keyCommands(),
		bundleCommands(),
		pluginCommands(),
		auditCommands(),
		docCommands(),
		dossierCommands(),
	} {
		maps.Copy(all, group)
	}
	return all
}

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	code := run(ctx, os.Args[1:], streams{out: os.Stdout, err: os.Stderr})
	stop()
	os.Exit(code)
}

// run dispatches args (without the program name) and returns the exit status.
func run(ctx context.Context, args []string, std streams) int {
	cmds := commands()
	if len(args) == 0 {
		fmt.Fprint(std.err, usage(cmds, ""))
		return 2
	}
	if isHelp(args[0]) {
		fmt.Fprint(std.out, usage(cmds, ""))
		return 0
	}
	name := args[0]
	if len(args) > 1 {
		name += " " + args[1]
	}
	cmd, ok := cmds[name]
	if !ok {
		if group := usage(cmds, args[0]); group != "" {
			// A known group without a known verb: list the group's verbs.
			if len(args) > 1 && isHelp(args[1]) {
				fmt.Fprint(std.out, group)
				return 0
			}
			if len(args) > 1 {
				fmt.Fprintf(std.err, "portalctl: unknown command %q\n\n", name)
			}
			fmt.Fprint(std.err, group)
			return 2
		}
		fmt.Fprintf(std.err, "portalctl: unknown command %q\n\n%s", args[0], usage(cmds, ""))
		return 2
	}
	fs := flag.NewFlagSet("portalctl "+name, flag.ContinueOnError)
	fs.SetOutput(std.err)
	fs.Usage = func() {
		fmt.Fprintf(fs.Output(), "usage: portalctl %s\n\n%s\n\nflags:\n", cmd.synopsis, cmd.doc)
		fs.PrintDefaults()
	}
	err := cmd.run(ctx, std, fs, args[2:])
	var ue usageError
	switch {
	case err == nil:
		return 0
	case errors.Is(err, flag.ErrHelp):
		return 0
	case errors.As(err, &ue):
		if ue.msg != "" {
			fmt.Fprintf(std.err, "portalctl: %s: %s\n", name, ue.msg)
		}
		fmt.Fprintf(std.err, "usage: portalctl %s\n(portalctl %s --help for details)\n", cmd.synopsis, name)
		return 2
	default:
		fmt.Fprintf(std.err, "portalctl: %s\n", oneLine(err.Error()))
		return 1
	}
}

func isHelp(s string) bool {
	return s == "help" || s == "-h" || s == "-help" || s == "--help"
}

// usage lists the commands, or only those of group; "" if group has none.
func usage(cmds map[string]command, group string) string {
	var b strings.Builder
	for _, name := range slices.Sorted(maps.Keys(cmds)) {
		if group != "" && !strings.HasPrefix(name, group+" ") {
			continue
		}
		fmt.Fprintf(&b, "  %-16s %s\n", name, cmds[name].summary)
	}
	if b.Len() == 0 {
		return ""
	}
	return "usage: portalctl <command> [flags]   (portalctl <command> --help for its flags)\n\ncommands:\n" + b.String()
}

// oneLine keeps error output to one line, as scripts and log collectors
// expect, whatever the underlying error carried.
func oneLine(s string) string {
	return strings.Join(strings.Fields(s), " ")
}

// usageError is a mistake in the command line: exit status 2. An empty msg
// means the flag package has already said what was wrong.
type usageError struct{ msg string }

func (e usageError) Error() string { return e.msg }

// parse parses args, turning the flag package's errors into usage errors;
// want is the number of positional arguments the command takes.
func parse(fs *flag.FlagSet, args []string, want int) error {
	if err := fs.Parse(args); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			return err
		}
		return usageError{}
	}
	if fs.NArg() != want {
		if want == 0 {
			return usageError{fmt.Sprintf("unexpected argument %q", fs.Arg(0))}
		}
		return usageError{fmt.Sprintf("want %d argument(s), got %d", want, fs.NArg())}
	}
	return nil
}

// required reports the first of the named flags left empty.
func required(flags ...[2]string) error {
	for _, f := range flags {
		if f[1] == "" {
			return usageError{"--" + f[0] + " is required"}
		}
	}
	return nil
}
