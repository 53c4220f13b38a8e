import { describe, expect, it } from 'vitest'
import { required, sections, submittable, validate, visible, type RecordSchema, type UISchema } from '../formModel'

const schema: RecordSchema = {
  required: ['title', 'kind'],
  properties: {
    title: { type: 'string', title: '标题', title_en: 'Title', maxLength: 10 },
    kind: { type: 'string', title: '类别', title_en: 'Kind', enum: ['normal', 'urgent'], enumNames: [{ 'zh-CN': '普通', en: 'Normal' }, { 'zh-CN': '紧急', en: 'Urgent' }] },
    deadline: { type: 'string', title: '截止日期', title_en: 'Deadline', pattern: '^\\d{4}-\\d{2}-\\d{2}$' },
    amount: { type: 'number', title: '金额', minimum: 0 },
    body: { type: 'string', title: '正文', maxLength: 5000 },
  },
}
const ui: UISchema = {
  sections: [{ title: { 'zh-CN': '基本信息', en: 'Basics' }, fields: ['kind', 'title', 'deadline'] }],
  widgets: { deadline: 'date' },
  rules: [{ when: { field: 'kind', equals: 'urgent' }, show: ['deadline'], require: ['deadline'] }],
  messages: { title: { 'zh-CN': '请填写公告标题', en: 'Enter the notice title' } },
}

describe('schema-driven forms', () => {
  it('lays out sections, widgets and dictionaries in the user language', () => {
    const [basics, rest] = sections(schema, ui, 'en')
    expect(basics!.title).toBe('Basics')
    expect(basics!.fields.map((f) => f.name)).toEqual(['kind', 'title', 'deadline'])
    expect(basics!.fields[0]!.widget).toBe('select')
    expect(basics!.fields[0]!.options).toEqual([{ value: 'normal', label: 'Normal' }, { value: 'urgent', label: 'Urgent' }])
    expect(basics!.fields[2]!.widget).toBe('date')
    expect(rest!.fields.map((f) => [f.name, f.widget])).toEqual([['amount', 'number'], ['body', 'textarea']])
  })
  it('takes options from a host dictionary', () => {
    const [sec] = sections({ properties: { district: { type: 'string', title: '区' } } }, { widgets: { district: 'dict:district' } }, 'zh-CN')
    expect(sec!.fields[0]).toMatchObject({ widget: 'select', dict: 'district' })
  })
  it('shows and requires fields by linkage rules', () => {
    expect(visible('deadline', ui, { kind: 'normal' })).toBe(false)
    expect(visible('deadline', ui, { kind: 'urgent' })).toBe(true)
    expect(required('deadline', schema, ui, { kind: 'urgent' })).toBe(true)
    expect(required('deadline', schema, ui, { kind: 'normal' })).toBe(false)
    expect(submittable(ui, { kind: 'normal', deadline: '2026-01-01', title: 'x' })).toEqual({ kind: 'normal', title: 'x' })
  })
  it('validates with messages in both languages, custom ones first', () => {
    expect(validate(schema, ui, { kind: 'urgent' }, 'zh-CN')).toEqual({ title: '请填写公告标题', deadline: '请填写截止日期' })
    expect(validate(schema, ui, { kind: 'urgent', title: 'x', deadline: '明天' }, 'en')).toEqual({ deadline: 'Deadline is not in the right format' })
    expect(validate(schema, ui, { kind: 'other', title: '一二三四五六七八九十十一', amount: -1 }, 'zh-CN')).toEqual({
      kind: '请从列表中选择类别', title: '请填写公告标题', amount: '金额不能小于 0',
    })
    expect(validate(schema, ui, { kind: 'normal', title: '好' }, 'en')).toEqual({})
  })
})

describe('more widgets', () => {
  it('gives booleans a switch, arrays of choices a multiple select, dates a picker', async () => {
    const { sections, validate } = await import('../formModel')
    const s = {
      required: ['grounds'],
      properties: {
        hearing: { type: 'boolean', title: '听证' },
        grounds: { type: 'array', title: '情形', items: { type: 'string', enum: ['complex', 'statutory'], enumNames: [{ 'zh-CN': '疑难复杂', en: 'Complex' }, { 'zh-CN': '法定', en: 'Statutory' }] } },
        date: { type: 'string', format: 'date', title: '日期' },
      },
    }
    const fields = sections(s, {}, 'en')[0]!.fields
    expect(fields.map((f) => f.widget)).toEqual(['switch', 'multiselect', 'date'])
    expect(fields[1]!.options).toEqual([{ value: 'complex', label: 'Complex' }, { value: 'statutory', label: 'Statutory' }])
    expect(validate(s, {}, { grounds: [] }, 'zh-CN').grounds).toBe('请填写情形')
    expect(validate(s, {}, { grounds: ['other'] }, 'zh-CN').grounds).toBe('请从列表中选择情形')
    expect(validate(s, {}, { grounds: ['complex'] }, 'zh-CN')).toEqual({})
  })
})
