import { describe, expect, it } from 'vitest'
import { answered, columnWidths, columnsOf, viewRows } from '../detailModel'

describe('the generic list', () => {
  const schema = {
    properties: {
      party_name: { type: 'string', title: '当事人' },
      status: { type: 'string', title: '状态', enum: ['investigating', 'decided'], enumNames: [{ 'zh-CN': '调查中', en: 'Investigating' }, { 'zh-CN': '已决定', en: 'Decided' }] },
      fine: { type: 'integer', title: '罚款' },
    },
  }
  const fields = columnsOf(schema as never, 'zh-CN')
  const words = { yes: '是', no: '否' }
  const rows = [
    { id: 1, party_name: '上海甲公司', status: 'investigating', fine: 500 },
    { id: 2, party_name: '上海乙公司', status: 'decided', fine: 5000 },
    { id: 3, party_name: '北京丙公司', status: 'decided', fine: 50 },
  ]
  it('filters on what is shown, every word', () => {
    expect(viewRows(rows, fields, { filter: '已决定', page: 1, size: 20 }, words).rows.map((r) => r.id)).toEqual([2, 3])
    expect(viewRows(rows, fields, { filter: '上海 已决定', page: 1, size: 20 }, words).rows.map((r) => r.id)).toEqual([2])
    expect(viewRows(rows, fields, { filter: '', page: 1, size: 20 }, words).total).toBe(3)
  })
  it('sorts numbers as numbers', () => {
    const sorted = viewRows(rows, fields, { filter: '', sort: { field: 'fine', order: 'descending' }, page: 1, size: 20 }, words)
    expect(sorted.rows.map((r) => r.id)).toEqual([2, 1, 3])
  })
  it('makes each column as wide as its header or its longest value, within bounds', () => {
    const per = (px: number) => (text: string) => [...text].length * px
    const long = { id: 4, party_name: '上海浦东示例科技有限公司沪市监浦立〔2026〕1号案件的当事人名称很长很长', status: 'decided', fine: 5 }
    const w = columnWidths([...rows, long], fields, words, per(20))
    expect(w.party_name).toBe(360) // the cap: the rest shows in a tooltip
    expect(w.status).toBe(3 * 20 + 32) // its values (调查中, 已决定) and the cell's padding
    expect(columnWidths([], fields, words, per(20)).party_name).toBe(3 * 20 + 48) // its header (当事人) and the sort arrows
    expect(columnWidths(rows, fields, words, per(10)).fine).toBe(80) // the floor
  })
  it('leaves out a column no row carries (a field answered on the record page only)', () => {
    const slim = rows.map(({ fine: _, ...r }) => r)
    expect(answered(fields, slim).map((f) => f.name)).toEqual(['party_name', 'status'])
    expect(answered(fields, []).length).toBe(3)
  })
  it('pages', () => {
    const page2 = viewRows(rows, fields, { filter: '', page: 2, size: 2 }, words)
    expect(page2.rows.map((r) => r.id)).toEqual([3])
    expect(page2.total).toBe(3)
  })
})

describe('record actions', () => {
  it('offers what the record allows and posts to its route', async () => {
    const { actionsOf, actionsFor, actionPath } = await import('../detailModel')
    const actions = actionsOf({ views: { actions: [
      { name: 'notice', title: { 'zh-CN': '告知' }, route: '/cases/{id}/notice', when: { field: 'status', in: ['investigating'] } },
      { name: 'evidence', title: { 'zh-CN': '证据' }, route: '/cases/{id}/evidence' },
    ] } })
    expect(actionsFor(actions, { id: 7, status: 'investigating' }).map((a) => a.name)).toEqual(['notice', 'evidence'])
    expect(actionsFor(actions, { id: 7, status: 'decided' }).map((a) => a.name)).toEqual(['evidence'])
    expect(actionPath(actions[0], 7)).toBe('/cases/7/notice')
    expect(actionsOf({ views: {} })).toEqual([])
  })
})
