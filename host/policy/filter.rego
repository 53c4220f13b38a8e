# List filters: which records of a list the subject may see. Compiled with
# input.resource unknown into UCAST conditions that plugins apply to their
# queries (sdk/filter), so row-level scope is never hand-written per endpoint.
# The rules mirror in_scope in base.rego.
package portal.filter

include if "all" in input.subject.data_scopes

include if {
	"subtree" in input.subject.data_scopes
	input.subject.jurisdiction == "city"
}

include if {
	"subtree" in input.subject.data_scopes
	input.subject.scope_root != ""
	input.resource.org_path == input.subject.scope_root
}

include if {
	"subtree" in input.subject.data_scopes
	input.subject.scope_root != ""
	startswith(input.resource.org_path, input.subject.scope_prefix)
}

include if {
	"own_level" in input.subject.data_scopes
	input.resource.org_path == input.subject.org_path
}

include if {
	"own" in input.subject.data_scopes
	input.resource.owner == input.subject.username
}

include if {
	some root in input.subject.custom_roots
	input.resource.org_path == root
}

include if {
	some root in input.subject.custom_roots
	startswith(input.resource.org_path, concat("", [root, "/"]))
}
