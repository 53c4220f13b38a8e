package main

// The market-entity registry's routes: the staff search and record, and the
// public lookup. The table and the demo registry are enterprises_store.go,
// the name index enterprises_index.go, the parameters enterprises_params.go.

import (
	"context"
	"database/sql"
	"errors"
	"net/http"
	"strings"

	"github.com/shanghai-amr/portal/plugins/registration/registry"
	"github.com/shanghai-amr/portal/plugins/registration/search"
	"github.com/shanghai-amr/portal/sdk"
	"github.com/shanghai-amr/portal/sdk/idcode"
)

// enterprise is a record's columns, as the filings code and the
// enterprise's own page (GET /my/enterprise) show them.
type enterprise struct {
	USCC        string   `json:"uscc"`
	Name        string   `json:"name"`
	Kind        string   `json:"kind"`
	Status      string   `json:"status"`
	PriorStatus string   `json:"prior_status,omitempty"`
	District    string   `json:"district"`
	LegalRep    string   `json:"legal_rep"`
	Address     string   `json:"address"`
	Established string   `json:"established"`
	Filings     []filing `json:"filings,omitempty"`
}

func (s *service) enterprise(ctx context.Context, uscc string) (*enterprise, error) {
	r, err := readEntity(ctx, s.db, uscc)
	return r.enterprise(), err
}

// enterpriseDetail is GET /enterprises/{code}: the columns and filings as
// before, the district's name, and the whole registry record.
type enterpriseDetail struct {
	*enterprise
	DistrictName string           `json:"district_name,omitempty"`
	Entity       *registry.Entity `json:"entity"`
}

// enterpriseRow is one search result. Staff see every field; the public
// the first group, with the legal representative masked (search.View).
type enterpriseRow struct {
	USCC         string `json:"uscc"`
	Name         string `json:"name"`
	Status       string `json:"status"`
	District     string `json:"district"`
	DistrictName string `json:"district_name"`
	Established  string `json:"established"`
	LegalRep     string `json:"legal_rep"`
	// Staff only.
	Kind        string   `json:"kind,omitempty"`
	Capital     int64    `json:"capital,omitempty"` // fen
	FormerNames []string `json:"former_names,omitempty"`
	// Matched is what the query matched: code, name, former_name, initials;
	// absent for a listing by filters alone.
	Matched string `json:"matched,omitempty"`
}

func rowOf(v search.View, matched string) enterpriseRow {
	return enterpriseRow{USCC: v.Code, Name: v.Name, Status: v.Status.String(), District: v.District, DistrictName: v.DistrictName,
		Established: v.Established, LegalRep: v.LegalRep, Kind: v.Kind, Capital: v.Capital, FormerNames: v.FormerNames, Matched: matched}
}

// enterpriseList is the answer of a search. Total is exact unless
// truncated: a fragment found in a large part of the registry ranks a
// sample of it, and Total is then an estimate (约 N 条).
type enterpriseList struct {
	Enterprises []enterpriseRow `json:"enterprises"`
	Total       int             `json:"total"`
	Truncated   bool            `json:"truncated"`
	Limit       int             `json:"limit"`
	Offset      int             `json:"offset"`
	NextOffset  int             `json:"next_offset,omitempty"` // the next page's offset, when there is one
}

func (s *service) enterpriseRoutes(mux *http.ServeMux) {
	mux.HandleFunc("GET /enterprises", s.listEnterprises)
	mux.HandleFunc("GET /enterprises/{code}", s.getEnterprise)
	// The public lookup: one handler, a path per audience, as a route has
	// one permission (portal.public, portal.enterprise).
	mux.HandleFunc("GET /lookup", s.lookupEnterprises)
	mux.HandleFunc("GET /my/lookup", s.lookupEnterprises)
}

// listEnterprises is the staff search (staffQuery has the parameters),
// within the caller's jurisdiction.
func (s *service) listEnterprises(w http.ResponseWriter, r *http.Request) {
	q, bi := staffQuery(r.URL.Query())
	if bi != nil {
		refuse(w, r, http.StatusBadRequest, "registration.invalid", bi.zh, bi.en)
		return
	}
	s.answerSearch(w, r, searchCaller(sdk.CallerFrom(r.Context())), q, search.MaxOffset)
}

// lookupEnterprises is the public lookup (国家企业信用信息公示系统-like): a
// name or a code, the whole city, the public fields with personal names
// masked.
func (s *service) lookupEnterprises(w http.ResponseWriter, r *http.Request) {
	q, bi := publicQuery(r.URL.Query())
	if bi != nil {
		refuse(w, r, http.StatusBadRequest, "registration.invalid", bi.zh, bi.en)
		return
	}
	s.answerSearch(w, r, publicCaller(), q, publicMaxOffset)
}

