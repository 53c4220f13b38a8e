package main

// The summary procedure (简易程序, 当场处罚): §1.0 "Summary procedure on-site
// flow" and C2 (modules 1123–1126), with the decision (1126, 1201), the
// signatures (C1 1122, 1169), filing and payment (1205, R-PAY-8) and the
// dossier (1304). Two officers decide on the spot within the limits of
// 行政处罚法 第五十一条 (rules.CheckSummaryPenalty); the bureau files the
// decision afterwards (第五十二条 "应当报所属行政机关备案"), at the unit and
// then at the agency, and only then can the fine be paid.
//
//	captured ──issue──▶ issued ──acknowledge──▶ delivered ──unit-filing──▶ unit_filed ──agency-filing──▶ agency_filed
//	                                                      └─(refused)─▶ unit_refused  └─(refused)─▶ agency_refused
//	agency_filed ──payment-order──▶ ordered ──(platform notifies)──▶ paid ──close──▶ archived
//	agency_filed (a warning, no fine) ──close──▶ archived
//
// The spec's states map onto these: ON_SITE_CAPTURE and DECISION_DRAFTED are
// captured; RECORD_CONFIRMED (the officer's part), SEAL_REQUESTED and
// DECISION_REVIEWED are issued; DELIVERY_REQUESTED and DELIVERED are
// delivered; UNIT_FILING and AGENCY_FILING are the two filings;
// PAYMENT_ORDER_ISSUED is ordered.
//
// What the signatures are here, honestly:
//   - The officer's: an officer named on the case confirms the draft and the
//     host issues the 当场行政处罚决定书 (numbered, sealed with the bureau's
//     行政处罚专用章, signed SM2 with the bureau's key); the plugin records who
//     confirmed it, when, and the SM3 of the PDF as issued. A signature with
//     the officer's own key after SMS code, face check and seal password
//     (C1 1122, R-ID-3) is not available through the plugin API and not built.
//   - The party's: the party reads the decision on the officer's device and
//     confirms it there; the plugin records the signer's name and capacity,
//     the time and the SM3 digest of the decision the party confirmed (it must
//     be the one issued), and the host issues a 送达回证 stating it. A
//     handwritten signature captured on a signature pad, and the party's own
//     e-signature (R-ID-3, ~1155), are not built.

import (
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"regexp"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/shanghai-amr/portal/plugins/enforcement/rules"
	"github.com/shanghai-amr/portal/sdk"
	"github.com/shanghai-amr/portal/sdk/idcode"
	"github.com/shanghai-amr/portal/sdk/proto/pluginv1"
	"github.com/shanghai-amr/portal/sdk/storage"
)

// Summary-case states.
const (
	summaryCaptured      = "captured"
	summaryIssued        = "issued"
	summaryDelivered     = "delivered"
	summaryUnitFiled     = "unit_filed"
	summaryUnitRefused   = "unit_refused"
	summaryAgencyFiled   = "agency_filed"
	summaryAgencyRefused = "agency_refused"
	summaryOrdered       = "ordered"
	summaryPaid          = "paid"
	summaryArchived      = "archived"
)

// officerRole is the role the second officer must hold: the host tells a
// plugin another user's roles, not their permissions, and the built-in 承办人
// role is the one that carries enforcement.case.write.
const officerRole = "handler"

// Refusals particular to the summary procedure (the limits are rules').
var (
	errNotFiled = &rules.Error{Code: "enforcement.summary.not_filed",
		ZH: "机构备案和机关备案均通过后方可生成缴纳罚款的支付单", EN: "a payment order needs both the unit's and the agency's filing"}
	errNotOfficer = &rules.Error{Code: "enforcement.summary.not_officer",
		ZH: "只有本案的两名执法人员可以办理此步骤（《中华人民共和国行政处罚法》第五十二条）", EN: "only the case's two enforcement officers may take this step (Administrative Penalty Law, article 52)"}
	// The filings are a check by someone other than the case's officers.
	errOwnCase = &rules.Error{Code: "enforcement.summary.own_case",
		ZH: "办理本案的执法人员不能为本案备案", EN: "an officer of the case cannot file it"}
	errDigest = &rules.Error{Code: "enforcement.summary.digest_mismatch",
		ZH: "当事人确认的决定书与签发的决定书不一致（SM3摘要不符），请重新向当事人出示决定书", EN: "the decision the party confirmed is not the one issued (SM3 differs); show the party the issued decision again"}
	errNoFine = &rules.Error{Code: "enforcement.summary.no_fine",
		ZH: "本案只给予警告，没有需要缴纳的罚款", EN: "the penalty is a warning only: there is no fine to pay"}
	errOfficer = &rules.Error{Code: "enforcement.summary.officer",
		ZH: "执法人员不符合要求", EN: "an enforcement officer does not qualify"}
)

// refuse answers a rule's refusal: its code (rules.* becomes enforcement.*)
// and its message in the caller's language.
func refuse(w http.ResponseWriter, r *http.Request, status int, e *rules.Error) {
	sdk.WriteError(w, r, status, "enforcement."+strings.TrimPrefix(e.Code, "rules."), sdk.Message{ZH: e.ZH, EN: e.EN}, nil)
}

// summaryParty is the party (C2 1125): an organisation with its credit code,
// or a person with an identity document of R-ID-1.
type summaryParty struct {
	Kind     rules.PartyKind `json:"kind"`
	Name     string          `json:"name"`
	IDType   string          `json:"id_type"` // uscc for an organisation; see idTypes for a person
	IDNumber string          `json:"id_number"`
	Address  string          `json:"address"`
	LegalRep string          `json:"legal_rep,omitempty"`
	Phone    string          `json:"phone,omitempty"`
}

