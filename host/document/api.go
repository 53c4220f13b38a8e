package document

import (
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"strconv"
	"unicode/utf8"

	"github.com/gin-gonic/gin"

	"github.com/shanghai-amr/portal/host/apierror"
	"github.com/shanghai-amr/portal/host/files"
	"github.com/shanghai-amr/portal/host/identity"
	"github.com/shanghai-amr/portal/host/policy"
	"github.com/shanghai-amr/portal/host/server"
	"github.com/shanghai-amr/portal/host/store/ent"
	"github.com/shanghai-amr/portal/host/store/ent/organization"
)

// maxVerifyBody bounds a file sent for verification.
const maxVerifyBody = 50 << 20

// MountAPI registers:
//
//	GET  /api/v1/documents/templates       documents.read: the document types and their fields
//	POST /api/v1/documents                 documents.issue: issue one (host-owned) document; with an
//	                                       Idempotency-Key header, again under the same key the same one
//	GET  /api/v1/documents/:id             documents.read, in scope: the document
//	GET  /api/v1/documents/:id/content     documents.read, in scope: the signed original (PDF)
//	POST /api/v1/documents/:id/copies      documents.read, in scope: a watermarked copy (PDF)
//	GET  /api/v1/documents/:id/copies      documents.read, in scope: who took copies
//	POST /api/v1/documents/:id/revoke      documents.revoke, in scope
//	POST /api/v1/documents/verify          anyone: verify a PDF (the body)
//	GET  /api/v1/verify/:id?h=…            anyone: the QR code's link (h: SM3 prefix)
//
// and the template administration of mountAdmin.
func (s *Service) MountAPI(srv *server.Server, auth gin.HandlerFunc, pol *policy.Engine) {
	s.mountAdmin(srv, auth)
	api := srv.API()
	g := api.Group("/v1/documents", auth)
	g.GET("/templates", identity.Require("documents.read"), func(c *gin.Context) {
		c.JSON(http.StatusOK, gin.H{"templates": s.Templates()})
	})
	g.POST("", identity.Require("documents.issue"), func(c *gin.Context) {
		var body struct {
			Type    string         `json:"type"`
			OrgCode string         `json:"org_code"`
			Subject string         `json:"subject"`
			Data    map[string]any `json:"data"`
		}
		if !server.Decode(c, &body) {
			return
		}
		who := identity.From(c.Request.Context())
		if body.OrgCode == "" {
			body.OrgCode = who.OrgCode
		}
		org, err := s.orgPath(c, body.OrgCode)
		if err != nil {
			server.Fail(c, err)
			return
		}
		if !allowed(c, pol, who, "documents.issue", org) {
			server.Fail(c, identity.Forbidden)
			return
		}
		// A key is the user's own: another user's request under the same
		// key is another issuance.
		key := ""
		if k := c.GetHeader("Idempotency-Key"); k != "" {
			if utf8.RuneCountInString(k) > 100 {
				server.Fail(c, apierror.Invalid("Idempotency-Key: at most 100 characters"))
				return
			}
			key = who.Subject + "/" + k
		}
		d, err := s.Issue(c.Request.Context(), IssueRequest{Type: body.Type, Owner: files.HostOwner, Subject: body.Subject,
			OrgCode: body.OrgCode, Data: body.Data, IssuedBy: files.UserID(who), Actor: who.Username, RequestKey: key})
		if err != nil {
			server.Fail(c, err)
			return
		}
		c.JSON(http.StatusCreated, s.view(c, d))
	})
	one := g.Group("/:id", identity.Require("documents.read"))
	one.GET("", s.inScope(pol, "documents.read", func(c *gin.Context, d *ent.Document) {
		c.JSON(http.StatusOK, s.view(c, d))
	}))
	one.GET("/content", s.inScope(pol, "documents.read", func(c *gin.Context, d *ent.Document) {
		b, err := s.Original(c.Request.Context(), d)
		if err != nil {
			server.Fail(c, err)
			return
		}
		name := d.Title + ".pdf"
		if d.Number != "" {
			name = d.Title + " " + d.Number + ".pdf"
		}
		c.Header("Content-Disposition", files.ContentDisposition("attachment", name))
		c.Header("ETag", `"`+d.Sm3+`"`)
		c.Data(http.StatusOK, "application/pdf", b)
	}))
	one.POST("/copies", s.inScope(pol, "documents.read", func(c *gin.Context, d *ent.Document) {
		var body struct {
			Purpose string `json:"purpose"`
		}
		if !server.Decode(c, &body) {
			return
		}
		who := identity.From(c.Request.Context())
		pdf, cp, err := s.Copy(c.Request.Context(), CopyRequest{DocumentID: d.ID, UserID: files.UserID(who), Username: who.Username,
			Purpose: body.Purpose, OrgPath: who.OrgPath})
		if err != nil {
			server.Fail(c, err)
			return
		}
		c.Header("Content-Disposition", files.ContentDisposition("attachment", fmt.Sprintf("%s（副本 %s）.pdf", d.Title, cp.Code)))
		c.Header("X-Copy-Code", cp.Code)
		c.Data(http.StatusOK, "application/pdf", pdf)
	}))
	one.GET("/copies", s.inScope(pol, "documents.read", func(c *gin.Context, d *ent.Document) {
		cs, err := s.Copies(c.Request.Context(), d.ID)
		if err != nil {
			server.Fail(c, err)
			return
		}
		c.JSON(http.StatusOK, gin.H{"copies": cs})
	}))
	one.POST("/revoke", identity.Require("documents.revoke"), s.inScope(pol, "documents.revoke", func(c *gin.Context, d *ent.Document) {
		var body struct {
			Reason string `json:"reason"`
		}
		if !server.Decode(c, &body) {
			return
		}
		who := identity.From(c.Request.Context())
		d, err := s.Revoke(c.Request.Context(), d.ID, body.Reason, who.Username, who.OrgPath)
		if err != nil {
			server.Fail(c, err)
			return
		}
		c.JSON(http.StatusOK, s.view(c, d))
	}))

	verify := srv.Group(maxVerifyBody)
	verify.POST("/v1/documents/verify", func(c *gin.Context) {
		b, err := io.ReadAll(c.Request.Body)
		if err != nil {
			server.Fail(c, err)
			return
		}
		if len(b) == 0 {
			server.Fail(c, apierror.Invalid("send the PDF file as the request body"))
			return
		}
		v, err := s.Verify(c.Request.Context(), b)
		if err != nil {
			server.Fail(c, err)
			return
		}
		c.JSON(http.StatusOK, v)
	})
	api.GET("/v1/verify/:id", func(c *gin.Context) {
		id, err := strconv.Atoi(c.Param("id"))
		if err != nil {
			server.Fail(c, ErrNotFound)
			return
		}
		p, err := s.Lookup(c.Request.Context(), id, c.Query("h"))
		if err != nil {
			server.Fail(c, err)
			return
		}
		c.JSON(http.StatusOK, p)
	})
}

