package workflow

// GeneralOnly makes List skip the single-statement 待办 path, so tests can
// compare the two.
func GeneralOnly(o Options) Options { o.generalOnly = true; return o }
