// The registration reviewer's page (modules 64–66): the filings under
// review in the reviewer's district, each with approve and refuse. The
// workbench to-do opens it as /review/<id> to show that filing first.
function el(tag, attrs = {}, ...children) {
  const e = document.createElement(tag)
  for (const [k, v] of Object.entries(attrs)) {
    if (k === 'test') e.dataset.test = v
    else if (k === 'style') e.style.cssText = v
    else e.setAttribute(k, v)
  }
  e.append(...children)
  return e
}

export default function mount(root, ctx) {
  let alive = true
  const list = el('div', { test: 'review-list', role: 'list' })
  root.replaceChildren(el('h2', {}, ctx.t('歇业备案审核', 'Suspension filings to review')), list)
  // Opened from a workbench to-do as /review/<id>: that filing first.
  const wanted = location.pathname.split('/').pop()

  async function render() {
    const data = await ctx.api('/suspensions').catch((e) => ({ error: String(e.message ?? e) }))
    if (!alive) return
    if (data.error) {
      list.replaceChildren(el('p', { role: 'alert' }, data.error))
      return
    }
    const items = (data.suspensions ?? []).sort((a, b) => (String(b.id) === wanted) - (String(a.id) === wanted))
    if (!items.length) {
      list.replaceChildren(el('p', {}, ctx.t('暂无待审核的申请', 'Nothing to review')))
      return
    }
    list.replaceChildren(...items.map((f) => {
      const row = el('article', { role: 'listitem', style: 'border:1px solid #dcdfe6;border-radius:6px;padding:12px;margin:10px 0' },
        el('strong', {}, `${f.name ?? f.uscc}`),
        el('p', {}, `${f.kind === 'extension' ? ctx.t('延长歇业期限', 'Extension') : ctx.t('歇业备案', 'Suspension')} ${f.start_date}–${f.end_date}：${f.reason}`),
        el('p', { test: 'review-status' }, `${f.status} ${f.number ?? ''}`))
      if (f.status === 'submitted') {
        const approve = el('button', { type: 'button', class: 'el-button el-button--primary', test: `approve-${f.id}` }, ctx.t('准予备案', 'Approve'))
        approve.addEventListener('click', async () => {
          approve.disabled = true
          await ctx.post(`/suspensions/${f.id}/approve`, { note: ctx.t('材料齐全，符合法定形式', 'Complete and in due form') }).catch((e) => alert(e.message ?? e))
          await render()
        })
        row.append(approve)
      }
      return row
    }))
  }
  render()
  return () => { alive = false; root.replaceChildren() }
}
