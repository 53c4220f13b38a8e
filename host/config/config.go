// Package config reads the host's settings from, in rising precedence, built-in
// defaults, an optional YAML file, PORTAL_* environment variables and command
// line flags. One flag set is the single table of settings: a flag --db-dsn is
// also the environment variable PORTAL_DB_DSN and the YAML key db_dsn.
package config

import (
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"time"

	"gopkg.in/yaml.v3"
)

// Config is the host's configuration.
type Config struct {
	// Addr is the HTTP listen address.
	Addr string
	// DataDir holds the SQLite database, plugin bundles, plugin databases and files.
	DataDir string
	// DBDSN is the host database: sqlite://path or mysql://user:pass@tcp(host:port)/db.
	// Empty means sqlite://<DataDir>/portal.db.
	DBDSN string
	// AutoMigrate applies pending schema migrations at start. Operators who
	// review migrations first turn it off and run `portal migrate`.
	AutoMigrate bool
	// Demo creates demonstration data at start if the database is empty.
	Demo bool
	// DemoActivity, with Demo, has the demo users start some work once the
	// portal serves (host/demo), unless they already have.
	DemoActivity bool
	// Bundles is a folder of plugin bundles installed at start when their
	// plugin is not installed yet.
	Bundles string
	// LogLevel is debug, info, warn or error; LogFormat is json or text.
	LogLevel, LogFormat string
	// BodyLimit caps API request bodies, in bytes.
	BodyLimit int64
	// AuditRetention is how long audit entries are kept (at least 180 days is
	// the 等保三级 floor); older ones are purged daily behind a checkpoint.
	AuditRetention time.Duration
	// RequestTimeout bounds each request; ShutdownTimeout bounds graceful shutdown.
	RequestTimeout, ShutdownTimeout time.Duration
	// Login lockout and session lifetimes (see identity.Options).
	LoginMaxFailures                       int
	LoginWindow, LoginLockout              time.Duration
	SessionIdleTimeout, SessionAbsoluteTTL time.Duration
	// PublicURL is how browsers reach the portal (OIDC redirects); default
	// http://<addr>.
	PublicURL string
	// DevIDP enables the built-in development identity provider for enterprise
	// and public sign-in. Anyone can sign in as anyone: never in production.
	DevIDP bool
	// OIDC providers for enterprises (一网通办) and the public (随申办).
	EnterpriseIssuer, EnterpriseClientID, EnterpriseClientSecret string
	PublicIssuer, PublicClientID, PublicClientSecret             string
	// NATSURL selects NATS JetStream for event delivery (empty: in-process,
	// through the database outbox); NATSStream names its stream.
	NATSURL, NATSStream string
	// ConfigFile is the YAML file read, if any.
	ConfigFile string
}

// BaseURL is PublicURL, or http://<addr>.
func (c Config) BaseURL() string {
	if c.PublicURL != "" {
		return strings.TrimRight(c.PublicURL, "/")
	}
	return "http://" + c.Addr
}

// DSN is the effective database DSN.
func (c Config) DSN() string {
	if c.DBDSN != "" {
		return c.DBDSN
	}
	return "sqlite://" + filepath.Join(c.DataDir, "portal.db")
}

// FlagSet binds every setting to a flag on fs, with its default.
func (c *Config) FlagSet(fs *flag.FlagSet) {
	fs.StringVar(&c.Addr, "addr", "127.0.0.1:8080", "HTTP listen address")
	fs.StringVar(&c.DataDir, "data-dir", "./var", "folder for the SQLite database, plugin bundles and files")
	fs.StringVar(&c.DBDSN, "db-dsn", "", "host database: sqlite://PATH or mysql://user:pass@tcp(host:port)/db (default sqlite://DATA-DIR/portal.db)")
	fs.BoolVar(&c.AutoMigrate, "auto-migrate", true, "apply pending schema migrations at start")
	fs.BoolVar(&c.Demo, "demo", false, "create demonstration data when the database is empty")
	fs.BoolVar(&c.DemoActivity, "demo-activity", true, "with --demo: have the demo users start approvals, penalty cases and (with --dev-idp) a registration filing, unless they already have")
	fs.StringVar(&c.Bundles, "bundles", "", "folder of plugin bundles (*.tar.gz) to install at start if not installed")
	fs.StringVar(&c.LogLevel, "log-level", "info", "debug, info, warn or error")
	fs.StringVar(&c.LogFormat, "log-format", "json", "json or text")
	fs.Int64Var(&c.BodyLimit, "body-limit", 1<<20, "maximum API request body in bytes")
	fs.DurationVar(&c.AuditRetention, "audit-retention", 180*24*time.Hour, "how long audit entries are kept (at least 4320h)")
	fs.DurationVar(&c.RequestTimeout, "request-timeout", 30*time.Second, "deadline of each request")
	fs.DurationVar(&c.ShutdownTimeout, "shutdown-timeout", 30*time.Second, "how long shutdown waits for in-flight requests")
	fs.IntVar(&c.LoginMaxFailures, "login-max-failures", 5, "failed sign-ins within --login-window that lock a username")
	fs.DurationVar(&c.LoginWindow, "login-window", 15*time.Minute, "window in which failed sign-ins are counted")
	fs.DurationVar(&c.LoginLockout, "login-lockout", 15*time.Minute, "how long a locked username stays locked")
	fs.DurationVar(&c.SessionIdleTimeout, "session-idle-timeout", 30*time.Minute, "a session unused this long ends")
	fs.DurationVar(&c.SessionAbsoluteTTL, "session-absolute-timeout", 12*time.Hour, "any session ends this long after sign-in")
	fs.StringVar(&c.PublicURL, "public-url", "", "URL browsers reach the portal at, for sign-in redirects (default http://ADDR)")
	fs.BoolVar(&c.DevIDP, "dev-idp", false, "enable the development identity provider for enterprise and public sign-in (testing only)")
	fs.StringVar(&c.EnterpriseIssuer, "oidc-enterprise-issuer", "", "OIDC issuer URL of the enterprise identity provider (一网通办)")
	fs.StringVar(&c.EnterpriseClientID, "oidc-enterprise-client-id", "", "client id at the enterprise identity provider")
	fs.StringVar(&c.EnterpriseClientSecret, "oidc-enterprise-client-secret", "", "client secret (set PORTAL_OIDC_ENTERPRISE_CLIENT_SECRET rather than the flag)")
	fs.StringVar(&c.PublicIssuer, "oidc-public-issuer", "", "OIDC issuer URL of the public identity provider (随申办)")
	fs.StringVar(&c.PublicClientID, "oidc-public-client-id", "", "client id at the public identity provider")
	fs.StringVar(&c.PublicClientSecret, "oidc-public-client-secret", "", "client secret (set PORTAL_OIDC_PUBLIC_CLIENT_SECRET rather than the flag)")
	fs.StringVar(&c.NATSURL, "nats-url", "", "NATS server with JetStream for event delivery, e.g. nats://127.0.0.1:4222 (default: in-process)")
	fs.StringVar(&c.NATSStream, "nats-stream", "PORTAL_EVENTS", "JetStream stream for events")
	fs.StringVar(&c.ConfigFile, "config", "", "optional YAML configuration file (keys are flag names with _ for -)")
}

