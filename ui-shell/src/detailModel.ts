// The model behind a record's page: the entity's views.detail in the plugin's
// manifest (sdk/manifest DetailView, docs/ui.md) says which tabs to show, and
// the record itself gives the values, its attachments and the process
// instance of its timeline.
//
//   views:
//     detail:
//       tabs:
//         - {title: {zh-CN: 案件信息, en: Case}, fields: [number, cause, status]}
//         - {title: {zh-CN: 当事人, en: Party}, fields: [party_name, party_id]}
//       attachments: documents   # [{file_id, name}], [{document_id, number, type}] or [ids]
//       timeline: instance_id    # the id of a host process instance
//
// Everything here is pure; the components fetch.

import { sections, type FieldModel, type Lang, type PropSchema, type RecordSchema } from './formModel'
import { dateTime } from './format'

type Texts = Record<string, string>

export interface DetailView {
  tabs?: { title: Texts; fields: string[] }[]
  attachments?: string
  timeline?: string
}

export type DetailTab =
  | { kind: 'fields'; name: string; title: string; fields: FieldModel[] }
  | { kind: 'attachments'; name: 'attachments'; title: string; field: string }
  | { kind: 'timeline'; name: 'timeline'; title: string; field: string }

// The shell's own titles (from messages.ts) for the tabs a plugin does not name.
export interface TabTitles {
  details: string
  attachments: string
  timeline: string
}

// detailViewOf reads views.detail from an entity descriptor; undefined when
// the plugin declares none (then the list does not link to record pages).
export function detailViewOf(e: { views?: object } | null | undefined): DetailView | undefined {
  const d = (e?.views as { detail?: unknown } | undefined)?.detail
  return d && typeof d === 'object' && !Array.isArray(d) ? (d as DetailView) : undefined
}

// detailTabs chooses the tabs of a record's page: the declared tabs (only
// fields the schema has; a tab left with none is dropped), or one "Details"
// tab with every field of the schema but the attachments and timeline
// fields; then Attachments and Timeline when declared.
export function detailTabs(schema: RecordSchema, view: DetailView | undefined, lang: Lang, titles: TabTitles): DetailTab[] {
  const out: DetailTab[] = []
  const own = new Set([view?.attachments, view?.timeline].filter((f): f is string => !!f))
  const declared = (view?.tabs ?? []).map((tab) => ({
    title: tab.title?.[lang] ?? tab.title?.['zh-CN'] ?? '',
    fields: sections(schema, { sections: [tab] }, lang)[0]?.fields ?? [],
  })).filter((tab) => tab.fields.length)
  if (declared.length) {
    declared.forEach((tab, i) => out.push({ kind: 'fields', name: 'fields-' + i, ...tab }))
  } else {
    const fields = (sections(schema, {}, lang)[0]?.fields ?? []).filter((f) => !own.has(f.name))
    out.push({ kind: 'fields', name: 'fields-0', title: titles.details, fields })
  }
  if (view?.attachments) out.push({ kind: 'attachments', name: 'attachments', title: titles.attachments, field: view.attachments })
  if (view?.timeline) out.push({ kind: 'timeline', name: 'timeline', title: titles.timeline, field: view.timeline })
  return out
}

// columnsOf is the list's columns: every field of the schema, labelled and
// with enum options in the user's language, as on the record page.
export function columnsOf(schema: RecordSchema, lang: Lang): FieldModel[] {
  return sections(schema, {}, lang)[0]?.fields ?? []
}

// answered is the columns a list's rows carry: a field the plugin leaves
// out of every row of its list (one it answers only on the record's own
// page, such as a clock it evaluates there) gets no empty column. With no
// rows, every column.
export function answered(fields: FieldModel[], rows: Record<string, unknown>[]): FieldModel[] {
  if (!rows.length) return fields
  return fields.filter((f) => rows.some((r) => f.name in r))
}

const isoTime = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}/

