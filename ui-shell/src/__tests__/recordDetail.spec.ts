import { afterEach, describe, expect, it, vi } from 'vitest'
import { flushPromises, mount, RouterLinkStub } from '@vue/test-utils'
import { createI18n } from 'vue-i18n'
import ElementPlus from 'element-plus'
import RecordDetail from '../pages/RecordDetail.vue'
import { en, zhCN } from '../messages'

const schema = {
  properties: {
    number: { type: 'string', title: '案件编号', title_en: 'Number' },
    status: { type: 'string', title: '状态', enum: ['investigating'], enumNames: [{ 'zh-CN': '调查取证', en: 'Investigating' }] },
    party_name: { type: 'string', title: '当事人', title_en: 'Party' },
  },
}
const view = {
  tabs: [
    { title: { 'zh-CN': '案件信息', en: 'Case' }, fields: ['number', 'status'] },
    { title: { 'zh-CN': '当事人', en: 'Party' }, fields: ['party_name'] },
  ],
  attachments: 'documents',
  timeline: 'instance_id',
}
const record = {
  id: 3, number: '沪市监浦立〔2026〕1号', status: 'investigating', party_name: '上海浦东示例科技有限公司', instance_id: '42',
  documents: [{ type: 'penalty_notice', document_id: '5', file_id: '41', number: '沪市监浦告〔2026〕1号' }, { file_id: '77', name: '现场照片.jpg' }],
}

// answers maps an API path to [status, body]; anything else is a 404.
function serve(answers: Record<string, [number, unknown]>) {
  const fetch = vi.fn(async (url: string) => {
    const [status, body] = answers[url] ?? [404, { code: 'http.404', message: 'not found' }]
    return { status, ok: status < 400, statusText: '', text: async () => JSON.stringify(body) }
  })
  vi.stubGlobal('fetch', fetch)
  return fetch
}

function render(locale: string) {
  const i18n = createI18n({ legacy: false, locale, messages: { 'zh-CN': zhCN, en } })
  return mount(RecordDetail, {
    props: { schema, view, record },
    global: { plugins: [i18n, ElementPlus], stubs: { RouterLink: RouterLinkStub } },
    attachTo: document.body,
  })
}

async function open(w: ReturnType<typeof render>, title: string) {
  const tab = w.findAll('[role=tab]').find((x) => x.text() === title)
  if (!tab) throw new Error('no tab ' + title + ' in ' + w.findAll('[role=tab]').map((x) => x.text()).join(', '))
  await tab.trigger('click')
  await flushPromises()
}

afterEach(() => {
  vi.unstubAllGlobals()
  document.body.innerHTML = ''
})

describe('RecordDetail', () => {
  it('shows the declared tabs in the user language, values formatted', async () => {
    serve({})
    const zh = render('zh-CN')
    expect(zh.findAll('[role=tab]').map((x) => x.text())).toEqual(['案件信息', '当事人', '附件', '流程'])
    expect(zh.text()).toContain('调查取证')
    expect(zh.text()).toContain('沪市监浦立〔2026〕1号')
    const en = render('en')
    expect(en.findAll('[role=tab]').map((x) => x.text())).toEqual(['Case', 'Party', 'Attachments', 'Timeline'])
    expect(en.text()).toContain('Investigating')
    expect(en.text()).toContain('Number')
  })

  it('fetches nothing until the attachments or timeline tab is opened', () => {
    const fetch = serve({})
    render('zh-CN')
    expect(fetch).not.toHaveBeenCalled()
  })

  it('links the attachments the user may read and says which are not available', async () => {
    serve({ '/api/v1/documents/5': [200, { id: 5, title: '行政处罚事先告知书', number: '沪市监浦告〔2026〕1号', status: 'issued' }] })
    const w = render('zh-CN')
    await open(w, '附件')
    const link = w.get('[data-test=attachment-link]')
    expect(link.text()).toBe('行政处罚事先告知书（沪市监浦告〔2026〕1号）')
    expect(link.attributes('href')).toBe('/api/v1/documents/5/content')
    expect(w.get('[data-test=attachment-unavailable]').text()).toContain('无权查看或已不存在')
    expect(w.text()).toContain('现场照片.jpg')
  })

  it('shows the process timeline: who, when, what, why', async () => {
    serve({ '/api/v1/workbench/instances/42': [200, {
      id: 42, key: 'enforcement.filing', title: '立案审批', status: 'approved', started_at: '2026-03-02T01:00:00Z', initiator: 'pd_li', current: [],
      timeline: [
        { at: '2026-03-02T01:00:00Z', actor: 'pd_li', actor_name: '李娜', action: 'start' },
        { at: '2026-03-02T02:00:00Z', actor: 'pd_wang', actor_name: '王强', action: 'approve', node_name: '办案机构负责人审核', comment: '同意立案' },
      ],
    }] })
    const w = render('zh-CN')
    await open(w, '流程')
    const text = w.get('[data-test=record-timeline]').text()
    for (const s of ['立案审批', '已通过', '王强', '办案机构负责人审核', '同意立案', '2026-03-02 10:00']) expect(text).toContain(s)
  })

  it("shows the host's message when the timeline may not be read", async () => {
    serve({ '/api/v1/workbench/instances/42': [404, { code: 'workflow.not_found', message: '流程不存在或无权查看' }] })
    const w = render('zh-CN')
    await open(w, '流程')
    expect(w.get('[data-test=record-timeline]').text()).toContain('流程不存在或无权查看')
  })
})
