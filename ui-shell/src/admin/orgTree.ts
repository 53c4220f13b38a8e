// The organisation tree as the host lists it (GET /api/v1/admin/orgs: flat,
// ordered by path, each unit naming its parent) and as el-tree shows it.

export interface ChildKind { kind: string; suggested_code?: string }

export interface Org {
  code: string
  name: string
  name_en?: string
  kind: string
  path: string
  parent?: string
  division_code?: string
  // What may be created under the unit (with the next free code).
  may_add?: ChildKind[]
}

export interface OrgNode { code: string; label: string; org: Org; children: OrgNode[] }

// orgName is a unit's name in the language, Chinese when it has no English one.
export function orgName(o: Org, lang: string): string {
  return lang === 'en' && o.name_en ? o.name_en : o.name
}

// orgTree nests the flat list under the parents it names; a unit whose parent
// is missing from the list becomes a root.
export function orgTree(orgs: Org[], lang: string): OrgNode[] {
  const byCode = new Map<string, OrgNode>()
  const roots: OrgNode[] = []
  for (const o of orgs) byCode.set(o.code, { code: o.code, label: orgName(o, lang), org: o, children: [] })
  for (const o of orgs) {
    const n = byCode.get(o.code)!
    const p = o.parent ? byCode.get(o.parent) : undefined
    if (p) p.children.push(n)
    else roots.push(n)
  }
  return roots
}
