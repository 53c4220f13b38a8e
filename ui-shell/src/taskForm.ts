// The rows of a task page's form: the process variables the definition
// lists (its `form`, with titles in both languages), in its order; without
// such a list, every variable under its name. A field the task's node lets
// the approver edit is always shown.

// stepName is a task's step (a process node, or a plugin's task type) in
// the language shown, in Chinese when it has no English name.
export function stepName(x: { node_name?: string; node_name_en?: string }, lang: string): string {
  return (lang === 'en' && x.node_name_en) || x.node_name || ''
}

export interface FormField {
  name: string
  title: Record<string, string>
}

export interface FormRow {
  name: string
  label: string
}

export function taskFormRows(form: Record<string, unknown>, fields: FormField[] | undefined, editable: string[],
  lang: string, fallback: (name: string) => string): FormRow[] {
  if (!fields?.length) return Object.keys(form).map((name) => ({ name, label: fallback(name) }))
  const rows = fields.filter((f) => f.name in form || editable.includes(f.name))
    .map((f) => ({ name: f.name, label: f.title[lang] || f.title['zh-CN'] || f.name }))
  for (const name of editable) {
    if (!rows.some((r) => r.name === name)) rows.push({ name, label: fallback(name) })
  }
  return rows
}
