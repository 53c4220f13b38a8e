// The signer's page in the portal (module 53): a person named on an
// enterprise's application — its agent, legal representative, a director … —
// signs in through 随申办 as themselves, reads the generated materials and
// signs them. The plugin recognises the person by the host's pseudonym of
// their identity number; the number itself is never sent to the plugin.
import { el } from './dom.js'

export default function mount(root, ctx) {
  let alive = true
  const list = el('div', { test: 'signatures', role: 'list' })
  const message = el('p', { role: 'status', 'aria-live': 'polite', test: 'signature-status' })
  root.replaceChildren(el('h2', {}, ctx.t('待我签名', 'Awaiting my signature')), list, message)

  async function render() {
    const [data, est] = await Promise.all([
      ctx.api('/signatures').catch((e) => ({ error: String(e.message ?? e) })),
      ctx.api('/establishments/mine').catch(() => ({ establishments: [] })),
    ])
    if (!alive) return
    if (data.error) {
      list.replaceChildren(el('p', { role: 'alert' }, data.error))
      return
    }
    const items = data.signatures ?? []
    // Establishment applications to sign are signed on their own page.
    const establishments = (est.establishments ?? []).filter((e) => e.to_sign).map((e) =>
      el('p', { role: 'listitem' }, el('a', { href: '/portal/plugins/registration/establish' }, ctx.t(`公司设立登记：${e.name}（去签名）`, `Establishment: ${e.name} (sign)`))))
    if (!items.length && !establishments.length) {
      list.replaceChildren(el('p', {}, ctx.t('暂无需要您签名的申请', 'Nothing for you to sign')))
      return
    }
    list.replaceChildren(...establishments, ...items.map((s) => {
      const f = s.filing
      const card = el('article', { role: 'listitem', style: 'border:1px solid #dcdfe6;border-radius:6px;padding:12px;margin:10px 0' },
        el('strong', {}, `${f.name}：${f.kind === 'extension' ? ctx.t('延长歇业期限', 'Suspension extension') : ctx.t('歇业备案', 'Suspension filing')}`),
        el('p', {}, ctx.t(`您的签署身份：${s.roles.join('、')}`, `You sign as: ${s.roles.join(', ')}`)),
        ...s.materials.map((m) => el('details', { style: 'margin:6px 0' }, el('summary', {}, ctx.t(m.title, m.title_en)),
          ...m.lines.map((l) => el('p', { style: 'margin:4px 0 4px 12px' }, l)))))
      if (s.signed) {
        card.append(el('p', { test: `signed-${f.id}` }, ctx.t('您已签名', 'You have signed')))
      } else {
        const sign = el('button', { type: 'button', class: 'el-button el-button--primary', test: `sign-${f.id}` },
          ctx.t('我已阅读以上材料，确认签名', 'I have read the materials and sign them'))
        sign.addEventListener('click', async () => {
          sign.disabled = true
          message.textContent = ctx.t('正在签名…', 'Signing…')
          try {
            await ctx.post(`/signatures/${f.id}/sign`, { digest: f.digest })
            message.textContent = ''
            await render()
          } catch (err) {
            message.textContent = String(err.message ?? err)
            sign.disabled = false
          }
        })
        card.append(sign)
      }
      return card
    }))
  }
  render()
  return () => { alive = false; root.replaceChildren() }
}