// EnvName is the environment variable of a flag.
func EnvName(flagName string) string {
	return "PORTAL_" + strings.ToUpper(strings.ReplaceAll(flagName, "-", "_"))
}

// Load parses args (without the program and subcommand names) after applying the
// YAML file and the environment. extra, if not nil, binds more flags of the
// subcommand on the same set.
func Load(name string, args []string, getenv func(string) string, extra func(*flag.FlagSet)) (Config, error) {
	var c Config
	fs := flag.NewFlagSet(name, flag.ContinueOnError)
	fs.SetOutput(io.Discard)
	c.FlagSet(fs)
	if extra != nil {
		extra(fs)
	}
	// The config file may itself come from a flag or the environment.
	path := getenv(EnvName("config"))
	if p, ok := flagValue(args, "config"); ok {
		path = p
	}
	if path != "" {
		if err := applyYAML(fs, path); err != nil {
			return c, err
		}
	}
	var envErr error
	fs.VisitAll(func(f *flag.Flag) {
		if v := getenv(EnvName(f.Name)); v != "" && envErr == nil {
			if err := fs.Set(f.Name, v); err != nil {
				envErr = fmt.Errorf("config: %s: %w", EnvName(f.Name), err)
			}
		}
	})
	if envErr != nil {
		return c, envErr
	}
	fs.SetOutput(os.Stderr)
	if err := fs.Parse(args); err != nil {
		return c, err
	}
	if fs.NArg() > 0 {
		return c, fmt.Errorf("config: unexpected argument %q", fs.Arg(0))
	}
	return c, c.validate()
}

func (c Config) validate() error {
	var errs []error
	if c.Addr == "" {
		errs = append(errs, errors.New("addr is empty"))
	}
	if c.DataDir == "" {
		errs = append(errs, errors.New("data-dir is empty"))
	}
	if c.BodyLimit <= 0 {
		errs = append(errs, errors.New("body-limit must be positive"))
	}
	if c.LoginMaxFailures < 1 || c.LoginWindow <= 0 || c.LoginLockout <= 0 || c.SessionIdleTimeout <= 0 || c.SessionAbsoluteTTL < c.SessionIdleTimeout {
		errs = append(errs, errors.New("login and session limits must be positive, and the absolute session timeout at least the idle one"))
	}
	if c.AuditRetention < 180*24*time.Hour {
		errs = append(errs, errors.New("audit-retention must be at least 180 days (4320h)"))
	}
	switch c.LogFormat {
	case "json", "text":
	default:
		errs = append(errs, fmt.Errorf("log-format %q: want json or text", c.LogFormat))
	}
	switch c.LogLevel {
	case "debug", "info", "warn", "error":
	default:
		errs = append(errs, fmt.Errorf("log-level %q: want debug, info, warn or error", c.LogLevel))
	}
	if err := errors.Join(errs...); err != nil {
		return fmt.Errorf("config: %w", err)
	}
	return nil
}

// flagValue finds -name V, --name V, -name=V or --name=V in args.
func flagValue(args []string, name string) (string, bool) {
	for i, a := range args {
		a = strings.TrimPrefix(strings.TrimPrefix(a, "-"), "-")
		if v, ok := strings.CutPrefix(a, name+"="); ok {
			return v, true
		}
		if a == name && i+1 < len(args) {
			return args[i+1], true
		}
	}
	return "", false
}

func applyYAML(fs *flag.FlagSet, path string) error {
	b, err := os.ReadFile(path)
	if err != nil {
		return fmt.Errorf("config: %w", err)
	}
	var m map[string]any
	if err := yaml.Unmarshal(b, &m); err != nil {
		return fmt.Errorf("config: %s: %w", path, err)
	}
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	for _, k := range keys {
		name := strings.ReplaceAll(k, "_", "-")
		if name == "config" || fs.Lookup(name) == nil {
			return fmt.Errorf("config: %s: unknown key %q", path, k)
		}
		if err := fs.Set(name, fmt.Sprint(m[k])); err != nil {
			return fmt.Errorf("config: %s: %s: %w", path, k, err)
		}
	}
	return nil
}
