package files

import (
	"context"
	"errors"
	"fmt"
	"io"
	"mime"
	"net/http"
	"strconv"
	"time"

	"github.com/gin-gonic/gin"

	"github.com/shanghai-amr/portal/host/apierror"
	"github.com/shanghai-amr/portal/host/audit"
	"github.com/shanghai-amr/portal/host/identity"
	"github.com/shanghai-amr/portal/host/server"
	"github.com/shanghai-amr/portal/host/store/ent"
)

// multipartOverhead is what the upload route's body limit allows on top of
// MaxSize for the multipart framing (boundaries, part headers, small fields).
const multipartOverhead = 64 << 10

// Info is a file's metadata as the API shows it.
type Info struct {
	ID          int       `json:"id"`
	Name        string    `json:"name"`
	Size        int64     `json:"size"`
	ContentType string    `json:"content_type"`
	SM3         string    `json:"sm3"`
	Purpose     string    `json:"purpose,omitempty"`
	CreatedAt   time.Time `json:"created_at"`
}

// InfoOf is f's metadata.
func InfoOf(f *ent.File) Info {
	return Info{ID: f.ID, Name: f.Name, Size: f.Size, ContentType: f.ContentType, SM3: f.Sm3, Purpose: f.Purpose, CreatedAt: f.CreatedAt}
}

// MountAPI registers:
//
//	POST /api/v1/files                signed-in staff or enterprise: upload (audited); 201 with Info
//	GET  /api/v1/files/:id            uploader or files.read in scope: Info
//	GET  /api/v1/files/:id/content    the same: the content as an attachment (downloads audited)
//
// The upload route has its own body limit, MaxSize plus the multipart
// framing; a file over MaxSize is files.too_large either way. Files the
// caller may not read, and files of plugins, are answered 404 like unknown
// ids, so that ids reveal nothing.
func (s *Store) MountAPI(srv *server.Server, auth gin.HandlerFunc) {
	srv.Group(s.o.MaxSize+multipartOverhead).POST("/v1/files", auth, s.upload)
	srv.API().GET("/v1/files/:id", auth, func(c *gin.Context) {
		if f := s.readable(c); f != nil {
			c.JSON(http.StatusOK, InfoOf(f))
		}
	})
	srv.API().GET("/v1/files/:id/content", auth, s.download)
}

func (s *Store) upload(c *gin.Context) {
	who := identity.From(c.Request.Context())
	switch who.Audience {
	case identity.Staff, identity.Enterprise:
	case identity.Anonymous:
		server.Fail(c, identity.Unauthenticated)
		return
	default:
		server.Fail(c, identity.Forbidden)
		return
	}
	// A large body takes longer than the server's request deadline: this
	// route has its own, for reading the body and for storing it.
	ctx, cancel := context.WithTimeout(detached(c.Request.Context()), s.o.UploadTimeout)
	defer cancel()
	_ = http.NewResponseController(c.Writer).SetReadDeadline(time.Now().Add(s.o.UploadTimeout))

	req := PutRequest{Owner: HostOwner, Purpose: c.Query("purpose"), CreatedBy: UserID(who), OrgPath: who.OrgPath,
		DeclaredSize: -1, Actor: who.Username, RequestID: server.RequestID(c), IP: c.ClientIP()}
	if mt, _, err := mime.ParseMediaType(c.GetHeader("Content-Type")); err == nil && mt == "multipart/form-data" {
		part, err := filePart(c.Request)
		if err != nil {
			server.Fail(c, err)
			return
		}
		defer part.Close()
		req.Body, req.Name = part, part.FileName()
		if req.Name == "" {
			req.Name = c.Query("name")
		}
	} else {
		req.Body, req.Name, req.DeclaredSize = c.Request.Body, c.Query("name"), c.Request.ContentLength
		if req.Name == "" {
			server.Fail(c, apierror.Invalid("a raw upload needs ?name="))
			return
		}
	}
	f, err := s.Put(ctx, req)
	if err != nil {
		var tooLarge *apierror.Error
		if errors.As(err, &tooLarge) && tooLarge.Status == http.StatusRequestEntityTooLarge {
			c.Header("Connection", "close") // do not read the rest
		}
		server.Fail(c, err)
		return
	}
	c.JSON(http.StatusCreated, InfoOf(f))
}

// filePart skips to the multipart part named "file".
func filePart(r *http.Request) (interface {
	io.Reader
	io.Closer
	FileName() string
}, error) {
	mr, err := r.MultipartReader()
	if err != nil {
		return nil, apierror.Invalid("multipart body expected: " + err.Error())
	}
	for {
		p, err := mr.NextPart()
		if err == io.EOF {
			return nil, apierror.Invalid(`the multipart field "file" is missing`)
		}
		if err != nil {
			var tooLarge *http.MaxBytesError
			if errors.As(err, &tooLarge) {
				return nil, err
			}
			return nil, apierror.Invalid("multipart body: " + err.Error())
		}
		if p.FormName() == "file" {
			return p, nil
		}
		_ = p.Close()
	}
}

// readable resolves :id to a host file the caller may read, or answers
// (401 for the anonymous, 404 otherwise) and returns nil.
func (s *Store) readable(c *gin.Context) *ent.File {
	ctx := c.Request.Context()
	who := identity.From(ctx)
	if who.Audience == identity.Anonymous {
		server.Fail(c, identity.Unauthenticated)
		return nil
	}
	id, err := strconv.Atoi(c.Param("id"))
	if err != nil || id <= 0 {
		server.Fail(c, ErrNotFound)
		return nil
	}
	f, err := s.Stat(ctx, id)
	if err != nil {
		server.Fail(c, err)
		return nil
	}
	if !OwnedBy(f, HostOwner) || !s.CanRead(ctx, who, f) {
		s.auditRead(c, who, f, "file.read", audit.Denied)
		server.Fail(c, ErrNotFound)
		return nil
	}
	return f
}

func (s *Store) download(c *gin.Context) {
	f := s.readable(c)
	if f == nil {
		return
	}
	_, b, err := s.Open(c.Request.Context(), f.ID)
	if err != nil {
		server.Fail(c, err)
		return
	}
	defer b.Close()
	who := identity.From(c.Request.Context())
	s.auditRead(c, who, f, "file.download", audit.Success)
	h := c.Writer.Header()
	h.Set("Content-Type", f.ContentType)
	h.Set("Content-Disposition", ContentDisposition("attachment", f.Name))
	h.Set("X-Content-Type-Options", "nosniff")
	h.Set("Content-Security-Policy", "default-src 'none'; sandbox")
	h.Set("Cache-Control", "private, no-cache")
	h.Set("ETag", `"`+f.Sm3+`"`)
	// Streaming a large file may take longer than the server's write timeout.
	_ = http.NewResponseController(c.Writer).SetWriteDeadline(time.Now().Add(s.o.UploadTimeout))
	// Ranges and If-None-Match are ServeContent's.
	http.ServeContent(c.Writer, c.Request, "", f.CreatedAt, b)
}

func (s *Store) auditRead(c *gin.Context, who *identity.Identity, f *ent.File, action string, outcome audit.Outcome) {
	if s.o.Audit == nil {
		return
	}
	_, _ = s.o.Audit.Write(detached(c.Request.Context()), audit.Entry{Actor: who.Username, OrgPath: who.OrgPath, Action: action,
		Resource: fmt.Sprintf("file:%d", f.ID), Outcome: outcome, RequestID: server.RequestID(c), IP: c.ClientIP(),
		Detail: map[string]any{"sm3": f.Sm3, "size": f.Size}})
}
