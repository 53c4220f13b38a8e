import { describe, expect, it } from 'vitest'
import { mount } from '@vue/test-utils'
import { createI18n } from 'vue-i18n'
import ElementPlus from 'element-plus'
import TimelineList from '../pages/TimelineList.vue'
import { en, zhCN } from '../messages'

function render(locale: string) {
  const i18n = createI18n({ legacy: false, locale, messages: { 'zh-CN': zhCN, en } })
  return mount(TimelineList, {
    props: { entries: [
      { at: '2026-03-02T01:00:00Z', actor: 'pd_wang', actor_name: '王强', action: 'approve', node_name: '负责人审批', comment: '同意' },
      { at: '2026-03-02T02:00:00Z', actor: 'system', action: 'mystery' },
    ] },
    global: { plugins: [i18n, ElementPlus] },
  })
}

describe('TimelineList', () => {
  it('names actions in the user language, who and why', () => {
    const zh = render('zh-CN').text()
    expect(zh).toContain('同意')
    expect(zh).toContain('王强')
    expect(zh).toContain('负责人审批')
    expect(render('en').text()).toContain('Approve')
  })
  it('shows an unknown action as it is, never a raw key', () => {
    expect(render('en').text()).not.toContain('task.action')
  })
})
