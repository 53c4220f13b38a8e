package rules

import (
	"strconv"
	"time"
)

// Method is how a document was delivered (送达方式).
type Method string

// Methods, with the rule that fixes each one's delivery date.
const (
	// MethodDirect 直接（当场）送达, R-DEL-1:
	// "受送达人在送达回证上注明的签收日期为送达日期".
	// Evidence: SignedAt; Signer empty or SignerParty.
	MethodDirect Method = "direct"
	// MethodSubstitute 代为签收, R-DEL-2: an adult co-resident family member of
	// a natural person; the legal representative, principal or mail receiver
	// of an organisation; an agent; a designated 代收人. Their sign date is
	// the delivery date. Evidence: SignedAt, Signer, Recipient.
	MethodSubstitute Method = "substitute"
	// MethodPost 邮寄送达, R-DEL-3: "以回执上注明的收件日期为送达日期".
	// Evidence: ReceiptDate.
	MethodPost Method = "post"
	// MethodEntrusted 委托当地市场监督管理部门代为送达, R-DEL-3: the recipient's
	// sign date. Evidence: SignedAt.
	MethodEntrusted Method = "entrusted"
	// MethodTransferred 转交其他部门代为送达, R-DEL-3: as MethodEntrusted.
	MethodTransferred Method = "transferred"
	// MethodConfirmedAddressLeft 按送达地址确认书的地址直接送达, the address being
	// inaccurate or its change not notified, R-DEL-4:
	// "执法文书留在该地址之日为送达之日". Evidence: AddressConfirmed, LeftAt.
	MethodConfirmedAddressLeft Method = "confirmed_address_left"
	// MethodConfirmedAddressReturned 按确认地址邮寄送达, the address being
	// inaccurate or its change not notified, R-DEL-4:
	// "执法文书被退回之日为送达之日". Evidence: AddressConfirmed, ReturnedAt.
	MethodConfirmedAddressReturned Method = "confirmed_address_returned"
	// MethodElectronic 电子送达, R-DEL-5: only with the recipient's prior
	// consent in the 送达地址确认书;
	// "电子送达到达受送达人特定系统的日期为送达日期".
	// Evidence: ElectronicConsent (ConsentAt if known), ReachedAt.
	MethodElectronic Method = "electronic"
	// MethodRefusal 留置送达 on refusal, R-DEL-6: the day the document was
	// left at the residence, with a witness's signature or a photo/video
	// record. Evidence: LeftAt, Witnessed or Recorded.
	MethodRefusal Method = "refusal"
	// MethodPublicNotice 公告送达, R-DEL-7 and R-DEL-10:
	// "自公告发布之日起经过三十日，即视为送达", the notice approved by a leader
	// before publication.
	// Evidence: PublishedAt, NoticeApproved.
	MethodPublicNotice Method = "public_notice"
)

// Recipient is the kind of party a document is delivered to.
type Recipient string

// Recipient kinds.
const (
	RecipientPerson       Recipient = "natural_person"
	RecipientOrganisation Recipient = "organisation" // 法人或者其他组织
)

// Signer is who signed the 送达回证 (R-DEL-2).
type Signer string

// Signers.
const (
	SignerParty        Signer = "party"                // 受送达人本人
	SignerFamily       Signer = "family"               // 同住成年家属 (natural person)
	SignerLegalRep     Signer = "legal_representative" // 法定代表人 (organisation)
	SignerPrincipal    Signer = "principal"            // 主要负责人 (organisation)
	SignerMailReceiver Signer = "mail_receiver"        // 负责收件的人 (organisation)
	SignerAgent        Signer = "agent"                // 诉讼代理人 / 委托代理人
	SignerDesignated   Signer = "designated_receiver"  // 指定的代收人
)

// DeliveryEvidence is what was recorded about a delivery. Each method reads
// only the fields its rule needs (see the Method constants); times are read
// as days in CST.
type DeliveryEvidence struct {
	Recipient       Recipient
	Signer          Signer
	AdultCoResident bool      // a SignerFamily is an adult living with the recipient
	SignedAt        time.Time // the sign date written on the 送达回证
	ReceiptDate     time.Time // 邮寄回执上注明的收件日期

	AddressConfirmed bool      // a 送达地址确认书 is on file
	LeftAt           time.Time // the document was left at the address / residence
	ReturnedAt       time.Time // the post came back

	ElectronicConsent bool      // prior consent to electronic delivery in the 送达地址确认书
	ConsentAt         time.Time // when it was given, if known
	ReachedAt         time.Time // the message reached the recipient's system

	Witnessed bool // a witness (基层组织或者所在单位的代表) signed the 送达回证
	Recorded  bool // the leaving was photographed or filmed

	PublishedAt    time.Time // the public notice was published (posted, printed or put online)
	NoticeApproved bool      // the public notice was approved (R-DEL-10)
}

// PublicNoticeDays: "自公告发布之日起经过三十日，即视为送达" (R-DEL-7).
const PublicNoticeDays = 30