// idTypes are a person's identity documents (R-ID-1).
var idTypes = map[string]string{
	"resident_id": "居民身份证", "passport": "外国（地区）护照", "hk_mo_permit": "港澳居民来往内地通行证",
	"tw_permit": "台湾居民来往大陆通行证", "foreign_permanent": "外国人永久居留身份证", "hk_mo_residence": "港澳居民居住证",
	"tw_residence": "台湾居民居住证",
}

// summaryOfficer is one of the two officers (第四十二条, 第五十二条).
type summaryOfficer struct {
	Username      string `json:"username"`
	Name          string `json:"name"`
	CertificateNo string `json:"certificate_no"` // 执法证号; not checked against the 市局 platform (R-MISC-6)
	OrgCode       string `json:"org_code"`
}

// summaryCapture is what the officers capture on site (C2, 1201): editable
// only before the decision is issued (there is no edit route yet).
type summaryCapture struct {
	Cause       string           `json:"cause"`
	Party       summaryParty     `json:"party"`
	Officers    []summaryOfficer `json:"officers"`
	Place       string           `json:"place"`
	Facts       string           `json:"facts"`
	Evidence    string           `json:"evidence,omitempty"`
	Statement   string           `json:"statement,omitempty"` // the party's statement and defence heard on site
	Review      string           `json:"review,omitempty"`    // the officers' review (复核) of it (R-NOT-3)
	Violated    string           `json:"violated"`
	Basis       string           `json:"basis"`
	Warning     bool             `json:"warning"`
	FineYuan    int64            `json:"fine_yuan"`
	ReviewOrgan string           `json:"review_organ"`
	Court       string           `json:"court"`
}

// summaryDoc is a document the host issued for the case.
type summaryDoc struct {
	DocumentID string `json:"document_id"`
	FileID     string `json:"file_id"`
	Number     string `json:"number,omitempty"`
	SM3        string `json:"sm3"`
}

// summarySignature is the officer's confirmation of the decision as issued.
type summarySignature struct {
	By  string    `json:"by"`
	At  time.Time `json:"at"`
	SM3 string    `json:"sm3"`
}

// summaryAck is the party's acknowledgement on the officer's device, or the
// officers' note that the party refused to sign (第五十二条 "当事人拒绝签收的，应当…注明").
type summaryAck struct {
	SignerName  string    `json:"signer_name,omitempty"`
	Capacity    string    `json:"capacity,omitempty"`
	Refused     bool      `json:"refused,omitempty"`
	Reason      string    `json:"reason,omitempty"`
	Witness     string    `json:"witness,omitempty"`
	DecisionSM3 string    `json:"decision_sm3"`
	At          time.Time `json:"at"`
	RecordedBy  string    `json:"recorded_by"` // the officer whose device it was
}

// summaryFiling is one 备案 (1205): who checked the decision, the result and
// the opinion, against the decision's SM3.
type summaryFiling struct {
	Approved    bool      `json:"approved"`
	Opinion     string    `json:"opinion"`
	By          string    `json:"by"`
	At          time.Time `json:"at"`
	DecisionSM3 string    `json:"decision_sm3"`
}

// summaryRecord is what happened to the case after the capture.
type summaryRecord struct {
	Decision        *summaryDoc       `json:"decision,omitempty"`
	OfficerSigned   *summarySignature `json:"officer_signature,omitempty"`
	Acknowledgement *summaryAck       `json:"acknowledgement,omitempty"`
	Receipt         *summaryDoc       `json:"receipt,omitempty"`
	UnitFiling      *summaryFiling    `json:"unit_filing,omitempty"`
	AgencyFiling    *summaryFiling    `json:"agency_filing,omitempty"`
	ArchiveCode     string            `json:"archive_code,omitempty"`
}

// summaryCase is a summary-procedure case.
type summaryCase struct {
	ID          int64          `json:"id"`
	Number      string         `json:"number,omitempty"` // the decision's 文号
	Status      string         `json:"status"`
	OrgCode     string         `json:"org_code"`
	OrgPath     string         `json:"-"`
	FineFen     int64          `json:"fine_fen"`
	Capture     summaryCapture `json:"capture"`
	Record      summaryRecord  `json:"record"`
	DeliveredAt *time.Time     `json:"delivered_at,omitempty"`
	PaidAt      *time.Time     `json:"paid_at,omitempty"`
	CreatedBy   string         `json:"created_by"`
	CreatedAt   time.Time      `json:"created_at"`
}

func summarySubject(id int64) string { return fmt.Sprintf("summary-%d", id) }

// clockText is a moment as documents write it: 2026年11月3日10时05分 (CST).
func clockText(t time.Time) string {
	t = t.In(shanghai)
	return fmt.Sprintf("%d年%d月%d日%d时%02d分", t.Year(), int(t.Month()), t.Day(), t.Hour(), t.Minute())
}

