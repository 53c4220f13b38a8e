package schema

import (
	"entgo.io/ent"
	"entgo.io/ent/schema/field"
	"entgo.io/ent/schema/index"
)

// File is one stored file: a name and an owner pointing at a content-addressed
// blob. Two files with the same content share one blob (same SM3 digest).
type File struct{ ent.Schema }

// Fields of File.
func (File) Fields() []ent.Field {
	return []ent.Field{
		field.String("sm3").MaxLen(64).Immutable().Comment("SM3 digest of the content, hex: the blob's address"),
		field.Int64("size").NonNegative().Immutable(),
		field.String("name").MaxLen(255).Immutable().Comment("the file name as uploaded, cleaned"),
		field.String("content_type").MaxLen(128).Immutable().Comment("sniffed from the content, not taken from the client"),
		field.String("owner").MaxLen(64).Immutable().Comment("plugin id, or 'host'"),
		field.String("purpose").Optional().MaxLen(64).Immutable().Comment("evidence, attachment, document, archive, …"),
		field.Int("created_by").Optional().Immutable().Comment("the uploading user, 0 for a service"),
		field.String("org_path").Optional().MaxLen(512).Immutable().Comment("data scope: the uploader's organisation path"),
		field.Time("created_at").SchemaType(datetime).Default(nowUTC).Immutable(),
	}
}

// Indexes of File.
func (File) Indexes() []ent.Index {
	return []ent.Index{index.Fields("sm3"), index.Fields("owner")}
}

// NumberSequence is the last number handed out by one numbering rule for one
// organisation and year (文号 sequences). Rows are locked while a number is
// taken, inside the transaction that uses it, so numbers are gap-free.
type NumberSequence struct{ ent.Schema }

// Fields of NumberSequence.
func (NumberSequence) Fields() []ent.Field {
	return []ent.Field{
		field.String("rule").MaxLen(128).Immutable(),
		field.String("scope").MaxLen(128).Immutable().Comment("organisation code (or another partition key)"),
		field.Int("year").Immutable(),
		field.Int64("last").Default(0),
		field.Time("updated_at").SchemaType(datetime).Default(nowUTC).UpdateDefault(nowUTC),
	}
}

// Indexes of NumberSequence.
func (NumberSequence) Indexes() []ent.Index {
	return []ent.Index{index.Fields("rule", "scope", "year").Unique()}
}

// Document is one issued official document (文书): a template version filled
// with data, numbered, rendered to PDF, sealed and signed.
type Document struct{ ent.Schema }

// Fields of Document.
func (Document) Fields() []ent.Field {
	return []ent.Field{
		field.String("type").MaxLen(64).Immutable().Comment("template key, e.g. penalty_decision"),
		field.Int("template_version").Immutable(),
		field.String("number").Optional().MaxLen(128).Immutable().Comment("文号, empty when the type has none"),
		field.String("title").MaxLen(256).Immutable(),
		field.String("owner").MaxLen(64).Immutable().Comment("plugin id, or 'host'"),
		field.String("subject").Optional().MaxLen(128).Immutable().Comment("the business record, e.g. a case id"),
		field.String("org_code").MaxLen(64).Immutable().Comment("the issuing organisation"),
		field.String("org_path").MaxLen(512).Immutable(),
		field.Text("data").Immutable().Comment("the filled fields, JSON"),
		field.Int("file_id").Immutable().Comment("the signed PDF"),
		field.String("sm3").MaxLen(64).Immutable().Comment("SM3 of the signed PDF"),
		field.String("signer").MaxLen(256).Immutable().Comment("subject of the seal certificate"),
		field.String("cert_serial").MaxLen(64).Immutable(),
		field.Time("signed_at").SchemaType(datetime).Immutable(),
		field.Int("created_by").Optional().Immutable(),
		field.Enum("status").Values("issued", "revoked").Default("issued"),
		field.String("revoke_reason").Optional().MaxLen(512),
		field.String("request_key").Optional().Nillable().MaxLen(160).Immutable().
			Comment("the issuer's key for this issuance: issuing again under it returns this document"),
	}
}

