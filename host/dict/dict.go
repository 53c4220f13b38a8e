// Package dict keeps the data dictionaries (数据字典) forms choose from —
// administrative divisions, enterprise types, case sources — editable by the
// system administrator without a release. A dictionary is an ordered list of
// codes with labels in zh-CN and en, stored in the host's settings.
package dict

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"regexp"
	"sort"

	"github.com/gin-gonic/gin"

	"github.com/shanghai-amr/portal/host/apierror"
	"github.com/shanghai-amr/portal/host/audit"
	"github.com/shanghai-amr/portal/host/identity"
	"github.com/shanghai-amr/portal/host/server"
	"github.com/shanghai-amr/portal/host/store/ent"
	"github.com/shanghai-amr/portal/host/store/ent/setting"
)

// scope is the settings scope dictionaries are kept under.
const scope = "host.dict"

// Item is one entry of a dictionary.
type Item struct {
	Value string            `json:"value"`
	Label map[string]string `json:"label"`
}

// Dictionary is a named list of items.
type Dictionary struct {
	Key   string            `json:"key"`
	Title map[string]string `json:"title"`
	Items []Item            `json:"items"`
}

var keyPattern = regexp.MustCompile(`^[a-z][a-z0-9_.]{1,63}$`)

// Check validates a dictionary: key, a zh-CN title, 1–5000 items with unique
// non-empty values and a zh-CN label each.
func (d *Dictionary) Check() error {
	if !keyPattern.MatchString(d.Key) {
		return fmt.Errorf("key %q: lower-case letters, digits, _ and .", d.Key)
	}
	if d.Title["zh-CN"] == "" {
		return fmt.Errorf("title[zh-CN] is required")
	}
	if len(d.Items) == 0 || len(d.Items) > 5000 {
		return fmt.Errorf("1–5000 items")
	}
	seen := map[string]bool{}
	for i, it := range d.Items {
		if it.Value == "" || len(it.Value) > 64 || seen[it.Value] {
			return fmt.Errorf("item %d: value empty, longer than 64 or repeated", i+1)
		}
		if it.Label["zh-CN"] == "" {
			return fmt.Errorf("item %d (%s): label[zh-CN] is required", i+1, it.Value)
		}
		seen[it.Value] = true
	}
	return nil
}

// Store reads and writes dictionaries.
type Store struct {
	client *ent.Client
	audit  *audit.Log
}

// New returns a store.
func New(client *ent.Client, a *audit.Log) *Store { return &Store{client: client, audit: a} }

// ErrNotFound answers an unknown dictionary.
var ErrNotFound = apierror.New(http.StatusNotFound, "dict.not_found", nil)

// Get returns one dictionary.
func (s *Store) Get(ctx context.Context, key string) (*Dictionary, error) {
	row, err := s.client.Setting.Query().Where(setting.Scope(scope), setting.Key(key)).Only(ctx)
	if ent.IsNotFound(err) {
		return nil, ErrNotFound
	}
	if err != nil {
		return nil, err
	}
	var d Dictionary
	if err := json.Unmarshal([]byte(row.Value), &d); err != nil {
		return nil, fmt.Errorf("dict %s: %w", key, err)
	}
	return &d, nil
}

// List returns every dictionary, by key.
func (s *Store) List(ctx context.Context) ([]Dictionary, error) {
	rows, err := s.client.Setting.Query().Where(setting.Scope(scope)).All(ctx)
	if err != nil {
		return nil, err
	}
	out := make([]Dictionary, 0, len(rows))
	for _, r := range rows {
		var d Dictionary
		if json.Unmarshal([]byte(r.Value), &d) == nil {
			out = append(out, d)
		}
	}
	sort.Slice(out, func(i, j int) bool { return out[i].Key < out[j].Key })
	return out, nil
}

// Put stores a dictionary after checking it.
func (s *Store) Put(ctx context.Context, d Dictionary) error {
	if err := d.Check(); err != nil {
		return apierror.Invalid(err.Error())
	}
	b, _ := json.Marshal(d)
	return s.client.Setting.Create().SetScope(scope).SetKey(d.Key).SetValue(string(b)).
		OnConflictColumns(setting.FieldScope, setting.FieldKey).UpdateValue().UpdateUpdatedAt().Exec(ctx)
}

// Seed stores the dictionaries that do not exist yet (demo data and defaults).
func (s *Store) Seed(ctx context.Context, ds ...Dictionary) error {
	for _, d := range ds {
		if _, err := s.Get(ctx, d.Key); err == nil {
			continue
		}
		if err := s.Put(ctx, d); err != nil {
			return fmt.Errorf("dict %s: %w", d.Key, err)
		}
	}
	return nil
}

// MountAPI registers:
//
//	GET /api/v1/dicts/:key            signed in: one dictionary (forms load their options)
//	GET /api/v1/admin/dicts           dicts.manage: every dictionary
//	PUT /api/v1/admin/dicts/:key      dicts.manage: replace one (audited)
func (s *Store) MountAPI(srv *server.Server, auth gin.HandlerFunc) {
	srv.API().GET("/v1/dicts/:key", auth, func(c *gin.Context) {
		if identity.From(c.Request.Context()).Audience == identity.Anonymous {
			server.Fail(c, identity.Unauthenticated)
			return
		}
		d, err := s.Get(c.Request.Context(), c.Param("key"))
		if err != nil {
			server.Fail(c, err)
			return
		}
		c.JSON(http.StatusOK, d)
	})
	admin := srv.API().Group("/v1/admin/dicts", auth, identity.Require("dicts.manage"))
	admin.GET("", func(c *gin.Context) {
		ds, err := s.List(c.Request.Context())
		if err != nil {
			server.Fail(c, err)
			return
		}
		c.JSON(http.StatusOK, gin.H{"dicts": ds})
	})
	admin.PUT("/:key", func(c *gin.Context) {
		var d Dictionary
		if !server.Decode(c, &d) {
			return
		}
		if d.Key == "" {
			d.Key = c.Param("key")
		}
		if d.Key != c.Param("key") {
			server.Fail(c, apierror.Invalid("the body's key does not match the path"))
			return
		}
		if err := s.Put(c.Request.Context(), d); err != nil {
			server.Fail(c, err)
			return
		}
		who := identity.From(c.Request.Context())
		_, _ = s.audit.Write(c.Request.Context(), audit.Entry{Actor: who.Username, OrgPath: who.OrgPath, Action: "dict.put",
			Resource: "dict:" + d.Key, Outcome: audit.Success, RequestID: server.RequestID(c), IP: c.ClientIP(),
			Detail: map[string]any{"items": len(d.Items)}})
		c.JSON(http.StatusOK, d)
	})
}