// migrateSummary creates the summary cases' table and gives payments the
// summary_id column (expand-only: the previous version's inserts leave it 0).
func migrateSummary(ctx context.Context, db *sql.DB, dialect string) error {
	id := storage.AutoID(dialect)
	if _, err := db.ExecContext(ctx, `CREATE TABLE IF NOT EXISTS summary_cases (
			id `+id+`,
			number VARCHAR(64) NOT NULL DEFAULT '',
			status VARCHAR(16) NOT NULL,
			party_name VARCHAR(100) NOT NULL,
			fine_fen BIGINT NOT NULL,
			org_code VARCHAR(64) NOT NULL,
			org_path VARCHAR(512) NOT NULL,
			capture TEXT NOT NULL,
			record TEXT NOT NULL,
			delivered_at BIGINT NOT NULL DEFAULT 0,
			paid_at BIGINT NOT NULL DEFAULT 0,
			created_by VARCHAR(64) NOT NULL,
			created_at BIGINT NOT NULL)`); err != nil {
		return fmt.Errorf("summary: create table: %w", err)
	}
	if err := storage.AddColumn(ctx, db, "payments", "summary_id", "BIGINT NOT NULL DEFAULT 0"); err != nil {
		return fmt.Errorf("summary: %w", err)
	}
	return nil
}

// summaryRoutes registers the summary procedure's routes (plugin.yaml names
// their permissions).
func (s *service) summaryRoutes(mux *http.ServeMux) {
	mux.HandleFunc("GET /summary-cases", s.listSummary)
	mux.HandleFunc("POST /summary-cases", s.captureSummary)
	mux.HandleFunc("GET /summary-cases/{id}", s.getSummary)
	mux.HandleFunc("POST /summary-cases/{id}/issue", s.issueSummary)
	mux.HandleFunc("POST /summary-cases/{id}/acknowledge", s.acknowledgeSummary)
	mux.HandleFunc("POST /summary-cases/{id}/unit-filing", s.fileSummary("unit"))
	mux.HandleFunc("POST /summary-cases/{id}/agency-filing", s.fileSummary("agency"))
	mux.HandleFunc("POST /summary-cases/{id}/payment-order", s.orderSummaryPayment)
	mux.HandleFunc("POST /summary-cases/{id}/sandbox-pay", s.sandboxPaySummary)
	mux.HandleFunc("POST /summary-cases/{id}/close", s.closeSummary)
}

const summaryColumns = "id, number, status, fine_fen, org_code, org_path, capture, record, delivered_at, paid_at, created_by, created_at"

func scanSummary(row interface{ Scan(...any) error }) (*summaryCase, error) {
	var sc summaryCase
	var capture, record string
	var delivered, paid, at int64
	if err := row.Scan(&sc.ID, &sc.Number, &sc.Status, &sc.FineFen, &sc.OrgCode, &sc.OrgPath, &capture, &record,
		&delivered, &paid, &sc.CreatedBy, &at); err != nil {
		return nil, err
	}
	if err := json.Unmarshal([]byte(capture), &sc.Capture); err != nil {
		return nil, err
	}
	if err := json.Unmarshal([]byte(record), &sc.Record); err != nil {
		return nil, err
	}
	sc.CreatedAt = fromMS(at)
	if delivered > 0 {
		t := fromMS(delivered)
		sc.DeliveredAt = &t
	}
	if paid > 0 {
		t := fromMS(paid)
		sc.PaidAt = &t
	}
	return &sc, nil
}

// loadSummary reads a summary case the caller may take action on; out of
// the caller's data scope it answers 404, as for a case that does not exist.
func (s *service) loadSummary(w http.ResponseWriter, r *http.Request, action string) (*summaryCase, bool) {
	id, ok := pathID(w, r)
	if !ok {
		return nil, false
	}
	sc, err := scanSummary(s.db.QueryRowContext(r.Context(), "SELECT "+summaryColumns+" FROM summary_cases WHERE id = ?", id))
	if errors.Is(err, sql.ErrNoRows) {
		fail(w, r, http.StatusNotFound, "enforcement.not_found", "", err)
		return nil, false
	} else if err != nil {
		fail(w, r, http.StatusInternalServerError, "enforcement.internal", "", err)
		return nil, false
	}
	ok, err = allowed(r.Context(), action, sc.OrgPath)
	if err != nil {
		fail(w, r, http.StatusServiceUnavailable, "enforcement.host", err.Error(), err)
		return nil, false
	}
	if !ok {
		fail(w, r, http.StatusNotFound, "enforcement.not_found", "", nil)
		return nil, false
	}
	return sc, true
}

// advance stores a step — the new status, the number, the record and the
// delivery time — only if the case is still in the status the step started
// from (of two concurrent steps one wins, the other is refused).
func (s *service) advance(ctx context.Context, sc *summaryCase, from, to string) (bool, error) {
	rec, _ := json.Marshal(sc.Record)
	var delivered int64
	if sc.DeliveredAt != nil {
		delivered = ms(*sc.DeliveredAt)
	}
	res, err := s.db.ExecContext(ctx, "UPDATE summary_cases SET status = ?, number = ?, record = ?, delivered_at = ? WHERE id = ? AND status = ?",
		to, sc.Number, string(rec), delivered, sc.ID, from)
	if err != nil {
		return false, err
	}
	n, _ := res.RowsAffected()
	sc.Status = to
	return n == 1, nil
}

// stored answers the outcome of advance: the case as it now is, or why not.
func (s *service) stored(w http.ResponseWriter, r *http.Request, changed bool, err error, from string) {
	switch {
	case err != nil:
		fail(w, r, http.StatusInternalServerError, "enforcement.internal", "", err)
	case !changed:
		fail(w, r, http.StatusConflict, "enforcement.state", "no longer "+from, nil)
	default:
		s.getSummary(w, r)
	}
}

