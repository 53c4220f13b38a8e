package files

import (
	"bytes"
	"context"
	"encoding/json"
	"io"
	"log/slog"
	"mime"
	"mime/multipart"
	"net/http"
	"net/http/httptest"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/shanghai-amr/portal/host/i18n"
	"github.com/shanghai-amr/portal/host/identity"
	"github.com/shanghai-amr/portal/host/server"
	"github.com/shanghai-amr/portal/host/store/ent"
	"github.com/shanghai-amr/portal/host/store/ent/auditentry"
	"github.com/shanghai-amr/portal/host/store/storetest"
)

// People the test authenticator knows, by X-Test-User.
var people = map[string]*identity.Identity{
	// The uploader: a Pudong handler without files.read.
	"pd_li": {Audience: identity.Staff, Subject: "user:1", Username: "pd_li", OrgPath: "/310000/310115/310115-S01",
		Jurisdiction: "station", DataScopes: []string{"subtree"}, Permissions: []string{"workbench.use"}},
	// A colleague in the same unit, without files.read.
	"pd_wang": {Audience: identity.Staff, Subject: "user:2", Username: "pd_wang", OrgPath: "/310000/310115/310115-S01",
		Jurisdiction: "station", DataScopes: []string{"subtree"}, Permissions: []string{"workbench.use"}},
	// The Pudong bureau's legal reviewer: files.read over the district.
	"pd_legal": {Audience: identity.Staff, Subject: "user:3", Username: "pd_legal", OrgPath: "/310000/310115",
		Jurisdiction: "district", DataScopes: []string{"subtree"}, Permissions: []string{"files.read"}},
	// Huangpu's: files.read, another district.
	"hp_legal": {Audience: identity.Staff, Subject: "user:4", Username: "hp_legal", OrgPath: "/310000/310101",
		Jurisdiction: "district", DataScopes: []string{"subtree"}, Permissions: []string{"files.*"}},
	// The city bureau's: everything.
	"city_legal": {Audience: identity.Staff, Subject: "user:5", Username: "city_legal", OrgPath: "/310000",
		Jurisdiction: "city", DataScopes: []string{"subtree"}, Permissions: []string{"files.read"}},
	"ent_a": {Audience: identity.Enterprise, Subject: "oidc:sh:913100001", Username: "sh:913100001", USCC: "913100001"},
	"pub_a": {Audience: identity.Public, Subject: "oidc:sh:p1", Username: "sh:p1"},
}

type testAuth struct{}

func (testAuth) Authenticate(r *http.Request) (*identity.Identity, error) {
	if who, ok := people[r.Header.Get("X-Test-User")]; ok {
		return who, nil
	}
	return nil, nil
}

type apiFixture struct {
	*fixture
	ts *httptest.Server
}

func newAPI(t *testing.T, dialect string, o Options) *apiFixture {
	t.Helper()
	f := newFixture(t, dialect, o)
	cat, err := i18n.New()
	if err != nil {
		t.Fatal(err)
	}
	srv := server.New(server.Options{Catalog: cat, Logger: slog.New(slog.DiscardHandler), RequestTimeout: 5 * time.Second})
	f.files.MountAPI(srv, identity.Middleware(identity.Guard{}, testAuth{}))
	ts := httptest.NewServer(srv.Handler())
	t.Cleanup(ts.Close)
	return &apiFixture{fixture: f, ts: ts}
}

// call sends a request as user and returns the response with its body read.
func (a *apiFixture) call(t *testing.T, user string, req *http.Request) (*http.Response, []byte) {
	t.Helper()
	if user != "" {
		req.Header.Set("X-Test-User", user)
	}
	req.Header.Set("Accept-Language", "en")
	resp, err := a.ts.Client().Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return resp, b
}

func (a *apiFixture) get(t *testing.T, user, path string) (*http.Response, []byte) {
	t.Helper()
	req, _ := http.NewRequest(http.MethodGet, a.ts.URL+path, nil)
	return a.call(t, user, req)
}

