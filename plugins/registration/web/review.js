// The registration reviewer's page (modules 63–66, 70): the suspension
// applications in the reviewer's district by stage and mode, each with what
// its stage allows — pre-review (pass naming who must e-sign, or return with
// overall and per-material comments), receipt of the paper materials for an
// offline one, review (approve or return), archive — and the statistics. The
// workbench to-do opens it as /review/<id> to show that application first.
import { el, button, submitter } from './dom.js'

const statusText = {
  pending_prereview: ['待预审', 'Pre-review'], returned: ['退回修改', 'Returned'], ended: ['已结束办理', 'Ended'],
  pending_signatures: ['待签名', 'Awaiting signatures'], pending_materials: ['待窗口提交材料', 'Awaiting paper materials'],
  pending_review: ['待审核', 'Review'], approved: ['已核准', 'Approved'], rejected: ['不予备案', 'Refused'],
}
const roleText = {
  agent: ['委托代理人', 'Agent'], legal_rep: ['法定代表人', 'Legal representative'], shareholder: ['股东（投资人）', 'Shareholder'],
  partner: ['执行事务合伙人', 'Executive partner'], appointed_rep: ['委派代表', 'Appointed representative'], director: ['董事', 'Director'],
  supervisor: ['监事', 'Supervisor'], manager: ['经理', 'Manager'], senior_manager: ['其他高级管理人员', 'Other senior manager'],
}
const filters = [
  ['', ['全部', 'All']], ['mode=online', ['歇业（全程电子化登记）', 'Fully electronic']], ['mode=offline', ['歇业（预审后窗口提交）', 'Window after pre-review']],
  ['status=pending_prereview', ['待预审', 'Pre-review']], ['status=pending_review', ['待审核', 'Review']],
]

