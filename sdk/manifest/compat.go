package manifest

import (
	"errors"
	"fmt"

	"github.com/Masterminds/semver/v3"
)

// ErrIncompatible is wrapped by CheckCompatible's refusals: the plugin cannot
// run on this host.
var ErrIncompatible = errors.New("manifest: incompatible plugin")

// incompatibleError keeps the message that names both sides while still
// matching errors.Is(err, ErrIncompatible).
type incompatibleError struct{ msg string }

func (e *incompatibleError) Error() string { return e.msg }
func (e *incompatibleError) Unwrap() error { return ErrIncompatible }

// CheckCompatible reports whether the plugin may run on a host of version
// hostVersion speaking wire protocol hostProtocol.
//
// The protocol must be equal: it changes only for breaking changes, so
// neither side can speak the other's.
//
// The host version must satisfy the manifest's host range, with the rule of
// npm and Cargo that Masterminds/semver implements: a pre-release host
// (0.1.0-dev, 1.0.0-rc.1) satisfies a range only if that range itself names a
// pre-release, so a plugin released against stable hosts does not silently
// load into a development build. A plugin meant for development hosts says so
// with a pre-release bound: ">=0.1.0-0 <1.0.0" admits 0.1.0-dev, 0.1.0 and
// 0.9.3, while ">=0.1.0 <1.0.0" admits 0.1.0 and 0.9.3 but not 0.1.0-dev.
// Build metadata (+abc) is ignored, as semver requires.
//
// Refusals wrap ErrIncompatible and name both sides; an unparsable host
// version or range is reported as such, without ErrIncompatible.
func (m *Manifest) CheckCompatible(hostVersion string, hostProtocol int) error {
	if m.Protocol != hostProtocol {
		return &incompatibleError{fmt.Sprintf("manifest: plugin %q %s speaks protocol %d, but this host speaks protocol %d",
			m.ID, m.Version, m.Protocol, hostProtocol)}
	}
	hv, err := semver.NewVersion(hostVersion)
	if err != nil {
		return fmt.Errorf("manifest: host version %q: %w", hostVersion, err)
	}
	c, err := semver.NewConstraint(m.Host)
	if err != nil {
		return fmt.Errorf("manifest: plugin %q %s: host range %q: %w", m.ID, m.Version, m.Host, err)
	}
	if !c.Check(hv) {
		return &incompatibleError{fmt.Sprintf("manifest: plugin %q %s needs host %q, but this host is %s",
			m.ID, m.Version, m.Host, hostVersion)}
	}
	return nil
}
