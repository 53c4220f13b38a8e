package main

// The suspension application (歇业备案, modules 40–70): its record, its
// storage and the enterprise's side. The states and who moves them are in
// docs/registration.md; the reviewers' side is review.go, the signers'
// signatures.go, the departments' exchange.go.

import (
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/shanghai-amr/portal/plugins/registration/departments"
	"github.com/shanghai-amr/portal/plugins/registration/registry"
	"github.com/shanghai-amr/portal/sdk"
	"github.com/shanghai-amr/portal/sdk/idcode"
	"github.com/shanghai-amr/portal/sdk/proto/pluginv1"
	"github.com/shanghai-amr/portal/sdk/storage"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"
)

var shanghai = time.FixedZone("CST", 8*3600)

const (
	maxSuspension = 3 * 365 // 累计不超过三年 (市场主体登记管理条例 第三十条), in days
	extendWindow  = 30      // 应当在歇业期满前30日内 (R32, module 47), in days
	maxPersons    = 30
)

// Application states.
const (
	statePrereview  = "pending_prereview"  // 待预审
	stateReturned   = "returned"           // 退回修改
	stateEnded      = "ended"              // 结束办理
	stateSignatures = "pending_signatures" // 待签名 (online)
	stateMaterials  = "pending_materials"  // 待窗口提交纸质材料 (offline)
	stateReview     = "pending_review"     // 待审核
	stateApproved   = "approved"           // 已核准
	stateRejected   = "rejected"           // 不予备案 (applications decided before pre-review existed)
)

// Modes (module 42).
const (
	modeOnline  = "online"  // 全程网办
	modeOffline = "offline" // 线下提交
)

// Roles of the persons on an application (module 64's list of signers).
var roles = map[string][2]string{
	"agent":          {"委托代理人", "Agent"},
	"legal_rep":      {"法定代表人", "Legal representative"},
	"shareholder":    {"股东（投资人）", "Shareholder"},
	"partner":        {"执行事务合伙人", "Executive partner"},
	"appointed_rep":  {"委派代表", "Appointed representative"},
	"director":       {"董事", "Director"},
	"supervisor":     {"监事", "Supervisor"},
	"manager":        {"经理", "Manager"},
	"senior_manager": {"其他高级管理人员", "Other senior manager"},
}

type filing struct {
	ID             int64        `json:"id"`
	Kind           string       `json:"kind"` // filing, extension, termination
	ParentID       int64        `json:"parent_id,omitempty"`
	USCC           string       `json:"uscc"`
	Name           string       `json:"name,omitempty"`
	District       string       `json:"district"`
	OrgPath        string       `json:"-"`
	Mode           string       `json:"mode"`
	Reason         string       `json:"reason"`
	StartDate      string       `json:"start_date"`
	EndDate        string       `json:"end_date"`
	ServiceAddress string       `json:"service_address"`
	Status         string       `json:"status"`
	TaskID         string       `json:"-"`
	DocumentID     string       `json:"document_id,omitempty"`
	Number         string       `json:"number,omitempty"`
	Note           string       `json:"note,omitempty"`
	Agent          *agent       `json:"agent,omitempty"`
	Opinions       []opinion    `json:"opinions,omitempty"`
	Digest         string       `json:"digest,omitempty"`
	SealedAt       int64        `json:"sealed_at,omitempty"`
	Archive        string       `json:"archive,omitempty"`
	CreatedAt      int64        `json:"created_at"`
	Persons        []person     `json:"persons,omitempty"`
	Departments    []deptState  `json:"departments,omitempty"`
	Materials      []material   `json:"materials,omitempty"`
	Missing        []string     `json:"missing_signatures,omitempty"`
	Extra          *filingExtra `json:"-"`
}

// filingExtra is what the application carries beyond its row: the persons
// and department forms as filled, before they are stored.
type filingExtra struct {
	persons []person
	forms   map[string]map[string]string
}

// agent is the 委托代理人 as stored: the identity number only masked.
type agent struct {
	Name     string `json:"name"`
	IDType   string `json:"id_type"`
	IDMasked string `json:"id_number"`
	Landline string `json:"landline,omitempty"`
	Mobile   string `json:"mobile"`
}

// opinion is a reviewer's opinion (module 64): overall and per material.
type opinion struct {
	Stage     string            `json:"stage"`    // prereview, review
	Decision  string            `json:"decision"` // pass, return, approve, receive
	By        string            `json:"by"`
	Note      string            `json:"note,omitempty"`
	Materials map[string]string `json:"materials,omitempty"`
	At        int64             `json:"at"`
}

// person is someone who may have to e-sign (module 64).
type person struct {
	Role      string `json:"role"`
	Name      string `json:"name"`
	IDMasked  string `json:"id_number"`
	key       string
	Required  bool  `json:"required"`
	SignedAt  int64 `json:"signed_at,omitempty"`
	signedFor string
}

// deptState is a department's panel (modules 60–62).
type deptState struct {
	Code     string            `json:"code"`
	Name     string            `json:"name"`
	Guide    string            `json:"guide"`
	Form     map[string]string `json:"form"`
	Status   string            `json:"status"` // not_started, queued, pushed, done, refused, failed
	Result   string            `json:"result"`
	PushedAt int64             `json:"pushed_at,omitempty"`
}

