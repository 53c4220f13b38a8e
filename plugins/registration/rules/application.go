package rules

import "time"

// Application is an establishment (设立) or change (变更) application as the
// online form and the intranet review collect it. The company's data is the
// state the application asks to register (after the change, for a change).
// Field paths in violations are relative to the application and follow the
// JSON names, e.g. "shareholders[1].instalments[0].due".
type Application struct {
	// FiledOn is the day the application is submitted. For an establishment
	// it stands in for the day of establishment, which is only known on
	// approval: the five-year contribution term is counted from it.
	FiledOn time.Time `json:"filedOn"`
	Company
	// Change is nil for an establishment and carries what only a change
	// application has: the registration as it stands and the items changed.
	Change *Change `json:"change,omitempty"`
}

// IsChange reports whether the application is a change (变更) rather than an
// establishment (设立).
func (a Application) IsChange() bool { return a.Change != nil }

// Company is the company's registration data.
type Company struct {
	Type CompanyType `json:"type"`
	// Legacy marks an existing (存量) enterprise, registered before
	// 2024-07-01, that has not yet filed the change of its governance data:
	// it keeps its legacy values (R2), e.g. the 执行董事 position.
	Legacy bool `json:"legacy"`
	// EstablishedOn is the day of establishment (成立日期); zero for an
	// establishment application.
	EstablishedOn        time.Time `json:"establishedOn"`
	RegisteredCapitalFen int64     `json:"registeredCapitalFen"` // 注册资本, in fen (分)
	// Board is nil when the company has no board of directors (不设董事会,
	// a single director).
	Board       *Board          `json:"board"`
	Supervision SupervisionForm `json:"supervision"`
	LegalRep    LegalRep        `json:"legalRep"`
	// Members are the main members (主要成员): directors, supervisors and
	// the manager.
	Members []Member `json:"members"`
	// Shareholders are the shareholders (股东); for a 股份有限公司 at
	// establishment they are its promoters (发起人). The spec treats both
	// with one entity and the same rules.
	Shareholders []Shareholder `json:"shareholders"`
}

// Board is the board of directors (董事会).
type Board struct {
	// AuditCommittee: the board has an audit committee of directors (审计委员会)
	// exercising the supervisory board's powers.
	AuditCommittee bool `json:"auditCommittee"`
}

// CompanyType is the company type (公司类型).
type CompanyType string

// Company types.
const (
	LLC          CompanyType = "llc"            // 有限责任公司
	OnePersonLLC CompanyType = "one_person_llc" // 一人有限责任公司
	StateSoleLLC CompanyType = "state_sole_llc" // 国有独资公司 (an LLC wholly owned by the state)
	JSC          CompanyType = "jsc"            // 股份有限公司
	ListedJSC    CompanyType = "listed_jsc"     // 上市股份有限公司
)

// limited reports whether the type is a limited liability company form.
func (t CompanyType) limited() bool { return t == LLC || t == OnePersonLLC || t == StateSoleLLC }

// jointStock reports whether the type is a joint-stock company form.
func (t CompanyType) jointStock() bool { return t == JSC || t == ListedJSC }

func (t CompanyType) label() label {
	switch t {
	case LLC:
		return label{"有限责任公司", "limited liability company"}
	case OnePersonLLC:
		return label{"一人有限责任公司", "one-person limited liability company"}
	case StateSoleLLC:
		return label{"国有独资公司", "wholly state-owned company"}
	case JSC:
		return label{"股份有限公司", "joint-stock company"}
	case ListedJSC:
		return label{"上市股份有限公司", "listed joint-stock company"}
	}
	return label{string(t), string(t)}
}

// SupervisionForm is how the company is supervised (监督机构).
type SupervisionForm string

// Supervision forms.
const (
	SupervisoryBoard SupervisionForm = "supervisory_board" // 设监事会
	SingleSupervisor SupervisionForm = "single_supervisor" // 不设监事会，设一名监事
	// AuditCommittee: no supervisors; the board's audit committee (董事会审计委员会)
	// exercises the supervisory board's powers.
	AuditCommittee SupervisionForm = "audit_committee"
	// NoSupervisor: no supervisor, with the consent of all shareholders
	// (经全体股东一致同意，不设监事); small LLCs only.
	NoSupervisor SupervisionForm = "no_supervisor"
)

