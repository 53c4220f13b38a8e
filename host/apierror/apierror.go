// Package apierror is the one error type every host API answers with. An Error
// carries an HTTP status, a stable machine code that is also the i18n message id,
// the data the message template needs, and an optional cause that is logged but
// never shown to the caller (no SQL, no stack traces, no secrets).
//
// On the wire it is always
//
//	{"code": "request.too_large", "message": "<localised>", "request_id": "…"}
//
// plus "details" where a caller can act on them (for example per-field problems).
package apierror

import (
	"errors"
	"fmt"
	"net/http"
)

// Error is a user-facing API error.
type Error struct {
	Status  int
	Code    string
	Data    map[string]any
	Details any
	cause   error
}

// New returns an error with a status and a code; data fills the message template.
func New(status int, code string, data map[string]any) *Error {
	return &Error{Status: status, Code: code, Data: data}
}

// Wrap attaches the underlying cause (logged, not shown).
func (e *Error) Wrap(cause error) *Error {
	c := *e
	c.cause = cause
	return &c
}

// WithDetails attaches machine-readable details shown to the caller.
func (e *Error) WithDetails(d any) *Error {
	c := *e
	c.Details = d
	return &c
}

func (e *Error) Error() string {
	if e.cause != nil {
		return fmt.Sprintf("%s (%d): %v", e.Code, e.Status, e.cause)
	}
	return fmt.Sprintf("%s (%d)", e.Code, e.Status)
}

// Is makes errors.Is match copies made by Wrap and WithDetails: two errors
// are the same when their status and code are.
func (e *Error) Is(target error) bool {
	t, ok := target.(*Error)
	return ok && t.Status == e.Status && t.Code == e.Code
}

// Unwrap returns the cause.
func (e *Error) Unwrap() error { return e.cause }

// From turns any error into an API error: an *Error anywhere in the chain is
// used as it is; a body over its limit becomes 413; anything else is 500.
func From(err error) *Error {
	var e *Error
	if errors.As(err, &e) {
		return e
	}
	var tooLarge *http.MaxBytesError
	if errors.As(err, &tooLarge) {
		return TooLarge(tooLarge.Limit)
	}
	return Internal.Wrap(err)
}

// TooLarge is the 413 for a body over limit bytes.
func TooLarge(limit int64) *Error {
	return New(http.StatusRequestEntityTooLarge, "request.too_large", map[string]any{"Limit": HumanBytes(limit)})
}

// Invalid is a 400 for a malformed request; detail is shown to the caller.
func Invalid(detail string) *Error {
	return New(http.StatusBadRequest, "request.invalid", map[string]any{"Detail": detail})
}

// Common errors.
var (
	Internal         = New(http.StatusInternalServerError, "internal", nil)
	NotFound         = New(http.StatusNotFound, "route.not_found", nil)
	MethodNotAllowed = New(http.StatusMethodNotAllowed, "method.not_allowed", nil)
	Timeout          = New(http.StatusGatewayTimeout, "request.timeout", nil)
	Unavailable      = New(http.StatusServiceUnavailable, "service.unavailable", nil)
)

// HumanBytes renders a byte count as KiB/MiB/GiB.
func HumanBytes(n int64) string {
	const k = 1024
	switch {
	case n >= k*k*k && n%(k*k*k) == 0:
		return fmt.Sprintf("%d GiB", n/(k*k*k))
	case n >= k*k:
		return fmt.Sprintf("%.4g MiB", float64(n)/(k*k))
	case n >= k:
		return fmt.Sprintf("%.4g KiB", float64(n)/k)
	}
	return fmt.Sprintf("%d B", n)
}