// migrateFilings creates the filings' tables and adds the columns later
// versions need (expand-only; old rows read as online applications).
func migrateFilings(ctx context.Context, db *sql.DB, dialect string) error {
	id := storage.AutoID(dialect)
	for _, stmt := range []string{
		`CREATE TABLE IF NOT EXISTS filings (
			id ` + id + `,
			kind VARCHAR(16) NOT NULL,
			parent_id BIGINT NOT NULL DEFAULT 0,
			uscc VARCHAR(18) NOT NULL,
			district VARCHAR(6) NOT NULL,
			org_path VARCHAR(64) NOT NULL,
			reason TEXT NOT NULL,
			start_date VARCHAR(10) NOT NULL,
			end_date VARCHAR(10) NOT NULL,
			service_address VARCHAR(200) NOT NULL,
			status VARCHAR(24) NOT NULL,
			task_id VARCHAR(32) NOT NULL DEFAULT '',
			document_id VARCHAR(32) NOT NULL DEFAULT '',
			number VARCHAR(128) NOT NULL DEFAULT '',
			note TEXT,
			created_at BIGINT NOT NULL)`,
		`CREATE TABLE IF NOT EXISTS filing_persons (
			filing_id BIGINT NOT NULL,
			seq INT NOT NULL,
			role VARCHAR(16) NOT NULL,
			name VARCHAR(64) NOT NULL,
			id_masked VARCHAR(24) NOT NULL,
			person_key VARCHAR(64) NOT NULL,
			required INT NOT NULL DEFAULT 0,
			signed_at BIGINT NOT NULL DEFAULT 0,
			signed_digest VARCHAR(64) NOT NULL DEFAULT '',
			PRIMARY KEY (filing_id, seq))`,
		`CREATE TABLE IF NOT EXISTS filing_departments (
			filing_id BIGINT NOT NULL,
			dept VARCHAR(24) NOT NULL,
			form TEXT,
			status VARCHAR(16) NOT NULL,
			result TEXT,
			message_id VARCHAR(40) NOT NULL DEFAULT '',
			pushed_at BIGINT NOT NULL DEFAULT 0,
			PRIMARY KEY (filing_id, dept))`,
	} {
		if _, err := db.ExecContext(ctx, stmt); err != nil {
			return err
		}
	}
	for _, c := range [][2]string{
		{"mode", "VARCHAR(8) NOT NULL DEFAULT 'online'"},
		{"applicant", "TEXT"},
		{"opinions", "TEXT"},
		{"digest", "VARCHAR(64) NOT NULL DEFAULT ''"},
		{"sealed_at", "BIGINT NOT NULL DEFAULT 0"},
		{"archive", "VARCHAR(200) NOT NULL DEFAULT ''"},
	} {
		if err := storage.AddColumn(ctx, db, "filings", c[0], c[1]); err != nil {
			return err
		}
	}
	if dialect == "mysql" {
		if _, err := db.ExecContext(ctx, "ALTER TABLE filings MODIFY status VARCHAR(24) NOT NULL"); err != nil {
			return err
		}
	}
	// Applications filed before pre-review existed go straight to review.
	_, err := db.ExecContext(ctx, "UPDATE filings SET status = ? WHERE status = 'submitted'", stateReview)
	return err
}

const filingColumns = "f.id, f.kind, f.parent_id, f.uscc, f.district, f.org_path, f.reason, f.start_date, f.end_date, f.service_address, f.status, " +
	"f.task_id, f.document_id, f.number, f.note, f.mode, f.applicant, f.opinions, f.digest, f.sealed_at, f.archive, f.created_at, COALESCE(e.name, '')"

const filingFrom = " FROM filings f LEFT JOIN enterprises e ON e.uscc = f.uscc"

func scanFiling(row interface{ Scan(...any) error }) (*filing, error) {
	var f filing
	var note, applicant, opinions sql.NullString
	err := row.Scan(&f.ID, &f.Kind, &f.ParentID, &f.USCC, &f.District, &f.OrgPath, &f.Reason, &f.StartDate, &f.EndDate, &f.ServiceAddress,
		&f.Status, &f.TaskID, &f.DocumentID, &f.Number, &note, &f.Mode, &applicant, &opinions, &f.Digest, &f.SealedAt, &f.Archive, &f.CreatedAt, &f.Name)
	f.Note = note.String
	if applicant.String != "" {
		f.Agent = &agent{}
		_ = json.Unmarshal([]byte(applicant.String), f.Agent)
	}
	_ = json.Unmarshal([]byte(opinions.String), &f.Opinions)
	return &f, err
}

func (s *service) filings(ctx context.Context, where string, args ...any) ([]filing, error) {
	rows, err := s.db.QueryContext(ctx, "SELECT "+filingColumns+filingFrom+" WHERE "+where+" ORDER BY f.id DESC LIMIT 200", args...)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	out := []filing{}
	for rows.Next() {
		f, err := scanFiling(rows)
		if err != nil {
			return nil, err
		}
		out = append(out, *f)
	}
	return out, rows.Err()
}

// oneFiling loads a filing; sql.ErrNoRows when there is none.
func (s *service) oneFiling(ctx context.Context, where string, args ...any) (*filing, error) {
	return scanFiling(s.db.QueryRowContext(ctx, "SELECT "+filingColumns+filingFrom+" WHERE "+where, args...))
}