// Indexes of Document.
func (Document) Indexes() []ent.Index {
	return []ent.Index{
		index.Fields("sm3"),
		index.Fields("owner", "subject"),
		index.Fields("number"),
		index.Fields("owner", "request_key").Unique(),
	}
}

// Dossier is the electronic dossier (电子卷宗) of one case or application: an
// ordered, hash-chained catalogue of documents and evidence.
type Dossier struct{ ent.Schema }

// Fields of Dossier.
func (Dossier) Fields() []ent.Field {
	return []ent.Field{
		field.String("owner").MaxLen(64).Immutable().Comment("plugin id, or 'host'"),
		field.String("subject").MaxLen(128).Immutable().Comment("the case or application id"),
		field.String("title").MaxLen(256),
		field.String("kind").MaxLen(64).Immutable().Comment("dossier kind, selects the required-document scope check"),
		field.String("org_code").MaxLen(64).Immutable(),
		field.String("org_path").MaxLen(512).Immutable(),
		field.String("head").MaxLen(64).Default("").Comment("hash of the last catalogue entry"),
		field.Int("items").Default(0),
		field.Enum("status").Values("open", "archived").Default("open"),
		field.String("archive_code").Optional().MaxLen(64).Comment("档号, set at archiving"),
		field.Int("archive_file_id").Optional().Comment("the signed archive package"),
		field.Time("archived_at").SchemaType(datetime).Optional().Nillable(),
		field.Time("created_at").SchemaType(datetime).Default(nowUTC).Immutable(),
	}
}

// Indexes of Dossier.
func (Dossier) Indexes() []ent.Index {
	return []ent.Index{index.Fields("owner", "subject").Unique(), index.Fields("archive_code").Unique()}
}

// DossierItem is one catalogue entry: a version of a document or a piece of
// evidence. Entries are append-only; a new version is a new entry. Each entry's
// hash covers the previous entry's hash, so the catalogue is a chain.
type DossierItem struct{ ent.Schema }

// Fields of DossierItem.
func (DossierItem) Fields() []ent.Field {
	return []ent.Field{
		field.Int("dossier_id").Immutable(),
		field.Int("seq").Positive().Immutable().Comment("position in the catalogue, from 1"),
		field.String("kind").MaxLen(32).Immutable().Comment("document or evidence"),
		field.String("doc_type").Optional().MaxLen(64).Immutable(),
		field.String("title").MaxLen(256).Immutable(),
		field.Int("file_id").Immutable(),
		field.String("sm3").MaxLen(64).Immutable(),
		field.String("format").MaxLen(16).Immutable().Comment("pdf, jpg, png, xml, …"),
		field.Int("version").Positive().Immutable().Comment("version of the item with this title"),
		field.Int("parent_seq").Optional().Immutable().Comment("for an attachment: the entry it belongs to"),
		field.Text("meta").Optional().Immutable().Comment("JSON: date, pages, author, …"),
		field.String("prev").MaxLen(64).Immutable(),
		field.String("hash").MaxLen(64).Immutable(),
		field.Int("created_by").Optional().Immutable(),
		field.Time("created_at").SchemaType(datetime).Default(nowUTC).Immutable(),
	}
}

// Indexes of DossierItem.
func (DossierItem) Indexes() []ent.Index {
	return []ent.Index{index.Fields("dossier_id", "seq").Unique()}
}

// DocumentCopy is one watermarked copy handed out (副本): who took it, when,
// for what, and the copy code printed on it, so that a copy found anywhere can
// be traced.
type DocumentCopy struct{ ent.Schema }

// Fields of DocumentCopy.
func (DocumentCopy) Fields() []ent.Field {
	return []ent.Field{
		field.Int("document_id").Immutable(),
		field.String("code").MaxLen(32).Unique().Immutable(),
		field.Int("user_id").Optional().Immutable(),
		field.String("username").MaxLen(64).Immutable(),
		field.String("purpose").MaxLen(200).Immutable(),
		field.Time("created_at").SchemaType(datetime).Default(nowUTC).Immutable(),
	}
}

// Indexes of DocumentCopy.
func (DocumentCopy) Indexes() []ent.Index {
	return []ent.Index{index.Fields("document_id")}
}
