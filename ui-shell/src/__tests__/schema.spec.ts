import { describe, expect, it } from 'vitest'
import { fieldsOf, rowsOf } from '../schema'
import { dateTime } from '../format'

describe('entity descriptors', () => {
  const notice = {
    name: 'notice', title: { 'zh-CN': '公告' },
    schema: { required: ['title'], properties: { title: { type: 'string', maxLength: 100, title: '标题' }, body: { type: 'string', maxLength: 5000, title: '正文' } } },
  }
  it('turns a JSON Schema into form fields', () => {
    expect(fieldsOf(notice)).toEqual([
      { name: 'title', label: '标题', required: true, maxLength: 100, long: false },
      { name: 'body', label: '正文', required: false, maxLength: 5000, long: true },
    ])
  })
  it('finds the rows of a list answer', () => {
    expect(rowsOf({ notices: [{ id: 1 }] })).toEqual([{ id: 1 }])
    expect(rowsOf([{ id: 2 }])).toEqual([{ id: 2 }])
    expect(rowsOf({ total: 3 })).toEqual([])
    expect(rowsOf(null)).toEqual([])
  })
  it('shows times in Shanghai', () => {
    expect(dateTime('2026-02-13T16:00:00Z')).toBe('2026-02-14 00:00')
    expect(dateTime(undefined)).toBe('')
  })
})