func (a *apiFixture) uploadMultipart(t *testing.T, user, name string, body []byte) (*http.Response, []byte) {
	t.Helper()
	var buf bytes.Buffer
	w := multipart.NewWriter(&buf)
	_ = w.WriteField("note", "a field before the file")
	fw, _ := w.CreateFormFile("file", name)
	_, _ = fw.Write(body)
	_ = w.Close()
	req, _ := http.NewRequest(http.MethodPost, a.ts.URL+"/api/v1/files?purpose=evidence", &buf)
	req.Header.Set("Content-Type", w.FormDataContentType())
	return a.call(t, user, req)
}

func code(t *testing.T, b []byte) string {
	t.Helper()
	var e struct{ Code string }
	_ = json.Unmarshal(b, &e)
	return e.Code
}

func TestUploadAndDownloadAChineseName(t *testing.T) {
	storetest.Each(t, func(t *testing.T, dialect string) {
		a := newAPI(t, dialect, Options{})
		name := "行政处罚决定书（沪市监罚〔2026〕1号）.pdf"
		resp, b := a.uploadMultipart(t, "pd_li", name, pdf)
		if resp.StatusCode != http.StatusCreated {
			t.Fatalf("upload: %d %s", resp.StatusCode, b)
		}
		var info Info
		if err := json.Unmarshal(b, &info); err != nil {
			t.Fatal(err)
		}
		if info.ID == 0 || info.Name != name || info.Size != int64(len(pdf)) || info.ContentType != "application/pdf" ||
			len(info.SM3) != 64 || info.CreatedAt.IsZero() || info.Purpose != "evidence" {
			t.Fatalf("info %+v", info)
		}
		row, err := a.st.Client.File.Get(context.Background(), info.ID)
		if err != nil || row.CreatedBy != 1 || row.OrgPath != "/310000/310115/310115-S01" || row.Owner != HostOwner {
			t.Fatalf("row %+v, %v", row, err)
		}
		e, d := a.lastAudit(t)
		if e.Action != "file.upload" || e.Resource != "file:"+strconv.Itoa(info.ID) || e.Actor != "pd_li" || d["sm3"] != info.SM3 || e.RequestID == "" {
			t.Fatalf("audit %+v", e)
		}

		resp, b = a.get(t, "pd_li", "/api/v1/files/"+strconv.Itoa(info.ID))
		var meta Info
		_ = json.Unmarshal(b, &meta)
		if resp.StatusCode != http.StatusOK || meta.Name != name || meta.SM3 != info.SM3 {
			t.Fatalf("metadata: %d %s", resp.StatusCode, b)
		}

		resp, b = a.get(t, "pd_li", "/api/v1/files/"+strconv.Itoa(info.ID)+"/content")
		if resp.StatusCode != http.StatusOK || !bytes.Equal(b, pdf) {
			t.Fatalf("content: %d %q", resp.StatusCode, b)
		}
		h := resp.Header
		if h.Get("Content-Type") != "application/pdf" || h.Get("X-Content-Type-Options") != "nosniff" ||
			h.Get("ETag") != `"`+info.SM3+`"` || h.Get("Content-Length") != strconv.Itoa(len(pdf)) {
			t.Fatalf("headers %v", h)
		}
		cd := h.Get("Content-Disposition")
		if !strings.HasPrefix(cd, `attachment; filename="file.pdf"; filename*=UTF-8''%E8%A1%8C%E6%94%BF`) {
			t.Fatalf("Content-Disposition %s", cd)
		}
		if disp, params, err := mime.ParseMediaType(cd); err != nil || disp != "attachment" || params["filename"] != name {
			t.Fatalf("parsed Content-Disposition: %s %v %v", disp, params, err)
		}
		// Conditional and partial requests.
		req, _ := http.NewRequest(http.MethodGet, a.ts.URL+"/api/v1/files/"+strconv.Itoa(info.ID)+"/content", nil)
		req.Header.Set("If-None-Match", `"`+info.SM3+`"`)
		if resp, _ := a.call(t, "pd_li", req); resp.StatusCode != http.StatusNotModified {
			t.Fatalf("If-None-Match: %d", resp.StatusCode)
		}
		req, _ = http.NewRequest(http.MethodGet, a.ts.URL+"/api/v1/files/"+strconv.Itoa(info.ID)+"/content", nil)
		req.Header.Set("Range", "bytes=0-4")
		if resp, b := a.call(t, "pd_li", req); resp.StatusCode != http.StatusPartialContent || string(b) != "%PDF-" {
			t.Fatalf("Range: %d %q", resp.StatusCode, b)
		}
	})
}

