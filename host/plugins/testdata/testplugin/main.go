// Command testplugin is a plugin used by the host's integration tests.
package main

import (
	"context"
	"crypto/sha256"
	"database/sql"
	_ "embed"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"os"
	"strconv"
	"time"

	"github.com/shanghai-amr/portal/sdk"
	"github.com/shanghai-amr/portal/sdk/proto/pluginv1"
	"github.com/shanghai-amr/portal/sdk/storage"
)

//go:embed plugin.yaml
var manifestYAML []byte

func main() {
	sdk.Serve(sdk.Plugin{Manifest: manifestYAML, Start: start})
}

func start(ctx context.Context, env *sdk.Env) (http.Handler, error) {
	db, err := storage.Open(ctx, env.Database.Dialect, env.Database.DSN)
	if err != nil {
		return nil, err
	}
	if _, err := db.ExecContext(ctx, "CREATE TABLE IF NOT EXISTS kv (k VARCHAR(64) PRIMARY KEY, v VARCHAR(255) NOT NULL)"); err != nil {
		return nil, err
	}
	if _, err := db.ExecContext(ctx, "DELETE FROM kv WHERE k = 'hello'"); err != nil {
		return nil, err
	}
	if _, err := db.ExecContext(ctx, "INSERT INTO kv (k, v) VALUES ('hello', 'world')"); err != nil {
		return nil, err
	}
	version := env.Manifest.Version
	env.Log.Info("testplugin started", "version", version)
	mux := http.NewServeMux()
	mux.HandleFunc("GET /version", func(w http.ResponseWriter, r *http.Request) {
		w.Write([]byte(version))
	})
	mux.HandleFunc("GET /sleep", func(w http.ResponseWriter, r *http.Request) {
		ms, _ := strconv.Atoi(r.URL.Query().Get("ms"))
		select {
		case <-time.After(time.Duration(ms) * time.Millisecond):
		case <-r.Context().Done():
		}
		w.Write([]byte(version))
	})
	mux.HandleFunc("POST /echo", func(w http.ResponseWriter, r *http.Request) {
		// The head first, then the body as it is read: the host must keep
		// reading the caller's body after it has sent the head on.
		w.WriteHeader(http.StatusOK)
		w.(http.Flusher).Flush()
		io.Copy(w, r.Body)
	})
	mux.HandleFunc("POST /upload", func(w http.ResponseWriter, r *http.Request) {
		h := sha256.New()
		n, err := io.Copy(h, r.Body)
		if err != nil {
			http.Error(w, err.Error(), http.StatusBadRequest)
			return
		}
		fmt.Fprintf(w, "%d %x", n, h.Sum(nil))
	})
	mux.HandleFunc("GET /ticks", func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "text/event-stream")
		for i := range 5 {
			fmt.Fprintf(w, "data: tick %d\n\n", i)
			w.(http.Flusher).Flush()
			time.Sleep(100 * time.Millisecond)
		}
	})
	mux.HandleFunc("GET /crash", func(w http.ResponseWriter, r *http.Request) { os.Exit(7) })
	mux.HandleFunc("GET /panic", func(w http.ResponseWriter, r *http.Request) { panic("test panic") })
	mux.HandleFunc("GET /whoami", func(w http.ResponseWriter, r *http.Request) {
		c := sdk.CallerFrom(r.Context())
		json.NewEncoder(w).Encode(map[string]any{"username": c.Username, "audience": c.Audience, "org": c.OrgCode,
			"authorization": r.Header.Get("Authorization")})
	})
	mux.HandleFunc("GET /settings", func(w http.ResponseWriter, r *http.Request) {
		s, err := sdk.HostFrom(r.Context()).Settings.GetSettings(r.Context(), &pluginv1.GetSettingsRequest{})
		if err != nil {
			http.Error(w, err.Error(), http.StatusBadGateway)
			return
		}
		json.NewEncoder(w).Encode(s.Values)
	})
	// Calls a host service the manifest did not declare: the host must refuse.
	mux.HandleFunc("GET /forbidden-call", func(w http.ResponseWriter, r *http.Request) {
		_, err := sdk.HostFrom(r.Context()).Identity.GetUser(r.Context(), &pluginv1.GetUserRequest{Username: "admin"})
		if err != nil {
			http.Error(w, err.Error(), http.StatusForbidden)
			return
		}
		w.Write([]byte("allowed"))
	})
	mux.HandleFunc("GET /db", func(w http.ResponseWriter, r *http.Request) {
		var v string
		if err := db.QueryRowContext(r.Context(), "SELECT v FROM kv WHERE k = 'hello'").Scan(&v); err != nil && err != sql.ErrNoRows {
			http.Error(w, err.Error(), http.StatusInternalServerError)
			return
		}
		w.Write([]byte(v))
	})
	return mux, nil
}
