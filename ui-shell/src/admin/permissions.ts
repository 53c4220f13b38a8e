// Permissions in the role editor, grouped by their first segment
// (enforcement.case.read → enforcement) so that a plugin's come together.

export interface PermissionInfo { key: string; sources: string[]; administrator: boolean }

export interface PermissionGroup { prefix: string; keys: string[] }

// groupPermissions sorts the keys into groups, both in alphabetical order.
export function groupPermissions(keys: string[]): PermissionGroup[] {
  const groups = new Map<string, string[]>()
  for (const k of [...new Set(keys)].sort()) {
    const prefix = k.includes('.') ? k.slice(0, k.indexOf('.')) : k
    const g = groups.get(prefix)
    if (g) g.push(k)
    else groups.set(prefix, [k])
  }
  return [...groups.entries()].sort(([a], [b]) => a.localeCompare(b)).map(([prefix, keys]) => ({ prefix, keys }))
}

// setGroup adds (on) or removes every key of a group from the selection.
export function setGroup(selected: string[], group: string[], on: boolean): string[] {
  const s = new Set(selected)
  for (const k of group) {
    if (on) s.add(k)
    else s.delete(k)
  }
  return [...s].sort()
}

// groupState says whether none, some or all of a group's keys are selected.
export function groupState(selected: string[], group: string[]): 'none' | 'some' | 'all' {
  const n = group.filter((k) => selected.includes(k)).length
  return n === 0 ? 'none' : n === group.length ? 'all' : 'some'
}
