import { api, get } from './api'

// A plugin page that the entity schemas cannot express is an ES module in the
// plugin's bundle (web/), loaded on demand: export default mount(element,
// context), returning a function that unmounts. The context is the whole
// contract between the shell and the module (docs/ui.md).
export interface PluginUI {
  version: string
  assets: string
  menus?: { path?: string; module?: string }[]
}

export interface ModuleContext {
  plugin: string
  version: string
  lang: string
  t: (zh: string, en: string) => string
  api: (path: string) => Promise<unknown>
  post: (path: string, body?: unknown) => Promise<unknown>
}

// mountPluginModule loads file from the plugin's assets and mounts it in el.
export async function mountPluginModule(el: HTMLElement, plugin: string, ui: PluginUI, file: string, lang: string): Promise<() => void> {
  const mod = (await import(/* @vite-ignore */ ui.assets + file)) as {
    default: (el: HTMLElement, ctx: ModuleContext) => (() => void) | void
  }
  const ctx: ModuleContext = {
    plugin,
    version: ui.version,
    lang,
    t: (zh, en) => (lang === 'en' ? en : zh),
    api: (p) => get<unknown>(`/plugins/${plugin}${p}`),
    post: (p, body) => api<unknown>('POST', `/plugins/${plugin}${p}`, body ?? {}),
  }
  return mod.default(el, ctx) ?? (() => el.replaceChildren())
}
