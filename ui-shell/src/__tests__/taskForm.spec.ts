import { describe, expect, it } from 'vitest'
import { stepName, taskFormRows, type FormField } from '../taskForm'

describe("a task page's form", () => {
  const form = { cause: '销售过期食品', lead_id: 7, merge_into: 0, outcome: 'file' }
  const fields: FormField[] = [
    { name: 'party_name', title: { 'zh-CN': '当事人', en: 'Party' } }, // not in this instance's variables
    { name: 'cause', title: { 'zh-CN': '案由', en: 'Cause' } },
    { name: 'lead_id', title: { 'zh-CN': '案源编号' } },
  ]
  const byName = (n: string) => n
  it('shows what the definition lists, in its order, under its titles', () => {
    expect(taskFormRows(form, fields, [], 'zh-CN', byName)).toEqual([
      { name: 'cause', label: '案由' }, { name: 'lead_id', label: '案源编号' }])
    expect(taskFormRows(form, fields, [], 'en', byName).map((r) => r.label)).toEqual(['Cause', '案源编号'])
  })
  it('shows every variable by name when the definition lists none', () => {
    expect(taskFormRows(form, undefined, [], 'zh-CN', byName).map((r) => r.name)).toEqual(['cause', 'lead_id', 'merge_into', 'outcome'])
  })
  it('always shows a field the approver may edit', () => {
    expect(taskFormRows(form, fields, ['outcome'], 'zh-CN', byName).map((r) => r.name)).toEqual(['cause', 'lead_id', 'outcome'])
  })
})

describe("a task's step", () => {
  it('is named in the language shown, in Chinese when it has no English name', () => {
    expect(stepName({ node_name: '法制审核', node_name_en: 'Legal review' }, 'en')).toBe('Legal review')
    expect(stepName({ node_name: '法制审核', node_name_en: 'Legal review' }, 'zh-CN')).toBe('法制审核')
    expect(stepName({ node_name: '负责人审批' }, 'en')).toBe('负责人审批')
  })
})
