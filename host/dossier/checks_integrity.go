package dossier

import (
	"fmt"
	"slices"
	"strings"
)

// checkCompleteness: the items are numbered 1, 2, … without gaps, the
// metadata's count and the chain's length equal the number of items.
func checkCompleteness(r *run) []string {
	if p := r.needMetadata(); p != nil {
		return p
	}
	var problems []string
	n := len(r.p.items)
	if n == 0 {
		problems = append(problems, "the package has no items")
	}
	for i := range r.p.items {
		if want := i + 1; r.p.items[i].Seq != want {
			problems = append(problems, fmt.Sprintf("item #%d has seq %d where %d is due (件号 must run 1, 2, … without gaps)", i+1, r.p.items[i].Seq, want))
		}
	}
	if count, ok := r.p.metaInt("count"); !ok {
		problems = append(problems, "metadata.json states no count")
	} else if count != int64(n) {
		problems = append(problems, fmt.Sprintf("metadata.json states count %d but lists %d items", count, n))
	}
	if r.p.chain != nil && len(r.p.chain.Entries) != n {
		problems = append(problems, fmt.Sprintf("chain.json has %d entries but metadata.json lists %d items", len(r.p.chain.Entries), n))
	}
	return problems
}

// checkAttachments: every attachment's parent is an earlier item in the
// package, and every item that declares n attachments has n of them.
func checkAttachments(r *run) []string {
	if p := r.needMetadata(); p != nil {
		return p
	}
	var problems []string
	bySeq := map[int]bool{}
	children := map[int]int{}
	for i := range r.p.items {
		bySeq[r.p.items[i].Seq] = true
	}
	for i := range r.p.items {
		it := &r.p.items[i]
		if it.Kind != KindAttachment {
			continue
		}
		switch {
		case it.Parent <= 0:
			problems = append(problems, fmt.Sprintf("item %d is an attachment without a parent", it.Seq))
		case !bySeq[it.Parent]:
			problems = append(problems, fmt.Sprintf("item %d is an attachment of item %d, which is not in the package", it.Seq, it.Parent))
		case it.Parent >= it.Seq:
			problems = append(problems, fmt.Sprintf("item %d is an attachment of item %d, which does not come before it", it.Seq, it.Parent))
		default:
			children[it.Parent]++
		}
	}
	for i := range r.p.items {
		it := &r.p.items[i]
		if it.HasAttach && children[it.Seq] != it.Attachments {
			problems = append(problems, fmt.Sprintf("item %d declares %d attachments but the package has %d", it.Seq, it.Attachments, children[it.Seq]))
		}
	}
	return problems
}

// checkScope: the document types the dossier's kind requires are present.
func checkScope(r *run) []string {
	if p := r.needMetadata(); p != nil {
		return p
	}
	kind := r.p.metaString("kind")
	k, ok := r.o.Kinds[kind]
	if !ok {
		return []string{fmt.Sprintf("dossier kind %q is not configured, so its scope is unknown", clip(kind))}
	}
	present := map[string]bool{}
	for i := range r.p.items {
		present[r.p.items[i].DocType] = true
	}
	var missing []string
	for _, t := range k.Required {
		if !present[t] && !slices.Contains(missing, t) {
			missing = append(missing, t)
		}
	}
	if len(missing) > 0 {
		return []string{fmt.Sprintf("required documents missing for kind %s: %s", kind, strings.Join(missing, ", "))}
	}
	r.note = fmt.Sprintf("all %d required document types present", len(k.Required))
	return nil
}
