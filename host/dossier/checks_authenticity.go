package dossier

import (
	"errors"
	"fmt"
	"strings"
	"time"
)

// checkSignature: signature.p7s verifies over the exact bytes of metadata.json.
func checkSignature(r *run) []string {
	if r.p.metaRaw == nil {
		return []string{r.p.metaErr}
	}
	sig, ok := r.p.files[signatureName]
	switch {
	case !ok:
		return []string{signatureName + " is missing"}
	case len(sig) == 0:
		return []string{signatureName + " is empty"}
	case r.o.Notary == nil:
		return []string{"no notary is configured to verify the signature"}
	}
	signer, at, err := r.o.Notary.Verify(r.p.metaRaw, sig)
	if err != nil {
		return []string{fmt.Sprintf("%s does not verify over %s: %v", signatureName, metadataName, err)}
	}
	r.note = fmt.Sprintf("signed by %s at %s", signer, at.UTC().Format(time.RFC3339))
	return nil
}

// checkAttributes: each file's size, SM3 and format agree with its item.
func checkAttributes(r *run) []string {
	if p := r.needMetadata(); p != nil {
		return p
	}
	var problems []string
	for i := range r.p.items {
		it := &r.p.items[i]
		b, ok := r.p.fileOf(it)
		if !ok {
			continue // the linkage check reports it
		}
		if it.HasSize && it.Size != int64(len(b)) {
			problems = append(problems, fmt.Sprintf("%s: size is %d in the metadata but the file has %d bytes", itemName(it), it.Size, len(b)))
		}
		if got := sm3Hex(b); got != it.SM3 {
			problems = append(problems, fmt.Sprintf("%s: SM3 %s in the metadata but the file's is %s", itemName(it), short(it.SM3), short(got)))
		}
		if f, ext := normalizeFormat(it.Format), extOf(it.File); f != ext {
			problems = append(problems, fmt.Sprintf("%s: format %q in the metadata but the file name ends in .%s", itemName(it), f, ext))
		}
	}
	return problems
}

// checkLinkage: every item has its file and every file its item; nothing
// else is in the package.
func checkLinkage(r *run) []string {
	if p := r.needMetadata(); p != nil {
		return p
	}
	var problems []string
	claimed := map[string]int{}
	for i := range r.p.items {
		it := &r.p.items[i]
		switch _, ok := r.p.files[it.File]; {
		case it.File == "":
			problems = append(problems, fmt.Sprintf("item %d has no file path", it.Seq))
		case !ok:
			problems = append(problems, fmt.Sprintf("item %d: its file %s is not in the package", it.Seq, it.File))
		}
		if other, ok := claimed[it.File]; ok && it.File != "" {
			problems = append(problems, fmt.Sprintf("items %d and %d point at the same file %s", other, it.Seq, it.File))
		} else {
			claimed[it.File] = it.Seq
		}
	}
	for _, name := range r.p.names {
		switch {
		case name == metadataName || name == chainName || name == signatureName:
		case strings.HasPrefix(name, filesDir):
			if _, ok := claimed[name]; !ok {
				problems = append(problems, fmt.Sprintf("file %s has no item in the metadata", name))
			}
		default:
			problems = append(problems, fmt.Sprintf("unexpected entry %s in the package", name))
		}
	}
	for _, u := range r.p.unsafe {
		problems = append(problems, u+": not part of the package layout")
	}
	return problems
}

// checkChain: chain.json's hash chain is intact, ends at the head the
// metadata records, belongs to the same dossier, and its SM3s agree with the
// metadata and with the files.
func checkChain(r *run) []string {
	if r.p.chain == nil {
		return []string{r.p.chainErr}
	}
	c := r.p.chain
	var problems []string
	var ce *ChainError
	if err := VerifyChain(c.Entries); errors.As(err, &ce) {
		problems = append(problems, fmt.Sprintf("chain.json entry %d: %s", ce.Seq, ce.Reason))
	} else if err != nil {
		problems = append(problems, "chain.json: "+err.Error())
	}
	head := Head(c.Entries)
	if c.Head != head {
		problems = append(problems, fmt.Sprintf("chain.json states head %s but its last entry's hash is %s", short(c.Head), short(head)))
	}
	if r.p.meta == nil {
		return append(problems, r.p.metaErr)
	}
	if h := r.p.metaString("head"); h != head {
		problems = append(problems, fmt.Sprintf("metadata.json records head %s but chain.json ends at %s", short(h), short(head)))
	}
	for _, f := range []string{"owner", "subject", "kind"} {
		var got string
		switch f {
		case "owner":
			got = c.Owner
		case "subject":
			got = c.Subject
		case "kind":
			got = c.Kind
		}
		if want := r.p.metaString(f); got != want {
			problems = append(problems, fmt.Sprintf("chain.json is for %s %q but metadata.json for %q", f, clip(got), clip(want)))
		}
	}
	bySeq := map[int]*pkgItem{}
	for i := range r.p.items {
		if _, dup := bySeq[r.p.items[i].Seq]; !dup {
			bySeq[r.p.items[i].Seq] = &r.p.items[i]
		}
	}
	for i := range c.Entries {
		e := &c.Entries[i]
		it, ok := bySeq[e.Seq]
		if !ok {
			continue // the completeness check reports it
		}
		if e.SM3 != it.SM3 {
			problems = append(problems, fmt.Sprintf("entry %d: SM3 %s in chain.json but %s in metadata.json", e.Seq, short(e.SM3), short(it.SM3)))
		}
		if b, ok := r.p.fileOf(it); ok {
			if got := sm3Hex(b); got != e.SM3 {
				problems = append(problems, fmt.Sprintf("entry %d: the file %s (SM3 %s) is not the content the chain recorded (%s)", e.Seq, it.File, short(got), short(e.SM3)))
			}
		}
	}
	if len(problems) == 0 {
		r.note = fmt.Sprintf("%d entries, head %s", len(c.Entries), short(head))
	}
	return problems
}