// auditSummary records a state change through the host; a failure is logged
// (the change is already stored).
func (s *service) auditSummary(ctx context.Context, action string, id int64, detail map[string]any) {
	if err := audit(ctx, s.host, "summary."+action, fmt.Sprintf("summary:%d", id), detail); err != nil {
		s.log.Error("audit failed", "action", "summary."+action, "summary", id, "err", err)
	}
}

func (s *service) getSummary(w http.ResponseWriter, r *http.Request) {
	if sc, ok := s.loadSummary(w, r, "enforcement.case.read"); ok {
		sdk.WriteJSON(w, http.StatusOK, sc)
	}
}

// listSummary lists the summary cases in the caller's data scope, newest
// first; a person's identity number is masked in the list.
func (s *service) listSummary(w http.ResponseWriter, r *http.Request) {
	listScoped(s, w, r, summaryColumns, "summary_cases", "cases", scanSummary, func(sc *summaryCase) {
		if p := &sc.Capture.Party; p.Kind == rules.Citizen {
			p.IDNumber = maskID(p.IDNumber)
		}
	})
}

func maskID(id string) string {
	if idcode.ValidResidentID(id) == nil {
		return idcode.MaskResidentID(id)
	}
	if n := utf8.RuneCountInString(id); n > 4 {
		return strings.Repeat("*", n-4) + id[len(id)-4:]
	}
	return "****"
}

var (
	certificatePattern = regexp.MustCompile(`^[A-Za-z0-9-]{6,32}$`)
	documentPattern    = regexp.MustCompile(`^[A-Za-z0-9]{5,32}$`)
	phonePattern       = regexp.MustCompile(`^[0-9-]{7,20}$`)
)

// checkCapture validates the capture as the rules of the summary procedure
// and the party's identity require. Problems are returned as one message;
// a penalty beyond the procedure is a *rules.Error of its own.
func checkCapture(in *summaryCapture, caller string) ([]string, *rules.Error) {
	trim := func(ps ...*string) {
		for _, p := range ps {
			*p = strings.TrimSpace(*p)
		}
	}
	p := &in.Party
	trim(&in.Cause, &in.Place, &in.Facts, &in.Evidence, &in.Statement, &in.Review, &in.Violated, &in.Basis, &in.ReviewOrgan, &in.Court,
		&p.Name, &p.IDType, &p.IDNumber, &p.Address, &p.LegalRep, &p.Phone)
	var problems []string
	text := func(field, v string, min, max int) {
		if n := utf8.RuneCountInString(v); n < min || n > max {
			problems = append(problems, fmt.Sprintf("%s: %d–%d characters", field, min, max))
		}
	}
	text("cause", in.Cause, 1, 200)
	text("party.name", p.Name, 1, 100)
	text("party.address", p.Address, 1, 200)
	text("party.legal_rep", p.LegalRep, 0, 50)
	text("place", in.Place, 1, 200)
	text("facts", in.Facts, 1, 2000)
	text("evidence", in.Evidence, 0, 1000)
	text("statement", in.Statement, 0, 2000)
	text("review", in.Review, 0, 1000)
	text("review_organ", in.ReviewOrgan, 1, 100)
	text("court", in.Court, 1, 100)
	if in.FineYuan < 0 || in.FineYuan > 1_000_000_000 {
		problems = append(problems, "fine_yuan: whole yuan, not negative")
	}
	if p.Phone != "" && !phonePattern.MatchString(p.Phone) {
		problems = append(problems, "party.phone: 7–20 digits")
	}
	switch p.Kind {
	case rules.Organisation:
		if p.IDType == "" {
			p.IDType = "uscc"
		}
		if err := idcode.ValidUSCC(p.IDNumber); p.IDType != "uscc" || err != nil {
			problems = append(problems, "party.id_number: an organisation's unified social credit code (id_type uscc)")
		}
	case rules.Citizen:
		switch {
		case idTypes[p.IDType] == "":
			problems = append(problems, "party.id_type: resident_id, passport, hk_mo_permit, tw_permit, foreign_permanent, hk_mo_residence or tw_residence (R-ID-1)")
		case p.IDType == "resident_id" && idcode.ValidResidentID(p.IDNumber) != nil:
			problems = append(problems, "party.id_number: not a valid resident identity number")
		case p.IDType != "resident_id" && !documentPattern.MatchString(p.IDNumber):
			problems = append(problems, "party.id_number: 5–32 letters and digits")
		}
		if p.LegalRep != "" {
			problems = append(problems, "party.legal_rep: only for an organisation")
		}
	default:
		problems = append(problems, "party.kind: person or organisation")
	}
	// 第五十一条 "违法事实确凿并有法定依据": the provisions, as R-STD-2 reads them.
	for _, b := range []struct{ field, v string }{{"violated", in.Violated}, {"basis", in.Basis}} {
		if err := rules.CheckBasis(b.v); err != nil {
			problems = append(problems, b.field+": "+err.(*rules.Error).EN)
		}
	}
	if in.Statement != "" && in.Review == "" {
		problems = append(problems, "review: the party made a statement; the review (复核) of it is required (R-NOT-3)")
	}
	// 第四十二条: two officers, with their certificates; the caller is one.
	seen := map[string]bool{}
	mine := false
	for i := range in.Officers {
		o := &in.Officers[i]
		trim(&o.Username, &o.CertificateNo)
		if o.Username == "" || !certificatePattern.MatchString(o.CertificateNo) || seen[o.Username] || seen["cert:"+o.CertificateNo] {
			problems = append(problems, "officers: each with a username and an enforcement certificate number (6–32 letters and digits), two different people")
			break
		}
		seen[o.Username], seen["cert:"+o.CertificateNo] = true, true
		mine = mine || o.Username == caller
	}
	if len(in.Officers) != rules.SummaryOfficers || !mine {
		problems = append(problems, "officers: exactly two enforcement officers, one of them you (Administrative Penalty Law, article 42)")
	}
	if len(problems) > 0 {
		return problems, nil
	}
	if err := rules.CheckSummaryPenalty(p.Kind, in.Warning, in.FineYuan*100); err != nil {
		var re *rules.Error
		errors.As(err, &re)
		return nil, re
	}
	return nil, nil
}