// details loads a filing's persons and department panels.
func (s *service) details(ctx context.Context, f *filing) error {
	rows, err := s.db.QueryContext(ctx, "SELECT role, name, id_masked, person_key, required, signed_at, signed_digest FROM filing_persons WHERE filing_id = ? ORDER BY seq", f.ID)
	if err != nil {
		return err
	}
	f.Persons = []person{}
	for rows.Next() {
		var p person
		var req int
		if err := rows.Scan(&p.Role, &p.Name, &p.IDMasked, &p.key, &req, &p.SignedAt, &p.signedFor); err != nil {
			rows.Close()
			return err
		}
		p.Required = req == 1
		f.Persons = append(f.Persons, p)
	}
	rows.Close()
	if err := rows.Err(); err != nil {
		return err
	}
	rows, err = s.db.QueryContext(ctx, "SELECT dept, form, status, result, pushed_at FROM filing_departments WHERE filing_id = ?", f.ID)
	if err != nil {
		return err
	}
	defer rows.Close()
	byCode := map[string]deptState{}
	for rows.Next() {
		var d deptState
		var form, result sql.NullString
		if err := rows.Scan(&d.Code, &form, &d.Status, &result, &d.PushedAt); err != nil {
			return err
		}
		_ = json.Unmarshal([]byte(form.String), &d.Form)
		d.Result = result.String
		byCode[d.Code] = d
	}
	f.Departments = []deptState{}
	for _, dep := range departments.All { // the spec's order
		if d, ok := byCode[dep.Code]; ok {
			d.Name, d.Guide = dep.Name, dep.Guide
			if d.Status == "not_started" {
				d.Result = "未开始。待完成歇业备案。" // module 61
				if f.Kind == "extension" {
					d.Result = "未开始。待完成延长歇业期限备案。"
				}
			}
			f.Departments = append(f.Departments, d)
		}
	}
	f.Missing = missingSignatures(f)
	return rows.Err()
}

// missingSignatures names the required signers who have not signed the
// current materials, and the seal, while signatures are being gathered.
func missingSignatures(f *filing) []string {
	if f.Status != stateSignatures {
		return nil
	}
	var out []string
	for _, p := range f.Persons {
		if p.Required && (p.SignedAt == 0 || p.signedFor != f.Digest) {
			out = append(out, roles[p.Role][0]+" "+p.Name)
		}
	}
	if f.SealedAt == 0 {
		out = append(out, "企业电子印章")
	}
	return out
}

func (s *service) filingRoutes(mux *http.ServeMux) {
	mux.HandleFunc("GET /my/enterprise", s.myEnterprise)
	mux.HandleFunc("GET /my/departments", func(w http.ResponseWriter, r *http.Request) {
		sdk.WriteJSON(w, http.StatusOK, map[string]any{"departments": departments.All, "roles": roles})
	})
	mux.HandleFunc("POST /my/suspensions", s.file)
	mux.HandleFunc("POST /my/suspensions/{id}/extend", s.extend)
	mux.HandleFunc("POST /my/suspensions/{id}/resubmit", s.edit)
	mux.HandleFunc("POST /my/suspensions/{id}/end", s.end)
	mux.HandleFunc("GET /my/suspensions/{id}/materials", s.myMaterials)
	mux.HandleFunc("POST /my/suspensions/{id}/seal", s.seal)
	mux.HandleFunc("POST /my/suspensions/{id}/submit", s.submitForReview)
	mux.HandleFunc("POST /my/suspensions/{id}/terminate", s.terminate)
	s.reviewRoutes(mux)
	s.signatureRoutes(mux)
	s.exchangeRoutes(mux)
}

// myEnterprise is the signed-in enterprise's record with the progress of
// every application (module 50) and the department panels (60–62).
func (s *service) myEnterprise(w http.ResponseWriter, r *http.Request) {
	e, ok := s.mine(w, r)
	if !ok {
		return
	}
	fs, err := s.filings(r.Context(), "f.uscc = ?", e.USCC)
	if err != nil {
		internal(w, r, err)
		return
	}
	for i := range fs {
		if err := s.details(r.Context(), &fs[i]); err != nil {
			internal(w, r, err)
			return
		}
	}
	e.Filings = fs
	sdk.WriteJSON(w, http.StatusOK, e)
}

func (s *service) mine(w http.ResponseWriter, r *http.Request) (*enterprise, bool) {
	uscc := sdk.CallerFrom(r.Context()).USCC
	e, err := s.enterprise(r.Context(), uscc)
	if uscc == "" || errors.Is(err, sql.ErrNoRows) {
		refuse(w, r, http.StatusNotFound, "registration.not_registered", "未找到本企业的登记信息", "Your enterprise is not in the registry")
		return nil, false
	} else if err != nil {
		internal(w, r, err)
		return nil, false
	}
	return e, true
}

// application is what the applicant fills (modules 42–46, 48).
type application struct {
	Mode           string `json:"mode"`
	Reason         string `json:"reason"`
	StartDate      string `json:"start_date"`
	EndDate        string `json:"end_date"`
	ServiceAddress string `json:"service_address"`
	Agent          struct {
		Name     string `json:"name"`
		IDType   string `json:"id_type"`
		IDNumber string `json:"id_number"`
		Landline string `json:"landline"`
		Mobile   string `json:"mobile"`
	} `json:"agent"`
	Persons []struct {
		Role     string `json:"role"`
		Name     string `json:"name"`
		IDNumber string `json:"id_number"`
	} `json:"persons"`
	Departments map[string]map[string]string `json:"departments"`
}

func decode(w http.ResponseWriter, r *http.Request, v any) bool {
	if err := json.NewDecoder(http.MaxBytesReader(w, r.Body, 1<<16)).Decode(v); err != nil {
		refuse(w, r, http.StatusBadRequest, "registration.bad_json", "请求格式不正确", "The request is not valid JSON")
		return false
	}
	return true
}

// problem answers 400 naming the field at fault.
type problem struct{ field, zh, en string }

func (p *problem) refuse(w http.ResponseWriter, r *http.Request) {
	m := sdk.Message{ZH: p.zh, EN: p.en}
	sdk.WriteError(w, r, http.StatusBadRequest, "registration.invalid", m,
		[]map[string]string{{"field": p.field, "message": m.In(sdk.CallerFrom(r.Context()).Locale)}})
}

func mobileOK(s string) bool {
	if len(s) != 11 || s[0] != '1' {
		return false
	}
	for _, c := range s {
		if c < '0' || c > '9' {
			return false
		}
	}
	return true
}

