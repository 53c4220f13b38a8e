# The host's base policy. Decisions are made here for every route, menu and
# plugin→host call; list filters are compiled from package portal.filter.
#
# input.subject:  {audience, username, roles, permissions, org_path, jurisdiction,
#                  scope_root, scope_prefix, data_scopes, custom_roots}
# input.action:   the permission asked for, e.g. "notice.read"
# input.resource: attributes of the record, if any: {org_path, owner, ...}
# input.plugin:   the plugin whose route or call this is, if any
#
# A plugin's own modules live under data.plugins.<id> and may only restrict:
# any message in their `deny` set refuses the request.
package portal.authz

default allow := false

allow if {
	input.subject.audience != "anonymous"
	has_permission(input.action)
	in_scope
	count(plugin_denials) == 0
}

reason := "allowed" if allow

else := "not signed in" if input.subject.audience == "anonymous"

else := sprintf("missing permission %s", [input.action]) if not has_permission(input.action)

else := "outside the caller's jurisdiction" if not in_scope

else := concat("; ", plugin_denials) if count(plugin_denials) > 0

else := "denied"

plugin_denials contains msg if {
	input.plugin
	some msg in data.plugins[input.plugin].deny
}

has_permission(p) if "*" in input.subject.permissions

has_permission(p) if p in input.subject.permissions

has_permission(p) if {
	some g in input.subject.permissions
	endswith(g, ".*")
	startswith(p, trim_suffix(g, "*"))
}

# A resource without an organisation is not scoped.
in_scope if not input.resource.org_path

# The role data scopes (a user with several roles has the union):
#   all        every record
#   subtree    their jurisdiction: city all; district bureau and below; station
#   own_level  records of their own unit only
#   own        records they own
#   custom     records of the units listed on the role, and below
in_scope if "all" in input.subject.data_scopes

in_scope if {
	"subtree" in input.subject.data_scopes
	input.subject.jurisdiction == "city"
}

in_scope if {
	"subtree" in input.subject.data_scopes
	input.subject.scope_root != ""
	input.resource.org_path == input.subject.scope_root
}

in_scope if {
	"subtree" in input.subject.data_scopes
	input.subject.scope_root != ""
	startswith(input.resource.org_path, input.subject.scope_prefix)
}

in_scope if {
	"own_level" in input.subject.data_scopes
	input.resource.org_path == input.subject.org_path
}

in_scope if {
	"own" in input.subject.data_scopes
	input.resource.owner == input.subject.username
}

in_scope if {
	some root in input.subject.custom_roots
	input.resource.org_path == root
}

in_scope if {
	some root in input.subject.custom_roots
	startswith(input.resource.org_path, concat("", [root, "/"]))
}