// displayValue shows a record's value as people read it, in the list and on
// the record page alike: an enum value by its enumNames, times in Shanghai,
// dates as dates, booleans in words, lists joined; empty as ''.
export function displayValue(v: unknown, f: Pick<FieldModel, 'schema' | 'options'>, words: { yes: string; no: string }): string {
  if (v === undefined || v === null || v === '') return ''
  if (Array.isArray(v)) return v.map((x) => displayValue(x, f, words)).filter(Boolean).join('、')
  const option = f.options.find((o) => o.value === v)
  if (option) return option.label
  if (typeof v === 'boolean') return v ? words.yes : words.no
  if (typeof v === 'string') {
    const format = (f.schema as PropSchema & { format?: string }).format
    if (isoTime.test(v)) {
      const shown = dateTime(v)
      if (!shown) return v
      return format === 'date' ? shown.slice(0, 10) : shown
    }
    return v
  }
  if (typeof v === 'object') return JSON.stringify(v)
  return String(v)
}

// recordOf tells one record from a list answer: an object with a scalar id.
// (A record may well hold arrays — a case's documents — so rowsOf alone
// would take it for a list.)
export function recordOf(data: unknown): Record<string, unknown> | null {
  if (!data || typeof data !== 'object' || Array.isArray(data)) return null
  const id = (data as { id?: unknown }).id
  return typeof id === 'number' || (typeof id === 'string' && id !== '') ? (data as Record<string, unknown>) : null
}

// recordPath is where the list links a record: <list path>/<id>.
export function recordPath(listPath: string, id: unknown): string {
  return listPath.replace(/\/+$/, '') + '/' + encodeURIComponent(String(id))
}

// Attachment is one file of a record, downloaded through the host: a file
// through the files API, an official document (whose PDF belongs to the
// plugin that issued it, which the files API never serves) through the
// documents API. Both answer 404 for what the user may not read.
export interface Attachment {
  kind: 'file' | 'document'
  id: string
  // label is what the record says (name, else number, else type, else #id);
  // the metadata may name it better once fetched.
  label: string
  // note is the document's type beside its number.
  note?: string
  // meta is the metadata's API path (for api/get), href the download URL.
  meta: string
  href: string
}

function idOf(v: unknown): string | null {
  if (typeof v === 'number' && Number.isFinite(v) && v > 0) return String(v)
  if (typeof v === 'string' && v.trim() !== '') return v.trim()
  return null
}

function textOf(v: unknown): string | undefined {
  return typeof v === 'string' && v.trim() !== '' ? v.trim() : undefined
}

// attachmentsOf normalises a record's attachments field: an array (or one
// element) of file ids, {file_id | id, name}, or {document_id, number, type}.
// Elements without a usable id are skipped, repeats dropped.
export function attachmentsOf(value: unknown): Attachment[] {
  const items = value === undefined || value === null ? [] : Array.isArray(value) ? value : [value]
  const out: Attachment[] = []
  const seen = new Set<string>()
  for (const item of items) {
    let a: Attachment | null = null
    const plain = idOf(item)
    if (plain) {
      a = file(plain, '#' + plain)
    } else if (item && typeof item === 'object') {
      const o = item as Record<string, unknown>
      const doc = idOf(o.document_id)
      const fid = idOf(o.file_id) ?? idOf(o.id)
      const name = textOf(o.name) ?? textOf(o.title)
      const number = textOf(o.number)
      const type = textOf(o.type)
      const label = name ?? number ?? type
      if (doc) {
        a = { kind: 'document', id: doc, label: label ?? '#' + doc, meta: '/v1/documents/' + encodeURIComponent(doc),
          href: '/api/v1/documents/' + encodeURIComponent(doc) + '/content' }
        if (!name && number && type) a.note = type
      } else if (fid) {
        a = file(fid, label ?? '#' + fid)
      }
    }
    if (!a || seen.has(a.kind + ':' + a.id)) continue
    seen.add(a.kind + ':' + a.id)
    out.push(a)
  }
  return out
}

function file(id: string, label: string): Attachment {
  const p = '/v1/files/' + encodeURIComponent(id)
  return { kind: 'file', id, label, meta: p, href: '/api' + p + '/content' }
}

// instanceOf is the process instance id a record's timeline field holds, or
// null when there is none (yet).
export function instanceOf(record: Record<string, unknown>, field: string): string | null {
  const v = record[field]
  if (typeof v === 'number' && Number.isInteger(v) && v > 0) return String(v)
  if (typeof v === 'string' && /^[1-9]\d*$/.test(v.trim())) return v.trim()
  return null
}