// Position is a main member's or the legal representative's position (职务).
type Position string

// Positions. ExecutiveDirector is a legacy code kept for existing enterprises.
const (
	Chairman          Position = "chairman"           // 董事长
	ViceChairman      Position = "vice_chairman"      // 副董事长
	Director          Position = "director"           // 董事 (for the legal representative: 代表公司执行公司事务的董事)
	ExecutiveDirector Position = "executive_director" // 执行董事 (legacy, before 2024-07-01)
	SupervisorChair   Position = "supervisor_chair"   // 监事会主席
	Supervisor        Position = "supervisor"         // 监事
	Manager           Position = "manager"            // 经理
)

func (p Position) director() bool {
	return p == Chairman || p == ViceChairman || p == Director || p == ExecutiveDirector
}

func (p Position) supervisor() bool { return p == Supervisor || p == SupervisorChair }

func (p Position) known() bool { return p.director() || p.supervisor() || p == Manager }

func (p Position) label() label {
	switch p {
	case Chairman:
		return label{"董事长", "chairman"}
	case ViceChairman:
		return label{"副董事长", "vice chairman"}
	case Director:
		return label{"董事", "director"}
	case ExecutiveDirector:
		return label{"执行董事", "executive director"}
	case SupervisorChair:
		return label{"监事会主席", "chair of the supervisory board"}
	case Supervisor:
		return label{"监事", "supervisor"}
	case Manager:
		return label{"经理", "manager"}
	}
	return label{string(p), string(p)}
}

// AppointmentMethod is how the legal representative is appointed (产生方式).
type AppointmentMethod string

// Appointment methods.
const (
	Elected   AppointmentMethod = "elected"   // 选举 (by the shareholders' meeting or the board)
	Appointed AppointmentMethod = "appointed" // 委派 (by the sole shareholder or the state investor, 履行出资人职责的机构)
	Hired     AppointmentMethod = "hired"     // 聘任 (by the board, or the single director)
)

func (m AppointmentMethod) label() label {
	switch m {
	case Elected:
		return label{"选举", "elected"}
	case Appointed:
		return label{"委派", "appointed"}
	case Hired:
		return label{"聘任", "hired"}
	}
	return label{string(m), string(m)}
}

// IDType is the type of an identity document or code (证件类型).
type IDType string

// ID types. Resident ID numbers and USCCs are checked with their check
// character; the other documents only for presence.
const (
	ResidentID          IDType = "resident_id"           // 居民身份证 (GB 11643-1999)
	Passport            IDType = "passport"              // 护照
	HKMacaoPermit       IDType = "hk_macao_permit"       // 港澳居民来往内地通行证
	TaiwanPermit        IDType = "taiwan_permit"         // 台湾居民来往大陆通行证
	ForeignPermanentID  IDType = "foreign_permanent_id"  // 外国人永久居留身份证
	USCC                IDType = "uscc"                  // 统一社会信用代码 (GB 32100-2015)
	OverseasEntityProof IDType = "overseas_entity_proof" // 境外主体资格证明 (foreign investors without a USCC)
)

func (t IDType) personal() bool {
	return t == ResidentID || t == Passport || t == HKMacaoPermit || t == TaiwanPermit || t == ForeignPermanentID
}

func (t IDType) entity() bool { return t == USCC || t == OverseasEntityProof }

// Person names a natural person or an organisation by its identity
// document.
type Person struct {
	Name     string `json:"name"`
	IDType   IDType `json:"idType"`
	IDNumber string `json:"idNumber"`
}

// same reports whether p and q carry the same identity document.
func (p Person) same(q Person) bool {
	return p.IDNumber != "" && p.IDType == q.IDType && p.IDNumber == q.IDNumber
}

// LegalRep is the legal representative (法定代表人). The person must also be
// listed among the main members with the same position.
type LegalRep struct {
	Person
	Position    Position          `json:"position"`
	AppointedBy AppointmentMethod `json:"appointedBy"`
}

