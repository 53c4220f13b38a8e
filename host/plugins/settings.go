package plugins

import (
	"context"
	"net/http"
	"regexp"
	"sort"
	"strings"
	"unicode/utf8"

	"github.com/shanghai-amr/portal/host/apierror"
	"github.com/shanghai-amr/portal/host/store/ent/setting"
)

// Plugin settings: what an operator configures for a plugin (a payment
// gateway's URL, an exchange secret, whether to seed demo data). They are
// handed to the plugin at start (sdk.Env.Settings) and it may read them again
// through the Settings service; what it reads only at start takes effect when
// it next starts — an upgrade, or disable and enable. Values of
// secret-looking keys are never shown back.

// Setting is one setting as the admin API shows it.
type Setting struct {
	Key    string `json:"key"`
	Value  string `json:"value,omitempty"`
	Secret bool   `json:"secret,omitempty"` // the value is set but not shown
}

var settingKey = regexp.MustCompile(`^[a-z][a-z0-9_]*(\.[a-z0-9_]+)*$`)

// ErrBadSetting is a setting that cannot be stored.
var ErrBadSetting = apierror.New(http.StatusBadRequest, "plugin.bad_setting", nil)

// secretKey reports keys whose values are secrets: …key, …secret, …password,
// …token as the last segment.
func secretKey(key string) bool {
	last := key[strings.LastIndexByte(key, '.')+1:]
	for _, s := range []string{"key", "secret", "password", "token"} {
		if strings.HasSuffix(last, s) {
			return true
		}
	}
	return false
}

// Settings lists an installed plugin's settings, secrets hidden.
func (m *Manager) Settings(ctx context.Context, id string) ([]Setting, error) {
	if _, err := m.pluginRow(ctx, id); err != nil {
		return nil, err
	}
	rows, err := m.opts.Store.Client.Setting.Query().Where(setting.Scope(id)).All(ctx)
	if err != nil {
		return nil, err
	}
	out := make([]Setting, 0, len(rows))
	for _, r := range rows {
		s := Setting{Key: r.Key, Value: r.Value}
		if secretKey(r.Key) {
			s.Value, s.Secret = "", true
		}
		out = append(out, s)
	}
	sort.Slice(out, func(i, j int) bool { return out[i].Key < out[j].Key })
	return out, nil
}

// PutSetting sets (or, with an empty value, removes) one of an installed
// plugin's settings. The audit entry names the key, never the value.
func (m *Manager) PutSetting(ctx context.Context, id, key, value string, a Actor) error {
	if _, err := m.pluginRow(ctx, id); err != nil {
		return err
	}
	switch {
	case len(key) > 128 || !settingKey.MatchString(key):
		return ErrBadSetting.WithDetails(map[string]string{"Detail": "key: 1–128 of a-z 0-9 _ in dot-separated segments, starting with a letter"})
	case len(value) > 4096 || !utf8.ValidString(value):
		return ErrBadSetting.WithDetails(map[string]string{"Detail": "value: at most 4096 bytes of UTF-8"})
	}
	c := m.opts.Store.Client.Setting
	var err error
	if value == "" {
		_, err = c.Delete().Where(setting.Scope(id), setting.Key(key)).Exec(ctx)
	} else {
		err = c.Create().SetScope(id).SetKey(key).SetValue(value).
			OnConflictColumns(setting.FieldScope, setting.FieldKey).UpdateValue().UpdateUpdatedAt().Exec(ctx)
	}
	return m.audited(ctx, a, "plugin.setting.put", "plugin:"+id+" setting:"+key, err)
}
