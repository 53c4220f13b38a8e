package dossier

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"net/http"
	"strconv"

	"github.com/gin-gonic/gin"

	"github.com/shanghai-amr/portal/host/apierror"
	"github.com/shanghai-amr/portal/host/files"
	"github.com/shanghai-amr/portal/host/identity"
	"github.com/shanghai-amr/portal/host/policy"
	"github.com/shanghai-amr/portal/host/server"
	"github.com/shanghai-amr/portal/host/store/ent"
)

// maxPackage bounds an archive package sent for checking.
const maxPackage = 512 << 20

// ArchiveAndStore archives a dossier (Archive) and keeps the package in the
// file store, owned by the dossier's owner, recording it on the dossier. On
// failed checks it returns the report and ErrChecksFailed with the report as
// details; nothing is stored.
func (s *Service) ArchiveAndStore(ctx context.Context, fs *files.Store, id int, info ArchiveInfo, actor string, userID int) (*ent.Dossier, *Report, error) {
	zipData, rep, err := s.Archive(ctx, id, info)
	if err != nil {
		if rep != nil {
			return nil, rep, ErrChecksFailed.WithDetails(rep)
		}
		return nil, nil, err
	}
	d, err := s.Get(ctx, id)
	if err != nil {
		return nil, rep, err
	}
	f, err := fs.Put(ctx, files.PutRequest{Owner: d.Owner, Name: d.ArchiveCode + ".zip", Purpose: "archive",
		CreatedBy: userID, OrgPath: d.OrgPath, Body: bytes.NewReader(zipData), DeclaredSize: int64(len(zipData)), Actor: actor})
	if err != nil {
		return nil, rep, fmt.Errorf("dossier %d: store the archive package: %w", id, err)
	}
	if err := s.SetArchiveFile(ctx, id, f.ID); err != nil {
		return nil, rep, err
	}
	d, err = s.Get(ctx, id)
	return d, rep, err
}

// MountAPI registers:
//
//	GET  /api/v1/dossiers/checks         dossiers.read: the archive checks applied (R-ARC-7)
//	POST /api/v1/dossiers/check          dossiers.check: run the checks on a package (the body, a ZIP)
//	GET  /api/v1/dossiers/:id            dossiers.read, in scope: the dossier, its catalogue and chain status
//	GET  /api/v1/dossiers/:id/package    dossiers.read, in scope: the signed archive package
func (s *Service) MountAPI(srv *server.Server, auth gin.HandlerFunc, pol *policy.Engine, fs *files.Store) {
	g := srv.API().Group("/v1/dossiers", auth)
	g.GET("/checks", identity.Require("dossiers.read"), func(c *gin.Context) {
		c.JSON(http.StatusOK, gin.H{"checks": Checks()})
	})
	srv.Group(maxPackage).POST("/v1/dossiers/check", auth, identity.Require("dossiers.check"), func(c *gin.Context) {
		b, err := io.ReadAll(c.Request.Body)
		if err != nil {
			server.Fail(c, err)
			return
		}
		if len(b) == 0 {
			server.Fail(c, apierror.Invalid("send the archive package (ZIP) as the request body"))
			return
		}
		c.JSON(http.StatusOK, s.Check(c.Request.Context(), b))
	})
	g.GET("/:id", identity.Require("dossiers.read"), s.inScope(pol, func(c *gin.Context, d *ent.Dossier) {
		items, err := s.Catalogue(c.Request.Context(), d.ID)
		if err != nil {
			server.Fail(c, err)
			return
		}
		chain := gin.H{"intact": true}
		if err := s.Verify(c.Request.Context(), d.ID); err != nil {
			chain = gin.H{"intact": false, "problem": err.Error()}
		}
		c.JSON(http.StatusOK, gin.H{"dossier": d, "items": items, "chain": chain})
	}))
	g.GET("/:id/package", identity.Require("dossiers.read"), s.inScope(pol, func(c *gin.Context, d *ent.Dossier) {
		if d.ArchiveFileID == 0 {
			server.Fail(c, ErrNotArchived)
			return
		}
		b, err := fs.Bytes(c.Request.Context(), d.ArchiveFileID)
		if err != nil {
			server.Fail(c, err)
			return
		}
		c.Header("Content-Disposition", files.ContentDisposition("attachment", d.ArchiveCode+".zip"))
		c.Data(http.StatusOK, "application/zip", b)
	}))
}

// inScope loads the dossier in the path; one outside the caller's data scope
// answers 404, like one that does not exist.
func (s *Service) inScope(pol *policy.Engine, h func(*gin.Context, *ent.Dossier)) gin.HandlerFunc {
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
		who := identity.From(c.Request.Context())
		if !pol.Allows(c.Request.Context(), policy.OnOrg(who.PolicySubject(), "dossiers.read", d.OrgPath)) {
			server.Fail(c, ErrNotFound)
			return
		}
		h(c, d)
	}
}
