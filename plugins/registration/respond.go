package main

import (
	"encoding/json"
	"net/http"
	"time"

	"github.com/shanghai-amr/portal/sdk"
	"github.com/shanghai-amr/portal/sdk/proto/pluginv1"
)

// refuse answers in the portal's error shape with a message for people, in
// the caller's language.
func refuse(w http.ResponseWriter, r *http.Request, status int, code, zh, en string) {
	sdk.WriteError(w, r, status, code, sdk.Message{ZH: zh, EN: en}, nil)
}

func internal(w http.ResponseWriter, r *http.Request, err error) {
	refuse(w, r, http.StatusInternalServerError, "registration.internal", "服务器内部错误", "Internal error")
}

func day(s string) (time.Time, bool) {
	d, err := time.ParseInLocation("2006-01-02", s, shanghai)
	return d, err == nil
}

func today() time.Time {
	n := time.Now().In(shanghai)
	return time.Date(n.Year(), n.Month(), n.Day(), 0, 0, 0, 0, shanghai)
}

// allowedOn asks the host's policy whether the caller may take action on a
// record of the organisation at orgPath; no answer is no (fail closed).
func allowedOn(r *http.Request, action, orgPath string) bool {
	res, _ := json.Marshal(map[string]string{"org_path": orgPath})
	d, err := sdk.HostFrom(r.Context()).Policy.Decide(r.Context(), &pluginv1.DecideRequest{Action: action, Resource: res})
	return err == nil && d.Allow
}
