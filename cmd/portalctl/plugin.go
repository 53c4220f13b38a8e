package main

import (
	"context"
	"encoding/json"
	"flag"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"os"
	"strings"
	"text/tabwriter"
	"time"
)

// pluginCommands manage the plugins of a running portal through its admin API.
func pluginCommands() map[string]command {
	const conn = " Connects to --url (or PORTAL_URL) with the bearer token from --token-file, " +
		"PORTAL_TOKEN, or ./var/admin.token."
	simple := func(verb, summary string) command {
		return command{
			synopsis: "plugin " + verb + " ID", summary: summary,
			doc: strings.ToUpper(summary[:1]) + summary[1:] + "." + conn,
			run: func(ctx context.Context, std streams, fs *flag.FlagSet, args []string) error {
				c := clientFlags(fs)
				if err := parse(fs, args, 1); err != nil {
					return err
				}
				var info pluginInfo
				if err := c.do(ctx, http.MethodPost, "/api/v1/admin/plugins/"+url.PathEscape(fs.Arg(0))+"/"+verb, nil, &info); err != nil {
					return err
				}
				return printPlugins(std.out, []pluginInfo{info})
			},
		}
	}
	return map[string]command{
		"plugin list": {
			synopsis: "plugin list", summary: "list installed plugins",
			doc: "List installed plugins with version, state and in-flight calls." + conn,
			run: func(ctx context.Context, std streams, fs *flag.FlagSet, args []string) error {
				c := clientFlags(fs)
				if err := parse(fs, args, 0); err != nil {
					return err
				}
				var out struct{ Plugins []pluginInfo }
				if err := c.do(ctx, http.MethodGet, "/api/v1/admin/plugins", nil, &out); err != nil {
					return err
				}
				return printPlugins(std.out, out.Plugins)
			},
		},
		"plugin install": {
			synopsis: "plugin install BUNDLE", summary: "install a signed bundle",
			doc: "Upload a bundle; the portal verifies it against its trusted keys, starts the plugin and routes to it." + conn,
			run: func(ctx context.Context, std streams, fs *flag.FlagSet, args []string) error {
				return upload(ctx, std, fs, args, "/api/v1/admin/plugins", 1)
			},
		},
		"plugin upgrade": {
			synopsis: "plugin upgrade ID BUNDLE", summary: "upgrade with no failed requests",
			doc: "Start the bundle's version beside the serving one, switch when it is ready, drain and stop the old one. " +
				"If the new version fails to start, the old one keeps serving and the reason is printed." + conn,
			run: func(ctx context.Context, std streams, fs *flag.FlagSet, args []string) error {
				return upload(ctx, std, fs, args, "", 2)
			},
		},
		"plugin rollback": simple("rollback", "return to the previous version"),
		"plugin enable":   simple("enable", "start a disabled or failed plugin"),
		"plugin disable":  simple("disable", "stop a plugin, keeping its data"),
		"plugin uninstall": {
			synopsis: "plugin uninstall ID", summary: "remove a plugin, keeping its data",
			doc: "Stop the plugin and remove its bundles and records; its database is kept." + conn,
			run: func(ctx context.Context, std streams, fs *flag.FlagSet, args []string) error {
				c := clientFlags(fs)
				if err := parse(fs, args, 1); err != nil {
					return err
				}
				if err := c.do(ctx, http.MethodDelete, "/api/v1/admin/plugins/"+url.PathEscape(fs.Arg(0)), nil, nil); err != nil {
					return err
				}
				fmt.Fprintf(std.out, "uninstalled %s\n", fs.Arg(0))
				return nil
			},
		},
		"plugin logs": {
			synopsis: "plugin logs ID [--tail N]", summary: "show a plugin's recent log lines",
			doc: "Show the plugin's recent stderr lines as the host collected them, tagged with version." + conn,
			run: func(ctx context.Context, std streams, fs *flag.FlagSet, args []string) error {
				c := clientFlags(fs)
				tail := fs.Int("tail", 200, "number of lines")
				if err := parse(fs, args, 1); err != nil {
					return err
				}
				var out struct {
					Lines []struct {
						Time                    time.Time
						Version, Level, Message string
						Fields                  map[string]any
					}
				}
				path := fmt.Sprintf("/api/v1/admin/plugins/%s/logs?tail=%d", url.PathEscape(fs.Arg(0)), *tail)
				if err := c.do(ctx, http.MethodGet, path, nil, &out); err != nil {
					return err
				}
				for _, l := range out.Lines {
					fields := ""
					if len(l.Fields) > 0 {
						b, _ := json.Marshal(l.Fields)
						fields = " " + string(b)
					}
					fmt.Fprintf(std.out, "%s %-5s %s %s%s\n", l.Time.Local().Format(time.RFC3339), l.Level, l.Version, l.Message, fields)
				}
				return nil
			},
		},
	}
}