// checkOfficers completes the officers from the host: the caller from the
// request, the other as a staff account holding the handler role in the same
// district bureau as the caller. An officer who does not qualify is a
// refusal (errOfficer with the reason); a failed host call is an error.
func (s *service) checkOfficers(ctx context.Context, in *summaryCapture) (*rules.Error, error) {
	refused := func(zh, en string) (*rules.Error, error) {
		return &rules.Error{Code: errOfficer.Code, ZH: errOfficer.ZH + "：" + zh, EN: errOfficer.EN + ": " + en}, nil
	}
	c := sdk.CallerFrom(ctx)
	for i := range in.Officers {
		o := &in.Officers[i]
		if o.Username == c.Username {
			o.Name, o.OrgCode = c.DisplayName, c.OrgCode
			if o.Name == "" {
				o.Name = c.Username
			}
			continue
		}
		u, err := s.host.Identity.GetUser(ctx, &pluginv1.GetUserRequest{Username: o.Username})
		if _, unknown := statusOf(err); unknown {
			return refused(o.Username+"不是本系统的执法人员", o.Username+" is not an enforcement officer of this system")
		} else if err != nil {
			return nil, err
		}
		org, err := s.host.Identity.GetOrganization(ctx, &pluginv1.GetOrganizationRequest{Code: u.OrgCode})
		if err != nil {
			return nil, err
		}
		isOfficer := false
		for _, role := range u.Roles {
			isOfficer = isOfficer || role == officerRole
		}
		switch {
		case !isOfficer:
			return refused(fmt.Sprintf("%s（%s）不是执法人员（承办人）", u.DisplayName, o.Username),
				fmt.Sprintf("%s (%s) is not a case handler", u.DisplayName, o.Username))
		case bureau(org.Path) != bureau(c.OrgPath):
			return refused(fmt.Sprintf("%s（%s）不属于本局", u.DisplayName, o.Username),
				fmt.Sprintf("%s (%s) is not of this bureau", u.DisplayName, o.Username))
		}
		o.Name, o.OrgCode = u.DisplayName, u.OrgCode
	}
	return nil, nil
}

// captureSummary records what the two officers captured on site (C2
// 1123–1126: party, place, facts, legal basis, penalty). Anything out of the
// summary procedure's limits, or an unfit officer, is refused and nothing is
// stored.
func (s *service) captureSummary(w http.ResponseWriter, r *http.Request) {
	var in summaryCapture
	if !decode(w, r, &in) {
		return
	}
	caller := sdk.CallerFrom(r.Context())
	problems, limit := checkCapture(&in, caller.Username)
	if len(problems) > 0 {
		fail(w, r, http.StatusBadRequest, "enforcement.invalid", strings.Join(problems, "; "), nil)
		return
	}
	if limit != nil {
		refuse(w, r, http.StatusUnprocessableEntity, limit)
		return
	}
	unfit, err := s.checkOfficers(r.Context(), &in)
	if err != nil {
		fail(w, r, http.StatusBadGateway, "enforcement.host", err.Error(), err)
		return
	}
	if unfit != nil {
		refuse(w, r, http.StatusUnprocessableEntity, unfit)
		return
	}
	cj, _ := json.Marshal(in)
	res, err := s.db.ExecContext(r.Context(), `INSERT INTO summary_cases (status, party_name, fine_fen, org_code, org_path, capture, record,
		created_by, created_at) VALUES (?, ?, ?, ?, ?, ?, '{}', ?, ?)`,
		summaryCaptured, in.Party.Name, in.FineYuan*100, caller.OrgCode, caller.OrgPath, string(cj), caller.Username, ms(time.Now()))
	if err != nil {
		fail(w, r, http.StatusInternalServerError, "enforcement.internal", "", err)
		return
	}
	id, _ := res.LastInsertId()
	s.auditSummary(r.Context(), "capture", id, map[string]any{"party_kind": in.Party.Kind, "warning": in.Warning, "fine_yuan": in.FineYuan})
	r.SetPathValue("id", fmt.Sprint(id))
	if sc, ok := s.loadSummary(w, r, "enforcement.case.read"); ok {
		sdk.WriteJSON(w, http.StatusCreated, sc)
	}
}

// officerOf is the caller's entry among the case's officers, or nil.
func officerOf(sc *summaryCase, username string) *summaryOfficer {
	for i := range sc.Capture.Officers {
		if sc.Capture.Officers[i].Username == username {
			return &sc.Capture.Officers[i]
		}
	}
	return nil
}

func (sc *summaryCase) officerNames() string {
	var names []string
	for _, o := range sc.Capture.Officers {
		names = append(names, fmt.Sprintf("%s（执法证号：%s）", o.Name, o.CertificateNo))
	}
	return strings.Join(names, "、")
}

// penaltyText is the penalty as the decision states it.
func (sc *summaryCase) penaltyText() string {
	fine := fmt.Sprintf("罚款人民币%d元", sc.Capture.FineYuan)
	switch {
	case sc.Capture.Warning && sc.FineFen > 0:
		return "警告，并处" + fine
	case sc.Capture.Warning:
		return "警告"
	}
	return fine
}

