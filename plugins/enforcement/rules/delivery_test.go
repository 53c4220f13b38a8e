package rules

import (
	"errors"
	"strings"
	"testing"
	"time"
)

func TestDeliveryDate(t *testing.T) {
	person := DeliveryEvidence{Recipient: RecipientPerson}
	org := DeliveryEvidence{Recipient: RecipientOrganisation}
	with := func(ev DeliveryEvidence, f func(*DeliveryEvidence)) DeliveryEvidence { f(&ev); return ev }
	for _, tc := range []struct {
		name    string
		m       Method
		ev      DeliveryEvidence
		want    string // delivery day, or "" for an error
		err     error
		message string // part of the error's message
	}{
		{"R-DEL-1 direct: the sign date on the 送达回证, time of day dropped", MethodDirect,
			with(person, func(e *DeliveryEvidence) { e.SignedAt = at("2026-09-29 15:40") }), "2026-09-29", nil, ""},
		{"R-DEL-1 direct signed by the party", MethodDirect,
			with(org, func(e *DeliveryEvidence) { e.Signer = SignerParty; e.SignedAt = day("2026-09-29") }), "2026-09-29", nil, ""},
		{"R-DEL-1 direct: a date in another zone is read in CST", MethodDirect,
			with(person, func(e *DeliveryEvidence) { e.SignedAt = time.Date(2026, 9, 29, 17, 0, 0, 0, time.UTC) }), "2026-09-30", nil, ""},
		{"R-DEL-1 direct without a sign date", MethodDirect, person, "", ErrMissingDate, "送达回证上的签收日期"},
		{"R-DEL-1 direct signed by someone else is not direct", MethodDirect,
			with(person, func(e *DeliveryEvidence) { e.Signer = SignerFamily; e.SignedAt = day("2026-09-29") }), "", ErrSignerNotAllowed, "use substitute delivery"},

		{"R-DEL-2 substitute: adult co-resident family member of a natural person", MethodSubstitute,
			with(person, func(e *DeliveryEvidence) {
				e.Signer, e.AdultCoResident, e.SignedAt = SignerFamily, true, day("2026-10-08")
			}), "2026-10-08", nil, ""},
		{"R-DEL-2 substitute: family member not an adult co-resident", MethodSubstitute,
			with(person, func(e *DeliveryEvidence) { e.Signer, e.SignedAt = SignerFamily, day("2026-10-08") }), "", ErrSignerNotAllowed, "同住成年家属"},
		{"R-DEL-2 substitute: family member cannot sign for an organisation", MethodSubstitute,
			with(org, func(e *DeliveryEvidence) {
				e.Signer, e.AdultCoResident, e.SignedAt = SignerFamily, true, day("2026-10-08")
			}), "", ErrSignerNotAllowed, "仅适用于自然人"},
		{"R-DEL-2 substitute: legal representative of an organisation", MethodSubstitute,
			with(org, func(e *DeliveryEvidence) { e.Signer, e.SignedAt = SignerLegalRep, day("2026-10-08") }), "2026-10-08", nil, ""},
		{"R-DEL-2 substitute: principal of an organisation", MethodSubstitute,
			with(org, func(e *DeliveryEvidence) { e.Signer, e.SignedAt = SignerPrincipal, day("2026-10-08") }), "2026-10-08", nil, ""},
		{"R-DEL-2 substitute: mail receiver of an organisation", MethodSubstitute,
			with(org, func(e *DeliveryEvidence) { e.Signer, e.SignedAt = SignerMailReceiver, day("2026-10-09") }), "2026-10-09", nil, ""},
		{"R-DEL-2 substitute: mail receiver cannot sign for a natural person", MethodSubstitute,
			with(person, func(e *DeliveryEvidence) { e.Signer, e.SignedAt = SignerMailReceiver, day("2026-10-09") }), "", ErrSignerNotAllowed, "only for an organisation"},
		{"R-DEL-2 substitute: agent", MethodSubstitute,
			with(person, func(e *DeliveryEvidence) { e.Signer, e.SignedAt = SignerAgent, day("2026-10-09") }), "2026-10-09", nil, ""},
		{"R-DEL-2 substitute: designated 代收人", MethodSubstitute,
			with(org, func(e *DeliveryEvidence) { e.Signer, e.SignedAt = SignerDesignated, day("2026-10-09") }), "2026-10-09", nil, ""},
		{"R-DEL-2 substitute without a signer capacity", MethodSubstitute,
			with(org, func(e *DeliveryEvidence) { e.SignedAt = day("2026-10-09") }), "", ErrSignerNotAllowed, "未说明签收人身份"},
		{"R-DEL-2 substitute: the party itself is direct delivery", MethodSubstitute,
			with(org, func(e *DeliveryEvidence) { e.Signer, e.SignedAt = SignerParty, day("2026-10-09") }), "", ErrSignerNotAllowed, "直接送达"},
		{"R-DEL-2 substitute without a sign date", MethodSubstitute,
			with(org, func(e *DeliveryEvidence) { e.Signer = SignerAgent }), "", ErrMissingDate, "代收人在送达回证上注明的签收日期"},

		{"R-DEL-3 post: the receipt date on the return receipt", MethodPost,
			with(org, func(e *DeliveryEvidence) { e.ReceiptDate = day("2026-10-10"); e.SignedAt = day("2026-10-01") }), "2026-10-10", nil, ""},
		{"R-DEL-3 post without a receipt date", MethodPost, org, "", ErrMissingDate, "邮寄回执上注明的收件日期"},
		{"R-DEL-3 entrusted: the recipient's sign date", MethodEntrusted,
			with(org, func(e *DeliveryEvidence) { e.SignedAt = day("2026-10-12") }), "2026-10-12", nil, ""},
		{"R-DEL-3 transferred: the recipient's sign date", MethodTransferred,
			with(org, func(e *DeliveryEvidence) { e.SignedAt = day("2026-10-13") }), "2026-10-13", nil, ""},
		{"R-DEL-3 transferred without a sign date", MethodTransferred, org, "", ErrMissingDate, "the recipient's sign date"},

		{"R-DEL-4 confirmed address inaccurate, direct: the day the document was left", MethodConfirmedAddressLeft,
			with(org, func(e *DeliveryEvidence) { e.AddressConfirmed, e.LeftAt = true, at("2026-10-09 11:00") }), "2026-10-09", nil, ""},
		{"R-DEL-4 confirmed address inaccurate, post: the day it was returned", MethodConfirmedAddressReturned,
			with(org, func(e *DeliveryEvidence) { e.AddressConfirmed, e.ReturnedAt = true, day("2026-10-15") }), "2026-10-15", nil, ""},
		{"R-DEL-4 no 送达地址确认书", MethodConfirmedAddressLeft,
			with(org, func(e *DeliveryEvidence) { e.LeftAt = day("2026-10-09") }), "", ErrNoAddressConfirmed, "送达地址确认书"},
		{"R-DEL-4 returned post without the return date", MethodConfirmedAddressReturned,
			with(org, func(e *DeliveryEvidence) { e.AddressConfirmed = true }), "", ErrMissingDate, "被退回的日期"},

		{"R-DEL-5 electronic with prior consent: the day it reached the system", MethodElectronic,
			with(org, func(e *DeliveryEvidence) {
				e.ElectronicConsent, e.ConsentAt, e.ReachedAt = true, day("2026-09-01"), at("2026-09-30 22:15")
			}), "2026-09-30", nil, ""},
		{"R-DEL-5 electronic with consent, time of consent unknown", MethodElectronic,
			with(org, func(e *DeliveryEvidence) { e.ElectronicConsent, e.ReachedAt = true, day("2026-09-30") }), "2026-09-30", nil, ""},
		{"R-DEL-5 electronic without consent is refused", MethodElectronic,
			with(org, func(e *DeliveryEvidence) { e.ReachedAt = day("2026-09-30") }), "", ErrNoConsent, "事先同意"},
		{"R-DEL-5 electronic with consent given after it reached the system", MethodElectronic,
			with(org, func(e *DeliveryEvidence) {
				e.ElectronicConsent, e.ConsentAt, e.ReachedAt = true, at("2026-09-30 10:00"), at("2026-09-30 09:00")
			}), "", ErrConsentAfter, "not before"},
		{"R-DEL-5 electronic without the arrival date", MethodElectronic,
			with(org, func(e *DeliveryEvidence) { e.ElectronicConsent = true }), "", ErrMissingDate, "特定系统"},

		{"R-DEL-6 refusal with a witness: the day it was left", MethodRefusal,
			with(person, func(e *DeliveryEvidence) { e.Witnessed, e.LeftAt = true, day("2026-10-08") }), "2026-10-08", nil, ""},
		{"R-DEL-6 refusal recorded on photo or video", MethodRefusal,
			with(person, func(e *DeliveryEvidence) { e.Recorded, e.LeftAt = true, day("2026-10-08") }), "2026-10-08", nil, ""},
		{"R-DEL-6 refusal neither witnessed nor recorded", MethodRefusal,
			with(person, func(e *DeliveryEvidence) { e.LeftAt = day("2026-10-08") }), "", ErrRefusalUnattested, "见证人签名或者拍照、录像"},

		{"R-DEL-7 public notice: S8 published 2025-07-01, delivered 2025-07-31", MethodPublicNotice,
			with(org, func(e *DeliveryEvidence) { e.NoticeApproved, e.PublishedAt = true, at("2025-07-01 10:00") }), "2025-07-31", nil, ""},
		{"R-DEL-7 public notice: 30 days run through National Day", MethodPublicNotice,
			with(org, func(e *DeliveryEvidence) { e.NoticeApproved, e.PublishedAt = true, day("2026-09-15") }), "2026-10-15", nil, ""},
		{"R-DEL-10 public notice not approved", MethodPublicNotice,
			with(org, func(e *DeliveryEvidence) { e.PublishedAt = day("2026-09-15") }), "", ErrNoticeNotApproved, "批准"},
		{"R-DEL-7 public notice without a publication date", MethodPublicNotice,
			with(org, func(e *DeliveryEvidence) { e.NoticeApproved = true }), "", ErrMissingDate, "公告发布日期"},

		{"unknown method", Method("pigeon"), org, "", ErrUnknownMethod, `"pigeon"`},
	} {
		t.Run(tc.name, func(t *testing.T) {
			got, err := DeliveryDate(tc.m, tc.ev)
			if tc.err != nil {
				if !errors.Is(err, tc.err) {
					t.Fatalf("err = %v, want %v", err, tc.err)
				}
				if !strings.Contains(err.Error(), tc.message) {
					t.Errorf("message %q lacks %q", err.Error(), tc.message)
				}
				if !got.IsZero() {
					t.Errorf("date %v with an error", got)
				}
				return
			}
			if err != nil {
				t.Fatalf("err = %v", err)
			}
			same(t, "DeliveryDate", got, day(tc.want))
		})
	}
}

func TestDeliveryErrorsAreBilingual(t *testing.T) {
	_, err := DeliveryDate(MethodElectronic, DeliveryEvidence{ReachedAt: day("2026-09-30")})
	var e *Error
	if !errors.As(err, &e) {
		t.Fatalf("err %T", err)
	}
	if e.Code != "rules.delivery.no_consent" ||
		e.Message("zh-CN") != "受送达人未事先同意电子送达（送达地址确认书中未确认），不能电子送达" ||
		e.Message("en-GB") != "electronic delivery needs the recipient's prior consent in the address confirmation" {
		t.Errorf("error %+v", e)
	}
}

func TestOffSiteDeliveryDue(t *testing.T) {
	// R-DEL-3: absent party, 7 working days from 2026-09-29:
	// 09-30, 10-08, 10-09, 10-10 (make-up), 10-12, 10-13, 10-14.
	same(t, "R-DEL-3 OffSiteDeliveryDue", OffSiteDeliveryDue(cal, at("2026-09-29 10:00")), end("2026-10-14"))
}