// checkApplication validates the SAMR data, the persons and the department
// forms, and turns the persons' identity numbers into the host's pseudonyms.
// The period is the caller's to check (it differs for an extension).
func (s *service) checkApplication(ctx context.Context, in *application, f *filing) (*problem, error) {
	in.Mode = strings.TrimSpace(in.Mode)
	if in.Mode == "" {
		in.Mode = modeOnline
	}
	a := &in.Agent
	a.Name, a.IDNumber, a.Mobile = strings.TrimSpace(a.Name), strings.ToUpper(strings.TrimSpace(a.IDNumber)), strings.TrimSpace(a.Mobile)
	switch {
	case in.Mode != modeOnline && in.Mode != modeOffline:
		return &problem{"mode", "提交方式应为全程网办（online）或线下提交（offline）", "The mode is online or offline"}, nil
	case strings.TrimSpace(in.Reason) == "" || utf8.RuneCountInString(in.Reason) > 500:
		return &problem{"reason", "请填写歇业原因（500字以内）", "Give the reason (at most 500 characters)"}, nil
	case strings.TrimSpace(in.ServiceAddress) == "" || utf8.RuneCountInString(in.ServiceAddress) > 200:
		return &problem{"service_address", "请填写法律文书送达地址（200字以内）", "Give the address for service (at most 200 characters)"}, nil
	case a.Name == "" || utf8.RuneCountInString(a.Name) > 30:
		return &problem{"agent.name", "请填写委托代理人姓名", "Give the agent's name"}, nil
	case a.IDType != "" && a.IDType != "居民身份证":
		return &problem{"agent.id_type", "网上办理目前仅支持居民身份证", "Online filing takes a resident identity card only"}, nil
	case idcode.ValidResidentID(a.IDNumber) != nil:
		return &problem{"agent.id_number", "委托代理人身份证号码不正确", "The agent's identity number is not valid"}, nil
	case !mobileOK(a.Mobile):
		return &problem{"agent.mobile", "委托代理人手机号码应为11位数字", "The agent's mobile number has 11 digits"}, nil
	case utf8.RuneCountInString(a.Landline) > 20:
		return &problem{"agent.landline", "固定电话过长", "The landline number is too long"}, nil
	case len(in.Persons) > maxPersons:
		return &problem{"persons", fmt.Sprintf("签署人员不能超过%d人", maxPersons), fmt.Sprintf("At most %d persons", maxPersons)}, nil
	}
	forms, err := departments.Validate(in.Departments)
	var de *departments.Error
	if errors.As(err, &de) {
		p := de.Problems[0]
		return &problem{"departments." + p.Department + "." + p.Field, p.Message, p.MessageEn}, nil
	}
	f.Mode, f.Reason, f.ServiceAddress = in.Mode, strings.TrimSpace(in.Reason), strings.TrimSpace(in.ServiceAddress)
	f.Agent = &agent{Name: a.Name, IDType: "居民身份证", IDMasked: idcode.MaskResidentID(a.IDNumber), Landline: strings.TrimSpace(a.Landline),
		Mobile: a.Mobile[:3] + "****" + a.Mobile[7:]}
	x := &filingExtra{forms: forms}
	key, err := s.personKey(ctx, a.IDNumber)
	if err != nil {
		return nil, err
	}
	x.persons = append(x.persons, person{Role: "agent", Name: a.Name, IDMasked: f.Agent.IDMasked, key: key})
	// The legal representative named must be the registered one.
	var registered *registry.Entity
	if row, err := readEntity(ctx, s.db, f.USCC); err == nil {
		registered, _ = row.entity(true)
	}
	seen := map[string]bool{"agent/" + key: true}
	for i, p := range in.Persons {
		name, id := strings.TrimSpace(p.Name), strings.ToUpper(strings.TrimSpace(p.IDNumber))
		field := fmt.Sprintf("persons[%d]", i)
		if _, ok := roles[p.Role]; !ok || p.Role == "agent" {
			return &problem{field + ".role", fmt.Sprintf("第%d位人员的身份不正确", i+1), fmt.Sprintf("Person %d: unknown role %q", i+1, p.Role)}, nil
		}
		if name == "" || utf8.RuneCountInString(name) > 30 {
			return &problem{field + ".name", fmt.Sprintf("请填写第%d位人员的姓名", i+1), fmt.Sprintf("Person %d: give the name", i+1)}, nil
		}
		if idcode.ValidResidentID(id) != nil {
			return &problem{field + ".id_number", fmt.Sprintf("%s的身份证号码不正确", name), fmt.Sprintf("%s's identity number is not valid", name)}, nil
		}
		if p.Role == "legal_rep" && registered != nil && registered.LegalRepID != "" && (id != strings.ToUpper(registered.LegalRepID) || name != registered.LegalRep) {
			return &problem{field, fmt.Sprintf("%s不是登记的法定代表人（%s）", name, registered.LegalRep),
				fmt.Sprintf("%s is not the registered legal representative (%s)", name, registered.LegalRep)}, nil
		}
		key, err := s.personKey(ctx, id)
		if err != nil {
			return nil, err
		}
		if seen[p.Role+"/"+key] {
			return &problem{field, fmt.Sprintf("%s以%s身份重复填写", name, roles[p.Role][0]), fmt.Sprintf("%s is listed twice as %s", name, roles[p.Role][1])}, nil
		}
		seen[p.Role+"/"+key] = true
		x.persons = append(x.persons, person{Role: p.Role, Name: name, IDMasked: idcode.MaskResidentID(id), key: key})
	}
	f.Extra = x
	return nil, nil
}

// personKey is the host's pseudonym of an identity number (never stored).
func (s *service) personKey(ctx context.Context, id string) (string, error) {
	res, err := s.host.Identity.PersonKey(ctx, &pluginv1.PersonKeyRequest{IdNumber: id})
	if err != nil {
		return "", err
	}
	return res.PersonKey, nil
}

