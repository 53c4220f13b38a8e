package plugins

import (
	"context"
	"encoding/json"
	"io"
	"log/slog"
	"strings"
	"sync"
	"time"

	"github.com/hashicorp/go-hclog"
)

// LogLine is one line a plugin wrote to stderr, as collected by the host.
type LogLine struct {
	Time    time.Time      `json:"time"`
	Version string         `json:"version"`
	Level   string         `json:"level"`
	Message string         `json:"message"`
	Fields  map[string]any `json:"fields,omitempty"`
}

// logRing keeps the last lines of one plugin (all its generations) for the
// logs API, and forwards every line to the host's structured log.
type logRing struct {
	mu    sync.Mutex
	lines []LogLine
	next  int
	full  bool
}

const logRingSize = 2000

func newLogRing() *logRing { return &logRing{lines: make([]LogLine, logRingSize)} }

func (r *logRing) add(l LogLine) {
	r.mu.Lock()
	r.lines[r.next] = l
	r.next = (r.next + 1) % len(r.lines)
	if r.next == 0 {
		r.full = true
	}
	r.mu.Unlock()
}

// tail returns up to n most recent lines, oldest first.
func (r *logRing) tail(n int) []LogLine {
	r.mu.Lock()
	defer r.mu.Unlock()
	var all []LogLine
	if r.full {
		all = append(append(all, r.lines[r.next:]...), r.lines[:r.next]...)
	} else {
		all = append(all, r.lines[:r.next]...)
	}
	if n > 0 && len(all) > n {
		all = all[len(all)-n:]
	}
	return all
}

// hclogger is the logger go-plugin writes the plugin's stderr through. It
// renders JSON, which lineWriter parses back into fields.
func (r *logRing) hclogger(version string, log *slog.Logger) hclog.Logger {
	return hclog.New(&hclog.LoggerOptions{
		Output:     &lineWriter{ring: r, version: version, log: log},
		JSONFormat: true,
		Level:      hclog.Debug,
	})
}

type lineWriter struct {
	ring    *logRing
	version string
	log     *slog.Logger
}

func (w *lineWriter) Write(p []byte) (int, error) {
	for _, line := range strings.Split(strings.TrimSpace(string(p)), "\n") {
		if line == "" {
			continue
		}
		var m map[string]any
		l := LogLine{Time: time.Now().UTC(), Version: w.version, Level: "info", Message: line}
		if json.Unmarshal([]byte(line), &m) == nil {
			if s, ok := m["@message"].(string); ok {
				l.Message = s
			}
			if s, ok := m["@level"].(string); ok {
				l.Level = s
			}
			for _, k := range []string{"@message", "@level", "@timestamp", "@module", "@caller", "timestamp"} {
				delete(m, k)
			}
			if len(m) > 0 {
				l.Fields = m
			}
		}
		w.ring.add(l)
		level := slog.LevelInfo
		switch l.Level {
		case "error":
			level = slog.LevelError
		case "warn":
			level = slog.LevelWarn
		case "debug", "trace":
			level = slog.LevelDebug
		}
		attrs := []any{"source", "plugin"}
		for k, v := range l.Fields {
			attrs = append(attrs, slog.Any(k, v))
		}
		w.log.Log(context.Background(), level, l.Message, attrs...)
	}
	return len(p), nil
}

var _ io.Writer = (*lineWriter)(nil)
