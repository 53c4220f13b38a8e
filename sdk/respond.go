package sdk

import (
	"encoding/json"
	"net/http"
)

// WriteJSON answers v as JSON with status.
func WriteJSON(w http.ResponseWriter, status int, v any) {
	w.Header().Set("Content-Type", "application/json; charset=utf-8")
	w.WriteHeader(status)
	_ = json.NewEncoder(w).Encode(v)
}

// Message is a message for people, in Chinese and in English.
type Message struct{ ZH, EN string }

// In is the message in a language: English for "en" and "en-…", Chinese
// otherwise (zh-CN is the portal's first language).
func (m Message) In(locale string) string {
	if locale == "en" || len(locale) > 3 && locale[:3] == "en-" {
		return m.EN
	}
	return m.ZH
}

// WriteError answers in the portal's error shape, {"code", "message",
// "details"}: the code is for machines, the message for the person calling,
// in their language (Caller.Locale). Details, if any, say which fields are at
// fault. Never put a cause's internals in the message; log them.
func WriteError(w http.ResponseWriter, r *http.Request, status int, code string, m Message, details any) {
	body := map[string]any{"code": code, "message": m.In(CallerFrom(r.Context()).Locale)}
	if details != nil {
		body["details"] = details
	}
	WriteJSON(w, status, body)
}
