// Package dossier keeps the electronic dossier (电子卷宗) of a case or an
// application and turns it into a signed archive package (归档信息包) that
// passes the archive checks (四性检测: authenticity, integrity, usability,
// security) before it is stored.
//
// # Catalogue
//
// A dossier belongs to one business record (owner plugin + subject) and is
// opened once (Open is idempotent). Its catalogue is append-only: each entry
// (a document version, a piece of evidence, an attachment of another entry)
// records its file's SM3, its format and metadata (date, pages, author, the
// number of attachments it declares, …). A new version of a document is a new
// entry with the same title; its version is the number of earlier entries
// with that title plus one.
//
// Every entry is chained to the one before it:
//
//	hash = hex(SM3(prev ‖ canonical JSON of the entry))
//
// where prev is the previous entry's hash ("" for the first entry) and the
// canonical JSON is the object {seq, kind, doc_type, title, file_id, sm3,
// format, version, parent_seq, meta, created_by} with its keys sorted at every
// level, no insignificant white space, no HTML escaping and numbers exactly
// as written (see canonicalJSON). The dossier row keeps the head (the last
// hash) and the number of entries; appends lock that row (MySQL) or run in
// SQLite's BEGIN IMMEDIATE transactions, so concurrent appends form one chain.
// An archived dossier refuses appends.
//
// # Archive package
//
// Archive builds a ZIP:
//
//	metadata.json   the descriptive metadata (below)
//	chain.json      the catalogue with prev and hash of every entry
//	files/0001-<title>.<ext>, …   the content, named by 件号 and title
//	signature.p7s   a detached signature (CMS SignedData, SM2/SM3, signing
//	                time) over the exact bytes of metadata.json
//
// The arrangement follows the spirit of DA/T 22-2015 (归档文件整理规则),
// with one handled matter (办件事项) as the unit (R-ARC-4): the whole dossier
// is archived as one 件 and gets one 档号
//
//	{全宗号}-{年度}-{保管期限代码}-{机构(问题)代码}-{件号}
//	e.g. S001-2026-D30-310115D03-0007
//
// where the retention code is Y (永久), D30 (定期30年) or D10 (定期10年), the
// 机构代码 is letters and digits only (the separator is "-"), and the 件号
// is four digits: the dossier's number among the dossiers archived under the
// same fonds, year, retention and organisation (assigned as the next free
// number unless the caller passes one, for example from host/numbering).
// Inside the package the catalogue entries are numbered by their seq (件内
// 顺序号, "seq" in metadata.json), which is also the prefix of their file
// names; an entry's full reference is the 档号 plus its seq.
//
// metadata.json (schema "portal-dossier/1") carries: fonds 全宗号,
// archive_code 档号, year 年度, retention 保管期限, retention_code, org_code
// 机构(问题)代码, organisation (the dossier's organisation code), title 题名,
// responsible 责任者, date 日期 (the archiving date), kind, owner, subject,
// count, head (the chain head) and items; each item carries seq, kind,
// doc_type, title, version, parent (the seq an attachment belongs to),
// attachments (the number of attachments an entry declares, when it does),
// date, author, format, pages, size, sm3 and file (its path in the ZIP).
//
// Only if every check passes is the dossier marked archived (status,
// archive_code, archived_at); the caller then stores the ZIP (host/files)
// and records it with SetArchiveFile.
//
// # Checks
//
// Check runs every check on a package and always reports all of them, each
// with a reason that names the item, file or field at fault. See the check
// table in check.go and the metadata rules in rules.go. A malformed ZIP, an
// entry with an unsafe name (absolute, "..", back slashes) or a package that
// unpacks beyond the size limit is reported, never a panic.
package dossier
