// Command portal is the host of the market-regulation portal.
//
//	portal serve    [flags]            run the portal
//	portal migrate  [--dry-run] [flags] apply (or print) pending host schema migrations
//	portal reseal   [flags]            re-seal personal data under the current key
//	portal version
//
// Every flag is also an environment variable (PORTAL_ plus the name in upper
// case with _ for -) and a key of the optional YAML file named by --config.
// Flags win over the environment, which wins over the file.
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"net"
	"os"
	"os/signal"
	"syscall"
	"time"

	"github.com/shanghai-amr/portal/host/app"
	"github.com/shanghai-amr/portal/host/config"
	"github.com/shanghai-amr/portal/host/demo"
	"github.com/shanghai-amr/portal/host/identity"
	"github.com/shanghai-amr/portal/host/store"
)

const usage = `usage: portal <command> [flags]

commands:
  serve     run the portal (portal serve --help for flags)
  migrate   apply pending host schema migrations (--dry-run prints them)
  reseal    re-seal personal data under the first key of PORTAL_PII_KEYS (after a key rotation)
  version   print the version
`

func main() {
	if len(os.Args) < 2 {
		fmt.Fprint(os.Stderr, usage)
		os.Exit(2)
	}
	cmd, args := os.Args[1], os.Args[2:]
	var err error
	switch cmd {
	case "serve":
		err = serve(args)
	case "migrate":
		err = migrate(args)
	case "reseal":
		err = reseal(args)
	case "version", "--version":
		fmt.Println("portal", app.Version)
	case "help", "-h", "--help":
		fmt.Print(usage)
	default:
		fmt.Fprintf(os.Stderr, "portal: unknown command %q\n\n%s", cmd, usage)
		os.Exit(2)
	}
	if errors.Is(err, flag.ErrHelp) {
		os.Exit(0)
	}
	if err != nil {
		app.Fatal("portal "+cmd, err)
	}
}

func serve(args []string) error {
	cfg, err := config.Load("portal serve", args, os.Getenv, nil)
	if err != nil {
		return err
	}
	log := app.NewLogger(cfg, os.Stdout)
	ctx, stop := signal.NotifyContext(context.Background(), syscall.SIGTERM, syscall.SIGINT)
	defer stop()
	startCtx, cancel := context.WithTimeout(ctx, 8*time.Second)
	a, err := app.New(startCtx, cfg, log)
	cancel()
	if err != nil {
		return err
	}
	log.Info("portal listening", "url", "http://"+cfg.Addr, "version", app.Version, "database", a.Store.DSN.String())
	// People read stderr; log collectors read stdout.
	fmt.Fprintf(os.Stderr, "\n  Portal %s is running at http://%s\n  database: %s\n", app.Version, cfg.Addr, a.Store.DSN)
	if a.AdminPassword != "" {
		fmt.Fprintf(os.Stderr, "  administrator login: admin / %s   (generated now and shown once; set PORTAL_ADMIN_PASSWORD to choose it)\n", a.AdminPassword)
	}
	if len(a.DemoLogins) > 0 {
		fmt.Fprintf(os.Stderr, "  demo logins (password %s):\n", identity.DemoPassword)
		for _, d := range a.DemoLogins {
			fmt.Fprintf(os.Stderr, "    %-11s %s\n", d.Username, d.Who)
		}
	}
	if cfg.DevIDP {
		fmt.Fprintf(os.Stderr, "  enterprise sign-in (development provider): %s/api/v1/auth/oidc/yiwangtongban/login\n", cfg.BaseURL())
		fmt.Fprintf(os.Stderr, "  public sign-in (development provider):     %s/api/v1/auth/oidc/suishenban/login\n", cfg.BaseURL())
	}
	if a.AdminTokenCreated {
		fmt.Fprintf(os.Stderr, "  administrator token (for portalctl and the admin API) written to %s\n", identity.TokenFile(cfg.DataDir))
	}
	fmt.Fprintf(os.Stderr, "  stop with Ctrl-C\n\n")
	if cfg.Demo && cfg.DemoActivity {
		go func() {
			s, err := demo.Activity(ctx, loopback(cfg.Addr))
			if err != nil {
				log.Warn("demo activity failed", "err", err.Error())
				return
			}
			log.Info("demo activity", "summary", s.String())
			if !s.Skipped {
				fmt.Fprintf(os.Stderr, "  demo activity: %s\n\n", s)
			}
		}()
	}
	return a.Run(ctx)
}

// loopback is the portal's own URL for a listen address, through the
// loopback interface when it listens on all of them.
func loopback(addr string) string {
	host, port, err := net.SplitHostPort(addr)
	if err != nil {
		return "http://" + addr
	}
	if ip := net.ParseIP(host); host == "" || (ip != nil && ip.IsUnspecified()) {
		host = "127.0.0.1"
	}
	return "http://" + net.JoinHostPort(host, port)
}

func migrate(args []string) error {
	var dryRun bool
	cfg, err := config.Load("portal migrate", args, os.Getenv, func(fs *flag.FlagSet) {
		fs.BoolVar(&dryRun, "dry-run", false, "print the pending migrations' SQL and change nothing")
	})
	if err != nil {
		return err
	}
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Minute)
	defer cancel()
	st, err := app.OpenStore(ctx, cfg)
	if err != nil {
		return err
	}
	defer st.Close()
	pending, err := st.Pending(ctx)
	if err != nil {
		return err
	}
	if len(pending) == 0 {
		fmt.Printf("%s is up to date\n", st.DSN)
		return nil
	}
	if dryRun {
		fmt.Printf("-- %d pending migration(s) for %s\n%s", len(pending), st.DSN, store.SQL(pending))
		return nil
	}
	applied, err := st.Migrate(ctx)
	for _, m := range applied {
		fmt.Printf("applied %s %s\n", m.Version, m.Description)
	}
	return err
}

func reseal(args []string) error {
	cfg, err := config.Load("portal reseal", args, os.Getenv, nil)
	if err != nil {
		return err
	}
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Minute)
	defer cancel()
	st, err := app.OpenStore(ctx, cfg)
	if err != nil {
		return err
	}
	defer st.Close()
	sealer, err := app.LoadPIIKeys(cfg.DataDir, app.NewLogger(cfg, os.Stderr))
	if err != nil {
		return err
	}
	n, err := identity.ResealPersonalData(ctx, st.Client, sealer)
	fmt.Printf("re-sealed %d value(s)\n", n)
	return err
}
