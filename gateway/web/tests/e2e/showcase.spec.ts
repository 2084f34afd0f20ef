import { expect, test } from '@playwright/test'
import { BASE, shot } from './helpers'

// 先进典型巡礼: the one page without sign-in. An anonymous browser (no cookies, no token) loads
// it; whatever /api/v1/showcase says is published (the showcase e2e test publishes last year's
// honours on this stack before) is on the page with its photo, and nothing asks for a login.
test('an anonymous visitor reads the published honours on /showcase', async ({ browser }) => {
  const context = await browser.newContext({ viewport: { width: 390, height: 844 } })
  const page = await context.newPage()
  const published = (await (await page.request.get(`${BASE}/api/v1/showcase`)).json()) as {
    items: { id: string; name: string; citation: string; has_photo: boolean; year: number }[]
  }
  const t0 = Date.now()
  const res = await page.goto(`${BASE}/showcase`)
  expect(res?.status()).toBe(200)
  console.log(`showcase first load: ${Date.now() - t0} ms`)
  await expect(page).toHaveURL(/\/showcase$/)  // no redirect to a sign-in page
  await expect(page.getByRole('heading', { level: 1 })).toHaveText('先进典型巡礼')
  if (!published.items.length) {
    await expect(page.getByText('尚未发布先进典型')).toBeVisible()
  }
  for (const item of published.items.slice(0, 10)) {
    await expect(page.getByRole('heading', { name: item.name, exact: true }).first()).toBeVisible()
    await expect(page.getByText(item.citation).first()).toBeVisible()
    if (item.has_photo) {
      const img = page.locator(`img[src="/showcase/photos/${item.id}"]`)
      await img.scrollIntoViewIfNeeded()
      await expect.poll(() => img.evaluate((el: HTMLImageElement) => el.complete && el.naturalWidth)).toBeGreaterThan(0)
    }
  }
  const wide = page.locator('main')
  expect(await wide.evaluate((el) => el.scrollWidth <= document.documentElement.clientWidth + 1)).toBe(true)
  await shot(page, 'showcase-390')
  await context.close()
})