func TestDownloadAccess(t *testing.T) {
	storetest.Each(t, func(t *testing.T, dialect string) {
		a := newAPI(t, dialect, Options{})
		resp, b := a.uploadMultipart(t, "pd_li", "现场笔录.pdf", pdf)
		if resp.StatusCode != http.StatusCreated {
			t.Fatalf("upload: %d %s", resp.StatusCode, b)
		}
		var info Info
		_ = json.Unmarshal(b, &info)
		id := strconv.Itoa(info.ID)
		_, unknown := a.get(t, "pd_li", "/api/v1/files/999999")
		for user, want := range map[string]int{
			"pd_li":      200, // the uploader
			"pd_wang":    404, // same unit, no files.read
			"pd_legal":   200, // files.read, the district covers the unit
			"hp_legal":   404, // files.*, another district
			"city_legal": 200, // files.read, the city covers all
			"ent_a":      404,
			"":           401,
		} {
			for _, path := range []string{"/api/v1/files/" + id, "/api/v1/files/" + id + "/content"} {
				resp, b := a.get(t, user, path)
				if resp.StatusCode != want {
					t.Errorf("%s %s: %d %s, want %d", user, path, resp.StatusCode, b, want)
				}
				if want == 404 && (code(t, b) != "files.not_found" || !bytes.Equal(dropRequestID(b), dropRequestID(unknown))) {
					t.Errorf("%s %s: %s differs from an unknown id's %s", user, path, b, unknown)
				}
			}
		}
		if resp, b := a.get(t, "pd_li", "/api/v1/files/abc"); resp.StatusCode != 404 || code(t, b) != "files.not_found" {
			t.Errorf("bad id: %d %s", resp.StatusCode, b)
		}
		// Refusals and downloads are audited: three callers refused twice,
		// three allowed to download once.
		ctx := context.Background()
		for action, want := range map[string]int{"file.read": 6, "file.download": 3} {
			n, err := a.st.Client.AuditEntry.Query().Where(auditentry.Action(action), auditentry.Resource("file:"+id)).Count(ctx)
			if err != nil || n != want {
				t.Errorf("%s audited %d times, want %d (%v)", action, n, want, err)
			}
		}
		// A plugin's file is not served here, even to its uploader.
		row, err := a.files.Put(ctx, PutRequest{Owner: "enforcement", Name: "a.pdf", CreatedBy: 1,
			OrgPath: "/310000/310115", Body: bytes.NewReader(pdf), DeclaredSize: -1})
		if err != nil {
			t.Fatal(err)
		}
		if resp, _ := a.get(t, "pd_li", "/api/v1/files/"+strconv.Itoa(row.ID)); resp.StatusCode != 404 {
			t.Errorf("plugin file: %d", resp.StatusCode)
		}
		if !OwnedBy(row, "enforcement") || OwnedBy(row, HostOwner) {
			t.Error("OwnedBy")
		}
	})
}

func dropRequestID(b []byte) []byte {
	var m map[string]any
	_ = json.Unmarshal(b, &m)
	delete(m, "request_id")
	out, _ := json.Marshal(m)
	return out
}

func TestFilesWithoutAnOrganisationAreCityLevel(t *testing.T) {
	f := newFixture(t, "sqlite", Options{})
	ctx := context.Background()
	row := &ent.File{ID: 1, Owner: HostOwner, OrgPath: ""}
	for user, want := range map[string]bool{"pd_legal": false, "hp_legal": false, "city_legal": true, "pd_li": false} {
		if got := f.files.CanRead(ctx, people[user], row); got != want {
			t.Errorf("%s: CanRead = %v", user, got)
		}
	}
	// Without a policy engine only the uploader reads.
	s := New(Options{Client: f.st.Client, Fs: f.fs})
	row.CreatedBy = 5
	if !s.CanRead(ctx, people["city_legal"], row) || s.CanRead(ctx, people["pd_legal"], row) {
		t.Error("no policy engine")
	}
	// An enterprise or the operator (no user id) is never "the uploader" of a
	// file with created_by 0.
	row.CreatedBy = 0
	if s.CanRead(ctx, people["ent_a"], row) || s.CanRead(ctx, &identity.Identity{Audience: identity.Staff, Subject: "operator"}, row) {
		t.Error("created_by 0 matched")
	}
}

