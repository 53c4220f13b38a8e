package plugins

import (
	"context"
	"encoding/json"
	"regexp"
	"strconv"
	"strings"
	"sync"
	"testing"

	"github.com/spf13/afero"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"

	"github.com/shanghai-amr/portal/host/document"
	"github.com/shanghai-amr/portal/host/dossier"
	"github.com/shanghai-amr/portal/host/files"
	"github.com/shanghai-amr/portal/host/identity"
	"github.com/shanghai-amr/portal/host/org"
	"github.com/shanghai-amr/portal/host/policy"
	"github.com/shanghai-amr/portal/host/seal"
	"github.com/shanghai-amr/portal/host/store/storetest"
	"github.com/shanghai-amr/portal/sdk/proto/pluginv1"
)

// A plugin issues a document, keeps evidence and archives its record's
// dossier through the host services; it reads only its own files and the
// files its user may read; a user acts only within their scope.
func TestDocumentServicesForPlugins(t *testing.T) {
	ctx := context.Background()
	st := storetest.Open(t, "sqlite")
	if _, err := org.SeedDemo(ctx, st.Client); err != nil {
		t.Fatal(err)
	}
	pol, err := policy.New(ctx)
	if err != nil {
		t.Fatal(err)
	}
	fs := files.New(files.Options{Client: st.Client, Fs: afero.NewMemMapFs(), Policy: pol})
	keys, err := seal.OpenKeystore(afero.NewMemMapFs(), "/keys", seal.KeystoreOptions{})
	if err != nil {
		t.Fatal(err)
	}
	docs, err := document.New(document.Options{Client: st.Client, Files: fs, Keys: keys, VerifyURL: "https://portal.test/verify/"})
	if err != nil {
		t.Fatal(err)
	}
	ds := dossier.New(dossier.Options{Client: st.Client, Blobs: fs, Scanner: files.EICARScanner{}, Kinds: dossier.DefaultKinds,
		Notary: seal.Notary{Keys: keys, Subject: seal.ArchiveSubject}})
	h := &hostServices{client: st.Client, policy: pol, plugin: "registration", files: fs, documents: docs, dossiers: ds}
	other := &hostServices{client: st.Client, policy: pol, plugin: "enforcement", files: fs, documents: docs, dossiers: ds}
	huangpu := &identity.Identity{Audience: identity.Staff, Subject: "user:9", Username: "hp_reg", OrgCode: "310101-D02",
		OrgPath: "/310000/310101/310101-D02", Jurisdiction: "district", Permissions: []string{"documents.issue", "dossiers.write", "files.read"}}
	asUser := context.WithValue(ctx, actorKey{}, actor{plugin: "registration", user: huangpu})

	data, _ := json.Marshal(map[string]any{"enterprise_name": "上海某某商贸有限公司", "uscc": "91310101MA1FP0000X", "apply_date": "2026-11-02",
		"start_date": "2026-11-05", "end_date": "2027-11-04", "service_address": "上海市黄浦区南京东路1号", "issue_date": "2026-11-03"})
	ref, err := h.RenderDocument(asUser, &pluginv1.RenderDocumentRequest{DocumentType: "suspension_notice", Data: data, Subject: "filing-1", OrgCode: "310101"})
	if err != nil {
		t.Fatal(err)
	}
	if ref.Number == "" || ref.Sm3 == "" || ref.Status != "issued" {
		t.Fatalf("document: %+v", ref)
	}
	// Under a request key, issuing is idempotent: four at once (a retry
	// racing the original) give one document, and the 文号 the others took
	// was rolled back — the next document has the very next number.
	keyed := &pluginv1.RenderDocumentRequest{DocumentType: "suspension_notice", Data: data, Subject: "filing-2", OrgCode: "310101",
		RequestKey: "filing:2/suspension_notice/1"}
	ids := make(chan string, 4)
	var wg sync.WaitGroup
	for range 4 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			ref, err := h.RenderDocument(asUser, keyed)
			if err != nil {
				t.Error(err)
				return
			}
			ids <- ref.DocumentId + " " + ref.Number
		}()
	}
	wg.Wait()
	close(ids)
	var first string
	for id := range ids {
		if first == "" {
			first = id
		} else if id != first {
			t.Fatalf("one request key gave two documents: %s and %s", first, id)
		}
	}
	next, err := h.RenderDocument(asUser, &pluginv1.RenderDocumentRequest{DocumentType: "suspension_notice", Data: data, Subject: "filing-3", OrgCode: "310101"})
	if err != nil {
		t.Fatal(err)
	}
	if seqOf(t, next.Number) != seqOf(t, strings.Fields(first)[1])+1 || seqOf(t, strings.Fields(first)[1]) != seqOf(t, ref.Number)+1 {
		t.Fatalf("numbers %s, %s, %s: a gap", ref.Number, strings.Fields(first)[1], next.Number)
	}
	keyed.Subject = "filing-9"
	if _, err := h.RenderDocument(asUser, keyed); status.Code(err) != codes.FailedPrecondition {
		t.Fatalf("a request key reused for another record: %v", err)
	}

	// Outside the user's district: refused, nothing issued.
	if _, err := h.RenderDocument(asUser, &pluginv1.RenderDocumentRequest{DocumentType: "suspension_notice", Data: data, OrgCode: "310115"}); status.Code(err) != codes.PermissionDenied {
		t.Fatalf("Pudong document by a Huangpu user: %v", err)
	}
	if _, err := h.RenderDocument(asUser, &pluginv1.RenderDocumentRequest{DocumentType: "suspension_notice", Data: []byte(`{"uscc":"x"}`), OrgCode: "310101"}); status.Code(err) != codes.InvalidArgument {
		t.Fatalf("incomplete data: %v", err)
	}
	// Another plugin cannot see the document.
	if _, err := other.GetDocument(ctx, &pluginv1.GetDocumentRequest{DocumentId: ref.DocumentId}); status.Code(err) != codes.NotFound {
		t.Fatalf("another plugin's document: %v", err)
	}
	if got, err := h.GetFile(ctx, &pluginv1.GetFileRequest{FileId: ref.FileId}); err != nil || got.Info.Sm3 != ref.Sm3 {
		t.Fatalf("own file: %v", err)
	}
	if _, err := other.GetFile(ctx, &pluginv1.GetFileRequest{FileId: ref.FileId}); status.Code(err) != codes.NotFound {
		t.Fatalf("another plugin's file: %v", err)
	}

	// Evidence stored by the plugin, then the dossier archived.
	photo, err := h.PutFile(asUser, &pluginv1.PutFileRequest{Name: "materials.pdf", Purpose: "evidence", Content: mustPDF(t, docs)})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := h.PutFile(asUser, &pluginv1.PutFileRequest{Name: "x.html", Content: []byte("<html><script>alert(1)</script></html>")}); status.Code(err) != codes.InvalidArgument {
		t.Fatalf("html accepted: %v", err)
	}
	if _, err := h.OpenDossier(asUser, &pluginv1.OpenDossierRequest{Subject: "filing-1", Kind: "suspension_filing", Title: "上海某某商贸有限公司歇业备案", OrgCode: "310101"}); err != nil {
		t.Fatal(err)
	}
	if _, err := h.AppendDossier(asUser, &pluginv1.AppendDossierRequest{Subject: "filing-1", Kind: "document", DocType: "suspension_notice",
		Title: "歇业备案通知书", FileId: ref.FileId, Meta: []byte(`{"date":"2026-11-03"}`)}); err != nil {
		t.Fatal(err)
	}
	if _, err := h.AppendDossier(asUser, &pluginv1.AppendDossierRequest{Subject: "filing-1", Kind: "evidence", Title: "申请材料",
		FileId: photo.FileId, Meta: []byte(`{"date":"2026-11-02"}`)}); err != nil {
		t.Fatal(err)
	}
	res, err := h.ArchiveDossier(asUser, &pluginv1.ArchiveDossierRequest{Subject: "filing-1", Fonds: "Z031", Retention: "定期10年"})
	if err != nil || !res.Archived || res.Dossier.ArchiveFileId == "" {
		t.Fatalf("archive: %v %+v %s", err, res, res.GetReport())
	}
	if _, err := h.AppendDossier(asUser, &pluginv1.AppendDossierRequest{Subject: "filing-1", Kind: "evidence", Title: "late", FileId: photo.FileId}); status.Code(err) != codes.FailedPrecondition {
		t.Fatalf("append to an archived dossier: %v", err)
	}

	// A plugin's own sequence; a foreign one is refused.
	for want := int64(1); want <= 2; want++ {
		n, err := h.Next(ctx, &pluginv1.NextNumberRequest{Sequence: "registration.filing", OrgCode: "310101", Year: 2026})
		if err != nil || n.Value != want {
			t.Fatalf("next: %v %v", n, err)
		}
	}
	if _, err := h.Next(ctx, &pluginv1.NextNumberRequest{Sequence: "enforcement.case", OrgCode: "310101", Year: 2026}); status.Code(err) != codes.InvalidArgument {
		t.Fatalf("foreign sequence: %v", err)
	}
}

// seqOf is the sequence number in a 文号 such as 黄市监歇〔2026〕3号.
func seqOf(t *testing.T, number string) int {
	t.Helper()
	m := regexp.MustCompile(`(\d+)号$`).FindStringSubmatch(number)
	if m == nil {
		t.Fatalf("no sequence number in %q", number)
	}
	n, _ := strconv.Atoi(m[1])
	return n
}

// mustPDF renders a small document to use as evidence.
func mustPDF(t *testing.T, docs *document.Service) []byte {
	t.Helper()
	tpl, err := docs.Template("service_receipt", 0)
	if err != nil {
		t.Fatal(err)
	}
	vals, _ := tpl.Fill(map[string]any{"documents": "材料", "recipient": "某某", "place": "上海", "method": "直接送达", "servers": "某某", "issue_date": "2026-11-02"})
	b, err := document.Render(document.Layout{Template: tpl, Values: vals, OrgName: "黄浦区市场监督管理局"})
	if err != nil {
		t.Fatal(err)
	}
	return b
}
