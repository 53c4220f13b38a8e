package main

// The establishment application (设立登记, cluster A's workflow): a member
// of the public fills in the company; the New Company Law rules (package
// rules) check it and every violation comes back with its rule and field;
// the application form is generated; every person on it — the legal
// representative, the directors, supervisors and manager, the natural-person
// shareholders — signs it in the portal as themselves; the applicant
// submits; the district's registration reviewers pre-review and review it
// in the workbench; on approval the company gets its unified social credit
// code and enters the registry (存续), and enterprise.established is
// published.

import (
	"context"
	"crypto/rand"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
	"math/big"
	"net/http"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/shanghai-amr/portal/plugins/registration/registry"
	"github.com/shanghai-amr/portal/plugins/registration/rules"
	"github.com/shanghai-amr/portal/sdk"
	"github.com/shanghai-amr/portal/sdk/filter"
	"github.com/shanghai-amr/portal/sdk/idcode"
	"github.com/shanghai-amr/portal/sdk/proto/pluginv1"
	"github.com/shanghai-amr/portal/sdk/storage"
)

// establishment is an establishment application as its readers see it:
// identity numbers masked.
type establishment struct {
	ID        int64         `json:"id"`
	Name      string        `json:"name"`
	District  string        `json:"district"`
	OrgPath   string        `json:"-"`
	Address   string        `json:"address"`
	Scope     string        `json:"scope"`
	Company   rules.Company `json:"company"`
	Applicant string        `json:"applicant"`
	applicant string        // the applicant's person key
	Status    string        `json:"status"`
	Digest    string        `json:"digest"`
	USCC      string        `json:"uscc,omitempty"`
	TaskID    string        `json:"-"`
	Opinions  []opinion     `json:"opinions,omitempty"`
	Signers   []person      `json:"signers"`
	Missing   []string      `json:"missing_signatures,omitempty"`
	Materials []material    `json:"materials,omitempty"`
	// ToSign: the signed-in person must still sign it (their own list).
	ToSign    bool  `json:"to_sign,omitempty"`
	CreatedAt int64 `json:"created_at"`
}

// establishmentIn is what the applicant fills.
type establishmentIn struct {
	Name     string        `json:"name"`
	District string        `json:"district"`
	Address  string        `json:"address"`
	Scope    string        `json:"scope"` // 经营范围
	Company  rules.Company `json:"company"`
}

func migrateEstablishments(ctx context.Context, db *sql.DB, dialect string) error {
	id := storage.AutoID(dialect)
	for _, stmt := range []string{
		`CREATE TABLE IF NOT EXISTS establishments (
			id ` + id + `,
			name VARCHAR(100) NOT NULL,
			district VARCHAR(6) NOT NULL,
			org_path VARCHAR(64) NOT NULL,
			applicant_name VARCHAR(64) NOT NULL,
			applicant_key VARCHAR(64) NOT NULL,
			data TEXT NOT NULL,
			status VARCHAR(24) NOT NULL,
			digest VARCHAR(64) NOT NULL,
			uscc VARCHAR(18) NOT NULL DEFAULT '',
			task_id VARCHAR(32) NOT NULL DEFAULT '',
			opinions TEXT,
			created_at BIGINT NOT NULL)`,
		`CREATE TABLE IF NOT EXISTS establishment_signers (
			establishment_id BIGINT NOT NULL,
			seq INT NOT NULL,
			role VARCHAR(64) NOT NULL,
			name VARCHAR(64) NOT NULL,
			id_masked VARCHAR(24) NOT NULL,
			person_key VARCHAR(64) NOT NULL,
			signed_at BIGINT NOT NULL DEFAULT 0,
			signed_digest VARCHAR(64) NOT NULL DEFAULT '',
			PRIMARY KEY (establishment_id, seq))`,
	} {
		if _, err := db.ExecContext(ctx, stmt); err != nil {
			return err
		}
	}
	return nil
}

func (s *service) establishmentRoutes(mux *http.ServeMux) {
	mux.HandleFunc("POST /establishments", s.establish)
	mux.HandleFunc("GET /establishments/mine", s.myEstablishments)
	mux.HandleFunc("POST /establishments/{id}/sign", s.signEstablishment)
	mux.HandleFunc("POST /establishments/{id}/submit", s.submitEstablishment)
	mux.HandleFunc("POST /establishments/{id}/resubmit", s.resubmitEstablishment)
	mux.HandleFunc("POST /establishments/{id}/end", s.endEstablishment)
	mux.HandleFunc("GET /establishments", s.listEstablishments)
	mux.HandleFunc("GET /establishments/{id}", s.getEstablishment)
	mux.HandleFunc("POST /establishments/{id}/prereview", s.decideEstablishment("prereview"))
	mux.HandleFunc("POST /establishments/{id}/approve", s.decideEstablishment("approve"))
	mux.HandleFunc("POST /establishments/{id}/return", s.decideEstablishment("return"))
}

