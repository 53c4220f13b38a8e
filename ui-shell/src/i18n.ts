import { createI18n } from 'vue-i18n'
import { en, zhCN } from './messages'
import { setLanguage } from './api'

const saved = localStorage.getItem('portal.lang')
export const i18n = createI18n({
  legacy: false,
  locale: saved === 'en' ? 'en' : 'zh-CN',
  fallbackLocale: 'zh-CN',
  messages: { 'zh-CN': zhCN, en },
})
setLanguage(i18n.global.locale.value)

export function switchLanguage(): void {
  const next = i18n.global.locale.value === 'en' ? 'zh-CN' : 'en'
  i18n.global.locale.value = next
  localStorage.setItem('portal.lang', next)
  document.documentElement.lang = next
  setLanguage(next)
}

// text picks a plugin's localised text ({zh-CN, en}) in the current language.
export function text(t: Record<string, string> | undefined): string {
  if (!t) return ''
  return t[i18n.global.locale.value] ?? t['zh-CN'] ?? Object.values(t)[0] ?? ''
}
