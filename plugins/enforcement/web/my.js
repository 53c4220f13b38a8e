// The enterprise's own penalty cases (C9): the notices and documents it has
// received, the online receipt of a notice, 陈述申辩 or a hearing request
// inside the window (and the hearing's time and place once arranged), the
// payment due date and the decision's publication day, asking to pay later
// or in instalments, and paying the fine (or the next instalment). Mounted by the portal shell from this plugin's bundle
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
  hearing_notice: ['行政处罚听证告知书', 'Notice of the right to a hearing'],
  hearing_arrangement: ['行政处罚听证通知书', 'Notice of hearing'],
  demand_notice: ['履行行政处罚决定催告书', 'Demand to perform the decision'],
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
      for (const s of c.statements ?? []) {
        box.append(el('blockquote', {}, `${date(s.filed_at)} ${s.kind === 'hearing' ? ctx.t('【听证申请】', '[Hearing request] ') : ''}${s.body}`))
      }
      const area = el('textarea', { rows: '4', style: 'width:100%;box-sizing:border-box', 'aria-label': ctx.t('陈述申辩意见', 'Statement') })
      const file = (kind) => async () => {
        try {
          await ctx.post(`/my/cases/${c.id}/statement`, { kind, body: area.value })
          await render()
        } catch (e) {
          fail(e)
        }
      }
      box.append(area, button(ctx.t('提交陈述申辩', 'File the statement'), 'statement', file('statement')))
      // 行政处罚法 第六十三条: only when the notice announced the right.
      if (c.hearing?.right && !c.hearing.requested) {
        box.append(' ', button(ctx.t('申请听证', 'Request a hearing'), 'hearing-request', file('hearing')))
      }
    }
    if (c.hearing?.date) {
      box.append(el('p', { test: 'hearing' }, ctx.t(
        `听证：${c.hearing.date}，${c.hearing.place}，主持人${c.hearing.presiding}${c.hearing.public ? '（公开举行）' : ''}${c.hearing.held ? '，已举行' : ''}`,
        `Hearing: ${c.hearing.date}, ${c.hearing.place}, presided over by ${c.hearing.presiding}${c.hearing.public ? ' (public)' : ''}${c.hearing.held ? ', held' : ''}`)))
    }
    if (c.publication) {
      box.append(el('p', {}, ctx.t(`处罚决定公示日期：${c.publication}`, `The decision is published on ${c.publication}`)))
    }
    if (c.payment_due && !c.paid_fen) {
      box.append(el('p', { test: 'payment-due' }, ctx.t(`缴纳期限：${c.payment_due}`, `Payment due by ${c.payment_due}`)))
    }
    const plan = c.payment_plan
    if (plan) {
      const kind = plan.type === 'instalments' ? ctx.t('分期缴纳', 'Instalments') : ctx.t('暂缓缴纳', 'Deferral')
      const state = { pending: ['审批中', 'awaiting approval'], approved: ['已批准', 'approved'], refused: ['未批准', 'refused'] }[plan.status] ?? [plan.status, plan.status]
      box.append(el('p', { test: 'payment-plan' }, `${kind}：${t(state)}${plan.note ? '（' + plan.note + '）' : ''}`),
        ...(plan.instalments ?? []).map((i, k) => el('p', { style: 'margin:2px 0 2px 12px' },
          ctx.t(`第${k + 1}期 ¥${yuan(i.amount_fen)}，${i.due}前`, `Instalment ${k + 1}: ¥${yuan(i.amount_fen)} by ${i.due}`))))
    }
    if (c.status === 'delivered' && c.fine_fen && !c.paid_fen && (!plan || plan.status === 'refused')) {
      // 行政处罚法 第六十六条: in genuine economic difficulty, ask in writing.
      const reason = el('textarea', { rows: '2', style: 'width:100%;box-sizing:border-box', 'aria-label': ctx.t('经济困难的情况说明', 'Your economic difficulty') })
      const until = el('input', { type: 'date', 'aria-label': ctx.t('暂缓至', 'Defer until') })
      box.append(el('details', {}, el('summary', {}, ctx.t('申请暂缓缴纳', 'Ask to pay later')), reason, until,
        button(ctx.t('提交申请', 'Apply'), 'payment-plan', async () => {
          try {
            await ctx.post(`/my/cases/${c.id}/payment-plan`, { type: 'deferral', until: until.value, reason: reason.value })
            await render()
          } catch (e) {
            fail(e)
          }
        })))
    }
    if (c.paid_fen) {
      box.append(el('p', { test: 'paid' }, ctx.t(`已缴纳 ¥${yuan(c.paid_fen)}`, `Paid ¥${yuan(c.paid_fen)}`)))
    }
    if (c.status === 'delivered' && c.fine_fen && (c.paid_fen ?? 0) < c.fine_fen && plan?.status !== 'pending') {
      const label = (c.paid_fen ?? 0) > 0 ? ctx.t('缴纳下一期', 'Pay the next instalment') : ctx.t(`缴纳罚款 ¥${yuan(c.fine_fen)}`, `Pay the fine ¥${yuan(c.fine_fen)}`)
      box.append(button(label, 'pay', async () => {
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