const establishmentColumns = "id, name, district, org_path, applicant_name, applicant_key, data, status, digest, uscc, task_id, opinions, created_at"

func scanEstablishment(row interface{ Scan(...any) error }) (*establishment, error) {
	var e establishment
	var data string
	var opinions sql.NullString
	if err := row.Scan(&e.ID, &e.Name, &e.District, &e.OrgPath, &e.Applicant, &e.applicant, &data, &e.Status, &e.Digest, &e.USCC,
		&e.TaskID, &opinions, &e.CreatedAt); err != nil {
		return nil, err
	}
	var in establishmentIn
	if err := json.Unmarshal([]byte(data), &in); err != nil {
		return nil, fmt.Errorf("establishment %d: %w", e.ID, err)
	}
	e.Address, e.Scope, e.Company = in.Address, in.Scope, in.Company
	_ = json.Unmarshal([]byte(opinions.String), &e.Opinions)
	return &e, nil
}

// loadSigners reads the signers and masks the identity numbers of the
// company data for output.
func (s *service) loadSigners(ctx context.Context, e *establishment) error {
	rows, err := s.db.QueryContext(ctx, "SELECT role, name, id_masked, person_key, signed_at, signed_digest FROM establishment_signers WHERE establishment_id = ? ORDER BY seq", e.ID)
	if err != nil {
		return err
	}
	defer rows.Close()
	e.Signers = []person{}
	e.Missing = nil
	for rows.Next() {
		p := person{Required: true}
		if err := rows.Scan(&p.Role, &p.Name, &p.IDMasked, &p.key, &p.SignedAt, &p.signedFor); err != nil {
			return err
		}
		if p.SignedAt == 0 || p.signedFor != e.Digest {
			e.Missing = append(e.Missing, p.Role+" "+p.Name)
		}
		e.Signers = append(e.Signers, p)
	}
	maskCompany(&e.Company)
	return rows.Err()
}

func maskCompany(c *rules.Company) {
	mask := func(p *rules.Person) {
		if p.IDType == rules.ResidentID {
			p.IDNumber = idcode.MaskResidentID(p.IDNumber)
		}
	}
	mask(&c.LegalRep.Person)
	for i := range c.Members {
		mask(&c.Members[i].Person)
	}
	for i := range c.Shareholders {
		mask(&c.Shareholders[i].Person)
	}
}

func (s *service) oneEstablishment(ctx context.Context, id string) (*establishment, error) {
	e, err := scanEstablishment(s.db.QueryRowContext(ctx, "SELECT "+establishmentColumns+" FROM establishments WHERE id = ?", id))
	if err == nil {
		err = s.loadSigners(ctx, e)
	}
	return e, err
}

