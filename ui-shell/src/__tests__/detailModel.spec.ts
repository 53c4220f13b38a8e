import { describe, expect, it } from 'vitest'
import {
  attachmentsOf, columnsOf, detailTabs, detailViewOf, displayValue, fileSize, instanceOf, recordOf, recordPath, type DetailView,
} from '../detailModel'
import type { RecordSchema } from '../formModel'

const titles = { details: '基本信息', attachments: '附件', timeline: '流程' }
const caseSchema: RecordSchema = {
  properties: {
    number: { type: 'string', title: '案件编号', title_en: 'Number' },
    cause: { type: 'string', title: '案由' },
    party_name: { type: 'string', title: '当事人' },
    status: { type: 'string', title: '状态', enum: ['investigating', 'decided'], enumNames: [{ 'zh-CN': '调查取证', en: 'Investigating' }, { 'zh-CN': '已决定', en: 'Decided' }] },
    documents: { type: 'array', title: '文书' },
  },
}
const names = (tabs: ReturnType<typeof detailTabs>) => tabs.map((t) => [t.title, t.kind === 'fields' ? t.fields.map((f) => f.name) : t.field])

describe('choosing the tabs of a record page', () => {
  it('shows one Details tab with every field when the plugin declares none', () => {
    expect(names(detailTabs(caseSchema, undefined, 'zh-CN', titles))).toEqual([
      ['基本信息', ['number', 'cause', 'party_name', 'status', 'documents']],
    ])
  })
  it('gives the attachments and timeline fields their own tabs, not a row of the Details tab', () => {
    const tabs = detailTabs(caseSchema, { attachments: 'documents', timeline: 'instance_id' }, 'zh-CN', titles)
    expect(names(tabs)).toEqual([
      ['基本信息', ['number', 'cause', 'party_name', 'status']],
      ['附件', 'documents'],
      ['流程', 'instance_id'],
    ])
    expect(tabs.map((t) => t.name)).toEqual(['fields-0', 'attachments', 'timeline'])
  })
  it('follows the declared tabs in the user language, keeping only fields the schema has', () => {
    const view: DetailView = {
      tabs: [
        { title: { 'zh-CN': '案件信息', en: 'Case' }, fields: ['number', 'status', 'gone'] },
        { title: { 'zh-CN': '当事人' }, fields: ['party_name'] },
        { title: { 'zh-CN': '空', en: 'Empty' }, fields: ['gone'] },
      ],
    }
    expect(names(detailTabs(caseSchema, view, 'en', titles))).toEqual([['Case', ['number', 'status']], ['当事人', ['party_name']]])
    const first = detailTabs(caseSchema, view, 'en', titles)[0]!
    expect(first.kind === 'fields' && first.fields.map((f) => f.label)).toEqual(['Number', '状态'])
  })
  it('falls back to the Details tab when no declared tab has a known field', () => {
    const view = { tabs: [{ title: { 'zh-CN': '空' }, fields: ['gone'] }] }
    expect(names(detailTabs(caseSchema, view, 'zh-CN', titles))[0]![0]).toBe('基本信息')
  })
  it('reads views.detail from an entity descriptor', () => {
    expect(detailViewOf({ views: { create: false } })).toBeUndefined()
    expect(detailViewOf({ views: { detail: {} } })).toEqual({})
    expect(detailViewOf({ views: { detail: ['number'] } })).toBeUndefined()
    expect(detailViewOf(null)).toBeUndefined()
  })
})

describe('showing values', () => {
  const [number, , , status] = columnsOf(caseSchema, 'zh-CN')
  const words = { yes: '是', no: '否' }
  it('names enum values by their enumNames in the user language', () => {
    expect(displayValue('decided', status!, words)).toBe('已决定')
    expect(displayValue('decided', columnsOf(caseSchema, 'en')[3]!, words)).toBe('Decided')
    expect(displayValue('archived', status!, words)).toBe('archived')
  })
  it('shows times in Shanghai, dates as dates, booleans in words, empty as nothing', () => {
    expect(displayValue('2026-02-13T16:00:00Z', number!, words)).toBe('2026-02-14 00:00')
    expect(displayValue('2026-02-13T16:00:00Z', { schema: { format: 'date' } as never, options: [] }, words)).toBe('2026-02-14')
    expect(displayValue('2026-02-13', { schema: { format: 'date' } as never, options: [] }, words)).toBe('2026-02-13')
    expect(displayValue(true, number!, words)).toBe('是')
    expect(displayValue(0, number!, words)).toBe('0')
    expect(displayValue(null, number!, words)).toBe('')
    expect(displayValue(['a', 'b'], number!, words)).toBe('a、b')
    expect(displayValue({ a: 1 }, number!, words)).toBe('{"a":1}')
  })
})

