package document

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"sort"

	"github.com/gin-gonic/gin"

	"github.com/shanghai-amr/portal/host/apierror"
	"github.com/shanghai-amr/portal/host/audit"
	"github.com/shanghai-amr/portal/host/identity"
	"github.com/shanghai-amr/portal/host/server"
	"github.com/shanghai-amr/portal/host/store/ent/setting"
)

// templateScope is the settings scope published template versions are kept
// under, keyed "<type>@<version>".
const templateScope = "host.document.templates"

// loadPublished adds the versions administrators published to the registry.
func (s *Service) loadPublished(ctx context.Context) error {
	rows, err := s.o.Client.Setting.Query().Where(setting.Scope(templateScope)).All(ctx)
	if err != nil {
		return err
	}
	for _, r := range rows {
		t, err := ParseTemplate([]byte(r.Value))
		if err != nil {
			return fmt.Errorf("document template %s: %w", r.Key, err)
		}
		s.add(t)
	}
	return nil
}

func (s *Service) add(t *Template) {
	vs := append(s.templates[t.Type], t)
	sort.Slice(vs, func(i, j int) bool { return vs[i].Version < vs[j].Version })
	s.templates[t.Type] = vs
}

// Publish stores a new version of a document type (the next number after the
// latest) and makes it the one new documents use; issued documents keep the
// version they were rendered with.
func (s *Service) Publish(ctx context.Context, t Template, actor, orgPath string) (*Template, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	t.Version = 1
	if vs := s.templates[t.Type]; len(vs) > 0 {
		t.Version = vs[len(vs)-1].Version + 1
	}
	if err := t.Check(); err != nil {
		return nil, apierror.Invalid(err.Error())
	}
	if _, err := Render(Layout{Template: &t, Values: map[string]string{}, Number: t.rule().Format(scopeOf("310115"), 2026, 1),
		OrgName: "上海市市场监督管理局"}); err != nil {
		return nil, apierror.Invalid("the template does not render: " + err.Error())
	}
	b, _ := json.Marshal(t)
	if err := s.o.Client.Setting.Create().SetScope(templateScope).SetKey(fmt.Sprintf("%s@%d", t.Type, t.Version)).
		SetValue(string(b)).Exec(ctx); err != nil {
		return nil, err
	}
	s.add(&t)
	if s.o.Audit != nil {
		if _, err := s.o.Audit.Write(context.WithoutCancel(ctx), audit.Entry{Actor: actor, OrgPath: orgPath, Action: "document.template.publish",
			Resource: fmt.Sprintf("document-template:%s@%d", t.Type, t.Version), Outcome: audit.Success}); err != nil {
			s.o.Log.Error("audit write failed", "action", "document.template.publish", "err", err)
		}
	}
	return &t, nil
}

// mountAdmin registers:
//
//	GET  /api/v1/admin/document-templates         templates.manage: every version of every type
//	POST /api/v1/admin/document-templates         templates.manage: publish the next version of a type (JSON or YAML body)
func (s *Service) mountAdmin(srv *server.Server, auth gin.HandlerFunc) {
	g := srv.API().Group("/v1/admin/document-templates", auth, identity.Require("templates.manage"))
	g.GET("", func(c *gin.Context) {
		s.mu.RLock()
		var out []*Template
		for _, vs := range s.templates {
			out = append(out, vs...)
		}
		s.mu.RUnlock()
		sort.Slice(out, func(i, j int) bool {
			return out[i].Type < out[j].Type || out[i].Type == out[j].Type && out[i].Version < out[j].Version
		})
		c.JSON(http.StatusOK, gin.H{"templates": out})
	})
	g.POST("", func(c *gin.Context) {
		body, err := c.GetRawData()
		if err != nil {
			server.Fail(c, err)
			return
		}
		var t Template
		if err := yamlStrict(body, &t); err != nil {
			server.Fail(c, apierror.Invalid("template: "+err.Error()))
			return
		}
		who := identity.From(c.Request.Context())
		out, err := s.Publish(c.Request.Context(), t, who.Username, who.OrgPath)
		if err != nil {
			server.Fail(c, err)
			return
		}
		c.JSON(http.StatusCreated, out)
	})
}