// checkEstablishment validates what the applicant filled: the name, the
// district, the address and scope, then every New Company Law rule.
func (s *service) checkEstablishment(w http.ResponseWriter, r *http.Request) (*establishmentIn, bool) {
	var in establishmentIn
	if !decode(w, r, &in) {
		return nil, false
	}
	in.Name, in.Address, in.Scope = strings.TrimSpace(in.Name), strings.TrimSpace(in.Address), strings.TrimSpace(in.Scope)
	d, derr := registry.ParseDistrict(in.District)
	suffix := "有限公司"
	if in.Company.Type == rules.JSC || in.Company.Type == rules.ListedJSC {
		suffix = "股份有限公司"
	}
	var p *problem
	switch {
	case utf8.RuneCountInString(in.Name) < 6 || utf8.RuneCountInString(in.Name) > 50:
		p = &problem{"name", "企业名称应为6至50个字", "The company name has 6 to 50 characters"}
	case !strings.HasSuffix(in.Name, suffix) && !strings.HasSuffix(in.Name, "有限责任公司"):
		p = &problem{"name", "企业名称应以“" + suffix + "”结尾，与公司类型一致", "The name must end in " + suffix + ", matching the company type"}
	case derr != nil:
		p = &problem{"district", "请选择住所所在区", "Choose the district of the domicile"}
	case in.Address == "" || utf8.RuneCountInString(in.Address) > 200:
		p = &problem{"address", "请填写住所（200字以内）", "Give the domicile (at most 200 characters)"}
	case in.Scope == "" || utf8.RuneCountInString(in.Scope) > 2000:
		p = &problem{"scope", "请填写经营范围（2000字以内）", "Give the business scope (at most 2,000 characters)"}
	}
	if p != nil {
		p.refuse(w, r)
		return nil, false
	}
	in.District = d.String()
	var taken int
	if err := s.db.QueryRowContext(r.Context(), "SELECT COUNT(*) FROM enterprises WHERE name = ?", in.Name).Scan(&taken); err != nil {
		internal(w, r, err)
		return nil, false
	}
	if taken > 0 {
		refuse(w, r, http.StatusUnprocessableEntity, "registration.name_taken", "企业名称“"+in.Name+"”已被登记", "The name "+in.Name+" is already registered")
		return nil, false
	}
	if vs := rules.Validate(rules.Application{FiledOn: today(), Company: in.Company}); len(vs) > 0 {
		sdk.WriteError(w, r, http.StatusUnprocessableEntity, "registration.rules", sdk.Message{ZH: vs[0].Message["zh-CN"], EN: vs[0].Message["en"]}, vs)
		return nil, false
	}
	return &in, true
}

// readEstablishment reads and checks what the applicant filled and works out
// its signers, or answers why not.
func (s *service) readEstablishment(w http.ResponseWriter, r *http.Request) (*establishmentIn, []person, bool) {
	in, ok := s.checkEstablishment(w, r)
	if !ok {
		return nil, nil, false
	}
	signers, p, err := s.signersOf(r.Context(), in.Company)
	if err != nil {
		hostFailed(w, r, err)
		return nil, nil, false
	}
	if p != nil {
		p.refuse(w, r)
		return nil, nil, false
	}
	return in, signers, true
}

// signersOf lists everyone who must sign: the legal representative, the main
// members and the natural-person shareholders, once per person with all
// their roles. Signing online needs a resident identity card.
func (s *service) signersOf(ctx context.Context, c rules.Company) ([]person, *problem, error) {
	var out []person
	index := map[string]int{}
	add := func(p rules.Person, role, field string) (*problem, error) {
		if p.IDType != rules.ResidentID {
			return &problem{field, p.Name + "：全程电子化登记需使用居民身份证签名", p.Name + ": signing online takes a resident identity card"}, nil
		}
		key, err := s.personKey(ctx, p.IDNumber)
		if err != nil {
			return nil, err
		}
		if i, ok := index[key]; ok {
			if !strings.Contains(out[i].Role, role) {
				out[i].Role += "、" + role
			}
			return nil, nil
		}
		index[key] = len(out)
		out = append(out, person{Role: role, Name: p.Name, IDMasked: idcode.MaskResidentID(p.IDNumber), key: key, Required: true})
		return nil, nil
	}
	steps := []func() (*problem, error){func() (*problem, error) { return add(c.LegalRep.Person, "法定代表人", "company.legalRep") }}
	for i, m := range c.Members {
		role := "主要成员"
		if len(m.Positions) > 0 {
			role = positionLabel(m.Positions[0])
		}
		steps = append(steps, func() (*problem, error) { return add(m.Person, role, fmt.Sprintf("company.members[%d]", i)) })
	}
	for i, sh := range c.Shareholders {
		if sh.Kind == rules.NaturalPerson {
			steps = append(steps, func() (*problem, error) { return add(sh.Person, "股东", fmt.Sprintf("company.shareholders[%d]", i)) })
		}
	}
	for _, step := range steps {
		if p, err := step(); p != nil || err != nil {
			return nil, p, err
		}
	}
	return out, nil, nil
}

var positionLabels = map[rules.Position]string{rules.Chairman: "董事长", rules.ViceChairman: "副董事长", rules.Director: "董事",
	rules.ExecutiveDirector: "执行董事", rules.SupervisorChair: "监事会主席", rules.Supervisor: "监事", rules.Manager: "经理"}

func positionLabel(p rules.Position) string {
	if l, ok := positionLabels[p]; ok {
		return l
	}
	return string(p)
}

var companyTypeLabels = map[rules.CompanyType]string{rules.LLC: "有限责任公司", rules.OnePersonLLC: "一人有限责任公司",
	rules.StateSoleLLC: "国有独资公司", rules.JSC: "股份有限公司", rules.ListedJSC: "上市股份有限公司"}