func (s *service) answerSearch(w http.ResponseWriter, r *http.Request, c search.Caller, q search.Query, maxOffset int) {
	if !s.index.ready.Load() {
		if code, ok := codeOnly(q); ok {
			s.answerCodeFromTable(w, r, c, q, code)
			return
		}
		w.Header().Set("Retry-After", "2")
		refuse(w, r, http.StatusServiceUnavailable, "registration.index_building",
			"市场主体索引正在建立，请稍后再试", "The registry index is being built; try again in a moment")
		return
	}
	res, err := s.index.ix.Search(c, q)
	if errors.Is(err, search.ErrQuery) {
		refuse(w, r, http.StatusBadRequest, "registration.invalid", "查询条件不正确", "The query is not valid")
		return
	} else if err != nil {
		internal(w, r, err)
		return
	}
	out := enterpriseList{Enterprises: make([]enterpriseRow, 0, len(res.Hits)), Total: res.Total, Truncated: res.Truncated,
		Limit: q.Limit, Offset: q.Offset}
	for _, h := range res.Hits {
		out.Enterprises = append(out.Enterprises, rowOf(h.View, h.Matched))
	}
	if next := q.Offset + q.Limit; len(res.Hits) == q.Limit && next < res.Total && next <= maxOffset {
		out.NextOffset = next
	}
	sdk.WriteJSON(w, http.StatusOK, out)
}

// codeOnly reports a query that is a credit code and nothing else: the one
// kind of query the table answers while the index is being built.
func codeOnly(q search.Query) (string, bool) {
	code := strings.ToUpper(strings.TrimSpace(q.Text))
	if idcode.ValidUSCC(code) != nil || q.Offset != 0 || len(q.Districts)+len(q.Statuses)+len(q.Kinds) > 0 ||
		!q.EstablishedFrom.IsZero() || !q.EstablishedTo.IsZero() || q.CapitalMin != 0 || q.CapitalMax != 0 {
		return "", false
	}
	return code, true
}

func (s *service) answerCodeFromTable(w http.ResponseWriter, r *http.Request, c search.Caller, q search.Query, code string) {
	out := enterpriseList{Enterprises: []enterpriseRow{}, Limit: q.Limit}
	row, err := readEntity(r.Context(), s.db, code)
	if err != nil && !errors.Is(err, sql.ErrNoRows) {
		internal(w, r, err)
		return
	}
	if err == nil {
		e, _ := row.entity(false)
		if inScope(c.Scope, e.District) {
			out.Enterprises, out.Total = append(out.Enterprises, rowOf(search.ViewEntity(e, c.Audience), "code")), 1
		}
	}
	sdk.WriteJSON(w, http.StatusOK, out)
}

// inScope: city scope sees every row, even one whose district is not a
// Shanghai district code.
func inScope(sc search.Scope, d registry.District) bool { return sc.City() || sc.Allows(d) }

// getEnterprise is a record with its members, shareholders and filings,
// within the caller's jurisdiction and the policy's decision (404 outside
// both, so a code does not reveal that the entity exists).
func (s *service) getEnterprise(w http.ResponseWriter, r *http.Request) {
	code := strings.ToUpper(strings.TrimSpace(r.PathValue("code")))
	if idcode.ValidUSCC(code) != nil {
		refuse(w, r, http.StatusBadRequest, "registration.invalid", "统一社会信用代码不正确", "Not a valid unified social credit code")
		return
	}
	row, err := readEntity(r.Context(), s.db, code)
	var e *registry.Entity
	if err == nil {
		var derr error
		if e, derr = row.entity(true); derr != nil {
			s.log.Warn("registry record has unreadable data; shown from its columns", "uscc", code, "err", derr)
		}
		if !inScope(searchCaller(sdk.CallerFrom(r.Context())).Scope, e.District) {
			err = sql.ErrNoRows
		}
	}
	if err == nil && !allowedOn(r, "registration.application.read", "/310000/"+row.district) {
		err = sql.ErrNoRows
	}
	if errors.Is(err, sql.ErrNoRows) {
		refuse(w, r, http.StatusNotFound, "registration.not_found", "没有该市场主体", "No such entity")
		return
	} else if err != nil {
		internal(w, r, err)
		return
	}
	if e.LegalRepID != "" { // staff see the record; the full number stays in the registry
		e.LegalRepID = idcode.MaskResidentID(e.LegalRepID)
	}
	out := enterpriseDetail{enterprise: row.enterprise(), DistrictName: e.District.Name(), Entity: e}
	if out.Filings, err = s.filings(r.Context(), "f.uscc = ?", code); err != nil {
		internal(w, r, err)
		return
	}
	sdk.WriteJSON(w, http.StatusOK, out)
}
