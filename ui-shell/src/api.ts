// The host API: JSON over fetch with the session cookie, the CSRF token on
// unsafe methods, and the host's error shape turned into an ApiError whose
// message is already in the user's language (the host localises it).

export class ApiError extends Error {
  constructor(
    readonly status: number,
    readonly code: string,
    message: string,
    readonly details?: unknown,
  ) {
    super(message)
  }
}

const csrfKey = 'portal.csrf'

export function hasCsrf(): boolean {
  return sessionStorage.getItem(csrfKey) !== null
}

export function setCsrf(token: string | null): void {
  if (token) sessionStorage.setItem(csrfKey, token)
  else sessionStorage.removeItem(csrfKey)
}

let language = 'zh-CN'
export function setLanguage(lang: string): void {
  language = lang
}

export async function api<T>(method: string, path: string, body?: unknown): Promise<T> {
  const headers: Record<string, string> = { Accept: 'application/json', 'Accept-Language': language }
  let payload: BodyInit | undefined
  if (body instanceof Blob) {
    payload = body
    headers['Content-Type'] = 'application/gzip'
  } else if (body !== undefined) {
    payload = typeof body === 'string' ? body : JSON.stringify(body)
    headers['Content-Type'] = 'application/json'
  }
  if (method !== 'GET' && method !== 'HEAD') {
    const csrf = sessionStorage.getItem(csrfKey)
    if (csrf) headers['X-CSRF-Token'] = csrf
  }
  const res = await fetch('/api' + path, { method, headers, body: payload, credentials: 'same-origin' })
  if (res.status === 204) return undefined as T
  const text = await res.text()
  let data: unknown = undefined
  try {
    data = text ? JSON.parse(text) : undefined
  } catch {
    data = undefined
  }
  if (!res.ok) {
    const e = (data ?? {}) as { code?: string; message?: string; details?: unknown }
    throw new ApiError(res.status, e.code ?? 'http.' + res.status, e.message ?? res.statusText, e.details)
  }
  return data as T
}

export const get = <T>(path: string) => api<T>('GET', path)
export const post = <T>(path: string, body?: unknown) => api<T>('POST', path, body ?? {})
export const put = <T>(path: string, body?: unknown) => api<T>('PUT', path, body)

// Types of the host API used by the shell (docs/api.md).
export interface Identity {
  audience: string
  username: string
  display_name: string
  roles: string[]
  permissions: string[]
  org_code?: string
  org_path?: string
  locale?: string
}

export interface Menu {
  plugin: string
  key: string
  parent?: string
  title: Record<string, string>
  icon?: string
  path: string
  order?: number
}

export interface InboxItem {
  id: number
  kind: string
  plugin?: string
  type: string
  title: string
  link?: string
  instance_id?: number
  node?: string
  node_name?: string
  node_name_en?: string
  status: string
  outcome?: string
  reason: { code: string; zh: string; en: string }
  claimable?: boolean
  created_at: string
  due_at?: string
  colour?: string
  urge_count?: number
  completed_at?: string
  read_at?: string
}

export interface InstanceItem {
  id: number
  key: string
  title: string
  status: string
  started_at: string
  ended_at?: string
  plugin?: string
}

export interface Page<T> {
  items: T[]
  total: number
  page: number
  size: number
}

export interface Counts {
  todo: number
  todo_by_colour: Record<string, number>
  cc_unread: number
  supervise: number
  started_running: number
}

export interface TimelineEntry {
  at: string
  actor: string
  actor_name?: string
  action: string
  node?: string
  node_name?: string
  node_name_en?: string
  comment?: string
}

export interface InstanceView extends InstanceItem {
  initiator: string
  form?: Record<string, unknown>
  current: InboxItem[]
  timeline: TimelineEntry[]
}

export interface TaskView {
  task: InboxItem
  instance?: InstanceView
  form?: Record<string, unknown>
  form_fields?: { name: string; title: Record<string, string> }[]
  fields?: Record<string, string>
  actions: string[]
  returnable?: { node: string; name: string }[]
  clock?: { due: string; steps: string[] }
}

export interface PluginInfo {
  id: string
  name: Record<string, string>
  version: string
  previous_version?: string
  enabled: boolean
  state: string
  last_error?: string
}
