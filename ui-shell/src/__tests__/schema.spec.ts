import { describe, expect, it } from 'vitest'
import { rowsOf } from '../schema'
import { dateTime } from '../format'

describe('entity descriptors', () => {
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
