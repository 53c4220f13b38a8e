// The registration reviewer's page for establishment applications: the
// applications in the reviewer's district with the generated application
// form and who signed it, and what the stage allows — pre-review (pass or
// return) and review (approve, which registers the company, or return). The
// workbench to-do opens it as /establishment-review/<id>.
import { el, button, submitter } from './dom.js'

const statusText = {
  pending_signatures: ['待签名', 'Awaiting signatures'], pending_prereview: ['待预审', 'Pre-review'], pending_review: ['待审核', 'Review'],
  returned: ['退回修改', 'Returned'], ended: ['已结束办理', 'Ended'], approved: ['已核准设立', 'Established'],
}

export default function mount(root, ctx) {
  const t = (pair) => ctx.t(pair[0], pair[1])
  let alive = true
  const list = el('div', { test: 'establishment-list', role: 'list' })
  const message = el('p', { role: 'status', 'aria-live': 'polite' })
  root.replaceChildren(el('h2', {}, ctx.t('设立登记审核', 'Establishment applications')), list, message)
  const wanted = location.pathname.split('/').pop()

  const act = submitter(ctx, message, render)

  async function render() {
    const data = await ctx.api('/establishments').catch((e) => ({ error: String(e.message ?? e) }))
    if (!alive) return
    if (data.error) {
      list.replaceChildren(el('p', { role: 'alert' }, data.error))
      return
    }
    const items = (data.establishments ?? []).sort((a, b) => (String(b.id) === wanted) - (String(a.id) === wanted))
    if (!items.length) {
      list.replaceChildren(el('p', {}, ctx.t('暂无申请', 'No applications')))
      return
    }
    const open = (e) => e.status === 'pending_prereview' || e.status === 'pending_review'
    const full = await Promise.all(items.map((e) => (open(e) ? ctx.api(`/establishments/${e.id}`).catch(() => e) : e)))
    if (!alive) return
    list.replaceChildren(...full.map((e) => {
      const note = el('textarea', { rows: '2', name: 'note', style: 'width:100%;box-sizing:border-box', 'aria-label': ctx.t('意见', 'Opinion') })
      const card = el('article', { role: 'listitem', style: 'border:1px solid #dcdfe6;border-radius:6px;padding:12px;margin:10px 0' },
        el('strong', {}, e.name),
        el('p', { test: 'establishment-status' }, `${t(statusText[e.status] ?? [e.status, e.status])} ${e.uscc ?? ''}`),
        el('p', {}, ctx.t(`申请人：${e.applicant}`, `Applicant: ${e.applicant}`)),
        ...(e.materials ?? []).map((m) => el('details', {}, el('summary', {}, ctx.t(m.title, m.title_en)), ...m.lines.map((l) => el('p', { style: 'margin:4px 12px' }, l)))),
        el('p', {}, ctx.t('签名：', 'Signatures: ') + (e.signers ?? []).map((s) => `${s.role} ${s.name}${s.signed_at ? ' ✓' : ''}`).join('；')))
      if (e.status === 'pending_prereview') {
        const pass = button(ctx.t('预审通过', 'Pass'), `establishment-pass-${e.id}`, true)
        pass.addEventListener('click', () => act(pass, () => ctx.post(`/establishments/${e.id}/prereview`, { decision: 'pass', note: note.value })))
        const back = button(ctx.t('退回修改', 'Return for changes'), `establishment-return-${e.id}`)
        back.addEventListener('click', () => act(back, () => ctx.post(`/establishments/${e.id}/prereview`, { decision: 'return', note: note.value })))
        card.append(note, pass, back)
      } else if (e.status === 'pending_review') {
        const approve = button(ctx.t('核准设立', 'Approve'), `establishment-approve-${e.id}`, true)
        approve.addEventListener('click', () => act(approve, () => ctx.post(`/establishments/${e.id}/approve`, { note: note.value })))
        const back = button(ctx.t('退回修改', 'Return for changes'), `establishment-return-${e.id}`)
        back.addEventListener('click', () => act(back, () => ctx.post(`/establishments/${e.id}/return`, { note: note.value })))
        card.append(note, approve, back)
      }
      return card
    }))
  }
  render()
  return () => { alive = false; root.replaceChildren() }
}
