package manifest

import "slices"

// Capabilities a plugin may declare. Each names one host service (see
// sdk/proto/plugin.proto) and the kind of access; the host refuses a call to a
// service whose capability the plugin did not declare. The list is closed:
// plugin.schema.json enumerates the same names, and a manifest naming any
// other is invalid, so a typo fails at build time instead of at the first call.
const (
	CapIdentityRead    = "identity.read"
	CapPolicyDecide    = "policy.decide"
	CapTasksWrite      = "tasks.write"
	CapProcessesWrite  = "processes.write"
	CapClocksRead      = "clocks.read"
	CapMessagesSend    = "messages.send"
	CapEventsPublish   = "events.publish"
	CapEventsSubscribe = "events.subscribe"
	CapFilesRead       = "files.read"
	CapFilesWrite      = "files.write"
	CapDocumentsWrite  = "documents.write"
	CapSearchIndex     = "search.index"
	CapAuditWrite      = "audit.write"
	CapNumberingNext   = "numbering.next"
	CapSettingsRead    = "settings.read"
	CapSettingsWrite   = "settings.write"
	CapDossiersWrite   = "dossiers.write"
)

// KnownCapabilities returns every capability name, in the order of the schema.
// The slice is new on each call, so callers may keep or change it.
func KnownCapabilities() []string {
	return []string{
		CapIdentityRead, CapPolicyDecide, CapTasksWrite, CapProcessesWrite,
		CapClocksRead, CapMessagesSend, CapEventsPublish, CapEventsSubscribe,
		CapFilesRead, CapFilesWrite, CapDocumentsWrite, CapSearchIndex,
		CapAuditWrite, CapNumberingNext, CapSettingsRead, CapSettingsWrite,
		CapDossiersWrite,
	}
}

// HasCapability reports whether the manifest declares capability c. The host
// asks this before every plugin → host call; it fails closed, so a nil
// manifest has no capabilities.
func (m *Manifest) HasCapability(c string) bool {
	return m != nil && slices.Contains(m.Capabilities, c)
}