describe('records and their links', () => {
  it('tells one record from a list, even when the record holds arrays', () => {
    const kase = { id: 3, number: '沪市监浦立〔2026〕1号', documents: [{ type: 'notice', file_id: '9' }] }
    expect(recordOf(kase)).toBe(kase)
    expect(recordOf({ cases: [kase] })).toBeNull()
    expect(recordOf([kase])).toBeNull()
    expect(recordOf({ id: '' })).toBeNull()
    expect(recordOf(null)).toBeNull()
  })
  it('links a record under its list path', () => {
    expect(recordPath('/leads', 7)).toBe('/leads/7')
    expect(recordPath('/leads/', 'a/b')).toBe('/leads/a%2Fb')
  })
})

describe('attachments', () => {
  it('takes plain ids and {file_id, name} as host files', () => {
    expect(attachmentsOf([12, '13', { file_id: 14, name: '现场照片.jpg' }, { id: '15' }])).toEqual([
      { kind: 'file', id: '12', label: '#12', meta: '/v1/files/12', href: '/api/v1/files/12/content' },
      { kind: 'file', id: '13', label: '#13', meta: '/v1/files/13', href: '/api/v1/files/13/content' },
      { kind: 'file', id: '14', label: '现场照片.jpg', meta: '/v1/files/14', href: '/api/v1/files/14/content' },
      { kind: 'file', id: '15', label: '#15', meta: '/v1/files/15', href: '/api/v1/files/15/content' },
    ])
  })
  it('takes a case document through the documents API, labelled by number with its type beside', () => {
    expect(attachmentsOf([{ type: 'penalty_notice', document_id: '5', file_id: '41', number: '沪市监浦告〔2026〕1号' }, { type: 'decision', document_id: 6, file_id: '42' }])).toEqual([
      { kind: 'document', id: '5', label: '沪市监浦告〔2026〕1号', note: 'penalty_notice', meta: '/v1/documents/5', href: '/api/v1/documents/5/content' },
      { kind: 'document', id: '6', label: 'decision', meta: '/v1/documents/6', href: '/api/v1/documents/6/content' },
    ])
  })
  it('skips elements without an id, drops repeats and accepts nothing at all', () => {
    expect(attachmentsOf([null, '', 0, { name: 'no id' }, 7, 7, { file_id: 7 }]).map((a) => a.id)).toEqual(['7'])
    expect(attachmentsOf(undefined)).toEqual([])
    expect(attachmentsOf(8).map((a) => a.href)).toEqual(['/api/v1/files/8/content'])
  })
  it('escapes ids in URLs', () => {
    expect(attachmentsOf(['a/../b'])[0]!.href).toBe('/api/v1/files/a%2F..%2Fb/content')
  })
  it('shows sizes', () => {
    expect([fileSize(512), fileSize(12595), fileSize(4 * 1024 * 1024), fileSize(undefined)]).toEqual(['512 B', '12.3 KB', '4.0 MB', ''])
  })
})

describe('the timeline instance', () => {
  it('takes a positive integer id as a number or a string, else none', () => {
    expect(instanceOf({ instance_id: '42' }, 'instance_id')).toBe('42')
    expect(instanceOf({ instance_id: 42 }, 'instance_id')).toBe('42')
    expect(instanceOf({}, 'instance_id')).toBeNull()
    expect(instanceOf({ instance_id: '' }, 'instance_id')).toBeNull()
    expect(instanceOf({ instance_id: '4x' }, 'instance_id')).toBeNull()
    expect(instanceOf({ instance_id: 0 }, 'instance_id')).toBeNull()
  })
})