type pluginInfo struct {
	ID              string `json:"id"`
	Name            string `json:"name"`
	Version         string `json:"version"`
	PreviousVersion string `json:"previous_version"`
	State           string `json:"state"`
	LastError       string `json:"last_error"`
	InFlight        int64  `json:"in_flight"`
}

func printPlugins(w io.Writer, ps []pluginInfo) error {
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', 0)
	fmt.Fprintln(tw, "ID\tVERSION\tPREVIOUS\tSTATE\tIN FLIGHT\tNAME\tLAST ERROR")
	for _, p := range ps {
		fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%d\t%s\t%s\n", p.ID, p.Version, dash(p.PreviousVersion), p.State, p.InFlight, p.Name, dash(oneLine(p.LastError)))
	}
	return tw.Flush()
}

func dash(s string) string {
	if s == "" {
		return "-"
	}
	return s
}

// upload sends a bundle file: install (BUNDLE) or upgrade (ID BUNDLE).
func upload(ctx context.Context, std streams, fs *flag.FlagSet, args []string, path string, want int) error {
	c := clientFlags(fs)
	if err := parse(fs, args, want); err != nil {
		return err
	}
	file := fs.Arg(want - 1)
	if path == "" {
		path = "/api/v1/admin/plugins/" + url.PathEscape(fs.Arg(0)) + "/upgrade"
	}
	f, err := os.Open(file)
	if err != nil {
		return err
	}
	defer f.Close()
	var info pluginInfo
	if err := c.do(ctx, http.MethodPost, path, f, &info); err != nil {
		return err
	}
	return printPlugins(std.out, []pluginInfo{info})
}

// apiClient talks to the portal's admin API.
type apiClient struct {
	url, token, tokenFile *string
}

func clientFlags(fs *flag.FlagSet) *apiClient {
	def := os.Getenv("PORTAL_URL")
	if def == "" {
		def = "http://127.0.0.1:8080"
	}
	return &apiClient{
		url:       fs.String("url", def, "portal base URL (PORTAL_URL)"),
		token:     fs.String("token", "", "bearer token (prefer PORTAL_TOKEN or --token-file: flags show in ps)"),
		tokenFile: fs.String("token-file", "", "file holding the bearer token (default ./var/admin.token)"),
	}
}

func (c *apiClient) bearer() (string, error) {
	if *c.token != "" {
		return *c.token, nil
	}
	if t := os.Getenv("PORTAL_TOKEN"); t != "" && *c.tokenFile == "" {
		return t, nil
	}
	path := *c.tokenFile
	if path == "" {
		path = "var/admin.token"
	}
	b, err := os.ReadFile(path)
	if err != nil {
		return "", fmt.Errorf("no token: set PORTAL_TOKEN or --token-file (%v)", err)
	}
	return strings.TrimSpace(string(b)), nil
}

// do sends one request and decodes the answer into out; an API error is
// returned as "code: message".
func (c *apiClient) do(ctx context.Context, method, path string, body io.Reader, out any) error {
	tok, err := c.bearer()
	if err != nil {
		return err
	}
	req, err := http.NewRequestWithContext(ctx, method, strings.TrimRight(*c.url, "/")+path, body)
	if err != nil {
		return err
	}
	req.Header.Set("Authorization", "Bearer "+tok)
	req.Header.Set("Accept-Language", os.Getenv("LANG"))
	if body != nil {
		req.Header.Set("Content-Type", "application/gzip")
	}
	resp, err := (&http.Client{Timeout: 10 * time.Minute}).Do(req)
	if err != nil {
		return err
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(io.LimitReader(resp.Body, 32<<20))
	if err != nil {
		return err
	}
	if resp.StatusCode >= 300 {
		var e struct {
			Code, Message string
			RequestID     string `json:"request_id"`
			Details       map[string]any
		}
		if json.Unmarshal(b, &e) != nil || e.Code == "" {
			return fmt.Errorf("%s %s: HTTP %d", method, path, resp.StatusCode)
		}
		msg := e.Code + ": " + e.Message
		for _, k := range []string{"reason", "message", "serving_version", "problem"} {
			if v, ok := e.Details[k]; ok {
				msg += fmt.Sprintf("; %s: %v", k, v)
			}
		}
		return fmt.Errorf("%s (request %s)", msg, e.RequestID)
	}
	if out == nil || len(b) == 0 {
		return nil
	}
	return json.Unmarshal(b, out)
}