export default function mount(root, ctx) {
  const t = (pair) => ctx.t(pair[0], pair[1])
  let alive = true
  let filter = ''
  const list = el('div', { test: 'review-list', role: 'list' })
  const stats = el('p', { test: 'review-stats' })
  const message = el('p', { role: 'status', 'aria-live': 'polite' })
  const tabs = el('div', { role: 'tablist' }, ...filters.map(([q, label]) => {
    const b = el('button', { type: 'button', class: 'el-button el-button--small', role: 'tab' }, t(label))
    b.addEventListener('click', () => { filter = q; render() })
    return b
  }))
  root.replaceChildren(el('h2', {}, ctx.t('歇业备案审核', 'Suspension filings')), tabs, stats, list, message)
  // Opened from a workbench to-do as /review/<id>: that application first.
  const wanted = location.pathname.split('/').pop()

  const act = submitter(ctx, message, render)

  function actions(f) {
    const note = el('textarea', { rows: '2', name: 'note', style: 'width:100%;box-sizing:border-box', 'aria-label': ctx.t('意见', 'Opinion') })
    const out = el('div', {})
    // Per-material comments, for a return (module 64).
    const comments = el('details', {}, el('summary', {}, ctx.t('对单项材料提出意见', 'Comment on a material')),
      ...(f.materials ?? []).map((m) => el('label', { style: 'display:block;margin:4px 0' }, ctx.t(m.title, m.title_en),
        el('input', { type: 'text', name: `material.${m.key}`, style: 'width:100%;box-sizing:border-box' }))))
    const materialComments = () => Object.fromEntries([...comments.querySelectorAll('input')].filter((i) => i.value).map((i) => [i.name.slice(9), i.value]))
    const sendBack = (stage) => {
      const b = button(ctx.t('退回修改', 'Return for changes'), `return-${f.id}`)
      b.addEventListener('click', () => act(b, () => ctx.post(stage === 'prereview' ? `/suspensions/${f.id}/prereview` : `/suspensions/${f.id}/return`,
        { decision: 'return', note: note.value, materials: materialComments() })))
      return b
    }
    if (f.status === 'pending_prereview') {
      const signers = el('fieldset', {}, el('legend', {}, ctx.t('需要电子签名的人员（企业电子印章必盖）', 'Who must e-sign (the e-seal is always required)')),
        ...[...new Set((f.persons ?? []).map((p) => p.role))].map((role) => el('label', { style: 'margin-right:12px' },
          el('input', { type: 'checkbox', name: 'signer', value: role, checked: '' }), ' ', t(roleText[role] ?? [role, role]))))
      const pass = button(ctx.t('预审通过', 'Pass'), `prereview-pass-${f.id}`, true)
      pass.addEventListener('click', () => act(pass, () => ctx.post(`/suspensions/${f.id}/prereview`, {
        decision: 'pass', note: note.value, signers: [...signers.querySelectorAll('input:checked')].map((i) => i.value),
      })))
      out.append(f.mode === 'online' ? signers : '', note, comments, pass, sendBack('prereview'))
    } else if (f.status === 'pending_materials') {
      const receive = button(ctx.t('窗口收件', 'Paper materials received'), `receive-${f.id}`, true)
      receive.addEventListener('click', () => act(receive, () => ctx.post(`/suspensions/${f.id}/receive`, { note: note.value })))
      out.append(note, receive)
    } else if (f.status === 'pending_review') {
      const approve = button(ctx.t('核准', 'Approve'), `approve-${f.id}`, true)
      approve.addEventListener('click', () => act(approve, () => ctx.post(`/suspensions/${f.id}/approve`, { note: note.value || ctx.t('材料齐全，符合法定形式', 'Complete and in due form') })))
      out.append(note, comments, approve, sendBack('review'))
    } else if (f.status === 'approved' && f.kind !== 'termination' && !f.archive) {
      const location = el('input', { type: 'text', name: 'location', placeholder: ctx.t('纸质档案存放位置', 'Where the paper file is kept') })
      const archive = button(f.mode === 'online' ? ctx.t('电子归档', 'Archive electronically') : ctx.t('纸质归档', 'Archive on paper'), `archive-${f.id}`)
      archive.addEventListener('click', () => act(archive, () => ctx.post(`/suspensions/${f.id}/archive`, { location: location.value })))
      out.append(f.mode === 'offline' ? location : '', archive)
    }
    return out
  }

  async function render() {
    const [data, st] = await Promise.all([
      ctx.api('/suspensions' + (filter ? `?${filter}` : '')).catch((e) => ({ error: String(e.message ?? e) })),
      ctx.api('/suspensions/stats').catch(() => ({ total: 0, rows: [] })),
    ])
    if (!alive) return
    stats.textContent = ctx.t(`本辖区共 ${st.total} 件：`, `${st.total} in your district: `) +
      st.rows.map((r) => `${t(statusText[r.status] ?? [r.status, r.status])} ${r.count}`).join('，')
    if (data.error) {
      list.replaceChildren(el('p', { role: 'alert' }, data.error))
      return
    }
    const items = (data.suspensions ?? []).sort((a, b) => (String(b.id) === wanted) - (String(a.id) === wanted))
    if (!items.length) {
      list.replaceChildren(el('p', {}, ctx.t('暂无申请', 'No applications')))
      return
    }
    // The details (persons, materials, departments) of each open application.
    const open = (f) => !['ended', 'rejected', 'returned'].includes(f.status) && !f.archive
    const full = await Promise.all(items.map((f) => (open(f) ? ctx.api(`/suspensions/${f.id}`).catch(() => f) : f)))
    if (!alive) return
    list.replaceChildren(...full.map((f) => el('article', { role: 'listitem', style: 'border:1px solid #dcdfe6;border-radius:6px;padding:12px;margin:10px 0' },
      el('strong', {}, `${f.name ?? f.uscc}`),
      el('p', {}, `${f.kind === 'extension' ? ctx.t('延长歇业期限', 'Extension') : f.kind === 'termination' ? ctx.t('终止歇业', 'Termination') : ctx.t('歇业备案', 'Suspension')}` +
        `（${f.mode === 'offline' ? ctx.t('线下提交', 'offline') : ctx.t('全程网办', 'online')}）${f.start_date}–${f.end_date}：${f.reason}`),
      el('p', { test: 'review-status' }, `${t(statusText[f.status] ?? [f.status, f.status])} ${f.number ?? ''} ${f.archive ?? ''}`),
      f.agent ? el('p', {}, ctx.t(`委托代理人：${f.agent.name}（${f.agent.id_number}，${f.agent.mobile}）`, `Agent: ${f.agent.name} (${f.agent.id_number}, ${f.agent.mobile})`)) : '',
      ...(f.departments ?? []).map((d) => el('p', {}, `${d.name}：${d.result}`)),
      actions(f))))
  }
  render()
  return () => { alive = false; root.replaceChildren() }
}