func TestUploadRefusals(t *testing.T) {
	storetest.Each(t, func(t *testing.T, dialect string) {
		a := newAPI(t, dialect, Options{MaxSize: 1000})
		post := func(user, query string, body io.Reader, length int64) (*http.Response, []byte) {
			req, _ := http.NewRequest(http.MethodPost, a.ts.URL+"/api/v1/files"+query, body)
			req.ContentLength = length
			req.Header.Set("Content-Type", "application/pdf") // not believed
			return a.call(t, user, req)
		}
		// Raw body with ?name=, from an enterprise.
		resp, b := post("ent_a", "?name=%E6%9D%90%E6%96%99.pdf&purpose=attachment", bytes.NewReader(pdf), int64(len(pdf)))
		if resp.StatusCode != http.StatusCreated {
			t.Fatalf("raw upload: %d %s", resp.StatusCode, b)
		}
		var info Info
		_ = json.Unmarshal(b, &info)
		if info.Name != "材料.pdf" || info.Purpose != "attachment" {
			t.Fatalf("info %+v", info)
		}
		for _, tt := range []struct {
			name, user, query string
			body              io.Reader
			length            int64
			status            int
			code              string
		}{
			{"anonymous", "", "?name=a.pdf", bytes.NewReader(pdf), int64(len(pdf)), 401, "auth.required"},
			{"public", "pub_a", "?name=a.pdf", bytes.NewReader(pdf), int64(len(pdf)), 403, "auth.forbidden"},
			{"no name", "pd_li", "", bytes.NewReader(pdf), int64(len(pdf)), 400, "request.invalid"},
			{"bad purpose", "pd_li", "?name=a.pdf&purpose=A+B", bytes.NewReader(pdf), int64(len(pdf)), 400, "request.invalid"},
			{"declared too large", "pd_li", "?name=a.txt", bytes.NewReader(make([]byte, 1001)), 1001, 413, "files.too_large"},
			{"chunked too large", "pd_li", "?name=a.txt", io.LimitReader(&endless{}, 5000), -1, 413, "files.too_large"},
			{"way too large", "pd_li", "?name=a.txt", io.LimitReader(&endless{}, 100_000), 100_000, 413, "request.too_large"},
			{"html", "pd_li", "?name=a.pdf", bytes.NewReader(html), int64(len(html)), 415, "files.type_not_allowed"},
			{"eicar", "pd_li", "?name=a.txt", bytes.NewReader(eicar), int64(len(eicar)), 422, "files.infected"},
		} {
			resp, b := post(tt.user, tt.query, tt.body, tt.length)
			if resp.StatusCode != tt.status || code(t, b) != tt.code {
				t.Errorf("%s: %d %s, want %d %s", tt.name, resp.StatusCode, b, tt.status, tt.code)
			}
		}
		var m map[string]string
		resp, b = post("pd_li", "?name=a.txt", io.LimitReader(&endless{}, 5000), -1)
		_ = json.Unmarshal(b, &m)
		if m["message"] != "The file is too large; the limit is 1000 B." {
			t.Errorf("message %q", m["message"])
		}
		// Multipart without a file part; over the limit inside a multipart body.
		var buf bytes.Buffer
		w := multipart.NewWriter(&buf)
		_ = w.WriteField("note", "x")
		_ = w.Close()
		req, _ := http.NewRequest(http.MethodPost, a.ts.URL+"/api/v1/files", &buf)
		req.Header.Set("Content-Type", w.FormDataContentType())
		if resp, b := a.call(t, "pd_li", req); resp.StatusCode != 400 || code(t, b) != "request.invalid" {
			t.Errorf("no file part: %d %s", resp.StatusCode, b)
		}
		if resp, b := a.uploadMultipart(t, "pd_li", "big.txt", bytes.Repeat([]byte("a"), 1001)); resp.StatusCode != 413 || code(t, b) != "files.too_large" {
			t.Errorf("multipart too large: %d %s", resp.StatusCode, b)
		}
		if n := a.rows(t); n != 1 {
			t.Errorf("%d rows", n)
		}
		if blobs := a.blobs(t); len(blobs) != 1 {
			t.Errorf("blobs %v", blobs)
		}
	})
}
