// What this plugin's pages share: building elements, buttons, and running an
// action with its progress shown. Imported relatively ('./dom.js'), so the
// shell loads it from the same bundle version as the page
// (/plugin-assets/registration/<version>/dom.js).
export function el(tag, attrs = {}, ...children) {
  const e = document.createElement(tag)
  for (const [k, v] of Object.entries(attrs)) {
    if (k === 'test') e.dataset.test = v
    else if (k === 'style') e.style.cssText = v
    else e.setAttribute(k, v)
  }
  e.append(...children)
  return e
}

export const button = (label, test, primary = false) =>
  el('button', { type: 'button', class: primary ? 'el-button el-button--primary' : 'el-button', test, style: 'margin:4px 8px 4px 0' }, label)

// submitter returns act(btn, fn): btn is disabled and message says
// "submitting" while fn runs, then the page renders again. A failure is
// shown in message — as show(err) makes it, its text by default.
export function submitter(ctx, message, render, show = (err) => String(err.message ?? err)) {
  return async function act(btn, fn) {
    btn.disabled = true
    message.replaceChildren(ctx.t('正在提交…', 'Submitting…'))
    try {
      await fn()
      message.replaceChildren()
      await render()
    } catch (err) {
      message.replaceChildren(...[].concat(show(err)))
    } finally {
      btn.disabled = false
    }
  }
}
