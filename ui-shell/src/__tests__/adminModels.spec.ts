import { describe, expect, it } from 'vitest'
import { orgName, orgTree, type Org } from '../admin/orgTree'
import { groupPermissions, groupState, setGroup } from '../admin/permissions'

const orgs: Org[] = [
  { code: '310000', name: '上海市市场监督管理局', name_en: 'Shanghai AMR', kind: 'city', path: '/310000' },
  { code: '310115', name: '浦东新区市场监督管理局', kind: 'district', path: '/310000/310115', parent: '310000' },
  { code: '310115-S02', name: '张江市场监督管理所', kind: 'station', path: '/310000/310115/310115-S02', parent: '310115' },
  { code: '310101', name: '黄浦区市场监督管理局', name_en: 'Huangpu AMR', kind: 'district', path: '/310000/310101', parent: '310000' },
  { code: '320000-S01', name: '孤立单位', kind: 'station', path: '/320000/320000-S01', parent: '320000' },
]

describe('orgTree', () => {
  it('nests units under their parents, in list order', () => {
    const tree = orgTree(orgs, 'zh-CN')
    expect(tree.map((n) => n.code)).toEqual(['310000', '320000-S01'])
    expect(tree[0].children.map((n) => n.code)).toEqual(['310115', '310101'])
    expect(tree[0].children[0].children[0].label).toBe('张江市场监督管理所')
    expect(tree[0].children[0].children[0].org.kind).toBe('station')
  })
  it('names units in English where they have an English name', () => {
    const tree = orgTree(orgs, 'en')
    expect(tree[0].label).toBe('Shanghai AMR')
    expect(tree[0].children[0].label).toBe('浦东新区市场监督管理局')
    expect(orgName(orgs[3], 'zh-CN')).toBe('黄浦区市场监督管理局')
  })
})

describe('permission groups', () => {
  const keys = ['notice.read', 'enforcement.case.read', 'workbench.use', 'enforcement.case.approve', 'notice.write', 'notice.read', 'solo']
  it('groups by the first segment, sorted, without duplicates', () => {
    expect(groupPermissions(keys)).toEqual([
      { prefix: 'enforcement', keys: ['enforcement.case.approve', 'enforcement.case.read'] },
      { prefix: 'notice', keys: ['notice.read', 'notice.write'] },
      { prefix: 'solo', keys: ['solo'] },
      { prefix: 'workbench', keys: ['workbench.use'] },
    ])
  })
  it('selects and clears a whole group', () => {
    const group = ['notice.read', 'notice.write']
    expect(setGroup(['workbench.use', 'notice.read'], group, true)).toEqual(['notice.read', 'notice.write', 'workbench.use'])
    expect(setGroup(['workbench.use', 'notice.read'], group, false)).toEqual(['workbench.use'])
    expect(groupState(['notice.read'], group)).toBe('some')
    expect(groupState(['notice.read', 'notice.write'], group)).toBe('all')
    expect(groupState([], group)).toBe('none')
  })
})