// establishmentMaterials generates the application form (设立登记申请书) and
// the statement that the materials are true: what the signers sign.
func establishmentMaterials(in *establishmentIn, signers []person) []material {
	c := in.Company
	yuan := func(fen int64) string { return strconv.FormatFloat(float64(fen)/1e6, 'f', -1, 64) + "万元" }
	d, _ := registry.ParseDistrict(in.District)
	form := []string{
		"企业名称：" + in.Name,
		"公司类型：" + companyTypeLabels[c.Type],
		"住所：上海市" + d.Name() + in.Address,
		"注册资本：" + yuan(c.RegisteredCapitalFen),
		"经营范围：" + in.Scope,
		fmt.Sprintf("法定代表人：%s（%s，%s）", c.LegalRep.Name, positionLabel(c.LegalRep.Position), idcode.MaskResidentID(c.LegalRep.IDNumber)),
	}
	if c.Board == nil {
		form = append(form, "董事会：不设董事会")
	} else {
		form = append(form, "董事会：设董事会")
	}
	for _, m := range c.Members {
		var ps []string
		for _, p := range m.Positions {
			ps = append(ps, positionLabel(p))
		}
		form = append(form, fmt.Sprintf("主要成员：%s（%s）", m.Name, strings.Join(ps, "、")))
	}
	for _, sh := range c.Shareholders {
		var parts []string
		for _, i := range sh.Instalments {
			parts = append(parts, fmt.Sprintf("%s前缴付%s", i.Due.In(shanghai).Format("2006-01-02"), yuan(i.AmountFen)))
		}
		form = append(form, fmt.Sprintf("股东：%s 认缴%s（%s）", sh.Name, yuan(sh.SubscribedFen), strings.Join(parts, "；")))
	}
	var names []string
	for _, p := range signers {
		names = append(names, p.Role+" "+p.Name)
	}
	form = append(form, "签署人员："+strings.Join(names, "；"))
	return []material{
		{Key: "application", Title: "公司设立登记申请书", TitleEn: "Application for company establishment", Lines: form},
		{Key: "authenticity", Title: "材料真实性承诺书", TitleEn: "Statement that the materials are true", Lines: []string{
			"申请人及全体签署人承诺所提交的申请材料及填报信息真实、合法、有效，并对因材料虚假所引发的一切后果承担法律责任。"}},
	}
}

// establish takes a new application: checked, stored with its signers,
// waiting for their signatures.
func (s *service) establish(w http.ResponseWriter, r *http.Request) {
	who := sdk.CallerFrom(r.Context())
	if who.PersonKey == "" {
		refuse(w, r, http.StatusForbidden, "registration.real_name", "请以实名认证的个人身份登录后申请", "Sign in with your real-name identity to apply")
		return
	}
	in, signers, ok := s.readEstablishment(w, r)
	if !ok {
		return
	}
	data, _ := json.Marshal(in)
	digest := digestOf(establishmentMaterials(in, signers))
	var id int64
	if !s.inTx(w, r, func(tx *sql.Tx) error {
		res, err := tx.ExecContext(r.Context(), `INSERT INTO establishments (name, district, org_path, applicant_name, applicant_key, data, status, digest, opinions, created_at)
			VALUES (?, ?, ?, ?, ?, ?, ?, ?, '[]', ?)`, in.Name, in.District, "/310000/"+in.District, who.DisplayName, who.PersonKey, string(data),
			stateSignatures, digest, time.Now().UnixMilli())
		if err != nil {
			return err
		}
		id, _ = res.LastInsertId()
		return storeSigners(r.Context(), tx, id, signers)
	}) {
		return
	}
	s.auditEstablishment(r.Context(), "establishment.apply", id, map[string]any{"name": in.Name, "district": in.District, "signers": len(signers)})
	s.respondEstablishment(w, r, http.StatusCreated, id, true)
}

func storeSigners(ctx context.Context, tx *sql.Tx, id int64, signers []person) error {
	if _, err := tx.ExecContext(ctx, "DELETE FROM establishment_signers WHERE establishment_id = ?", id); err != nil {
		return err
	}
	for i, p := range signers {
		if _, err := tx.ExecContext(ctx, "INSERT INTO establishment_signers (establishment_id, seq, role, name, id_masked, person_key) VALUES (?, ?, ?, ?, ?, ?)",
			id, i, p.Role, p.Name, p.IDMasked, p.key); err != nil {
			return err
		}
	}
	return nil
}

