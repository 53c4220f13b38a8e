# List filters: which records of a list the subject may see. Compiled with
# input.resource unknown into UCAST conditions that plugins apply to their
# queries (sdk/filter), so row-level scope is never hand-written per endpoint.
package portal.filter

include if input.subject.jurisdiction == "city"

include if {
	input.subject.scope_root != ""
	input.resource.org_path == input.subject.scope_root
}

include if {
	input.subject.scope_root != ""
	startswith(input.resource.org_path, input.subject.scope_prefix)
}