// issueDocument has the host issue one of the case's documents (numbered,
// sealed, signed, in one transaction) and files it in the case's dossier. A
// summary case has each type once: issuing under one request key per type,
// a retry gets the document already issued.
func (s *service) issueDocument(ctx context.Context, sc *summaryCase, typ string, data map[string]any) (*summaryDoc, error) {
	if _, err := s.host.Dossiers.OpenDossier(ctx, &pluginv1.OpenDossierRequest{Subject: summarySubject(sc.ID), Kind: "penalty_summary",
		Title: sc.Capture.Party.Name + sc.Capture.Cause + "案（简易程序）", OrgCode: bureau(sc.OrgPath)}); err != nil {
		return nil, err
	}
	b, _ := json.Marshal(data)
	doc, err := s.host.Documents.RenderDocument(ctx, &pluginv1.RenderDocumentRequest{DocumentType: typ, Data: b,
		Subject: summarySubject(sc.ID), OrgCode: bureau(sc.OrgPath), RequestKey: fmt.Sprintf("summary:%d/%s", sc.ID, typ)})
	if err != nil {
		return nil, err
	}
	meta, _ := json.Marshal(map[string]any{"date": time.Now().In(shanghai).Format("2006-01-02"), "number": doc.Number})
	if _, err := s.host.Dossiers.AppendDossier(ctx, &pluginv1.AppendDossierRequest{Subject: summarySubject(sc.ID), Kind: "document",
		DocType: typ, Title: doc.Title, FileId: doc.FileId, Meta: meta}); err != nil {
		return nil, err
	}
	return &summaryDoc{DocumentID: doc.DocumentId, FileID: doc.FileId, Number: doc.Number, SM3: doc.Sm3}, nil
}

// issueSummary: one of the two officers confirms the draft and the host
// issues the 当场行政处罚决定书 from its template (1126, 1201; 第五十二条
// "预定格式、编有号码"). The officer's confirmation is recorded with the SM3
// of the decision as issued.
func (s *service) issueSummary(w http.ResponseWriter, r *http.Request) {
	sc, ok := s.loadSummary(w, r, "enforcement.case.write")
	if !ok {
		return
	}
	caller := sdk.CallerFrom(r.Context())
	if officerOf(sc, caller.Username) == nil {
		refuse(w, r, http.StatusForbidden, errNotOfficer)
		return
	}
	if sc.Status != summaryCaptured {
		fail(w, r, http.StatusConflict, "enforcement.state", sc.Status, nil)
		return
	}
	c, p := sc.Capture, sc.Capture.Party
	now := time.Now().In(shanghai)
	partyID := p.IDNumber
	if p.Kind == rules.Citizen {
		partyID = idTypes[p.IDType] + " " + p.IDNumber
	}
	defence := "当事人未提出陈述、申辩意见。"
	if c.Statement != "" {
		defence = "当事人陈述、申辩：" + c.Statement + "。经复核，" + c.Review
	}
	data := map[string]any{"party_name": p.Name, "party_id": partyID, "party_address": p.Address, "legal_rep": p.LegalRep,
		"party_phone": p.Phone, "officers": sc.officerNames(), "facts": c.Facts, "evidence": c.Evidence, "defence": defence,
		"violated": c.Violated, "basis": c.Basis, "penalty": sc.penaltyText(), "review_organ": c.ReviewOrgan, "court": c.Court,
		"place": c.Place, "decided_at": clockText(now), "issue_date": now.Format("2006-01-02")}
	if sc.FineFen > 0 {
		data["payment"] = "凭本局出具的缴款码通过上海市统一公共支付平台缴纳罚款"
	}
	doc, err := s.issueDocument(r.Context(), sc, "summary_penalty_decision", data)
	if err != nil {
		hostFailed(w, r, err)
		return
	}
	sc.Number = doc.Number
	sc.Record.Decision = doc
	sc.Record.OfficerSigned = &summarySignature{By: caller.Username, At: now, SM3: doc.SM3}
	changed, err := s.advance(r.Context(), sc, summaryCaptured, summaryIssued)
	if changed {
		s.auditSummary(r.Context(), "issue", sc.ID, map[string]any{"document": doc.DocumentID, "number": doc.Number, "sm3": doc.SM3})
	}
	s.stored(w, r, changed, err, summaryCaptured)
}

// signerCapacities are who may sign for the party on site (R-DEL-2).
var signerCapacities = map[rules.PartyKind]map[string]string{
	rules.Citizen:      {"self": "当事人本人", "agent": "委托代理人"},
	rules.Organisation: {"legal_rep": "法定代表人", "principal": "主要负责人", "agent": "委托代理人", "receiver": "负责收件的人"},
}