func (s *service) auditEstablishment(ctx context.Context, action string, id int64, detail map[string]any) {
	b, _ := json.Marshal(detail)
	if _, err := s.host.Audit.Write(ctx, &pluginv1.AuditRecord{Action: action, Resource: fmt.Sprintf("establishment:%d", id), Outcome: "success", Detail: b}); err != nil {
		s.log.Warn("audit write failed", "action", action, "err", err)
	}
}

func (s *service) respondEstablishment(w http.ResponseWriter, r *http.Request, status int, id int64, materials bool) {
	e, err := s.oneEstablishment(r.Context(), strconv.FormatInt(id, 10))
	if err != nil {
		internal(w, r, err)
		return
	}
	if materials {
		s.attachMaterials(r.Context(), e)
	}
	sdk.WriteJSON(w, status, e)
}

// attachMaterials regenerates the materials from the stored application.
func (s *service) attachMaterials(ctx context.Context, e *establishment) {
	var data string
	if err := s.db.QueryRowContext(ctx, "SELECT data FROM establishments WHERE id = ?", e.ID).Scan(&data); err != nil {
		return
	}
	var in establishmentIn
	if json.Unmarshal([]byte(data), &in) == nil {
		e.Materials = establishmentMaterials(&in, e.Signers)
	}
}

// myEstablishments lists what the signed-in person applied for or must sign.
func (s *service) myEstablishments(w http.ResponseWriter, r *http.Request) {
	key := sdk.CallerFrom(r.Context()).PersonKey
	out := []*establishment{}
	if key != "" {
		rows, err := s.db.QueryContext(r.Context(), "SELECT id FROM establishments WHERE applicant_key = ? OR id IN (SELECT establishment_id FROM establishment_signers WHERE person_key = ?) ORDER BY id DESC LIMIT 50", key, key)
		if err != nil {
			internal(w, r, err)
			return
		}
		var ids []string
		for rows.Next() {
			var id string
			_ = rows.Scan(&id)
			ids = append(ids, id)
		}
		rows.Close()
		for _, id := range ids {
			e, err := s.oneEstablishment(r.Context(), id)
			if err != nil {
				internal(w, r, err)
				return
			}
			s.attachMaterials(r.Context(), e)
			for _, p := range e.Signers {
				e.ToSign = e.ToSign || (e.Status == stateSignatures && p.key == key && (p.SignedAt == 0 || p.signedFor != e.Digest))
			}
			out = append(out, e)
		}
	}
	sdk.WriteJSON(w, http.StatusOK, map[string]any{"establishments": out, "person_key_present": key != ""})
}

// mine loads an application the signed-in person applied for (applicant)
// or must sign; 404 for anyone else.
func (s *service) myEstablishment(w http.ResponseWriter, r *http.Request, asApplicant bool) (*establishment, bool) {
	key := sdk.CallerFrom(r.Context()).PersonKey
	e, err := s.oneEstablishment(r.Context(), r.PathValue("id"))
	if err == nil {
		allowed := key != "" && e.applicant == key
		if !asApplicant {
			allowed = false
			for _, p := range e.Signers {
				allowed = allowed || (key != "" && p.key == key)
			}
		}
		if !allowed {
			err = sql.ErrNoRows
		}
	}
	if errors.Is(err, sql.ErrNoRows) {
		refuse(w, r, http.StatusNotFound, "registration.not_found", "没有该申请", "No such application")
		return nil, false
	} else if err != nil {
		internal(w, r, err)
		return nil, false
	}
	return e, true
}

func (s *service) signEstablishment(w http.ResponseWriter, r *http.Request) {
	var in struct {
		Digest string `json:"digest"`
	}
	if !decode(w, r, &in) {
		return
	}
	e, ok := s.myEstablishment(w, r, false)
	if !ok {
		return
	}
	switch {
	case e.Status != stateSignatures:
		refuse(w, r, http.StatusConflict, "registration.state", "该申请当前不需要签名（"+stateNames[e.Status]+"）", "The application is not gathering signatures ("+e.Status+")")
	case in.Digest != e.Digest:
		refuse(w, r, http.StatusConflict, "registration.stale", "申请材料已变更，请重新阅读后再签名", "The materials changed: read them again before signing")
	default:
		if _, err := s.db.ExecContext(r.Context(), "UPDATE establishment_signers SET signed_at = ?, signed_digest = ? WHERE establishment_id = ? AND person_key = ?",
			time.Now().UnixMilli(), e.Digest, e.ID, sdk.CallerFrom(r.Context()).PersonKey); err != nil {
			internal(w, r, err)
			return
		}
		s.auditEstablishment(r.Context(), "establishment.sign", e.ID, map[string]any{"digest": e.Digest})
		s.respondEstablishment(w, r, http.StatusOK, e.ID, true)
	}
}