// hostFailed answers for a failed host call.
func hostFailed(w http.ResponseWriter, r *http.Request, err error) {
	switch status.Code(err) {
	case codes.InvalidArgument:
		refuse(w, r, http.StatusBadRequest, "registration.invalid", "数据不正确："+status.Convert(err).Message(), "Invalid data: "+status.Convert(err).Message())
		return
	case codes.ResourceExhausted:
		w.Header().Set("Retry-After", "60")
		refuse(w, r, http.StatusTooManyRequests, "registration.busy", "请求过于频繁，请稍后再试", "Too many requests; try again in a minute")
		return
	}
	refuse(w, r, http.StatusBadGateway, "registration.host", "平台服务调用失败："+status.Convert(err).Message(), "A host service failed: "+status.Convert(err).Message())
}

func (s *service) readApplication(w http.ResponseWriter, r *http.Request, f *filing) (*application, bool) {
	var in application
	if !decode(w, r, &in) {
		return nil, false
	}
	p, err := s.checkApplication(r.Context(), &in, f)
	if err != nil {
		hostFailed(w, r, err)
		return nil, false
	}
	if p != nil {
		p.refuse(w, r)
		return nil, false
	}
	return &in, true
}

// checkPeriod checks a new suspension's period: from today, after its start,
// at most three years (条例第三十条).
func checkPeriod(startDate, endDate string) *problem {
	start, ok1 := day(startDate)
	end, ok2 := day(endDate)
	switch {
	case !ok1 || !ok2 || !end.After(start) || start.Before(today()):
		return &problem{"end_date", "歇业期限不正确：起始日期不早于今天，截止日期晚于起始日期", "The period must start today or later and end after it starts"}
	case end.Sub(start) > maxSuspension*24*time.Hour:
		return &problem{"end_date", "歇业期限累计不得超过三年", "A suspension may last three years at most"}
	}
	return nil
}

// active is the SQL condition of an application still in handling or in force.
const active = "f.status NOT IN ('ended', 'rejected')"

// file is the online suspension filing (modules 40–46): eligibility, the
// period, the application, and the pre-review task for the district.
func (s *service) file(w http.ResponseWriter, r *http.Request) {
	e, ok := s.mine(w, r)
	if !ok {
		return
	}
	f := &filing{Kind: "filing", USCC: e.USCC}
	in, ok := s.readApplication(w, r, f)
	if !ok {
		return
	}
	// Eligibility (module 41): only an entity in business may suspend.
	if e.Status != "存续" && e.Status != "在业" {
		refuse(w, r, http.StatusUnprocessableEntity, "registration.not_eligible",
			fmt.Sprintf("企业登记状态为“%s”，不能办理歇业备案", e.Status),
			fmt.Sprintf("The entity's status is %s: it cannot file a suspension", e.Status))
		return
	}
	if p := checkPeriod(in.StartDate, in.EndDate); p != nil {
		if strings.Contains(p.zh, "三年") {
			refuse(w, r, http.StatusUnprocessableEntity, "registration.too_long", p.zh, p.en)
		} else {
			p.refuse(w, r)
		}
		return
	}
	// No overlap with a filing in handling or in force.
	overlap, err := s.filings(r.Context(), "f.uscc = ? AND f.kind = 'filing' AND "+active+" AND f.start_date <= ? AND f.end_date >= ?",
		e.USCC, in.EndDate, in.StartDate)
	if err != nil {
		internal(w, r, err)
		return
	}
	if len(overlap) > 0 {
		a := overlap[0]
		refuse(w, r, http.StatusUnprocessableEntity, "registration.overlap",
			fmt.Sprintf("与已申请的歇业期限（%s至%s）重叠", a.StartDate, a.EndDate),
			fmt.Sprintf("It overlaps the suspension from %s to %s already filed", a.StartDate, a.EndDate))
		return
	}
	f.StartDate, f.EndDate = in.StartDate, in.EndDate
	s.create(w, r, e, f)
}

// extend applies to extend a suspension in force, within the 30 days before
// it expires (R32, module 47), to at most three years in all (module 48).
func (s *service) extend(w http.ResponseWriter, r *http.Request) {
	e, ok := s.mine(w, r)
	if !ok {
		return
	}
	parent, ok := s.myFiling(w, r, e)
	if !ok {
		return
	}
	f := &filing{Kind: "extension", ParentID: parent.ID, USCC: e.USCC}
	in, ok := s.readApplication(w, r, f)
	if !ok {
		return
	}
	end, _ := day(parent.EndDate)
	start, _ := day(parent.StartDate)
	newEnd, okEnd := day(in.EndDate)
	opens := end.AddDate(0, 0, -extendWindow)
	pending, err := s.filings(r.Context(), "f.parent_id = ? AND f.kind = 'extension' AND f.status NOT IN ('ended', 'rejected', 'approved')", parent.ID)
	if err != nil {
		internal(w, r, err)
		return
	}
	switch {
	case parent.Kind != "filing" || parent.Status != stateApproved || e.Status != "歇业":
		refuse(w, r, http.StatusConflict, "registration.state", "只有已备案且正在歇业的期限可以延长", "Only a suspension in force can be extended")
	case len(pending) > 0:
		refuse(w, r, http.StatusConflict, "registration.state", "已有正在办理的延长申请", "An extension is already in handling")
	case today().Before(opens) || today().After(end):
		refuse(w, r, http.StatusUnprocessableEntity, "registration.extend_window",
			fmt.Sprintf("延长歇业期限应当在歇业期满前30日内申请（%s至%s）", opens.Format("2006-01-02"), parent.EndDate),
			fmt.Sprintf("An extension is applied for in the 30 days before the suspension ends (%s to %s)", opens.Format("2006-01-02"), parent.EndDate))
	case !okEnd || !newEnd.After(end):
		(&problem{"end_date", "新的截止日期应晚于原截止日期", "The new end date must be after the current one"}).refuse(w, r)
	case newEnd.Sub(start) > maxSuspension*24*time.Hour:
		refuse(w, r, http.StatusUnprocessableEntity, "registration.too_long", "歇业期限累计不得超过三年", "A suspension may last three years at most")
	default:
		f.StartDate, f.EndDate = parent.EndDate, in.EndDate
		s.create(w, r, e, f)
	}
}