// View is a document as its API shows it to staff.
type View struct {
	*Public
	Owner   string         `json:"owner"`
	Subject string         `json:"subject,omitempty"`
	OrgCode string         `json:"org_code"`
	Data    map[string]any `json:"data"`
	FileID  int            `json:"file_id"`
}

func (s *Service) view(c *gin.Context, d *ent.Document) View {
	v := View{Public: s.public(c.Request.Context(), d), Owner: d.Owner, Subject: d.Subject, OrgCode: d.OrgCode, FileID: d.FileID}
	_ = json.Unmarshal([]byte(d.Data), &v.Data)
	return v
}

// inScope loads the document named in the path and lets the handler run only
// if the policy allows action on the document's organisation. A document out
// of scope answers 404, as one that does not exist.
func (s *Service) inScope(pol *policy.Engine, action string, h func(*gin.Context, *ent.Document)) gin.HandlerFunc {
	return func(c *gin.Context) {
		id, err := strconv.Atoi(c.Param("id"))
		if err != nil {
			server.Fail(c, ErrNotFound)
			return
		}
		d, err := s.Get(c.Request.Context(), id)
		if err != nil {
			server.Fail(c, err)
			return
		}
		if !allowed(c, pol, identity.From(c.Request.Context()), action, d.OrgPath) {
			server.Fail(c, ErrNotFound)
			return
		}
		h(c, d)
	}
}

func allowed(c *gin.Context, pol *policy.Engine, who *identity.Identity, action, orgPath string) bool {
	return pol.Allows(c.Request.Context(), policy.OnOrg(who.PolicySubject(), action, orgPath))
}

func (s *Service) orgPath(c *gin.Context, code string) (string, error) {
	o, err := s.o.Client.Organization.Query().Where(organization.Code(code)).Only(c.Request.Context())
	if ent.IsNotFound(err) {
		return "", ErrUnknownOrg
	}
	if err != nil {
		return "", err
	}
	return o.Path, nil
}
