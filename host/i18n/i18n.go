// Package i18n holds the host's message bundles (zh-CN first, en second) and
// picks the language of a request: the signed-in user's preference, else the
// Accept-Language header, else zh-CN.
//
// Message files live in locales/<tag>.yaml; every key must exist in both
// languages (TestBundlesHaveSameKeys).
package i18n

import (
	"embed"
	"fmt"
	"io/fs"
	"path"

	goi18n "github.com/nicksnyder/go-i18n/v2/i18n"
	"golang.org/x/text/language"
	"gopkg.in/yaml.v3"
)

//go:embed locales/*.yaml
var locales embed.FS

// Supported languages, the default first.
var (
	ZhCN      = language.MustParse("zh-CN")
	English   = language.English
	Supported = []language.Tag{ZhCN, English}
	matcher   = language.NewMatcher([]language.Tag{ZhCN, English})
)

// Catalog is the set of host messages in every supported language. It is
// immutable once built and safe for concurrent use.
type Catalog struct {
	bundle *goi18n.Bundle
}

// New loads the embedded bundles.
func New() (*Catalog, error) {
	b := goi18n.NewBundle(ZhCN)
	b.RegisterUnmarshalFunc("yaml", yaml.Unmarshal)
	files, err := fs.Glob(locales, "locales/*.yaml")
	if err != nil {
		return nil, err
	}
	for _, f := range files {
		data, err := locales.ReadFile(f)
		if err != nil {
			return nil, err
		}
		if _, err := b.ParseMessageFileBytes(data, path.Base(f)); err != nil {
			return nil, fmt.Errorf("i18n: %s: %w", f, err)
		}
	}
	return &Catalog{bundle: b}, nil
}

// AddMessages merges messages into the catalog for one language (used for
// plugin bundles, whose ids are namespaced by plugin).
func (c *Catalog) AddMessages(tag language.Tag, msgs ...*goi18n.Message) error {
	return c.bundle.AddMessages(tag, msgs...)
}

// Match returns the supported language that best fits the user's preference
// (may be empty) and the request's Accept-Language header (may be empty).
func Match(preference, acceptLanguage string) language.Tag {
	if preference != "" {
		if t, err := language.Parse(preference); err == nil {
			tag, _, conf := matcher.Match(t)
			if conf >= language.High {
				return base(tag)
			}
		}
	}
	if acceptLanguage != "" {
		if tags, _, err := language.ParseAcceptLanguage(acceptLanguage); err == nil && len(tags) > 0 {
			tag, _, conf := matcher.Match(tags...)
			if conf > language.No {
				return base(tag)
			}
		}
	}
	return ZhCN
}

// base maps the matcher's result (which may carry -u- extensions) to ours.
func base(t language.Tag) language.Tag {
	if b, _ := t.Base(); b.String() == "en" {
		return English
	}
	return ZhCN
}

// Localizer returns a localizer for one language.
func (c *Catalog) Localizer(tag language.Tag) *Localizer {
	return &Localizer{l: goi18n.NewLocalizer(c.bundle, tag.String()), tag: tag}
}

// Localizer renders messages in one language.
type Localizer struct {
	l   *goi18n.Localizer
	tag language.Tag
}

// Tag is the localizer's language.
func (l *Localizer) Tag() language.Tag { return l.tag }

// T renders message id with template data; an unknown id renders as the id, so a
// missing translation is visible but never fails a request.
func (l *Localizer) T(id string, data map[string]any) string {
	s, err := l.l.Localize(&goi18n.LocalizeConfig{MessageID: id, TemplateData: data})
	if err != nil || s == "" {
		return id
	}
	return s
}
