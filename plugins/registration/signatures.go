package main

import (
	"database/sql"
	"errors"
	"net/http"
	"time"

	"github.com/shanghai-amr/portal/sdk"
)

// Signatures (module 53): each person the pre-reviewer named signs the
// generated materials in the portal, signed in as themselves through
// 一网通办. The host gives the plugin a pseudonym of the signed-in person's
// identity number (Caller.PersonKey) equal to the one it gave for the number
// on the application, so the person is recognised without the number.

func (s *service) signatureRoutes(mux *http.ServeMux) {
	mux.HandleFunc("GET /signatures", s.mySignatures)
	mux.HandleFunc("POST /signatures/{id}/sign", s.sign)
}

// signer is an application as its signer sees it.
type signer struct {
	Filing    *filing    `json:"filing"`
	Roles     []string   `json:"roles"`
	Signed    bool       `json:"signed"`
	Materials []material `json:"materials"`
}

// mySignatures lists the applications the signed-in person is to sign, or
// has signed, while signatures are being gathered.
func (s *service) mySignatures(w http.ResponseWriter, r *http.Request) {
	key := sdk.CallerFrom(r.Context()).PersonKey
	out := []signer{}
	if key == "" {
		sdk.WriteJSON(w, http.StatusOK, map[string]any{"signatures": out})
		return
	}
	fs, err := s.filings(r.Context(), "f.status = ? AND f.id IN (SELECT filing_id FROM filing_persons WHERE person_key = ? AND required = 1)", stateSignatures, key)
	if err != nil {
		internal(w, r, err)
		return
	}
	for i := range fs {
		sg, err := s.signerView(r, &fs[i], key)
		if err != nil {
			internal(w, r, err)
			return
		}
		out = append(out, *sg)
	}
	sdk.WriteJSON(w, http.StatusOK, map[string]any{"signatures": out})
}

func (s *service) signerView(r *http.Request, f *filing, key string) (*signer, error) {
	if err := s.details(r.Context(), f); err != nil {
		return nil, err
	}
	e, err := s.enterprise(r.Context(), f.USCC)
	if err != nil {
		return nil, err
	}
	sg := &signer{Filing: f, Signed: true, Materials: materialsOf(e, f)}
	for _, p := range f.Persons {
		if p.key == key && p.Required {
			sg.Roles = append(sg.Roles, roles[p.Role][0])
			if p.SignedAt == 0 || p.signedFor != f.Digest {
				sg.Signed = false
			}
		}
	}
	return sg, nil
}

// sign records the signed-in person's signature on the materials whose
// digest they read, for every role they hold on the application.
func (s *service) sign(w http.ResponseWriter, r *http.Request) {
	var in struct {
		Digest string `json:"digest"`
	}
	if !decode(w, r, &in) {
		return
	}
	key := sdk.CallerFrom(r.Context()).PersonKey
	f, err := s.oneFiling(r.Context(), "f.id = ?", r.PathValue("id"))
	var sg *signer
	if err == nil {
		sg, err = s.signerView(r, f, key)
	}
	if errors.Is(err, sql.ErrNoRows) || (err == nil && (key == "" || len(sg.Roles) == 0)) {
		// Not a signer of this application: as if it did not exist.
		refuse(w, r, http.StatusNotFound, "registration.not_found", "没有需要您签名的该申请", "No such application for you to sign")
		return
	} else if err != nil {
		internal(w, r, err)
		return
	}
	switch {
	case f.Status != stateSignatures:
		wrongState(w, r, f, "该申请当前不需要签名", "The application is not gathering signatures")
	case in.Digest != f.Digest:
		refuse(w, r, http.StatusConflict, "registration.stale", "申请材料已变更，请重新阅读后再签名", "The materials changed: read them again before signing")
	default:
		if _, err := s.db.ExecContext(r.Context(), "UPDATE filing_persons SET signed_at = ?, signed_digest = ? WHERE filing_id = ? AND person_key = ? AND required = 1",
			time.Now().UnixMilli(), f.Digest, f.ID, key); err != nil {
			internal(w, r, err)
			return
		}
		s.audit(r.Context(), "suspension.sign", f.ID, map[string]any{"roles": sg.Roles, "digest": f.Digest})
		if sg, err = s.signerView(r, f, key); err != nil {
			internal(w, r, err)
			return
		}
		sdk.WriteJSON(w, http.StatusOK, sg)
	}
}
