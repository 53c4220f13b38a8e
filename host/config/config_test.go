package config

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

func TestPrecedenceFlagsOverEnvOverFile(t *testing.T) {
	file := filepath.Join(t.TempDir(), "portal.yaml")
	if err := os.WriteFile(file, []byte("addr: 127.0.0.1:7000\ndata_dir: /from/file\nrequest_timeout: 5s\nlog_level: warn\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	env := map[string]string{"PORTAL_CONFIG": file, "PORTAL_DATA_DIR": "/from/env", "PORTAL_LOG_LEVEL": "debug"}
	c, err := Load("t", []string{"--log-level=error"}, func(k string) string { return env[k] }, nil)
	if err != nil {
		t.Fatal(err)
	}
	if c.Addr != "127.0.0.1:7000" || c.DataDir != "/from/env" || c.LogLevel != "error" || c.RequestTimeout != 5*time.Second {
		t.Fatalf("got %+v", c)
	}
	if c.DSN() != "sqlite:///from/env/portal.db" {
		t.Fatalf("DSN = %s", c.DSN())
	}
}

func TestDefaults(t *testing.T) {
	c, err := Load("t", nil, func(string) string { return "" }, nil)
	if err != nil {
		t.Fatal(err)
	}
	if c.Addr != "127.0.0.1:8080" || c.DataDir != "./var" || c.BodyLimit != 1<<20 || !c.AutoMigrate {
		t.Fatalf("defaults: %+v", c)
	}
}

func TestBadInputIsNamed(t *testing.T) {
	file := filepath.Join(t.TempDir(), "portal.yaml")
	_ = os.WriteFile(file, []byte("adr: x\n"), 0o600)
	for _, tt := range []struct {
		args []string
		env  map[string]string
		want string
	}{
		{args: []string{"--config", file}, want: `unknown key "adr"`},
		{env: map[string]string{"PORTAL_BODY_LIMIT": "lots"}, want: "PORTAL_BODY_LIMIT"},
		{args: []string{"--log-format", "xml"}, want: "log-format"},
		{args: []string{"extra"}, want: "unexpected argument"},
	} {
		_, err := Load("t", tt.args, func(k string) string { return tt.env[k] }, nil)
		if err == nil || !strings.Contains(err.Error(), tt.want) {
			t.Errorf("%v %v: err = %v, want %q", tt.args, tt.env, err, tt.want)
		}
	}
}