// establishmentStage moves an application and puts its to-do in the
// district's registration reviewers' workbench for pre-review and review.
func (s *service) establishmentStage(ctx context.Context, e *establishment, state string) error {
	if e.TaskID != "" {
		if _, err := s.host.Tasks.CompleteTask(ctx, &pluginv1.CompleteTaskRequest{TaskId: e.TaskID}); err != nil {
			s.log.Warn("to-do not completed", "task", e.TaskID, "err", err)
		}
	}
	taskID := ""
	if state == statePrereview || state == stateReview {
		stage, typ := [2]string{"预审", "Pre-review"}, "registration.establishment.prereview"
		if state == stateReview {
			stage, typ = [2]string{"审核", "Review"}, "registration.establishment.review"
		}
		task, err := s.host.Tasks.CreateTask(ctx, &pluginv1.CreateTaskRequest{TaskType: typ, BusinessKey: strconv.FormatInt(e.ID, 10),
			Title:          map[string]string{"zh-CN": "设立登记" + stage[0] + "：" + e.Name, "en": "Establishment " + strings.ToLower(stage[1]) + ": " + e.Name},
			CandidateRoles: []string{"registration_reviewer"}, OrgCode: e.District})
		if err != nil {
			return err
		}
		taskID = task.TaskId
	}
	b, _ := json.Marshal(e.Opinions)
	_, err := s.db.ExecContext(ctx, "UPDATE establishments SET status = ?, task_id = ?, opinions = ?, uscc = ? WHERE id = ?", state, taskID, string(b), e.USCC, e.ID)
	e.Status, e.TaskID = state, taskID
	return err
}

// submitEstablishment sends a fully signed application to pre-review.
func (s *service) submitEstablishment(w http.ResponseWriter, r *http.Request) {
	e, ok := s.myEstablishment(w, r, true)
	if !ok {
		return
	}
	switch {
	case e.Status != stateSignatures:
		wrongStateOf(w, r, e.Status, "只有签名阶段的申请可以提交", "Only an application gathering signatures can be submitted")
	case len(e.Missing) > 0:
		refuse(w, r, http.StatusConflict, "registration.unsigned", "尚未完成签名："+strings.Join(e.Missing, "、"), "Still to sign: "+strings.Join(e.Missing, ", "))
	default:
		if err := s.establishmentStage(r.Context(), e, statePrereview); err != nil {
			hostFailed(w, r, err)
			return
		}
		s.auditEstablishment(r.Context(), "establishment.submit", e.ID, map[string]any{"digest": e.Digest})
		s.respondEstablishment(w, r, http.StatusOK, e.ID, false)
	}
}

func wrongStateOf(w http.ResponseWriter, r *http.Request, state, zh, en string) {
	refuse(w, r, http.StatusConflict, "registration.state", zh+"（当前状态："+stateNames[state]+"）", en+" (state: "+state+")")
}

// resubmitEstablishment takes a returned application corrected: checked
// again, and every signature starts over.
func (s *service) resubmitEstablishment(w http.ResponseWriter, r *http.Request) {
	e, ok := s.myEstablishment(w, r, true)
	if !ok {
		return
	}
	if e.Status != stateReturned {
		wrongStateOf(w, r, e.Status, "只有退回修改的申请可以重新提交", "Only a returned application can be resubmitted")
		return
	}
	in, signers, ok := s.readEstablishment(w, r)
	if !ok {
		return
	}
	data, _ := json.Marshal(in)
	if !s.inTx(w, r, func(tx *sql.Tx) error {
		if _, err := tx.ExecContext(r.Context(), "UPDATE establishments SET name = ?, district = ?, org_path = ?, data = ?, digest = ?, status = ? WHERE id = ? AND status = ?",
			in.Name, in.District, "/310000/"+in.District, string(data), digestOf(establishmentMaterials(in, signers)), stateSignatures, e.ID, stateReturned); err != nil {
			return err
		}
		return storeSigners(r.Context(), tx, e.ID, signers)
	}) {
		return
	}
	s.auditEstablishment(r.Context(), "establishment.resubmit", e.ID, nil)
	s.respondEstablishment(w, r, http.StatusOK, e.ID, true)
}

