import { chromium } from 'playwright-core'
const base = 'http://127.0.0.1:18081'
const [user, path, out, click, lang] = process.argv.slice(2)
const browser = await chromium.launch({ executablePath: '/usr/bin/chromium', args: ['--no-sandbox'] })
const page = await browser.newPage({ viewport: { width: 1400, height: 900 } })
if (user !== '-') {
  await page.goto(base + '/login')
  await page.fill('input[name=username]', user)
  await page.fill('input[name=password]', 'Demo@2026!')
  await page.click('[data-test=login]')
  await page.waitForURL(/\/workbench/)
}
if (lang === 'en') { await page.getByText('English').click(); await page.waitForTimeout(300) }
await page.goto(base + path)
await page.waitForTimeout(1200)
if (click) { await page.getByText(click).first().click(); await page.waitForTimeout(1500) }
await page.screenshot({ path: out, fullPage: true })
await browser.close()
