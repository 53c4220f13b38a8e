package rules

// Error is a rule the input breaks, or a reason an act is not (yet) allowed.
// Code is stable (usable as an i18n key); ZH and EN are the messages. Two
// Errors match under errors.Is when their codes are equal, so the sentinel
// values below can be tested for even when the returned error names details.
type Error struct {
	Code string
	ZH   string
	EN   string
}

func (e *Error) Error() string { return e.ZH + " / " + e.EN }

// Message is the message in the caller's language: English for "en", "en-…"
// and "en_…", Chinese otherwise (zh-CN first).
func (e *Error) Message(locale string) string { return pick(locale, e.ZH, e.EN) }

// Is matches any *Error with the same code.
func (e *Error) Is(target error) bool {
	t, ok := target.(*Error)
	return ok && t.Code == e.Code
}

// with returns a copy of e with details appended to both messages.
func (e *Error) with(zh, en string) *Error {
	return &Error{Code: e.Code, ZH: e.ZH + "：" + zh, EN: e.EN + ": " + en}
}

func pick(locale, zh, en string) string {
	if locale == "en" || len(locale) > 3 && (locale[:3] == "en-" || locale[:3] == "en_") {
		return en
	}
	return zh
}