func (s *service) endEstablishment(w http.ResponseWriter, r *http.Request) {
	e, ok := s.myEstablishment(w, r, true)
	if !ok {
		return
	}
	if e.Status != stateReturned && e.Status != stateSignatures {
		wrongStateOf(w, r, e.Status, "审查中或已办结的申请不能结束办理", "An application in review or decided cannot be ended")
		return
	}
	if _, err := s.db.ExecContext(r.Context(), "UPDATE establishments SET status = ? WHERE id = ?", stateEnded, e.ID); err != nil {
		internal(w, r, err)
		return
	}
	s.auditEstablishment(r.Context(), "establishment.end", e.ID, nil)
	s.respondEstablishment(w, r, http.StatusOK, e.ID, false)
}

// staffEstablishment loads an application in the caller's data scope.
func (s *service) staffEstablishment(w http.ResponseWriter, r *http.Request, action string) (*establishment, bool) {
	e, err := s.oneEstablishment(r.Context(), r.PathValue("id"))
	if err == nil && !allowedOn(r, action, e.OrgPath) {
		err = sql.ErrNoRows
	}
	if errors.Is(err, sql.ErrNoRows) {
		refuse(w, r, http.StatusNotFound, "registration.not_found", "没有该申请", "No such application")
		return nil, false
	} else if err != nil {
		internal(w, r, err)
		return nil, false
	}
	return e, true
}

func (s *service) getEstablishment(w http.ResponseWriter, r *http.Request) {
	if e, ok := s.staffEstablishment(w, r, "registration.application.read"); ok {
		s.attachMaterials(r.Context(), e)
		sdk.WriteJSON(w, http.StatusOK, e)
	}
}

func (s *service) listEstablishments(w http.ResponseWriter, r *http.Request) {
	fl, err := sdk.HostFrom(r.Context()).Policy.DataFilter(r.Context(), &pluginv1.DataFilterRequest{Action: "registration.application.read", ResourceType: "establishment"})
	if err != nil {
		refuse(w, r, http.StatusServiceUnavailable, "registration.host", "权限服务暂不可用", "The policy service is unavailable")
		return
	}
	where, args, err := filter.SQL(fl, map[string]string{"resource.org_path": "org_path"})
	if err != nil {
		internal(w, r, err)
		return
	}
	rows, err := s.db.QueryContext(r.Context(), "SELECT "+establishmentColumns+" FROM establishments WHERE "+where+" ORDER BY id DESC LIMIT 200", args...)
	if err != nil {
		internal(w, r, err)
		return
	}
	defer rows.Close()
	out := []*establishment{}
	for rows.Next() {
		e, err := scanEstablishment(rows)
		if err != nil {
			internal(w, r, err)
			return
		}
		maskCompany(&e.Company)
		out = append(out, e)
	}
	sdk.WriteJSON(w, http.StatusOK, map[string]any{"establishments": out})
}

// decideEstablishment is the reviewers' side: pre-review (pass or return)
// and review (approve or return). Approval registers the company.
func (s *service) decideEstablishment(action string) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		in, ok := s.readDecision(w, r)
		if !ok {
			return
		}
		e, ok := s.staffEstablishment(w, r, "registration.application.review")
		if !ok {
			return
		}
		stage, next := "review", stateApproved
		switch {
		case action == "prereview" && e.Status == statePrereview:
			stage, next = "prereview", stateReview
			if in.Decision == "return" {
				action = "return"
			} else if in.Decision != "pass" {
				(&problem{"decision", "预审意见应为“预审通过”（pass）或“退回修改”（return）", "The decision is pass or return"}).refuse(w, r)
				return
			}
		case action == "return" && e.Status == stateReview, action == "approve" && e.Status == stateReview:
		default:
			wrongStateOf(w, r, e.Status, "该申请当前不能这样处理", "The application cannot be handled so now")
			return
		}
		if action == "return" {
			if in.Note == "" {
				(&problem{"note", "退回修改须说明理由", "Say what must change"}).refuse(w, r)
				return
			}
			next = stateReturned
		}
		decision := map[string]string{"prereview": "pass", "return": "return", "approve": "approve"}[action]
		by := sdk.CallerFrom(r.Context()).DisplayName
		e.Opinions = append(e.Opinions, opinion{Stage: stage, Decision: decision, By: by, Note: in.Note, Materials: in.Materials, At: time.Now().UnixMilli()})
		if next == stateApproved {
			code, err := s.register(r.Context(), e)
			if err != nil {
				internal(w, r, err)
				return
			}
			e.USCC = code
		}
		if err := s.establishmentStage(r.Context(), e, next); err != nil {
			hostFailed(w, r, err)
			return
		}
		s.auditEstablishment(r.Context(), "establishment."+stage+"."+decision, e.ID, map[string]any{"uscc": e.USCC})
		if next == stateApproved {
			s.registryChanged(r.Context(), e.USCC)
			b, _ := json.Marshal(map[string]string{"uscc": e.USCC, "name": e.Name, "district": e.District})
			if _, err := s.host.Events.PublishEvent(r.Context(), &pluginv1.PublishEventRequest{Type: "enterprise.established", Data: b}); err != nil {
				s.log.Warn("enterprise.established not published", "uscc", e.USCC, "err", err)
			}
		}
		s.respondEstablishment(w, r, http.StatusOK, e.ID, false)
	}
}