// create stores a new application and sends it to pre-review.
func (s *service) create(w http.ResponseWriter, r *http.Request, e *enterprise, f *filing) {
	f.District, f.OrgPath, f.Name, f.Status = e.District, "/310000/"+e.District, e.Name, statePrereview
	f.CreatedAt = time.Now().UnixMilli()
	agentJSON, _ := json.Marshal(f.Agent)
	ctx := r.Context()
	s.advance(w, r, f, http.StatusCreated, "suspension."+f.Kind, map[string]any{"uscc": f.USCC, "mode": f.Mode, "start": f.StartDate, "end": f.EndDate},
		func(tx *sql.Tx) error {
			res, err := tx.ExecContext(ctx, `INSERT INTO filings (kind, parent_id, uscc, district, org_path, reason, start_date, end_date,
				service_address, status, mode, applicant, opinions, created_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, '[]', ?)`,
				f.Kind, f.ParentID, f.USCC, f.District, f.OrgPath, f.Reason, f.StartDate, f.EndDate, f.ServiceAddress, f.Status, f.Mode,
				string(agentJSON), f.CreatedAt)
			if err == nil {
				f.ID, err = res.LastInsertId()
			}
			return err
		},
		func(tx *sql.Tx) error { return s.storeDetails(ctx, tx, e, f) },
		func(tx *sql.Tx) error { return s.toStage(ctx, tx, f, statePrereview) })
}

// advance runs steps in one transaction and, once it is committed, audits
// action and answers with the application as it now is.
func (s *service) advance(w http.ResponseWriter, r *http.Request, f *filing, code int, action string, detail map[string]any, steps ...func(*sql.Tx) error) {
	if s.inTx(w, r, steps...) {
		s.audit(r.Context(), action, f.ID, detail)
		s.respond(w, r, code, f.ID)
	}
}

// inTx runs steps in one transaction and commits it, or answers the failure
// and reports false: a failed host call (a gRPC status) as one, any other
// failure as internal.
func (s *service) inTx(w http.ResponseWriter, r *http.Request, steps ...func(*sql.Tx) error) bool {
	tx, err := s.db.BeginTx(r.Context(), nil)
	if err != nil {
		internal(w, r, err)
		return false
	}
	defer func() { _ = tx.Rollback() }()
	for _, step := range steps {
		if err := step(tx); err != nil {
			if _, isHost := status.FromError(err); isHost {
				hostFailed(w, r, err)
			} else {
				internal(w, r, err)
			}
			return false
		}
	}
	if err := tx.Commit(); err != nil {
		internal(w, r, err)
		return false
	}
	return true
}

// storeDetails (re)writes an application's persons, department forms and the
// digest of its generated materials; signatures and the seal start over.
func (s *service) storeDetails(ctx context.Context, tx *sql.Tx, e *enterprise, f *filing) error {
	for _, stmt := range []string{"DELETE FROM filing_persons WHERE filing_id = ?", "DELETE FROM filing_departments WHERE filing_id = ?"} {
		if _, err := tx.ExecContext(ctx, stmt, f.ID); err != nil {
			return err
		}
	}
	for i, p := range f.Extra.persons {
		if _, err := tx.ExecContext(ctx, "INSERT INTO filing_persons (filing_id, seq, role, name, id_masked, person_key) VALUES (?, ?, ?, ?, ?, ?)",
			f.ID, i, p.Role, p.Name, p.IDMasked, p.key); err != nil {
			return err
		}
	}
	f.Persons = f.Extra.persons
	f.Departments = nil
	for _, d := range departments.All {
		form, ok := f.Extra.forms[d.Code]
		if !ok {
			continue
		}
		b, _ := json.Marshal(form)
		if _, err := tx.ExecContext(ctx, "INSERT INTO filing_departments (filing_id, dept, form, status) VALUES (?, ?, ?, 'not_started')", f.ID, d.Code, string(b)); err != nil {
			return err
		}
		f.Departments = append(f.Departments, deptState{Code: d.Code, Form: form})
	}
	f.Digest = digestOf(materialsOf(e, f))
	_, err := tx.ExecContext(ctx, "UPDATE filings SET digest = ?, sealed_at = 0 WHERE id = ?", f.Digest, f.ID)
	return err
}

// toStage moves an application to pre-review or review: it completes the
// task of the stage before and puts the new stage's to-do in the district's
// registration reviewers' workbench.
func (s *service) toStage(ctx context.Context, tx *sql.Tx, f *filing, state string) error {
	s.completeTask(ctx, f, "")
	taskID := ""
	if state == statePrereview || state == stateReview {
		what := map[string][2]string{
			"filing":    {"歇业备案", "Suspension"},
			"extension": {"延长歇业期限", "Suspension extension"},
		}[f.Kind]
		stage := [2]string{"预审", " pre-review"}
		typ := "registration.suspension.prereview"
		if state == stateReview {
			stage, typ = [2]string{"审核", " review"}, "registration.suspension.review"
		}
		mode := map[string]string{modeOnline: "（全程电子化登记）", modeOffline: "（预审后窗口提交）"}[f.Mode]
		task, err := s.host.Tasks.CreateTask(ctx, &pluginv1.CreateTaskRequest{TaskType: typ, BusinessKey: strconv.FormatInt(f.ID, 10),
			Title:          map[string]string{"zh-CN": what[0] + stage[0] + mode + "：" + f.Name, "en": what[1] + stage[1] + ": " + f.Name},
			CandidateRoles: []string{"registration_reviewer"}, OrgCode: f.District})
		if err != nil {
			return err
		}
		taskID = task.TaskId
	}
	f.Status, f.TaskID = state, taskID
	_, err := tx.ExecContext(ctx, "UPDATE filings SET status = ?, task_id = ? WHERE id = ?", state, taskID, f.ID)
	return err
}

