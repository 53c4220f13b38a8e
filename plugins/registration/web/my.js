// The enterprise's registration page in the portal (cluster D, modules
// 40–62): its registered status; the suspension filing form with the agent,
// the persons who may have to sign and the other departments' forms; and the
// progress of every application with what the enterprise can do next —
// correct and resubmit or end a returned one, read the generated materials,
// apply the e-seal and submit once everyone has signed, extend or terminate a
// suspension in force. Mounted by the portal shell from this plugin's bundle
// (docs/ui.md).
import { el, button, submitter } from './dom.js'

const kindText = { filing: ['歇业备案', 'Suspension'], extension: ['延长歇业期限', 'Extension'], termination: ['终止歇业', 'Termination'] }
const statusText = {
  pending_prereview: ['待预审', 'Awaiting pre-review'], returned: ['退回修改', 'Returned for changes'], ended: ['已结束办理', 'Ended'],
  pending_signatures: ['待签名', 'Awaiting signatures'], pending_materials: ['待窗口提交材料', 'Bring the paper materials'],
  pending_review: ['待审核', 'Under review'], approved: ['已核准', 'Approved'], rejected: ['不予备案', 'Refused'],
}
const modeText = { online: ['全程网办', 'Fully online'], offline: ['线下提交', 'Offline'] }
const box = 'border:1px solid #dcdfe6;border-radius:6px;padding:12px;margin:10px 0'
const wide = 'width:100%;box-sizing:border-box'