// register enters the approved company into the registry with a new unified
// social credit code (GB 32100: 9, 1, the district's division code, an
// organisation code body with its GB 11714 check character, the check
// character).
func (s *service) register(ctx context.Context, e *establishment) (string, error) {
	var data string
	if err := s.db.QueryRowContext(ctx, "SELECT data FROM establishments WHERE id = ?", e.ID).Scan(&data); err != nil {
		return "", err
	}
	var in establishmentIn
	if err := json.Unmarshal([]byte(data), &in); err != nil {
		return "", err
	}
	d, err := registry.ParseDistrict(in.District)
	if err != nil {
		return "", err
	}
	c := in.Company
	kind := registry.KindLLC
	switch {
	case c.Type == rules.JSC:
		kind = registry.KindJSC
	case c.Type == rules.ListedJSC:
		kind = registry.KindJSCListed
	case len(c.Shareholders) == 1 && c.Shareholders[0].Kind == rules.NaturalPerson:
		kind = registry.KindLLCNaturalSole
	}
	ent := &registry.Entity{Name: in.Name, Kind: kind, LegalRep: c.LegalRep.Name, LegalRepTitle: positionLabel(c.LegalRep.Position),
		LegalRepID: c.LegalRep.IDNumber, Capital: c.RegisteredCapitalFen, Established: today(), Status: registry.StatusActive,
		District: d, Address: "上海市" + d.Name() + in.Address, Authority: "上海市" + d.Name() + "市场监督管理局"}
	for _, m := range c.Members {
		for _, p := range m.Positions {
			ent.Members = append(ent.Members, registry.Member{Name: m.Name, Position: positionLabel(p)})
		}
	}
	for _, sh := range c.Shareholders {
		x := registry.Shareholder{Name: sh.Name, Type: map[rules.ShareholderKind]string{rules.NaturalPerson: "自然人股东"}[sh.Kind], Subscribed: sh.SubscribedFen, Method: "货币"}
		if x.Type == "" {
			x.Type, x.Code = "企业法人", sh.IDNumber
		}
		for _, i := range sh.Instalments {
			x.Instalments = append(x.Instalments, registry.Instalment{Amount: i.AmountFen, Due: i.Due})
		}
		ent.Shareholders = append(ent.Shareholders, x)
	}
	for attempt := 0; attempt < 5; attempt++ {
		if ent.Code, err = registry.USCC(registry.CategoryEnterprise, d.String(), "MA"+randomOrgChars(6)); err != nil {
			return "", err
		}
		var n int
		if err := s.db.QueryRowContext(ctx, "SELECT COUNT(*) FROM enterprises WHERE uscc = ?", ent.Code).Scan(&n); err != nil {
			return "", err
		}
		if n == 0 {
			return ent.Code, insertEntities(ctx, s.db, []*registry.Entity{ent}, []string{kind.String()})
		}
	}
	return "", fmt.Errorf("no free credit code after 5 attempts")
}

// randomOrgChars draws n characters of the organisation-code alphabet.
func randomOrgChars(n int) string {
	const alphabet = "0123456789ABCDEFGHJKLMNPQRTUWXY" // GB 32100 excludes I, O, S, V, Z
	b := make([]byte, n)
	for i := range b {
		x, _ := rand.Int(rand.Reader, big.NewInt(int64(len(alphabet))))
		b[i] = alphabet[x.Int64()]
	}
	return string(b)
}
