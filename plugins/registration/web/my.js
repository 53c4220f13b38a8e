// The enterprise's registration page in the portal (cluster D, modules
// 40–50): its registered status, the suspension filing form, and the
// progress of its applications. Mounted by the portal shell from this
// plugin's bundle (docs/ui.md).
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

const kindText = { filing: ['歇业备案', 'Suspension'], extension: ['延长歇业期限', 'Extension'], termination: ['终止歇业', 'Termination'] }
const statusText = { submitted: ['审核中', 'Under review'], approved: ['已备案', 'Filed'], rejected: ['不予备案', 'Refused'] }

export default function mount(root, ctx) {
  const t = (pair) => ctx.t(pair[0], pair[1])
  let alive = true
  const body = el('div', { test: 'my-enterprise' })
  root.replaceChildren(el('h2', {}, ctx.t('我的企业：歇业备案', 'My enterprise: suspension')), body)

  const field = (label, input) => el('label', { style: 'display:block;margin:8px 0' }, el('span', { style: 'display:block' }, label), input)

  async function render() {
    let e
    try {
      e = await ctx.api('/my/enterprise')
    } catch (err) {
      body.replaceChildren(el('p', { role: 'alert' }, String(err.message ?? err)))
      return
    }
    if (!alive) return
    const message = el('p', { role: 'status', test: 'registration-message' })
    const parts = [
      el('p', {}, `${e.name}（${e.uscc}）`),
      el('p', { test: 'entity-status' }, ctx.t(`登记状态：${e.status}`, `Status: ${e.status}`)),
    ]
    const filings = e.filings ?? []
    if (filings.length) {
      parts.push(el('h3', {}, ctx.t('办理进度', 'Progress')), el('ul', { test: 'filings' }, ...filings.map((f) =>
        el('li', {}, `${t(kindText[f.kind] ?? [f.kind, f.kind])} ${f.start_date}–${f.end_date} ${t(statusText[f.status] ?? [f.status, f.status])} ${f.number ?? ''}`))))
    }
    if (e.status === '存续' || e.status === '在业') {
      const reason = el('textarea', { rows: '2', name: 'reason', style: 'width:100%;box-sizing:border-box' })
      const start = el('input', { type: 'date', name: 'start_date' })
      const end = el('input', { type: 'date', name: 'end_date' })
      const address = el('input', { type: 'text', name: 'service_address', style: 'width:100%;box-sizing:border-box' })
      const submit = el('button', { type: 'button', class: 'el-button el-button--primary', test: 'file-suspension' }, ctx.t('提交歇业备案', 'File the suspension'))
      submit.addEventListener('click', async () => {
        submit.disabled = true
        try {
          await ctx.post('/my/suspensions', { reason: reason.value, start_date: start.value, end_date: end.value, service_address: address.value })
          await render()
        } catch (err) {
          message.textContent = String(err.message ?? err)
        } finally {
          submit.disabled = false
        }
      })
      parts.push(el('h3', {}, ctx.t('歇业备案', 'File a suspension')),
        field(ctx.t('歇业原因', 'Reason'), reason), field(ctx.t('歇业起始日期', 'From'), start),
        field(ctx.t('歇业截止日期', 'Until'), end), field(ctx.t('法律文书送达地址', 'Address for service'), address), submit)
    }
    parts.push(message)
    body.replaceChildren(...parts)
  }
  render()
  return () => { alive = false; root.replaceChildren() }
}
