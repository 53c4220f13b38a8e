package sdk

import (
	"fmt"

	"github.com/shanghai-amr/portal/sdk/proto/pluginv1"
)

// NewServerForTest returns the plugin side of the Plugin service for p, wired
// to host for its host calls, without a process or go-plugin. It is for
// sdk/plugintest; plugins use Serve.
func NewServerForTest(p Plugin, host *Host) (pluginv1.PluginServer, error) {
	m, raw, err := loadManifest(p.Manifest)
	if err != nil {
		return nil, err
	}
	if p.Start == nil {
		return nil, fmt.Errorf("sdk: Plugin.Start is required")
	}
	s := newServer(p, m, raw, newLogger(discard{}))
	s.testHost = host
	return s, nil
}

type discard struct{}

func (discard) Write(b []byte) (int, error) { return len(b), nil }

// TestCaller builds the wire form of a caller, for sdk/plugintest.
func TestCaller(c Caller) *pluginv1.Caller {
	return &pluginv1.Caller{Audience: c.Audience, Subject: c.Subject, Username: c.Username, DisplayName: c.DisplayName,
		Roles: c.Roles, Posts: c.Posts, OrgCode: c.OrgCode, OrgPath: c.OrgPath, Jurisdiction: c.Jurisdiction, Locale: c.Locale, Uscc: c.USCC, PersonKey: c.PersonKey}
}