// acknowledgeSummary records the party's acknowledgement of the decision,
// given on the officer's device on site — or the officers' note that the
// party refused to sign — and has the host issue the 送达回证 saying so. The
// day is the delivery date (R-DEL-1: "受送达人在送达回证上注明的签收日期为送达日期").
func (s *service) acknowledgeSummary(w http.ResponseWriter, r *http.Request) {
	var in struct {
		SignerName  string `json:"signer_name"`
		Capacity    string `json:"capacity"`
		DecisionSM3 string `json:"decision_sm3"`
		Refused     bool   `json:"refused"`
		Reason      string `json:"reason"`
		Witness     string `json:"witness"`
	}
	if !decode(w, r, &in) {
		return
	}
	in.SignerName, in.Reason, in.Witness = strings.TrimSpace(in.SignerName), strings.TrimSpace(in.Reason), strings.TrimSpace(in.Witness)
	sc, ok := s.loadSummary(w, r, "enforcement.case.write")
	if !ok {
		return
	}
	caller := sdk.CallerFrom(r.Context())
	officer := officerOf(sc, caller.Username)
	if officer == nil {
		refuse(w, r, http.StatusForbidden, errNotOfficer)
		return
	}
	p := sc.Capture.Party
	capacity := signerCapacities[p.Kind][in.Capacity]
	switch {
	case in.Refused && (in.Reason == "" || utf8.RuneCountInString(in.Reason) > 200 || utf8.RuneCountInString(in.Witness) > 100):
		fail(w, r, http.StatusBadRequest, "enforcement.invalid", "a refusal to sign is noted with its reason (1–200 characters) and any witness (R-DEL-6)", nil)
		return
	case !in.Refused && (in.SignerName == "" || utf8.RuneCountInString(in.SignerName) > 50 || capacity == ""):
		fail(w, r, http.StatusBadRequest, "enforcement.invalid", "signer_name and capacity (person: self, agent; organisation: legal_rep, principal, agent, receiver) are required (R-DEL-2)", nil)
		return
	case !in.Refused && in.Capacity == "self" && in.SignerName != p.Name,
		!in.Refused && in.Capacity == "legal_rep" && p.LegalRep != "" && in.SignerName != p.LegalRep:
		fail(w, r, http.StatusBadRequest, "enforcement.invalid", "the signer is not the party as captured (name or legal representative)", nil)
		return
	}
	if sc.Status != summaryIssued {
		fail(w, r, http.StatusConflict, "enforcement.state", sc.Status, nil)
		return
	}
	if !in.Refused && !strings.EqualFold(strings.TrimSpace(in.DecisionSM3), sc.Record.Decision.SM3) {
		refuse(w, r, http.StatusConflict, errDigest)
		return
	}
	now := time.Now().In(shanghai)
	at := clockText(now)
	dec := sc.Record.Decision
	data := map[string]any{"documents": "当场行政处罚决定书 " + dec.Number, "recipient": p.Name, "place": sc.Capture.Place,
		"method": "直接送达（当场交付）", "servers": sc.officerNames(), "issue_date": now.Format("2006-01-02")}
	ack := &summaryAck{SignerName: in.SignerName, Capacity: in.Capacity, Refused: in.Refused, Reason: in.Reason,
		Witness: in.Witness, DecisionSM3: dec.SM3, At: now, RecordedBy: caller.Username}
	if in.Refused {
		data["received"] = fmt.Sprintf("当事人拒绝签收（%s），执法人员于%s当场注明", in.Reason, at)
		data["witness"] = in.Witness
		data["remarks"] = "决定书已当场交付当事人（《中华人民共和国行政处罚法》第五十二条）。决定书SM3：" + dec.SM3
	} else {
		data["received"] = fmt.Sprintf("%s（%s）于%s在执法人员%s的移动执法终端上核对并确认签收", in.SignerName, capacity, at, officer.Name)
		data["remarks"] = "签收确认的决定书SM3：" + dec.SM3 + "。签收为执法终端上的确认记录，非手写签名。"
	}
	receipt, err := s.issueDocument(r.Context(), sc, "service_receipt", data)
	if err != nil {
		hostFailed(w, r, err)
		return
	}
	sc.Record.Acknowledgement, sc.Record.Receipt, sc.DeliveredAt = ack, receipt, &now
	changed, err := s.advance(r.Context(), sc, summaryIssued, summaryDelivered)
	if changed {
		s.auditSummary(r.Context(), "acknowledge", sc.ID, map[string]any{"refused": in.Refused, "capacity": in.Capacity,
			"decision_sm3": dec.SM3, "receipt": receipt.DocumentID})
	}
	s.stored(w, r, changed, err, summaryIssued)
}

// fileSummary is one of the two filings (备案, 1205): at the unit by its head
// (enforcement.case.approve), then at the agency (enforcement.case.decide;
// the spec's 机关科（处）室, which has no role of its own here). Each checks
// the decision and signs off with an opinion against its SM3; a refusal needs
// its written opinion (R-RET-4) and leaves the case without a payment order
// (R-PAY-8).
func (s *service) fileSummary(level string) http.HandlerFunc {
	action, from, yes, no := "enforcement.case.approve", summaryDelivered, summaryUnitFiled, summaryUnitRefused
	if level == "agency" {
		action, from, yes, no = "enforcement.case.decide", summaryUnitFiled, summaryAgencyFiled, summaryAgencyRefused
	}
	return func(w http.ResponseWriter, r *http.Request) {
		var in struct {
			Approve *bool  `json:"approve"`
			Opinion string `json:"opinion"`
		}
		if !decode(w, r, &in) {
			return
		}
		in.Opinion = strings.TrimSpace(in.Opinion)
		if in.Approve == nil || (!*in.Approve && in.Opinion == "") || utf8.RuneCountInString(in.Opinion) > 500 {
			fail(w, r, http.StatusBadRequest, "enforcement.invalid", "approve (true or false) is required; a refusal carries its opinion, at most 500 characters (R-RET-4)", nil)
			return
		}
		sc, ok := s.loadSummary(w, r, action)
		if !ok {
			return
		}
		caller := sdk.CallerFrom(r.Context())
		if officerOf(sc, caller.Username) != nil {
			refuse(w, r, http.StatusForbidden, errOwnCase)
			return
		}
		if sc.Status != from {
			fail(w, r, http.StatusConflict, "enforcement.state", sc.Status, nil)
			return
		}
		if in.Opinion == "" {
			in.Opinion = "同意备案"
		}
		f := &summaryFiling{Approved: *in.Approve, Opinion: in.Opinion, By: caller.Username, At: time.Now().In(shanghai), DecisionSM3: sc.Record.Decision.SM3}
		to := yes
		if !f.Approved {
			to = no
		}
		if level == "agency" {
			sc.Record.AgencyFiling = f
		} else {
			sc.Record.UnitFiling = f
		}
		changed, err := s.advance(r.Context(), sc, from, to)
		if changed {
			s.auditSummary(r.Context(), level+"_filing", sc.ID, map[string]any{"approved": f.Approved, "opinion": f.Opinion})
		}
		s.stored(w, r, changed, err, from)
	}
}

