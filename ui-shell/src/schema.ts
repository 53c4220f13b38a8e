// Reading a plugin's entity descriptor (JSON Schema of one record) into what
// the generic list and form need.

import type { RecordSchema, UISchema } from './formModel'

export interface Entity {
  name: string
  title: Record<string, string>
  schema: RecordSchema
  // create: false hides the New button (records made by a process, not a form).
  views?: { form?: UISchema; create?: boolean }
}

export interface Field {
  name: string
  label: string
  required: boolean
  maxLength?: number
  long: boolean
}

export function fieldsOf(e: Entity): Field[] {
  const req = new Set(e.schema.required ?? [])
  return Object.entries(e.schema.properties ?? {}).map(([name, p]) => ({
    name,
    label: p.title ?? name,
    required: req.has(name),
    maxLength: p.maxLength,
    long: (p.maxLength ?? 0) > 200,
  }))
}

// rowsOf finds the records in a plugin's list answer: an array, or the first
// array-valued property ({"notices": [...]}).
export function rowsOf(data: unknown): Record<string, unknown>[] {
  if (Array.isArray(data)) return data as Record<string, unknown>[]
  if (data && typeof data === 'object') {
    for (const v of Object.values(data)) if (Array.isArray(v)) return v as Record<string, unknown>[]
  }
  return []
}