// completeTask closes the application's open to-do, if any.
func (s *service) completeTask(ctx context.Context, f *filing, comment string) {
	if f.TaskID == "" {
		return
	}
	if _, err := s.host.Tasks.CompleteTask(ctx, &pluginv1.CompleteTaskRequest{TaskId: f.TaskID, Comment: comment}); err != nil {
		s.log.Warn("to-do not completed", "task", f.TaskID, "err", err)
	}
	f.TaskID = ""
}

// respond answers with the application as it now is.
func (s *service) respond(w http.ResponseWriter, r *http.Request, status int, id int64) {
	f, err := s.oneFiling(r.Context(), "f.id = ?", id)
	if err == nil {
		err = s.details(r.Context(), f)
	}
	if err != nil {
		internal(w, r, err)
		return
	}
	sdk.WriteJSON(w, status, f)
}

func (s *service) audit(ctx context.Context, action string, id int64, detail map[string]any) {
	b, _ := json.Marshal(detail)
	if _, err := s.host.Audit.Write(ctx, &pluginv1.AuditRecord{Action: action, Resource: fmt.Sprintf("filing:%d", id), Outcome: "success", Detail: b}); err != nil {
		s.log.Warn("audit write failed", "action", action, "err", err)
	}
}

// myApplication loads the signed-in enterprise and one of its applications.
func (s *service) myApplication(w http.ResponseWriter, r *http.Request) (*enterprise, *filing, bool) {
	e, ok := s.mine(w, r)
	if !ok {
		return nil, nil, false
	}
	f, ok := s.myFiling(w, r, e)
	return e, f, ok
}

// myFiling loads one of the signed-in enterprise's applications.
func (s *service) myFiling(w http.ResponseWriter, r *http.Request, e *enterprise) (*filing, bool) {
	f, err := s.oneFiling(r.Context(), "f.id = ? AND f.uscc = ?", r.PathValue("id"), e.USCC)
	if errors.Is(err, sql.ErrNoRows) {
		refuse(w, r, http.StatusNotFound, "registration.not_found", "没有该申请", "No such application")
		return nil, false
	} else if err != nil {
		internal(w, r, err)
		return nil, false
	}
	if err := s.details(r.Context(), f); err != nil {
		internal(w, r, err)
		return nil, false
	}
	return f, true
}

func wrongState(w http.ResponseWriter, r *http.Request, f *filing, zh, en string) {
	refuse(w, r, http.StatusConflict, "registration.state", zh+"（当前状态："+stateNames[f.Status]+"）", en+" (state: "+f.Status+")")
}

var stateNames = map[string]string{
	statePrereview: "待预审", stateReturned: "退回修改", stateEnded: "结束办理", stateSignatures: "待签名",
	stateMaterials: "待窗口提交材料", stateReview: "待审核", stateApproved: "已核准", stateRejected: "不予备案",
}

// edit resubmits a returned application with corrections (module 55).
func (s *service) edit(w http.ResponseWriter, r *http.Request) {
	e, f, ok := s.myApplication(w, r)
	if !ok {
		return
	}
	if f.Status != stateReturned {
		wrongState(w, r, f, "只有退回修改的申请可以修改后重新提交", "Only a returned application can be corrected and resubmitted")
		return
	}
	in, ok := s.readApplication(w, r, f)
	if !ok {
		return
	}
	if f.Kind == "filing" && (in.StartDate != "" || in.EndDate != "") {
		if p := checkPeriod(in.StartDate, in.EndDate); p != nil {
			p.refuse(w, r)
			return
		}
		f.StartDate, f.EndDate = in.StartDate, in.EndDate
	}
	agentJSON, _ := json.Marshal(f.Agent)
	ctx := r.Context()
	s.advance(w, r, f, http.StatusOK, "suspension.resubmit", map[string]any{"uscc": f.USCC, "mode": f.Mode},
		func(tx *sql.Tx) error {
			_, err := tx.ExecContext(ctx, "UPDATE filings SET mode = ?, reason = ?, start_date = ?, end_date = ?, service_address = ?, applicant = ? WHERE id = ?",
				f.Mode, f.Reason, f.StartDate, f.EndDate, f.ServiceAddress, string(agentJSON), f.ID)
			return err
		},
		func(tx *sql.Tx) error { return s.storeDetails(ctx, tx, e, f) },
		func(tx *sql.Tx) error { return s.toStage(ctx, tx, f, statePrereview) })
}

// end ends the handling of a returned application (结束办理, module 55).
func (s *service) end(w http.ResponseWriter, r *http.Request) {
	_, f, ok := s.myApplication(w, r)
	if !ok {
		return
	}
	if f.Status != stateReturned {
		wrongState(w, r, f, "只有退回修改的申请可以结束办理", "Only a returned application can be ended")
		return
	}
	if _, err := s.db.ExecContext(r.Context(), "UPDATE filings SET status = ? WHERE id = ? AND status = ?", stateEnded, f.ID, stateReturned); err != nil {
		internal(w, r, err)
		return
	}
	s.audit(r.Context(), "suspension.end", f.ID, map[string]any{"uscc": f.USCC})
	s.respond(w, r, http.StatusOK, f.ID)
}