export default function mount(root, ctx) {
  const t = (pair) => ctx.t(pair[0], pair[1])
  let alive = true
  const body = el('div', { test: 'my-enterprise' })
  root.replaceChildren(el('h2', {}, ctx.t('我的企业：歇业备案', 'My enterprise: suspension')), body)
  const field = (label, input) => el('label', { style: 'display:block;margin:8px 0' }, el('span', { style: 'display:block' }, label), input)
  const message = el('p', { role: 'status', test: 'registration-message', 'aria-live': 'polite' })

  // act runs an action with the button disabled and a progress text, then redraws.
  const act = submitter(ctx, message, render)

  function materialsView(ms) {
    return el('div', { test: 'materials' }, ...ms.map((m) =>
      el('details', { style: 'margin:6px 0' }, el('summary', {}, ctx.t(m.title, m.title_en)),
        ...m.lines.map((l) => el('p', { style: 'margin:4px 0 4px 12px' }, l)))))
  }

  // The application form: a new filing, an extension, or a correction.
  function applicationForm(e, defs, opts) {
    const prev = opts.filing ?? {}
    const inputs = {}
    const input = (name, type = 'text', value = '') => (inputs[name] = el('input', { type, name, value, style: type === 'date' ? '' : wide }))
    const mode = el('select', { name: 'mode' }, el('option', { value: 'online' }, t(modeText.online)), el('option', { value: 'offline' }, t(modeText.offline)))
    mode.value = prev.mode ?? 'online'
    const reason = el('textarea', { rows: '2', name: 'reason', style: wide })
    reason.value = prev.reason ?? ''
    const parts = [field(ctx.t('提交方式', 'How to submit'), mode), field(ctx.t('歇业原因', 'Reason'), reason)]
    if (opts.kind !== 'extension') {
      parts.push(field(ctx.t('歇业起始日期', 'From'), input('start_date', 'date', prev.start_date ?? '')))
    }
    parts.push(field(opts.kind === 'extension' ? ctx.t('延长至', 'Extend until') : ctx.t('歇业截止日期', 'Until'), input('end_date', 'date', opts.kind === 'extension' ? '' : prev.end_date ?? '')),
      field(ctx.t('法律文书送达地址', 'Address for service'), input('service_address', 'text', prev.service_address ?? e.address ?? '')),
      el('h4', {}, ctx.t('委托代理人', 'Agent')),
      field(ctx.t('姓名', 'Name'), input('agent_name')), field(ctx.t('身份证号码', 'Identity number'), input('agent_id')),
      field(ctx.t('手机号码', 'Mobile'), input('agent_mobile', 'tel')),
      el('h4', {}, ctx.t('法定代表人（可能需要电子签名）', 'Legal representative (may have to e-sign)')),
      field(ctx.t('姓名', 'Name'), input('rep_name', 'text', e.legal_rep ?? '')), field(ctx.t('身份证号码', 'Identity number'), input('rep_id')))
    // One go (一口办理): the departments chosen and their forms (modules 43–46).
    const chosen = {}
    const deptBoxes = defs.departments.map((d) => {
      const fields = el('div', { style: 'display:none;padding-left:12px' }, ...d.fields.map((f) => {
        const i = f.kind === 'yesno'
          ? el('select', { name: `${d.code}.${f.key}` }, el('option', { value: '' }, '—'), el('option', { value: 'yes' }, ctx.t('是', 'Yes')), el('option', { value: 'no' }, ctx.t('否', 'No')))
          : el('input', { type: f.kind === 'count' ? 'number' : 'text', min: '0', name: `${d.code}.${f.key}`, style: wide })
        const prevValue = prev.departments?.find((x) => x.code === d.code)?.form?.[f.key]
        if (prevValue) i.value = prevValue
        return field(ctx.t(f.label, f.label_en) + (f.required ? ' *' : ''), i)
      }))
      const check = el('input', { type: 'checkbox', name: `dept.${d.code}` })
      check.addEventListener('change', () => { fields.style.display = check.checked ? 'block' : 'none' })
      if (prev.departments?.some((x) => x.code === d.code)) { check.checked = true; fields.style.display = 'block' }
      chosen[d.code] = { check, fields, def: d }
      return el('div', {}, el('label', {}, check, ' ', ctx.t(`同时办理${d.name}`, `Also file with ${d.name_en}`)), fields)
    })
    parts.push(el('h4', {}, ctx.t('一口办理：其他部门（可选）', 'Other departments in one go (optional)')), ...deptBoxes)
    const submit = button(opts.label, opts.test, true)
    submit.addEventListener('click', () => act(submit, async () => {
      const departments = {}
      for (const [code, c] of Object.entries(chosen)) {
        if (!c.check.checked) continue
        departments[code] = Object.fromEntries(c.def.fields.map((f) => [f.key, c.fields.querySelector(`[name="${code}.${f.key}"]`).value]))
      }
      const persons = inputs.rep_id.value ? [{ role: 'legal_rep', name: inputs.rep_name.value, id_number: inputs.rep_id.value }] : []
      await ctx.post(opts.path, {
        mode: mode.value, reason: reason.value, start_date: inputs.start_date?.value ?? '', end_date: inputs.end_date.value,
        service_address: inputs.service_address.value, persons, departments,
        agent: { name: inputs.agent_name.value, id_number: inputs.agent_id.value, mobile: inputs.agent_mobile.value },
      })
    }))
    parts.push(submit)
    return el('div', { style: box }, ...parts)
  }

  function filingView(e, f, defs) {
    const card = el('article', { style: box, test: `filing-${f.id}` },
      el('strong', {}, `${t(kindText[f.kind] ?? [f.kind, f.kind])}（${t(modeText[f.mode] ?? ['', ''])}）`),
      el('p', {}, `${f.start_date} – ${f.end_date}`),
      el('p', { test: 'filing-status' }, t(statusText[f.status] ?? [f.status, f.status]) + (f.number ? `　${f.number}` : '')))
    for (const o of f.opinions ?? []) {
      if (o.decision !== 'return') continue
      card.append(el('p', { role: 'note', style: 'color:#b45309' }, ctx.t(`退回意见：${o.note}`, `Returned: ${o.note}`)),
        ...Object.entries(o.materials ?? {}).map(([k, v]) => el('p', { style: 'color:#b45309;margin-left:12px' }, `${k}：${v}`)))
    }
    if (f.missing_signatures?.length) {
      card.append(el('p', { test: 'missing-signatures' }, ctx.t('尚未签名：', 'Still to sign: ') + f.missing_signatures.join('、')))
    }
    for (const d of f.departments ?? []) {
      card.append(el('p', { test: `dept-${d.code}` }, `${d.name}：${d.result}`))
    }
    const actions = el('div', {})
    const needMaterials = f.status === 'pending_signatures' || f.status === 'pending_materials'
    if (needMaterials) {
      const show = button(ctx.t('查看申请材料', 'Read the materials'), 'show-materials')
      show.addEventListener('click', async () => {
        const m = await ctx.api(`/my/suspensions/${f.id}/materials`).catch((err) => ({ error: err }))
        if (m.error) { message.textContent = String(m.error.message ?? m.error); return }
        show.replaceWith(materialsView(m.materials))
      })
      actions.append(show)
    }
    if (f.status === 'pending_signatures') {
      if (!f.sealed_at) {
        const seal = button(ctx.t('加盖企业电子印章', 'Apply the e-seal'), 'apply-seal')
        seal.addEventListener('click', () => act(seal, () => ctx.post(`/my/suspensions/${f.id}/seal`, { digest: f.digest })))
        actions.append(seal)
      }
      const submit = button(ctx.t('提交审核', 'Submit for review'), 'submit-review', true)
      submit.addEventListener('click', () => act(submit, () => ctx.post(`/my/suspensions/${f.id}/submit`)))
      actions.append(submit)
    }
    if (f.status === 'returned') {
      const end = button(ctx.t('结束办理', 'End handling'), 'end-handling')
      end.addEventListener('click', () => act(end, () => ctx.post(`/my/suspensions/${f.id}/end`)))
      actions.append(end)
      card.append(el('h4', {}, ctx.t('修改后重新提交', 'Correct and resubmit')),
        applicationForm(e, defs, { kind: f.kind, filing: f, path: `/my/suspensions/${f.id}/resubmit`, label: ctx.t('重新提交', 'Resubmit'), test: 'resubmit' }))
    }
    if (f.kind === 'filing' && f.status === 'approved' && e.status === '歇业') {
      const terminate = button(ctx.t('终止歇业（发布公告）', 'End the suspension (publish the notice)'), 'terminate')
      terminate.addEventListener('click', () => act(terminate, () => ctx.post(`/my/suspensions/${f.id}/terminate`)))
      actions.append(terminate)
      const extend = el('details', {}, el('summary', {}, ctx.t('延长歇业期限（期满前30日内）', 'Extend (in the 30 days before it ends)')),
        applicationForm(e, defs, { kind: 'extension', filing: f, path: `/my/suspensions/${f.id}/extend`, label: ctx.t('申请延长', 'Apply to extend'), test: 'extend' }))
      card.append(extend)
    }
    card.append(actions)
    return card
  }

  async function render() {
    let e, defs
    try {
      [e, defs] = await Promise.all([ctx.api('/my/enterprise'), ctx.api('/my/departments')])
    } catch (err) {
      body.replaceChildren(el('p', { role: 'alert' }, String(err.message ?? err)))
      return
    }
    if (!alive) return
    const parts = [
      el('p', {}, `${e.name}（${e.uscc}）`),
      el('p', { test: 'entity-status' }, ctx.t(`登记状态：${e.status}`, `Status: ${e.status}`)),
      el('details', {}, el('summary', {}, ctx.t('办理须知', 'Before you start')),
        el('p', {}, ctx.t('歇业期限累计不超过三年；全程网办需经预审，由预审指定的人员逐一电子签名并加盖企业电子印章后提交审核；线下提交需在预审通过后携带纸质材料到窗口办理。',
          'A suspension lasts three years at most. Online: after pre-review, each person named signs electronically and the enterprise applies its e-seal, then submits. Offline: after pre-review, bring the paper materials to the window.'))),
    ]
    const filings = e.filings ?? []
    if (filings.length) {
      parts.push(el('h3', {}, ctx.t('办理进度', 'Progress')), el('div', { test: 'filings' }, ...filings.map((f) => filingView(e, f, defs))))
    }
    if (e.status === '存续' || e.status === '在业') {
      parts.push(el('h3', {}, ctx.t('办理歇业备案', 'File a suspension')),
        applicationForm(e, defs, { kind: 'filing', path: '/my/suspensions', label: ctx.t('提交歇业备案', 'File the suspension'), test: 'file-suspension' }))
    }
    parts.push(message)
    body.replaceChildren(...parts)
  }
  render()
  return () => { alive = false; root.replaceChildren() }
}
