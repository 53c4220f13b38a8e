package dossier

// DefaultKinds are the host's dossier kinds and the documents each must hold
// before it may be archived (the 归档范围 check): the document types of
// host/document's templates.
var DefaultKinds = map[string]Kind{
	"penalty_general":   {Required: []string{"case_filing_approval", "penalty_notice", "penalty_decision", "service_receipt"}, Retention: "定期30年"},
	"penalty_summary":   {Required: []string{"summary_penalty_decision", "service_receipt"}, Retention: "定期10年"},
	"suspension_filing": {Required: []string{"suspension_notice"}, Retention: "定期10年"},
}
