package dossier

import (
	"fmt"
	"slices"
	"strings"
)

// checkFormat: each file's extension is an allowed format and agrees with
// the format its content is sniffed as.
func checkFormat(r *run) []string {
	var problems []string
	for _, name := range r.p.contentFiles() {
		ext, got := extOf(name), sniff(r.p.files[name])
		switch {
		case !allowedFormats[ext]:
			problems = append(problems, fmt.Sprintf("file %s: extension .%s is not one of %s", name, ext, formatList))
		case !compatible(ext, got):
			problems = append(problems, fmt.Sprintf("file %s: named .%s but its content is %s", name, ext, got))
		}
	}
	return problems
}

// checkReadability: each file reads as what its content is: a PDF has its
// header, %%EOF, a cross-reference section reached by startxref whose
// entries point at their objects, and a trailer; an image decodes; XML is
// well-formed; an OFD has a well-formed OFD.xml; no file is empty.
func checkReadability(r *run) []string {
	var problems []string
	for _, name := range r.p.contentFiles() {
		b := r.p.files[name]
		if p := readProblem(sniff(b), b); p != "" {
			problems = append(problems, fmt.Sprintf("file %s %s", name, p))
		}
	}
	return problems
}

// checkLongTerm: each file is in a long-term format; a PDF is neither
// encrypted nor carries JavaScript or launch actions.
func checkLongTerm(r *run) []string {
	list := r.o.LongTerm
	if len(list) == 0 {
		list = DefaultLongTermFormats
	}
	var problems []string
	for _, name := range r.p.contentFiles() {
		b := r.p.files[name]
		got := sniff(b)
		if !slices.Contains(list, got) {
			problems = append(problems, fmt.Sprintf("file %s is %s, not a long-term format (%s)", name, got, strings.Join(list, ", ")))
			continue
		}
		if got == "pdf" {
			for _, p := range pdfLongTermProblems(b) {
				problems = append(problems, fmt.Sprintf("file %s %s", name, p))
			}
		}
	}
	return problems
}