// Member is a main member (主要成员).
type Member struct {
	Person
	Positions []Position `json:"positions"`
	// EmployeeRep marks an employee representative (职工代表), elected by
	// the employees' congress; counted for the supervisory board's one third.
	EmployeeRep bool `json:"employeeRep"`
}

func (m Member) has(p Position) bool {
	for _, q := range m.Positions {
		if q == p {
			return true
		}
	}
	return false
}

func (m Member) isDirector() bool {
	for _, p := range m.Positions {
		if p.director() {
			return true
		}
	}
	return false
}

func (m Member) isSupervisor() bool {
	for _, p := range m.Positions {
		if p.supervisor() {
			return true
		}
	}
	return false
}

// ShareholderKind is the kind of shareholder or promoter (股东类型).
type ShareholderKind string

// Shareholder kinds.
const (
	NaturalPerson      ShareholderKind = "natural_person"      // 自然人
	Enterprise         ShareholderKind = "enterprise"          // 企业 (法人、非法人企业)
	Organisation       ShareholderKind = "organisation"        // 机关、事业单位、社会团体等其他组织 (incl. 履行出资人职责的机构)
	IndividualBusiness ShareholderKind = "individual_business" // 个体工商户 (never allowed, R11)
)

// Shareholder is a shareholder or promoter (股东/发起人) and its subscribed
// contribution (认缴出资额), paid in instalments (分期出资).
type Shareholder struct {
	Person
	Kind          ShareholderKind `json:"kind"`
	SubscribedFen int64           `json:"subscribedFen"` // 认缴出资额, in fen
	Instalments   []Instalment    `json:"instalments"`
}

// Instalment is one instalment of a contribution: amount and time
// (每期出资额、出资时间).
type Instalment struct {
	AmountFen int64     `json:"amountFen"`
	Due       time.Time `json:"due"` // 出资时间 (认缴出资期限)
	Paid      bool      `json:"paid"`
}

// Change is what only a change application (变更登记/备案) carries.
type Change struct {
	// RegisteredType is the enterprise type as registered before the change,
	// verbatim (e.g. "有限责任公司（中外合资）"); R17 looks for 合资/合作 in it.
	RegisteredType string `json:"registeredType"`
	// RegisteredCapitalFen is the registered capital before the change; a
	// lower Company.RegisteredCapitalFen is a capital reduction (R22).
	RegisteredCapitalFen int64 `json:"registeredCapitalFen"`
	// Shareholders are the shareholders as registered before the change;
	// equity transferors are chosen from them (R13).
	Shareholders []Person         `json:"shareholders"`
	Items        []ChangeItem     `json:"items"`
	Transfers    []EquityTransfer `json:"transfers"`
	// ReductionNotice is the latest capital-reduction announcement
	// (减资公告) from the publicity system, nil if none.
	ReductionNotice *Announcement `json:"reductionNotice"`
}

func (c *Change) has(item ChangeItem) bool {
	for _, i := range c.Items {
		if i == item {
			return true
		}
	}
	return false
}

// ChangeItem is an item changed or filed (变更（备案）事项).
type ChangeItem string

// Change items the rules look at.
const (
	ItemMainMembers      ChangeItem = "main_members"      // 主要成员（董事、监事、经理）备案
	ItemEnterpriseType   ChangeItem = "enterprise_type"   // 企业类型
	ItemHighestAuthority ChangeItem = "highest_authority" // 最高权力机构
)

// EquityTransfer is an equity transfer (股权转让).
type EquityTransfer struct {
	Transferor Person `json:"transferor"` // 出让方, one of the registered shareholders
	Transferee Person `json:"transferee"` // 受让方
}

// Announcement is a publicity-system announcement (公告).
type Announcement struct {
	PublishedOn time.Time `json:"publishedOn"`
	PeriodEnds  time.Time `json:"periodEnds"` // last day of the announcement period (公告期)
	Terminated  bool      `json:"terminated"` // 已终止
}

// label is a value's name in both languages, for messages.
type label struct{ zh, en string }
