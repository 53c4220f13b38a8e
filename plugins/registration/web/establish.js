// A person's page for establishing a company (设立登记, cluster A's
// workflow): the form — name, domicile, scope, company type and governance,
// legal representative, main members, shareholders with instalments — the
// New Company Law checks' messages next to what they concern, and the
// applications the person made or must sign, with what they can do next:
// sign the generated form, submit, correct a returned one. Mounted by the
// portal shell from this plugin's bundle (docs/ui.md).
import { el, button, submitter } from './dom.js'

const statusText = {
  pending_signatures: ['待签名', 'Awaiting signatures'], pending_prereview: ['待预审', 'Awaiting pre-review'],
  pending_review: ['待审核', 'Under review'], returned: ['退回修改', 'Returned for changes'], ended: ['已结束办理', 'Ended'],
  approved: ['已核准设立', 'Established'],
}
const wide = 'width:100%;box-sizing:border-box'
const box = 'border:1px solid #dcdfe6;border-radius:6px;padding:12px;margin:10px 0'

export default function mount(root, ctx) {
  const t = (pair) => ctx.t(pair[0], pair[1])
  let alive = true
  const fieldset = (...children) => el('fieldset', { style: 'min-width:0;max-width:100%;box-sizing:border-box' }, ...children)
  const message = el('div', { role: 'status', 'aria-live': 'polite', test: 'establish-message' })
  const mine = el('div', { test: 'establishments' })
  const form = el('div', { style: box })
  root.replaceChildren(el('h2', {}, ctx.t('公司设立登记', 'Establish a company')), mine,
    el('h3', {}, ctx.t('新的设立申请', 'A new application')), form, message)

  const field = (label, input) => el('label', { style: 'display:block;margin:8px 0' }, el('span', { style: 'display:block' }, label), input)
  const input = (name, type = 'text', value = '') => el('input', { type, name, value, style: type === 'text' ? wide : 'max-width:100%' })

  // Rows the applicant can add: members and shareholders' instalments.
  function rows(title, make, test) {
    const list = el('div', { test })
    const add = button(ctx.t(`添加${title[0]}`, `Add ${title[1]}`), `add-${test}`)
    add.addEventListener('click', () => list.append(make()))
    list.append(make())
    return { node: fieldset(el('legend', {}, t(title)), list, add), list }
  }
  const person = (prefix) => el('div', { style: 'display:flex;gap:6px;flex-wrap:wrap' },
    el('input', { name: `${prefix}name`, placeholder: ctx.t('姓名', 'Name'), 'aria-label': ctx.t('姓名', 'Name') }),
    el('input', { name: `${prefix}id`, placeholder: ctx.t('身份证号码', 'Identity number'), 'aria-label': ctx.t('身份证号码', 'Identity number') }))
  const positions = [['director', ['董事', 'Director']], ['chairman', ['董事长', 'Chairman']], ['supervisor', ['监事', 'Supervisor']],
    ['supervisor_chair', ['监事会主席', 'Chair of supervisors']], ['manager', ['经理', 'Manager']]]
  const memberRow = () => el('div', { class: 'member', style: 'margin:6px 0' }, person('m.'),
    el('select', { name: 'm.position', 'aria-label': ctx.t('职务', 'Position') }, ...positions.map(([v, l]) => el('option', { value: v }, t(l)))))
  const instalmentRow = () => el('div', { class: 'instalment', style: 'display:flex;flex-wrap:wrap;gap:6px;margin:4px 0' },
    el('input', { name: 'i.amount', type: 'number', min: '0', style: 'min-width:0;flex:1 1 8em', placeholder: ctx.t('金额（万元）', 'Amount (10k yuan)'), 'aria-label': ctx.t('出资金额（万元）', 'Amount (10k yuan)') }),
    el('input', { name: 'i.due', type: 'date', style: 'min-width:0;flex:1 1 9em', 'aria-label': ctx.t('出资时间', 'Due') }))

  function buildForm() {
    const name = input('name')
    const district = el('select', { name: 'district' }, ...['浦东新区', '黄浦区', '徐汇区', '长宁区', '静安区', '普陀区', '虹口区', '杨浦区', '闵行区',
      '宝山区', '嘉定区', '金山区', '松江区', '青浦区', '奉贤区', '崇明区'].map((d) => el('option', { value: d }, d)))
    const address = input('address')
    const scope = el('textarea', { name: 'scope', rows: '2', style: wide })
    const capital = input('capital', 'number')
    const type = el('select', { name: 'type' }, el('option', { value: 'llc' }, ctx.t('有限责任公司', 'Limited liability company')),
      el('option', { value: 'jsc' }, ctx.t('股份有限公司', 'Joint-stock company')))
    const board = el('select', { name: 'board' }, el('option', { value: 'no' }, ctx.t('不设董事会（一名董事）', 'No board (one director)')),
      el('option', { value: 'yes' }, ctx.t('设董事会', 'A board of directors')))
    const supervision = el('select', { name: 'supervision' }, el('option', { value: 'single_supervisor' }, ctx.t('设一名监事', 'One supervisor')),
      el('option', { value: 'supervisory_board' }, ctx.t('设监事会', 'A supervisory board')),
      el('option', { value: 'audit_committee' }, ctx.t('董事会审计委员会', 'The board’s audit committee')),
      el('option', { value: 'no_supervisor' }, ctx.t('不设监事（全体股东一致同意）', 'No supervisor (all shareholders agree)')))
    const rep = person('rep.')
    const repPosition = el('select', { name: 'rep.position' }, ...positions.filter(([v]) => ['director', 'chairman', 'manager'].includes(v))
      .map(([v, l]) => el('option', { value: v }, t(l))))
    const members = rows(['主要成员', 'a main member'], memberRow, 'members')
    const shareholder = person('sh.')
    const subscribed = input('sh.subscribed', 'number')
    const instalments = rows(['分期出资', 'an instalment'], instalmentRow, 'instalments')
    const submit = button(ctx.t('提交设立申请', 'Apply'), 'apply', true)
    const wan = (v) => Math.round(Number(v) * 1_000_000) // 万元 → fen
    submit.addEventListener('click', () => act(submit, async () => {
      const val = (root2, n) => root2.querySelector(`[name="${n}"]`).value.trim()
      const company = {
        type: type.value, registeredCapitalFen: wan(capital.value), supervision: supervision.value,
        board: board.value === 'yes' ? {} : null,
        legalRep: { name: val(rep, 'rep.name'), idType: 'resident_id', idNumber: val(rep, 'rep.id'), position: repPosition.value, appointedBy: repPosition.value === 'manager' ? 'hired' : 'elected' },
        members: [...members.list.querySelectorAll('.member')].map((m) => ({
          name: val(m, 'm.name'), idType: 'resident_id', idNumber: val(m, 'm.id'), positions: [val(m, 'm.position')],
        })),
        shareholders: [{
          name: val(shareholder, 'sh.name'), idType: 'resident_id', idNumber: val(shareholder, 'sh.id'), kind: 'natural_person',
          subscribedFen: wan(subscribed.value),
          instalments: [...instalments.list.querySelectorAll('.instalment')].map((i) => ({
            amountFen: wan(val(i, 'i.amount')), due: val(i, 'i.due') ? `${val(i, 'i.due')}T00:00:00+08:00` : '0001-01-01T00:00:00Z',
          })),
        }],
      }
      await ctx.post('/establishments', { name: name.value, district: district.value, address: address.value, scope: scope.value, company })
    }))
    form.replaceChildren(
      field(ctx.t('企业名称', 'Company name'), name), field(ctx.t('住所所在区', 'District'), district),
      field(ctx.t('住所', 'Domicile'), address), field(ctx.t('经营范围', 'Business scope'), scope),
      field(ctx.t('公司类型', 'Company type'), type), field(ctx.t('注册资本（万元）', 'Registered capital (10k yuan)'), capital),
      field(ctx.t('董事会', 'Board'), board), field(ctx.t('监督机构', 'Supervision'), supervision),
      fieldset(el('legend', {}, ctx.t('法定代表人', 'Legal representative')), rep, repPosition),
      members.node,
      fieldset(el('legend', {}, ctx.t('股东（自然人）', 'Shareholder (natural person)')), shareholder,
        field(ctx.t('认缴出资额（万元）', 'Subscribed (10k yuan)'), subscribed), instalments.node),
      submit)
  }

  // act runs an action with progress, shows the rules' messages on failure.
  // The New Company Law checks' messages are listed under the error.
  const act = submitter(ctx, message, render, (err) => {
    const details = err.details ?? err.body?.details ?? []
    return [el('p', { role: 'alert' }, String(err.message ?? err)),
      ...(Array.isArray(details) ? details : []).map((v) => el('p', { style: 'color:#c0392b' },
        `${v.rule ?? ''} ${v.field ?? ''}：${v.message?.[ctx.t('zh-CN', 'en')] ?? v.message ?? ''}`))]
  })

  async function render() {
    const data = await ctx.api('/establishments/mine').catch((e) => ({ error: String(e.message ?? e) }))
    if (!alive) return
    if (data.error) {
      mine.replaceChildren(el('p', { role: 'alert' }, data.error))
      return
    }
    const items = data.establishments ?? []
    mine.replaceChildren(...items.map((e) => {
      const card = el('article', { style: box, test: `establishment-${e.id}` },
        el('strong', {}, e.name), el('p', { test: 'establishment-status' }, t(statusText[e.status] ?? [e.status, e.status]) + (e.uscc ? `　${e.uscc}` : '')),
        ...(e.opinions ?? []).filter((o) => o.decision === 'return').map((o) => el('p', { style: 'color:#b45309' }, ctx.t(`退回意见：${o.note}`, `Returned: ${o.note}`))),
        ...(e.materials ?? []).map((m) => el('details', {}, el('summary', {}, ctx.t(m.title, m.title_en)), ...m.lines.map((l) => el('p', { style: 'margin:4px 12px' }, l)))))
      if (e.missing_signatures?.length) card.append(el('p', {}, ctx.t('尚未签名：', 'Still to sign: ') + e.missing_signatures.join('、')))
      if (e.to_sign) {
        const sign = button(ctx.t('我已阅读申请书，确认签名', 'I have read the application and sign it'), `sign-establishment-${e.id}`)
        sign.addEventListener('click', () => act(sign, () => ctx.post(`/establishments/${e.id}/sign`, { digest: e.digest })))
        card.append(sign)
      }
      if (e.status === 'pending_signatures') {
        const submit = button(ctx.t('提交预审', 'Submit for pre-review'), `submit-establishment-${e.id}`, true)
        submit.addEventListener('click', () => act(submit, () => ctx.post(`/establishments/${e.id}/submit`)))
        card.append(submit)
      }
      return card
    }))
  }
  buildForm()
  render()
  return () => { alive = false; root.replaceChildren() }
}
