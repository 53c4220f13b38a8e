package main

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"strconv"
	"time"

	"github.com/shanghai-amr/portal/sdk"
	"github.com/shanghai-amr/portal/sdk/proto/pluginv1"
)

// shanghai is the time zone of dates on documents and in requests.
var shanghai = time.FixedZone("CST", 8*3600)

// messages are the plugin's error messages in both languages.
var messages = map[string][2]string{
	"enforcement.bad_id":           {"编号不正确", "Bad id"},
	"enforcement.bad_json":         {"请求格式不正确", "The request is not valid JSON"},
	"enforcement.invalid":          {"请求内容有误：%s", "Invalid request: %s"},
	"enforcement.not_found":        {"记录不存在", "No such record"},
	"enforcement.state":            {"当前状态（%s）不允许此操作", "Not allowed in the current state (%s)"},
	"enforcement.internal":         {"服务器内部错误", "Internal error"},
	"enforcement.host":             {"平台服务调用失败：%s", "A host service failed: %s"},
	"enforcement.window_closed":    {"%s", "%s"},
	"enforcement.archive":          {"归档检测未通过，卷宗保持未归档状态", "The archive checks failed; the dossier stays open"},
	"enforcement.no_hearing_right": {"本案拟作出的行政处罚不适用听证程序（行政处罚法第六十三条）", "The intended penalty carries no right to a hearing (Administrative Penalty Law, art. 63)"},
	"enforcement.hearing_notice":   {"应当在举行听证的七日前通知当事人：听证日期不得早于%s", "The party is told seven days ahead: the hearing cannot be before %s"},
	"enforcement.presiding":        {"听证由非本案调查人员主持（行政处罚法第六十四条）", "The hearing is presided over by someone who did not investigate the case (art. 64)"},
	"enforcement.not_overdue":      {"缴纳期限（%s）尚未届满，不能催告", "The payment is not overdue (due %s): no demand yet"},
	"enforcement.published":        {"处罚决定已于%s公示或已暂缓，不能再暂缓", "The decision is public since %s or already deferred"},
	"enforcement.hearing_pending":  {"%s；法制审核和处罚决定应在听证程序结束后作出（R-LEG-1）", "%s; legal review and the decision follow the end of the hearing (R-LEG-1)"},
}

// fail answers in the portal's error shape, in the caller's language; the
// cause is logged, never shown.
func fail(w http.ResponseWriter, r *http.Request, status int, code string, detail string, cause error) {
	m := messages[code]
	msg := sdk.Message{ZH: m[0], EN: m[1]}
	if detail != "" {
		msg = sdk.Message{ZH: fmt.Sprintf(m[0], detail), EN: fmt.Sprintf(m[1], detail)}
	}
	if cause != nil && svc != nil && status >= 500 {
		svc.log.Error("request failed", "code", code, "err", cause)
	}
	sdk.WriteError(w, r, status, code, msg, nil)
}

func decode(w http.ResponseWriter, r *http.Request, v any) bool {
	if err := json.NewDecoder(http.MaxBytesReader(w, r.Body, 1<<20)).Decode(v); err != nil {
		fail(w, r, http.StatusBadRequest, "enforcement.bad_json", "", err)
		return false
	}
	return true
}

func pathID(w http.ResponseWriter, r *http.Request) (int64, bool) {
	id, err := strconv.ParseInt(r.PathValue("id"), 10, 64)
	if err != nil || id <= 0 {
		fail(w, r, http.StatusBadRequest, "enforcement.bad_id", "", err)
		return 0, false
	}
	return id, true
}

// allowed asks the host's policy whether the caller may take action on a
// record of the organisation at orgPath (the data scope, R-SCOPE).
func allowed(ctx context.Context, action, orgPath string) (bool, error) {
	res, _ := json.Marshal(map[string]string{"org_path": orgPath})
	d, err := sdk.HostFrom(ctx).Policy.Decide(ctx, &pluginv1.DecideRequest{Action: action, Resource: res})
	if err != nil {
		return false, err
	}
	return d.Allow, nil
}

// audit records a state change as the caller (or the plugin, in callbacks).
func audit(ctx context.Context, host *sdk.Host, action, resource string, detail map[string]any) error {
	b, _ := json.Marshal(detail)
	_, err := host.Audit.Write(ctx, &pluginv1.AuditRecord{Action: action, Resource: resource, Outcome: "success", Detail: b})
	return err
}

// hostFailed answers a failed host call, passing on the host's reason.
func hostFailed(w http.ResponseWriter, r *http.Request, err error) {
	status := http.StatusBadGateway
	var reason string
	if s, ok := statusOf(err); ok {
		reason = s
		status = http.StatusUnprocessableEntity
	} else {
		reason = err.Error()
	}
	fail(w, r, status, "enforcement.host", reason, err)
}

func ms(t time.Time) int64 { return t.UnixMilli() }

func fromMS(v int64) time.Time { return time.UnixMilli(v).In(shanghai) }