// Delivery errors. The returned errors match these under errors.Is.
var (
	ErrUnknownMethod      = &Error{Code: "rules.delivery.unknown_method", ZH: "送达方式不明", EN: "unknown delivery method"}
	ErrMissingDate        = &Error{Code: "rules.delivery.missing_date", ZH: "缺少确定送达日期所需的日期", EN: "a date needed to fix the delivery date is missing"}
	ErrSignerNotAllowed   = &Error{Code: "rules.delivery.signer", ZH: "签收人不符合代收条件", EN: "this person may not sign for the recipient"}
	ErrNoAddressConfirmed = &Error{Code: "rules.delivery.no_address_confirmation", ZH: "没有送达地址确认书，不能按确认地址视为送达", EN: "without an address confirmation the document cannot be deemed delivered to that address"}
	ErrNoConsent          = &Error{Code: "rules.delivery.no_consent", ZH: "受送达人未事先同意电子送达（送达地址确认书中未确认），不能电子送达", EN: "electronic delivery needs the recipient's prior consent in the address confirmation"}
	ErrConsentAfter       = &Error{Code: "rules.delivery.consent_after", ZH: "电子送达的同意晚于送达，不属于事先同意", EN: "the consent to electronic delivery was given after the delivery, not before"}
	ErrRefusalUnattested  = &Error{Code: "rules.delivery.refusal_unattested", ZH: "留置送达须有见证人签名或者拍照、录像记录", EN: "delivery on refusal needs a witness's signature or a photo or video record"}
	ErrNoticeNotApproved  = &Error{Code: "rules.delivery.notice_not_approved", ZH: "公告送达须经负责人批准后发布", EN: "a public notice must be approved before it is published"}
)

// DeliveryDate is the delivery date (送达日期) the rule of method m fixes from
// ev, as 00:00 CST of that day. It refuses evidence that does not support the
// method: a missing date, a signer who may not sign, electronic delivery
// without prior consent, an unattested refusal, an unapproved notice.
func DeliveryDate(m Method, ev DeliveryEvidence) (time.Time, error) {
	need := func(t time.Time, zh, en string) (time.Time, error) {
		if t.IsZero() {
			return time.Time{}, ErrMissingDate.with(zh, en)
		}
		return StartOfDay(t), nil
	}
	switch m {
	case MethodDirect:
		if ev.Signer != "" && ev.Signer != SignerParty {
			return time.Time{}, ErrSignerNotAllowed.with("直接送达应由受送达人本人签收，他人签收请选择代为签收", "direct delivery is signed by the recipient; use substitute delivery for anyone else")
		}
		return need(ev.SignedAt, "送达回证上的签收日期", "the sign date on the proof of service")
	case MethodSubstitute:
		if err := checkSubstitute(ev); err != nil {
			return time.Time{}, err
		}
		return need(ev.SignedAt, "代收人在送达回证上注明的签收日期", "the substitute's sign date on the proof of service")
	case MethodPost:
		return need(ev.ReceiptDate, "邮寄回执上注明的收件日期", "the receipt date on the postal return receipt")
	case MethodEntrusted, MethodTransferred:
		return need(ev.SignedAt, "受送达人的签收日期", "the recipient's sign date")
	case MethodConfirmedAddressLeft, MethodConfirmedAddressReturned:
		if !ev.AddressConfirmed {
			return time.Time{}, ErrNoAddressConfirmed
		}
		if m == MethodConfirmedAddressLeft {
			return need(ev.LeftAt, "执法文书留在该地址的日期", "the day the document was left at the address")
		}
		return need(ev.ReturnedAt, "执法文书被退回的日期", "the day the document was returned")
	case MethodElectronic:
		if !ev.ElectronicConsent {
			return time.Time{}, ErrNoConsent
		}
		d, err := need(ev.ReachedAt, "到达受送达人特定系统的日期", "the day it reached the recipient's system")
		if err == nil && !ev.ConsentAt.IsZero() && ev.ConsentAt.After(ev.ReachedAt) {
			return time.Time{}, ErrConsentAfter
		}
		return d, err
	case MethodRefusal:
		if !ev.Witnessed && !ev.Recorded {
			return time.Time{}, ErrRefusalUnattested
		}
		return need(ev.LeftAt, "文书留置的日期", "the day the document was left")
	case MethodPublicNotice:
		if !ev.NoticeApproved {
			return time.Time{}, ErrNoticeNotApproved
		}
		d, err := need(ev.PublishedAt, "公告发布日期", "the publication date of the notice")
		if err != nil {
			return d, err
		}
		return d.AddDate(0, 0, PublicNoticeDays), nil
	}
	return time.Time{}, ErrUnknownMethod.with(strconv.Quote(string(m)), strconv.Quote(string(m)))
}

// checkSubstitute applies R-DEL-2's list of who may sign for whom.
func checkSubstitute(ev DeliveryEvidence) error {
	switch ev.Signer {
	case SignerAgent, SignerDesignated:
		return nil
	case SignerFamily:
		if ev.Recipient != RecipientPerson {
			return ErrSignerNotAllowed.with("家属代收仅适用于自然人", "a family member may sign only for a natural person")
		}
		if !ev.AdultCoResident {
			return ErrSignerNotAllowed.with("代收的家属须为同住成年家属", "the family member must be an adult living with the recipient")
		}
		return nil
	case SignerLegalRep, SignerPrincipal, SignerMailReceiver:
		if ev.Recipient != RecipientOrganisation {
			return ErrSignerNotAllowed.with("法定代表人、主要负责人或者负责收件的人仅可为法人或者其他组织签收", "a legal representative, principal or mail receiver may sign only for an organisation")
		}
		return nil
	case SignerParty:
		return ErrSignerNotAllowed.with("受送达人本人签收属于直接送达", "the recipient's own signature is direct delivery")
	}
	return ErrSignerNotAllowed.with("未说明签收人身份", "the signer's capacity is not given")
}

// OffSiteDeliveryDays: when the party is absent, the decision is delivered by
// post or entrusted "在七个工作日内" (R-DEL-3; 行政处罚法 第六十一条 "七日",
// working days by 第八十五条).
const OffSiteDeliveryDays = 7

// OffSiteDeliveryDue is the end of the 7th working day after the decision was
// announced in the party's absence: the last day to post or entrust it.
func OffSiteDeliveryDue(cal Calendar, announcedAt time.Time) time.Time {
	return AddWorkingDays(cal, announcedAt, OffSiteDeliveryDays)
}