// fileSize shows a byte count: 512 B, 12.3 KB, 4.0 MB.
export function fileSize(n: number | undefined): string {
  if (n === undefined || !Number.isFinite(n) || n < 0) return ''
  if (n < 1024) return n + ' B'
  if (n < 1024 * 1024) return (n / 1024).toFixed(1) + ' KB'
  return (n / 1024 / 1024).toFixed(1) + ' MB'
}

// ListQuery is what the list's toolbar and headers ask for.
export interface ListQuery {
  filter: string // words every shown row must contain, in any column (shown values)
  sort?: { field: string; order: 'ascending' | 'descending' }
  page: number // from 1
  size: number
}

// viewRows filters, sorts and pages a list answer as the user sees it: the
// filter matches the shown values (an enum's label, a formatted date), and
// sorting compares numbers as numbers and the rest as Chinese-aware text.
export function viewRows(rows: Record<string, unknown>[], fields: FieldModel[], q: ListQuery, words: { yes: string; no: string }):
  { rows: Record<string, unknown>[]; total: number } {
  const shown = (row: Record<string, unknown>, f: FieldModel) => displayValue(row[f.name], f, words)
  const terms = q.filter.trim().toLowerCase().split(/\s+/).filter(Boolean)
  let out = terms.length
    ? rows.filter((row) => {
      const hay = [String(row.id ?? ''), ...fields.map((f) => shown(row, f))].join(' ').toLowerCase()
      return terms.every((t) => hay.includes(t))
    })
    : rows.slice()
  if (q.sort) {
    const { field, order } = q.sort
    const f = fields.find((x) => x.name === field)
    const sign = order === 'descending' ? -1 : 1
    out = out.slice().sort((a, b) => {
      const x = a[field]
      const y = b[field]
      if (typeof x === 'number' && typeof y === 'number') return sign * (x - y)
      const sx = f ? shown(a, f) : String(x ?? '')
      const sy = f ? shown(b, f) : String(y ?? '')
      return sign * sx.localeCompare(sy, 'zh-CN')
    })
  }
  const start = (Math.max(1, q.page) - 1) * q.size
  return { rows: out.slice(start, start + q.size), total: out.length }
}

// columnWidths is each column's minimum width in pixels, from its header
// and the longest value it shows, as measure (the text's width in the
// table's font) gives them, at most 360: a case's number or a credit code
// is read whole rather than cut short, and a list wider than the page
// scrolls sideways.
export function columnWidths(rows: Record<string, unknown>[], fields: FieldModel[], words: { yes: string; no: string },
  measure: (text: string) => number): Record<string, number> {
  const out: Record<string, number> = {}
  for (const f of fields) {
    const header = measure(f.label) + 48 // the cell's padding and the sort arrows
    const widest = Math.max(0, ...rows.map((r) => measure(displayValue(r[f.name], f, words))))
    out[f.name] = Math.ceil(Math.max(80, header, Math.min(widest + 32, 360)))
  }
  return out
}

// EntityAction is one of an entity's views.actions (sdk/manifest Action): a
// button that POSTs to the plugin's route, with a form when it takes a body.
export interface EntityAction {
  name: string
  title: Texts
  route: string // "/cases/{id}/notice"
  when?: { field: string; in: unknown[] }
  form?: RecordSchema
  bulk?: boolean
  confirm?: Texts
}

// actionsOf reads views.actions from an entity descriptor.
export function actionsOf(e: { views?: object } | null | undefined): EntityAction[] {
  const a = (e?.views as { actions?: unknown } | undefined)?.actions
  return Array.isArray(a) ? (a as EntityAction[]) : []
}

// actionsFor are the actions a record offers now: those whose condition its
// values meet.
export function actionsFor(actions: EntityAction[], record: Record<string, unknown>): EntityAction[] {
  return actions.filter((a) => !a.when || a.when.in.includes(record[a.when.field]))
}

// actionPath is the plugin route an action posts to for a record.
export function actionPath(a: EntityAction, id: unknown): string {
  return a.route.replace('{id}', encodeURIComponent(String(id)))
}