// orderSummaryPayment creates the payment order for the fine through the
// unified public payment platform (1205: "支付订单生成"), only after both
// filings were approved — otherwise "系统无法生成缴纳罚款的支付单" (R-PAY-8,
// acceptance S2) and the platform is not called. The order is the general
// procedure's (placeOrder): fine plus any surcharge from the delivery date
// (R-EXE-2), valid 15 minutes (R-PAY-2); an expired order may be replaced.
func (s *service) orderSummaryPayment(w http.ResponseWriter, r *http.Request) {
	sc, ok := s.loadSummary(w, r, "enforcement.case.write")
	if !ok {
		return
	}
	if sc.Status != summaryAgencyFiled && sc.Status != summaryOrdered {
		if sc.Status == summaryPaid || sc.Status == summaryArchived {
			fail(w, r, http.StatusConflict, "enforcement.state", sc.Status, nil)
			return
		}
		zh, en := "机构备案尚未完成", "the unit has not filed it yet"
		switch sc.Status {
		case summaryUnitRefused:
			zh, en = "办案机构负责人不同意备案（"+sc.Record.UnitFiling.Opinion+"）", "the head of the unit refused the filing"
		case summaryUnitFiled:
			zh, en = "机关备案尚未完成", "the agency has not filed it yet"
		case summaryAgencyRefused:
			zh, en = "机关不同意备案（"+sc.Record.AgencyFiling.Opinion+"）", "the agency refused the filing"
		}
		refuse(w, r, http.StatusConflict, &rules.Error{Code: errNotFiled.Code, ZH: errNotFiled.ZH + "；" + zh + "，系统无法生成缴纳罚款的支付单（R-PAY-8）",
			EN: errNotFiled.EN + "; " + en + ": no payment order can be created (R-PAY-8)"})
		return
	}
	if sc.FineFen <= 0 {
		refuse(w, r, http.StatusConflict, errNoFine)
		return
	}
	p, ok := s.placeOrder(w, r, payable{summaryID: sc.ID, payer: sc.Capture.Party.Name, number: sc.Number, fineFen: sc.FineFen,
		due: rules.PaymentDue(*sc.DeliveredAt)})
	if !ok {
		return
	}
	if _, err := s.db.ExecContext(r.Context(), "UPDATE summary_cases SET status = ? WHERE id = ? AND status = ?", summaryOrdered, sc.ID, summaryAgencyFiled); err != nil {
		fail(w, r, http.StatusInternalServerError, "enforcement.internal", "", err)
		return
	}
	sdk.WriteJSON(w, http.StatusCreated, p)
}

// markSummaryPaid marks a summary case paid, inside the transaction that records
// the platform's notification (RecordPayment).
func markSummaryPaid(ctx context.Context, tx *sql.Tx, id int64, at time.Time) error {
	_, err := tx.ExecContext(ctx, "UPDATE summary_cases SET status = ?, paid_at = ? WHERE id = ? AND status IN (?, ?)",
		summaryPaid, ms(at), id, summaryAgencyFiled, summaryOrdered)
	return err
}

// sandboxPaySummary plays the party scanning the order's QR code at the
// sandbox cashier (development only; 404 against a real platform).
func (s *service) sandboxPaySummary(w http.ResponseWriter, r *http.Request) {
	if sc, ok := s.loadSummary(w, r, "enforcement.case.write"); ok {
		s.simulatePayment(w, r, payable{summaryID: sc.ID})
	}
}

// closeSummary archives the case's dossier (1304) once the fine is paid, or
// after both filings when the penalty was a warning only. The host builds,
// signs and checks the package; a package that fails a check leaves the case
// open and the answer carries the report.
func (s *service) closeSummary(w http.ResponseWriter, r *http.Request) {
	in, ok := decodeArchive(w, r)
	if !ok {
		return
	}
	sc, ok := s.loadSummary(w, r, "enforcement.case.approve")
	if !ok {
		return
	}
	from := sc.Status
	if from != summaryPaid && !(from == summaryAgencyFiled && sc.FineFen == 0) {
		fail(w, r, http.StatusConflict, "enforcement.state", from, nil)
		return
	}
	res, report, ok := s.archive(w, r, summarySubject(sc.ID), in)
	if !ok {
		return
	}
	sc.Record.ArchiveCode = res.Dossier.ArchiveCode
	changed, err := s.advance(r.Context(), sc, from, summaryArchived)
	if err != nil || !changed {
		s.stored(w, r, changed, err, from)
		return
	}
	s.auditSummary(r.Context(), "archive", sc.ID, map[string]any{"archive_code": res.Dossier.ArchiveCode})
	archived(w, res, report)
}
