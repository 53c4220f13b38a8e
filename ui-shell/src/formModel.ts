// The model behind schema-driven forms: a record's JSON Schema plus a UI
// schema (views.form in the plugin's manifest) give the fields, their
// sections and widgets, dictionaries, linkage rules that show, hide or require
// fields, and validation messages in both languages.
//
//   views:
//     form:
//       sections: [{title: {zh-CN: 基本信息, en: Basics}, fields: [kind, title, amount]}]
//       widgets: {body: textarea, kind: select, date: date, district: "dict:district"}
//       rules:
//         - {when: {field: kind, equals: urgent}, show: [deadline], require: [deadline]}
//       messages: {title: {zh-CN: 请填写标题, en: Enter a title}}

export type Lang = 'zh-CN' | 'en'
type Texts = Record<string, string>

export interface PropSchema {
  type?: string
  title?: string
  title_en?: string
  maxLength?: number
  minLength?: number
  minimum?: number
  maximum?: number
  pattern?: string
  enum?: (string | number)[]
  enumNames?: Texts[]
  format?: string // "date": a date picker
  items?: { type?: string; enum?: (string | number)[]; enumNames?: Texts[] } // an array of choices: a multiple select
}

export interface RecordSchema {
  properties?: Record<string, PropSchema>
  required?: string[]
}

export interface Rule {
  when: { field: string; equals?: unknown; in?: unknown[] }
  show?: string[]
  require?: string[]
}

export interface UISchema {
  sections?: { title?: Texts; fields: string[] }[]
  widgets?: Record<string, string>
  rules?: Rule[]
  messages?: Record<string, Texts>
}

export interface FieldModel {
  name: string
  label: string
  widget: 'text' | 'textarea' | 'number' | 'select' | 'multiselect' | 'switch' | 'date'
  options: { value: string | number; label: string }[]
  // dict names a host data dictionary (widget "dict:<key>") the options come from.
  dict?: string
  schema: PropSchema
}

export interface SectionModel {
  title: string
  fields: FieldModel[]
}

function label(p: PropSchema, name: string, lang: Lang): string {
  return (lang === 'en' ? p.title_en : undefined) ?? p.title ?? name
}

function widgetOf(name: string, p: PropSchema, ui: UISchema): FieldModel['widget'] {
  const w = ui.widgets?.[name]
  if (w?.startsWith('dict:')) return 'select'
  if (w === 'textarea' || w === 'number' || w === 'select' || w === 'date' || w === 'text') return w
  if (p.enum) return 'select'
  if (p.type === 'array' && p.items?.enum) return 'multiselect'
  if (p.type === 'boolean') return 'switch'
  if (p.format === 'date') return 'date'
  if (p.type === 'number' || p.type === 'integer') return 'number'
  if ((p.maxLength ?? 0) > 200) return 'textarea'
  return 'text'
}

function choicesOf(p: { enum?: (string | number)[]; enumNames?: Texts[] }, lang: Lang): FieldModel['options'] {
  return (p.enum ?? []).map((v, i) => ({ value: v, label: p.enumNames?.[i]?.[lang] ?? p.enumNames?.[i]?.['zh-CN'] ?? String(v) }))
}

// sections lays the fields out: the UI schema's sections, then any field it
// did not place in a last section.
export function sections(s: RecordSchema, ui: UISchema, lang: Lang): SectionModel[] {
  const props = s.properties ?? {}
  const field = (name: string): FieldModel => {
    const p = props[name] ?? {}
    return {
      name, label: label(p, name, lang), widget: widgetOf(name, p, ui), schema: p,
      dict: ui.widgets?.[name]?.startsWith('dict:') ? ui.widgets[name]!.slice(5) : undefined,
      options: choicesOf(p.enum ? p : (p.items ?? {}), lang),
    }
  }
  const placed = new Set<string>()
  const out: SectionModel[] = []
  for (const sec of ui.sections ?? []) {
    const fields = sec.fields.filter((f) => f in props)
    fields.forEach((f) => placed.add(f))
    out.push({ title: sec.title?.[lang] ?? sec.title?.['zh-CN'] ?? '', fields: fields.map(field) })
  }
  const rest = Object.keys(props).filter((f) => !placed.has(f))
  if (rest.length) out.push({ title: '', fields: rest.map(field) })
  return out
}