// myMaterials returns the generated materials (module 51; 58 for the
// offline path: download, print, sign on paper, bring to the window).
func (s *service) myMaterials(w http.ResponseWriter, r *http.Request) {
	e, f, ok := s.myApplication(w, r)
	if !ok {
		return
	}
	sdk.WriteJSON(w, http.StatusOK, map[string]any{"digest": f.Digest, "materials": materialsOf(e, f)})
}

// seal applies the enterprise's e-seal to the materials (module 64: always
// required on the online path).
func (s *service) seal(w http.ResponseWriter, r *http.Request) {
	var in struct {
		Digest string `json:"digest"`
	}
	if !decode(w, r, &in) {
		return
	}
	_, f, ok := s.myApplication(w, r)
	if !ok {
		return
	}
	switch {
	case f.Status != stateSignatures:
		wrongState(w, r, f, "预审通过后才能加盖电子印章", "The e-seal is applied after pre-review has passed")
	case in.Digest != f.Digest:
		refuse(w, r, http.StatusConflict, "registration.stale", "申请材料已变更，请重新阅读后再签章", "The materials changed: read them again before sealing")
	default:
		if _, err := s.db.ExecContext(r.Context(), "UPDATE filings SET sealed_at = ? WHERE id = ? AND digest = ?", time.Now().UnixMilli(), f.ID, f.Digest); err != nil {
			internal(w, r, err)
			return
		}
		s.audit(r.Context(), "suspension.seal", f.ID, map[string]any{"uscc": f.USCC, "digest": f.Digest})
		s.respond(w, r, http.StatusOK, f.ID)
	}
}

// submitForReview sends a fully signed online application to review
// (module 54).
func (s *service) submitForReview(w http.ResponseWriter, r *http.Request) {
	_, f, ok := s.myApplication(w, r)
	if !ok {
		return
	}
	if f.Status != stateSignatures {
		wrongState(w, r, f, "只有签名完成的申请可以提交审核", "Only a signed application can be submitted for review")
		return
	}
	if len(f.Missing) > 0 {
		refuse(w, r, http.StatusConflict, "registration.unsigned", "尚未完成签名："+strings.Join(f.Missing, "、"), "Still to sign: "+strings.Join(f.Missing, ", "))
		return
	}
	s.advance(w, r, f, http.StatusOK, "suspension.submit", map[string]any{"uscc": f.USCC, "digest": f.Digest},
		func(tx *sql.Tx) error { return s.toStage(r.Context(), tx, f, stateReview) })
}

// terminate ends a suspension early: publishing the 终止歇业 announcement
// restores the status the entity had before (R39, module 49) and the
// departments are told (module 68).
func (s *service) terminate(w http.ResponseWriter, r *http.Request) {
	e, f, ok := s.myApplication(w, r)
	if !ok {
		return
	}
	if f.Kind != "filing" || f.Status != stateApproved || e.Status != "歇业" {
		refuse(w, r, http.StatusConflict, "registration.state", "没有正在歇业的备案可以终止", "There is no suspension in force to end")
		return
	}
	prior := e.PriorStatus
	if prior == "" {
		prior = "存续"
	}
	ctx := r.Context()
	var id int64
	if !s.inTx(w, r, func(tx *sql.Tx) error {
		if _, err := tx.ExecContext(ctx, "UPDATE enterprises SET status = ?, prior_status = '' WHERE uscc = ? AND status = '歇业'", prior, e.USCC); err != nil {
			return err
		}
		// The suspension ends today.
		if _, err := tx.ExecContext(ctx, "UPDATE filings SET end_date = ? WHERE id = ?", today().Format("2006-01-02"), f.ID); err != nil {
			return err
		}
		res, err := tx.ExecContext(ctx, `INSERT INTO filings (kind, parent_id, uscc, district, org_path, reason, start_date, end_date,
			service_address, status, mode, note, created_at) VALUES ('termination', ?, ?, ?, ?, '终止歇业', ?, ?, ?, ?, 'online', '终止歇业公告已发布', ?)`,
			f.ID, e.USCC, e.District, f.OrgPath, today().Format("2006-01-02"), f.EndDate, f.ServiceAddress, stateApproved, time.Now().UnixMilli())
		if err != nil {
			return err
		}
		id, _ = res.LastInsertId()
		for _, d := range f.Departments { // the departments the suspension was shared with
			b, _ := json.Marshal(d.Form)
			if _, err := tx.ExecContext(ctx, "INSERT INTO filing_departments (filing_id, dept, form, status) VALUES (?, ?, ?, 'not_started')", id, d.Code, string(b)); err != nil {
				return err
			}
		}
		return nil
	}) {
		return
	}
	s.registryChanged(r.Context(), e.USCC)
	s.statusChanged(r.Context(), e.USCC, "歇业", prior, "suspension.terminated")
	s.audit(r.Context(), "suspension.terminate", id, map[string]any{"uscc": e.USCC, "restored": prior})
	t, err := s.oneFiling(r.Context(), "f.id = ?", id)
	if err == nil {
		err = s.details(r.Context(), t)
	}
	if err == nil {
		s.push(r.Context(), t, "suspension.terminated")
		err = s.details(r.Context(), t)
	}
	if err != nil {
		internal(w, r, err)
		return
	}
	sdk.WriteJSON(w, http.StatusOK, map[string]any{"status": prior, "announcement": "终止歇业公告已发布", "filing": t})
}

// statusChanged tells other plugins (enterprise.status_changed).
func (s *service) statusChanged(ctx context.Context, uscc, from, to, reason string) {
	b, _ := json.Marshal(map[string]string{"uscc": uscc, "from": from, "to": to, "reason": reason})
	if _, err := s.host.Events.PublishEvent(ctx, &pluginv1.PublishEventRequest{Type: "enterprise.status_changed", Data: b}); err != nil {
		s.log.Warn("enterprise.status_changed not published", "uscc", uscc, "err", err)
	}
}
