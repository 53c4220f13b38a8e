import { describe, expect, it } from 'vitest'
import { en, zhCN } from '../messages'

function keys(o: object, prefix = ''): string[] {
  return Object.entries(o).flatMap(([k, v]) => (typeof v === 'object' ? keys(v, prefix + k + '.') : [prefix + k])).sort()
}

describe('messages', () => {
  it('has every key in both languages', () => {
    expect(keys(en)).toEqual(keys(zhCN))
  })
  it('has no empty text', () => {
    for (const m of [en, zhCN]) {
      const walk = (o: object): void => Object.values(o).forEach((v) => (typeof v === 'object' ? walk(v) : expect(String(v).trim()).not.toBe('')))
      walk(m)
    }
  })
})

describe('message syntax', () => {
  it('compiles every message in both languages (vue-i18n treats @, | and braces specially)', async () => {
    const { createI18n } = await import('vue-i18n')
    const i18n = createI18n({ legacy: false, locale: 'zh-CN', messages: { 'zh-CN': zhCN, en } })
    for (const loc of ['zh-CN', 'en'] as const) {
      i18n.global.locale.value = loc
      for (const k of keys(zhCN)) expect(() => i18n.global.t(k, { n: 1, name: 'x', id: 'x', version: 'x', v: 1 })).not.toThrow()
    }
  })
})