function matches(r: Rule, values: Record<string, unknown>): boolean {
  const v = values[r.when.field]
  if (r.when.in) return r.when.in.includes(v)
  return v === r.when.equals
}

// visible: a field named in some rule's show list is shown only while one of
// those rules matches; other fields are always shown.
export function visible(name: string, ui: UISchema, values: Record<string, unknown>): boolean {
  const rules = (ui.rules ?? []).filter((r) => r.show?.includes(name))
  return rules.length === 0 || rules.some((r) => matches(r, values))
}

export function required(name: string, s: RecordSchema, ui: UISchema, values: Record<string, unknown>): boolean {
  if (s.required?.includes(name)) return true
  return (ui.rules ?? []).some((r) => r.require?.includes(name) && matches(r, values))
}

const builtin: Record<string, Texts> = {
  required: { 'zh-CN': '请填写{label}', en: '{label} is required' },
  maxLength: { 'zh-CN': '{label}最多 {n} 个字', en: '{label}: at most {n} characters' },
  minLength: { 'zh-CN': '{label}至少 {n} 个字', en: '{label}: at least {n} characters' },
  minimum: { 'zh-CN': '{label}不能小于 {n}', en: '{label} must be at least {n}' },
  maximum: { 'zh-CN': '{label}不能大于 {n}', en: '{label} must be at most {n}' },
  pattern: { 'zh-CN': '{label}格式不正确', en: '{label} is not in the right format' },
  enum: { 'zh-CN': '请从列表中选择{label}', en: 'Choose {label} from the list' },
}

function say(kind: string, f: FieldModel, lang: Lang, ui: UISchema, n?: number): string {
  const t = ui.messages?.[f.name]?.[lang] ?? builtin[kind]![lang]!
  return t.replace('{label}', f.label).replace('{n}', String(n ?? ''))
}

// validate checks the visible fields and returns a message per failing field
// (hidden fields are neither checked nor submitted).
export function validate(s: RecordSchema, ui: UISchema, values: Record<string, unknown>, lang: Lang): Record<string, string> {
  const errors: Record<string, string> = {}
  for (const sec of sections(s, ui, lang)) {
    for (const f of sec.fields) {
      if (!visible(f.name, ui, values)) continue
      const v = values[f.name]
      const empty = v === undefined || v === null || (typeof v === 'string' && v.trim() === '') || (Array.isArray(v) && v.length === 0)
      const p = f.schema
      if (empty) {
        if (required(f.name, s, ui, values)) errors[f.name] = say('required', f, lang, ui)
        continue
      }
      if (typeof v === 'string') {
        if (p.maxLength !== undefined && [...v].length > p.maxLength) errors[f.name] = say('maxLength', f, lang, ui, p.maxLength)
        else if (p.minLength !== undefined && [...v].length < p.minLength) errors[f.name] = say('minLength', f, lang, ui, p.minLength)
        else if (p.pattern && !new RegExp(p.pattern).test(v)) errors[f.name] = say('pattern', f, lang, ui)
      }
      if (typeof v === 'number') {
        if (p.minimum !== undefined && v < p.minimum) errors[f.name] = say('minimum', f, lang, ui, p.minimum)
        else if (p.maximum !== undefined && v > p.maximum) errors[f.name] = say('maximum', f, lang, ui, p.maximum)
      }
      if (p.enum && !p.enum.includes(v as string | number)) errors[f.name] = say('enum', f, lang, ui)
      if (Array.isArray(v) && p.items?.enum && v.some((x) => !p.items!.enum!.includes(x))) errors[f.name] = say('enum', f, lang, ui)
    }
  }
  return errors
}

// submittable drops hidden fields from the values.
export function submittable(ui: UISchema, values: Record<string, unknown>): Record<string, unknown> {
  return Object.fromEntries(Object.entries(values).filter(([k]) => visible(k, ui, values)))
}
