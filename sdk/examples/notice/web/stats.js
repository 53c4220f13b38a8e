// A page the entity schemas cannot express: notices per organisation, as
// bars. The shell loads this ES module from the plugin's bundle when the menu
// entry is opened, so a plugin upgrade changes the page without rebuilding
// the shell. The contract (docs/ui.md): export default mount(element, context),
// returning a function that unmounts.
export default function mount(el, ctx) {
  const title = document.createElement('h2')
  title.textContent = ctx.t('各单位公告数量', 'Notices per organisation')
  const box = document.createElement('div')
  box.setAttribute('role', 'list')
  box.dataset.test = 'notice-stats'
  el.append(title, box)
  let alive = true
  ctx.api('/notices').then((data) => {
    if (!alive) return
    const counts = {}
    for (const n of data.notices ?? []) counts[n.org_code] = (counts[n.org_code] ?? 0) + 1
    const max = Math.max(1, ...Object.values(counts))
    for (const [org, n] of Object.entries(counts).sort((a, b) => b[1] - a[1])) {
      const row = document.createElement('div')
      row.setAttribute('role', 'listitem')
      row.style.cssText = 'display:flex;align-items:center;gap:8px;margin:6px 0'
      const label = document.createElement('span')
      label.style.cssText = 'width:120px'
      label.textContent = org
      const bar = document.createElement('span')
      bar.style.cssText = `display:inline-block;height:14px;background:#1f4e9c;width:${Math.round((n / max) * 300)}px`
      const value = document.createElement('strong')
      value.textContent = String(n)
      row.append(label, bar, value)
      box.append(row)
    }
    if (!box.childElementCount) box.textContent = ctx.t('暂无公告', 'No notices yet')
  }).catch((e) => { box.textContent = String(e.message ?? e) })
  return () => { alive = false; el.replaceChildren() }
}
