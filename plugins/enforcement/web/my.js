// The enterprise's own penalty cases (C9): the notices and documents it has
// received, the online receipt of a notice, 陈述申辩 inside the window, and
// paying the fine. Mounted by the portal shell from this plugin's bundle
// (docs/ui.md: export default mount(element, context) → unmount).
const statusText = {
  notified: ['已告知，待陈述申辩', 'Notified; statement window'],
  decided: ['已作出处罚决定', 'Decided'],
  delivered: ['处罚决定已送达', 'Decision delivered'],
  archived: ['已结案归档', 'Closed and archived'],
}
const docText = {
  case_filing_approval: ['立案审批表', 'Case filing approval'],
  penalty_notice: ['行政处罚告知书', 'Notice of intended penalty'],
  penalty_decision: ['行政处罚决定书', 'Penalty decision'],
  service_receipt: ['送达回证', 'Proof of service'],
}

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
  const t = (pair) => ctx.t(pair[0], pair[1])
  const date = (s) => (s ? new Date(s).toLocaleDateString(ctx.lang) : '')
  const yuan = (fen) => (fen / 100).toLocaleString(ctx.lang, { minimumFractionDigits: 2 })
  let alive = true
  const list = el('div', { test: 'my-cases', role: 'list' })
  root.replaceChildren(el('h2', {}, ctx.t('我的行政处罚案件', 'My penalty cases')), list)

  const button = (label, test, onClick) => {
    const b = el('button', { class: 'el-button el-button--primary', test, type: 'button' }, label)
    b.addEventListener('click', async () => {
      b.disabled = true
      try {
        await onClick()
      } finally {
        b.disabled = false
      }
    })
    return b
  }

  async function render() {
    let data
    try {
      data = await ctx.api('/my/cases')
    } catch (e) {
      list.replaceChildren(el('p', { role: 'alert' }, String(e.message ?? e)))
      return
    }
    if (!alive) return
    const cases = data.cases ?? []
    if (!cases.length) {
      list.replaceChildren(el('p', {}, ctx.t('暂无案件', 'No cases')))
      return
    }
    list.replaceChildren(...cases.map(card))
  }

  function card(c) {
    const box = el('article', { role: 'listitem', style: 'border:1px solid #dcdfe6;border-radius:6px;padding:12px;margin:12px 0' })
    const message = el('p', { role: 'status', test: 'case-message' })
    box.append(
      el('h3', { style: 'margin:0 0 6px' }, `${c.number} ${c.cause}`),
      el('p', { style: 'margin:0 0 6px;color:#606266' }, t(statusText[c.status] ?? [c.status, c.status])),
      el('ul', {}, ...(c.documents ?? []).filter((d) => d.type !== 'case_filing_approval')
        .map((d) => el('li', {}, `${t(docText[d.type] ?? [d.type, d.type])} ${d.number ?? ''}`))),
    )
    const fail = (e) => { message.textContent = String(e.message ?? e) }
    if (c.status === 'notified' && !c.notice_received_at) {
      box.append(button(ctx.t('确认收到告知书', 'Confirm receipt of the notice'), 'receipt',
        () => ctx.post(`/my/cases/${c.id}/receipt`).then(render, fail)))
    }
    if (c.status === 'notified' && c.notice_received_at) {
      if (c.statement_due) {
        box.append(el('p', {}, ctx.t(`陈述申辩截止：${date(c.statement_due)}`, `Statement due by ${date(c.statement_due)}`)))
      }
      for (const s of c.statements ?? []) box.append(el('blockquote', {}, `${date(s.filed_at)} ${s.body}`))
      const area = el('textarea', { rows: '4', style: 'width:100%;box-sizing:border-box', 'aria-label': ctx.t('陈述申辩意见', 'Statement') })
      box.append(area, button(ctx.t('提交陈述申辩', 'File the statement'), 'statement', async () => {
        try {
          await ctx.post(`/my/cases/${c.id}/statement`, { kind: 'statement', body: area.value })
          await render()
        } catch (e) {
          fail(e)
        }
      }))
    }
    if (c.paid_fen) {
      box.append(el('p', { test: 'paid' }, ctx.t(`已缴纳 ¥${yuan(c.paid_fen)}`, `Paid ¥${yuan(c.paid_fen)}`)))
    } else if (c.status === 'delivered' && c.fine_fen) {
      box.append(button(ctx.t(`缴纳罚款 ¥${yuan(c.fine_fen)}`, `Pay the fine ¥${yuan(c.fine_fen)}`), 'pay', async () => {
        try {
          const order = await ctx.post(`/my/cases/${c.id}/pay`)
          message.textContent = ctx.t(`支付订单 ${order.order_no}，金额 ¥${yuan(order.amount_fen)}，请在15分钟内完成支付`,
            `Order ${order.order_no}, ¥${yuan(order.amount_fen)}: pay within 15 minutes`)
          box.append(button(ctx.t('模拟支付（沙箱）', 'Pay in the sandbox'), 'sandbox-pay', async () => {
            await ctx.post(`/my/cases/${c.id}/sandbox-pay`).catch(fail)
            setTimeout(render, 1000)
          }))
        } catch (e) {
          fail(e)
        }
      }))
    }
    box.append(message)
    return box
  }

  render()
  return () => { alive = false; root.replaceChildren() }
}
