// A plugin's entity descriptor (the JSON Schema of one record) and finding
// the records in a list answer; the columns and the record page's tabs are
// detailModel.ts's.

import type { RecordSchema, UISchema } from './formModel'

export interface Entity {
  name: string
  title: Record<string, string>
  schema: RecordSchema
  // create: false hides the New button (records made by a process, not a form).
  views?: { form?: UISchema; create?: boolean }
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
