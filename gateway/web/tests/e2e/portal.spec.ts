// The portal in Chromium against a running stack, as the province, a city and a county clerk
// would use it. One story, in order: each step uses the accounts the one before made.
import { expect, request, test, type Browser, type BrowserContext, type Page } from '@playwright/test'
import { apiAs, BASE, ENGINE, readXlsx, shot, signInAt, writeXlsx } from './helpers'

const ADMIN = process.env.KEPU_ADMIN_USER ?? 'henan_admin'
const ADMIN_PASSWORD = process.env.KEPU_ADMIN_PASSWORD ?? 'Kepu@Henan2026'
// 驻马店市: no other end-to-end test distributes its subtree (another city for a rerun on one stack)
const CITY_CODE = process.env.KEPU_E2E_CITY ?? '411700'
const CITY_NAME = process.env.KEPU_E2E_CITY_NAME ?? '驻马店市'
const COUNTY_PASSWORD = 'Zhumadian#County2026'
const CITY_PASSWORD = process.env.KEPU_E2E_CITY_PASSWORD ?? 'Zhumadian#City2026' // a rerun: the history refuses it
const DEPT_PASSWORD = 'Zhumadian#Dept2026'
// Phones are unique across the province (duplicate check): one number range per run.
const RUN = String(Date.now() % 10_000_000).padStart(7, '0')
const OUT = new URL('../../../../test-output/', import.meta.url).pathname

// A rerun on one stack may start from a county signed in before (KEPU_E2E_COUNTY_USER/NAME).
const county = { username: process.env.KEPU_E2E_COUNTY_USER ?? '', initial: '', name: process.env.KEPU_E2E_COUNTY_NAME ?? '' }
// The city's account once the report step has issued it and changed its password.
let cityUser = process.env.KEPU_E2E_CITY_USER ?? ''
// The county's first talent (王科普), recommended in the talent step, reviewed up the chain after.
let talentId = process.env.KEPU_E2E_TALENT_ID ?? ''
const XLSX = 'application/vnd.openxmlformats-officedocument.spreadsheetml.sheet'

test.describe.configure({ mode: 'serial' })

async function newPage(browser: Browser): Promise<[BrowserContext, Page]> {
  const ctx = await browser.newContext({ baseURL: BASE, locale: 'zh-CN', timezoneId: 'Asia/Shanghai', acceptDownloads: true })
  const page = await ctx.newPage()
  page.on('dialog', () => {
    throw new Error('a native dialog was opened')
  })
  return [ctx, page]
}

/** Sign in at the provider with an initial password and set a new one (forced change). */
async function firstSignIn(page: Page, username: string, initial: string, password: string) {
  await signInAt(page, username, initial)
  await page.waitForSelector('#password-new')
  await shot(page, `forced-change-${username}`)
  await page.fill('#password-new', 'short')
  await page.fill('#password-confirm', 'short')
  await page.locator('#password-confirm').press('Enter')
  await page.waitForSelector('#password-new') // refused: the policy is explained, no sign-in
  await expect(page.locator('body')).toContainText(/密码|password/i)
  await page.fill('#password-new', password)
  await page.fill('#password-confirm', password)
  await page.locator('#password-confirm').press('Enter')
}

test('@both first load of the portal (figures only)', async ({ browser }) => {
  const [ctx, page] = await newPage(browser)
  for (const round of ['cold', 'warm']) {
    await page.goto('/app/logged-out') // a public screen: the app itself, no sign-in in between
    await expect(page.getByText('已安全退出', { exact: true })).toBeVisible()
    const t = await page.evaluate(() => {
      const n = performance.getEntriesByType('navigation')[0] as PerformanceNavigationTiming
      const js = performance.getEntriesByType('resource').filter((r) => r.name.endsWith('.js'))
      return { load: Math.round(n.loadEventEnd), shown: Math.round(performance.now()), scripts: js.length }
    })
    console.log(`first load (${round}): load event ${t.load} ms, screen shown by ${t.shown} ms, ${t.scripts} scripts`)
  }
  await ctx.close()
})

test('@both the province distributes accounts to one city subtree; a county signs in and changes its password', async ({ browser }) => {
  test.skip(!!process.env.KEPU_E2E_COUNTY_USER, 'rerun from a county signed in before')
  const [ctx, page] = await newPage(browser)
  const started = Date.now()
  await page.goto('/app/admin')
  await expect(page).toHaveURL(/\/auth\/realms\/kepu\/protocol\/openid-connect\/auth/)
  await signInAt(page, ADMIN, 'Wrong-password-1') // refused on the provider's page, in Chinese
  await expect(page.locator('#kc-login')).toBeVisible()
  await expect(page.locator('body')).toContainText('用户名或密码')
  await signInAt(page, ADMIN, ADMIN_PASSWORD)
  await page.waitForURL(/\/app\/admin$/)
  await expect(page.locator('#my-tenant')).toContainText('河南')
  console.log(`sign-in round trip and first screen: ${Date.now() - started} ms`)
  await shot(page, '01-admin')

  await page.getByText('指定下级单位及其全部下级').click()
  await page.getByPlaceholder('选择下级单位').click()
  const node = page.locator('.el-cascader-node', { hasText: CITY_NAME })
  await node.locator('.el-radio').click()
  await page.keyboard.press('Escape')
  await page.click('#distribute-btn')
  const box = page.locator('.el-message-box')
  await expect(box).toContainText('所选单位及其全部下级')
  const download = page.waitForEvent('download', { timeout: 120_000 })
  await box.getByRole('button', { name: '生成并下载' }).click()
  await expect(page.locator('#distribute-progress')).toBeVisible()
  const file = `${OUT}spa-${ENGINE}-accounts.xlsx`
  await (await download).saveAs(file)
  await expect(page.locator('#distribute-result')).toContainText('账号表已下载')
  await shot(page, '02-distributed')

  const rows = readXlsx(file).filter((r) => /^\d+$/.test(r[0] ?? ''))
  expect(rows.every((r) => r[1].startsWith(CITY_CODE.slice(0, 4)))).toBe(true) // only the chosen city's subtree
  const first = rows.find((r) => r[3].startsWith('县'))!
  Object.assign(county, { username: first[4], initial: first[5], name: first[2] })
  expect(county.initial.length).toBeGreaterThanOrEqual(10)

  // Distributing again finds nothing to issue and says so, without a file.
  await page.click('#distribute-btn')
  await page.locator('.el-message-box').getByRole('button', { name: '生成并下载' }).click()
  await expect(page.locator('#distribute-result')).toContainText('没有需要分配账号的下级单位')

  await page.click('#logout')
  await page.waitForURL(/\/app\/logged-out$/)
  await expect(page.locator('body')).toContainText('已安全退出')
  await page.goto('/app/')
  await page.waitForSelector('#kc-login') // the SSO session ended: no silent sign-in

  await firstSignIn(page, county.username, county.initial, COUNTY_PASSWORD)
  await page.waitForURL(/\/app\/$/)
  await expect(page.locator('#my-tenant')).toContainText(county.name.slice(0, 2))
  await shot(page, '03-county-home')

  // A reload keeps the clerk signed in: the app's tokens were in memory only, the provider's
  // sign-in session answers the app's redirect at once, without its page.
  await page.locator('.el-menu-item', { hasText: '报表' }).click()
  await page.waitForURL(/\/app\/reports$/)
  const reloaded = Date.now()
  await page.reload()
  await expect(page.locator('#my-tenant')).toContainText(county.name.slice(0, 2))
  await expect(page).toHaveURL(/\/app\/reports$/) // back on the screen it was on
  expect(await page.locator('#kc-login').count()).toBe(0)
  console.log(`reload, signed back in silently: ${Date.now() - reloaded} ms`)
  await ctx.close()
})

test('the county enters talents: a field error, paging past 20, recommending with an opinion', async ({ browser }) => {
  test.skip(ENGINE !== 'embedded', 'the talent screens run once, on the embedded engines')
  const [ctx, page] = await newPage(browser)
  await page.goto('/app/talents')
  await signInAt(page, county.username, COUNTY_PASSWORD)
  await page.waitForURL(/\/app\/talents/)
  await expect(page.getByText('没有符合条件的科普人才')).toBeVisible({ timeout: 60_000 })

  await page.click('#talent-new')
  const form = page.locator('#talent-form')
  await form.locator('#f-name').fill('王科普')
  await form.locator('.el-form-item', { hasText: '性别' }).locator('.el-select').click()
  await page.locator('.el-select-dropdown__item:visible', { hasText: '男' }).click()
  await form.locator('#f-employer').fill('驻马店市第一中学')
  await form.locator('#f-phone').fill('12345')
  await form.getByText('青少年科普').click()
  await page.click('#talent-save')
  const phoneItem = form.locator('.el-form-item', { has: page.locator('#f-phone') })
  await expect(page.locator('.el-dialog')).toContainText('联系电话')
  if (await phoneItem.locator('.el-form-item__error').count()) {
    await expect(phoneItem.locator('.el-form-item__error')).toContainText('联系电话')
  }
  await shot(page, '04-field-error')
  await form.locator('#f-phone').fill(`1380${RUN}`)
  await page.click('#talent-save')
  await expect(page.locator('#talent-total')).toHaveText('共 1 人')

  // 21 more through the API (as a clerk's import would): the list pages on the server.
  const clerk = await apiAs(county.username, COUNTY_PASSWORD)
  for (let i = 1; i <= 21; i++) {
    const r = await clerk.post('/api/v1/talents', {
      data: {
        name: `测试人才${String(i).padStart(2, '0')}`,
        gender: i % 2 ? '女' : '男',
        employer: '县农业农村局',
        phone: `13${String(i).padStart(2, '0')}${RUN}`,
        categories: ['农村科普'],
      },
    })
    expect(r.status(), await r.text()).toBe(201)
  }
  await page.locator('.el-menu-item', { hasText: '首页' }).click()
  await expect(page.locator('#todos')).toContainText('22 名科普人才待推荐')
  const t0 = Date.now()
  await page.locator('.el-menu-item', { hasText: '人才库' }).click()
  await expect(page.locator('#talent-total')).toHaveText('共 22 人')
  console.log(`talent list (22 records, page of 20) shown in ${Date.now() - t0} ms`)
  const firstPage = await page.locator('#talent-table .el-table__body tr').count()
  expect(firstPage).toBe(20)
  await page.locator('.el-pager li', { hasText: /^2$/ }).click()
  await expect(page.locator('#talent-table .el-table__body tr')).toHaveCount(2)
  await expect(page).toHaveURL(/page=2/)
  await shot(page, '05-page-2')

  // 导入: a file with two wrong rows is refused whole, the bar red, each error naming its
  // person; the corrected file goes in. The rows are written on the downloaded template.
  await page.click('#talent-import')
  const dialog = page.locator('.el-dialog', { hasText: '导入科普人才汇总表' })
  const templateDownload = page.waitForEvent('download')
  await dialog.getByText('下载汇总表（模板）').click()
  const templateFile = `${OUT}spa-${ENGINE}-import-template.xlsx`
  await (await templateDownload).saveAs(templateFile)
  const template = readXlsx(templateFile)
  const header = template.findIndex((r) => r.includes('姓名') && r.includes('联系电话'))
  expect(header).toBeGreaterThan(0)
  const people: Record<string, string>[] = [
    { 服务类别: '青少年科普', 姓名: '导入甲', 性别: '女', 工作单位: '县第一中学', 联系电话: `1360${RUN}` },
    { 服务类别: '农村科普', 姓名: '导入乙', 性别: '男', 工作单位: '县农技站', 联系电话: '12345' },
    { 服务类别: '太空科普', 姓名: '导入丙', 性别: '女', 工作单位: '县科技馆', 联系电话: `1362${RUN}` },
  ]
  const sheet = () => ({
    name: '汇总表.xlsx',
    mimeType: XLSX,
    buffer: writeXlsx([
      ...template.slice(0, header + 1),
      ...people.map((p, i) => template[header].map((h) => (h === '序号' ? String(i + 1) : (p[h] ?? '')))),
    ]),
  })
  await page.setInputFiles('#import-file', sheet())
  await page.click('#import-start')
  const bar = dialog.locator('#import-progress .el-progress')
  await expect(bar).toHaveClass(/is-exception/) // red, not a full blue bar
  await expect(dialog.locator('#import-progress')).toContainText('导入失败')
  const rowErrors = dialog.locator('#import-errors')
  await expect(rowErrors).toContainText('未导入任何数据')
  await expect(rowErrors.locator('tr', { hasText: '导入乙' })).toContainText('联系电话')
  await expect(rowErrors.locator('tr', { hasText: '导入丙' })).toContainText('服务类别')
  expect(await rowErrors.locator('tr', { hasText: '导入甲' }).count()).toBe(0)
  await shot(page, '05a-import-failed')
  people[1].联系电话 = `1361${RUN}`
  people[2].服务类别 = '社区科普'
  await page.setInputFiles('#import-file', sheet())
  await page.click('#import-start')
  await expect(bar).toHaveClass(/is-success/)
  await expect(dialog).toContainText('已导入3名科普人才')
  await shot(page, '05b-import-fixed')
  await dialog.getByRole('button', { name: '关闭', exact: true }).click()
  await expect(page.locator('#talent-total')).toHaveText('共 25 人')

  await page.fill('#filter-q', '王科普')
  await page.keyboard.press('Enter')
  await expect(page.locator('#talent-total')).toHaveText('共 1 人')
  await page.getByRole('link', { name: '王科普' }).click()
  await expect(page.locator('#talent-status')).toHaveText('草稿')
  talentId = page.url().split('/talents/')[1]
  await page.locator('[data-action="recommend"]').first().click()
  await page.click('#action-confirm') // no opinion: refused, said on the dialog
  await expect(page.locator('.el-dialog:visible').locator('.el-form-item__error, .el-alert--error')).toContainText('意见')
  await page.fill('#action-text', '该同志长期从事青少年科普，推荐认定。')
  await page.click('#action-confirm')
  await expect(page.locator('#talent-status')).toHaveText('已推荐')
  await expect(page.locator('body')).toContainText('推荐认定')
  await shot(page, '06-recommended')
  await ctx.close()
})

test('the city returns the county brief with a reason, the county sees it on its to-do list, the city accepts', async ({ browser }) => {
  test.skip(ENGINE !== 'embedded', 'the report screens run once, on the embedded engines')
  // The city's account: re-issued by the province through the API (its first one went to
  // another test), then the city signs in and changes the password like anyone else.
  const province = await apiAs(ADMIN, ADMIN_PASSWORD)
  const me = await (await province.get('/api/v1/tenants/me')).json()
  const cities = await (await province.get(`/api/v1/tenants/${me.id}/children`)).json()
  const city = cities.find((c: { code: string }) => c.code === CITY_CODE)
  const issued = await province.post(`/api/v1/tenants/${me.id}/credentials`, {
    data: { scope: 'children', reset_tenant_ids: [city.id] },
    headers: { Accept: 'application/json' },
  })
  expect(issued.status(), await issued.text()).toBe(200)
  const cityAccount = (await issued.json()).issued.find((c: { tenant_code: string }) => c.tenant_code === CITY_CODE)

  // The county fills and submits this month's brief.
  const [cctx, cpage] = await newPage(browser)
  await cpage.goto('/app/reports')
  await signInAt(cpage, county.username, COUNTY_PASSWORD)
  await expect(cpage.locator('#my-report')).toBeVisible()
  await expect(cpage.locator('#my-report-status')).toHaveText(/未填|草稿|已提交/) // 已提交: a rerun
  if (await cpage.locator('#report-submit').count()) {
    for (const input of await cpage.locator('#my-report .el-input-number input').all()) await input.fill('3')
    for (const area of await cpage.locator('#my-report textarea').all()) await area.fill('开展科普进校园活动。')
    await cpage.click('#report-submit')
    await cpage.locator('.el-message-box').getByRole('button', { name: '提交' }).click()
  }
  await expect(cpage.locator('#my-report-status')).toHaveText('已提交')

  // The city returns it: an empty reason is refused on the field, then the reason goes down.
  const [tctx, tpage] = await newPage(browser)
  await tpage.goto('/app/reports')
  await firstSignIn(tpage, cityAccount.username, cityAccount.initial_password, CITY_PASSWORD)
  cityUser = cityAccount.username
  await expect(tpage.locator('#children-status')).toBeVisible()
  await shot(tpage, '07-city-children')
  await tpage.locator(`[data-return="${county.name}"]`).click()
  await tpage.click('#return-confirm')
  await expect(tpage.locator('.el-dialog:visible .el-form-item__error')).toBeVisible()
  await tpage.fill('#return-text', '活动场次与附件不符，请核对后重报。')
  await tpage.click('#return-confirm')
  await expect(tpage.locator('#children-table')).toContainText('退回')

  // The county's to-do list says why.
  await cpage.locator('.el-menu-item', { hasText: '首页' }).click()
  await expect(cpage.locator('#todos')).toContainText('被上级退回')
  await expect(cpage.locator('#todos')).toContainText('活动场次与附件不符')
  await shot(cpage, '08-county-todo-returned')
  await cpage.locator('#todos a', { hasText: '被上级退回' }).click()
  await expect(cpage.locator('#return-reason')).toContainText('活动场次与附件不符')
  await cpage.click('#report-submit')
  await cpage.locator('.el-message-box').getByRole('button', { name: '提交' }).click()
  await expect(cpage.locator('#my-report-status')).toHaveText('已提交') // the resubmission is in

  // The city drills into the county's brief and accepts it.
  await tpage.locator('.el-menu-item', { hasText: '首页' }).click()
  await tpage.waitForURL(/\/app\/$/) // left the screen: coming back loads the children afresh
  await tpage.locator('.el-menu-item', { hasText: '报表' }).click()
  await expect(tpage.locator('#children-table tr', { hasText: county.name })).toContainText('已提交')
  await tpage.locator('#children-table tr', { hasText: county.name }).getByRole('button', { name: '查看' }).click()
  await expect(tpage.locator('.el-drawer')).toContainText(county.name)
  await shot(tpage, '09-city-drill-down')
  await tpage.keyboard.press('Escape')
  await tpage.locator(`[data-accept="${county.name}"]`).click()
  await tpage.locator('.el-message-box').getByRole('button', { name: '接收' }).click()
  await expect(tpage.locator('#children-table tr', { hasText: county.name })).toContainText('已接收')
  await cctx.close()
  await tctx.close()
})

test('the city gives its opinion on the county\'s talent, the province certifies it with a certificate number', async ({ browser }) => {
  test.skip(ENGINE !== 'embedded', 'the talent screens run once, on the embedded engines')
  test.skip(!talentId, 'the talent step did not run')
  // The city: its to-do list leads to the talent; a rejection needs a reason; its opinion goes up.
  const [tctx, tpage] = await newPage(browser)
  await tpage.goto('/app/')
  await signInAt(tpage, cityUser, CITY_PASSWORD)
  const todo = tpage.locator('#todos a', { hasText: '名科普人才待出具市级意见' })
  await todo.click()
  await tpage.waitForURL(/\/app\/talents\?status=recommended/)
  await tpage.getByRole('link', { name: '王科普' }).first().click()
  await expect(tpage.locator('#talent-status')).toHaveText('已推荐')
  await expect(tpage.locator('#talent-phone')).toContainText('****') // masked
  await tpage.click('#reveal') // the full view is an explicit, logged action
  await expect(tpage.locator('#talent-phone')).toHaveText(/^1380\d{7}$/)
  await expect(tpage.locator('body')).toContainText('完整个人信息的查看已记入操作日志')
  await tpage.locator('[data-action="reject"]').first().click()
  await tpage.click('#action-confirm') // no reason: refused, said on the field
  await expect(tpage.locator('.el-dialog:visible').locator('.el-form-item__error, .el-alert--error')).toContainText('理由')
  await tpage.locator('.el-dialog:visible').getByRole('button', { name: '取消' }).click()
  await tpage.locator('[data-action="approve"]').first().click()
  await tpage.fill('#action-text', '同意推荐，报省科协审核。')
  await tpage.click('#action-confirm')
  await expect(tpage.locator('#talent-status')).toHaveText('市级已审')
  await expect(tpage.locator('[data-action]')).toHaveCount(0) // the city's part is done
  await shot(tpage, '09e-city-opinion')
  await tctx.close()

  // The province certifies it: a certificate number, the whole chain in the record's history.
  const [pctx, ppage] = await newPage(browser)
  await ppage.goto(`/app/talents/${talentId}`)
  await signInAt(ppage, ADMIN, ADMIN_PASSWORD)
  await expect(ppage.locator('#talent-status')).toHaveText('市级已审')
  await ppage.locator('[data-action="approve"]').first().click()
  await ppage.fill('#action-text', '资格审核通过，予以认定。')
  await ppage.click('#action-confirm')
  await expect(ppage.locator('#talent-status')).toHaveText('已认定')
  await expect(ppage.locator('.head')).toContainText(/证书编号 KP410000-\d{4}-\d{6}/)
  const history = ppage.locator('.el-timeline')
  await expect(history).toContainText('同意推荐，报省科协审核。')
  await expect(history).toContainText('资格审核通过，予以认定。')
  await shot(ppage, '09f-province-certified')
  await pctx.close()
})

test('work-plan to-dos on the home page: the city and its member department each see theirs and open the task; the department attaches evidence', async ({ browser }) => {
  test.skip(ENGINE !== 'embedded', 'the plan screens run once, on the embedded engines')
  // Setup through the API: the city adds 教育局 as a member department with an account, and
  // publishes last year's plan whose milestone is past due, supervised with a rectification.
  const city = await apiAs(cityUser, CITY_PASSWORD)
  const me = await (await city.get('/api/v1/tenants/me')).json()
  const deptCode = `${CITY_CODE}D01`
  const made = await city.post(`/api/v1/tenants/${me.id}/children`, { data: { code: deptCode, name: `${CITY_NAME}教育局`, kind: 'department' } })
  expect([201, 409], await made.text()).toContain(made.status()) // 409: a rerun on one stack
  const dept = (await (await city.get(`/api/v1/tenants/${me.id}/children`)).json()).find((c: { code: string }) => c.code === deptCode)
  const issued = await city.post(`/api/v1/tenants/${me.id}/credentials`, {
    data: { scope: 'children', reset_tenant_ids: [dept.id] },
    headers: { Accept: 'application/json' },
  })
  expect(issued.status(), await issued.text()).toBe(200)
  const account = (await issued.json()).issued.find((c: { tenant_code: string }) => c.tenant_code === deptCode)
  const changed = await (await request.newContext({ baseURL: BASE })).post('/auth/realms/kepu/account/password', {
    data: { username: account.username, currentPassword: account.initial_password, newPassword: DEPT_PASSWORD },
  })
  expect(changed.status(), await changed.text()).toBe(204)
  const year = Number(new Intl.DateTimeFormat('en', { timeZone: 'Asia/Shanghai', year: 'numeric' }).format(new Date()))
  const title = `${CITY_NAME}${year - 1}—${year}年科普工作要点（${RUN}）`
  const body = {
    title, start_year: year - 1, end_year: year,
    tasks: [{ seq: 1, text: '开展科普进校园活动', lead_unit_id: dept.id, milestones: [{ title: '方案印发', due: `${year - 1}-12-31` }] }],
  }
  const created: { plan?: { id: string; tasks: { id: string }[] } } = {}
  await expect(async () => {
    // assessment learns the new department from identity's events: 422 until it has
    const r = await city.post('/api/v1/workplans', { data: body })
    expect(r.status(), await r.text()).toBe(201)
    created.plan = await r.json()
  }).toPass({ timeout: 60_000 })
  const plan = created.plan!
  const taskId = plan.tasks[0].id
  const sup = await city.post(`/api/v1/workplans/${plan.id}/supervisions`, {
    data: { unit_id: dept.id, task_id: taskId, visited_on: `${year - 1}-12-01`, findings: '活动台账不全', rectify_by: `${year}-12-31` },
  })
  expect(sup.status(), await sup.text()).toBe(201)

  // The city's home page lists both, each linking to the plan with the task marked.
  const [tctx, tpage] = await newPage(browser)
  await tpage.goto('/app/')
  await signInAt(tpage, cityUser, CITY_PASSWORD)
  const overdue = tpage.locator('#todos li', { hasText: `《${title}》第1项任务节点“方案印发”已逾期` })
  await expect(overdue).toBeVisible()
  await expect(tpage.locator('#todos li', { hasText: `《${title}》督查整改（活动台账不全）待完成` })).toBeVisible()
  await shot(tpage, '09a-city-plan-todos')
  await overdue.locator('a').click()
  await tpage.waitForURL(new RegExp(`/app/plans\\?plan=${plan.id}&task=${taskId}`))
  await expect(tpage.locator('#plan-tasks .focus-task')).toContainText('开展科普进校园活动')

  // The department signs in to its own list; it reports progress with a pdf from the task.
  const [dctx, dpage] = await newPage(browser)
  await dpage.goto('/app/')
  await signInAt(dpage, account.username, DEPT_PASSWORD)
  const mine = dpage.locator('#todos li', { hasText: `《${title}》督查整改（活动台账不全）待完成` })
  await expect(mine).toBeVisible()
  await expect(dpage.locator('#todos')).toContainText(`《${title}》第1项任务节点“方案印发”已逾期`)
  expect(await dpage.locator('#quota-card').count()).toBe(0) // talent figures are not its business
  await shot(dpage, '09b-department-todos')
  await mine.locator('a').click()
  await expect(dpage.locator('#plan-tasks .focus-task')).toContainText('开展科普进校园活动')
  await dpage.locator('#plan-tasks .focus-task').getByRole('button', { name: '填报进展' }).click()
  await expect(dpage.locator('.el-dialog:visible')).toContainText('填报季度进展')
  await dpage.fill('#progress-text', '已印发活动方案，开展进校园活动6场。')
  await dpage.setInputFiles('#progress-files', { name: '活动方案.pdf', mimeType: 'application/pdf', buffer: Buffer.from('%PDF-1.4\n%%EOF\n') })
  await dpage.locator('.el-dialog:visible').getByRole('button', { name: '提交' }).click()
  await expect(dpage.locator('#plan-tasks .focus-task')).toContainText('活动方案.pdf')
  await tpage.locator('.el-menu-item', { hasText: '首页' }).click() // the city opens the task again
  await overdue.locator('a').click()
  await expect(tpage.locator('#plan-tasks .focus-task')).toContainText('活动方案.pdf') // the owner sees it
  await shot(tpage, '09c-city-plan-evidence')

  // An e站 of one of its counties: the city adds a photo of the place to its 五有 evidence.
  const countyRow = (await (await city.get(`/api/v1/tenants/${me.id}/children`)).json()).find((c: { kind: string }) => c.kind === 'county')
  const stationName = `驿城区社区e站${RUN}`
  const st = await city.post('/api/v1/estations', { data: { tenant_id: countyRow.id, kind: 'community', name: stationName } })
  expect(st.status(), await st.text()).toBe(201)
  await tpage.locator('.el-menu-item', { hasText: 'e站' }).click()
  await tpage.locator('#station-table tr', { hasText: stationName }).getByRole('button', { name: '佐证材料' }).click()
  const png = Buffer.concat([Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]), Buffer.alloc(64)])
  await tpage.setInputFiles('#station-evidence input[data-condition="place"]', { name: '活动室.png', mimeType: 'image/png', buffer: png })
  await expect(tpage.locator('#station-evidence tr', { hasText: '有场所' })).toContainText('活动室.png')
  await shot(tpage, '09d-city-station-evidence')
  await tctx.close()
  await dctx.close()
})

test('at 390 px the talent list is cards and the menu a drawer', async ({ browser }) => {
  test.skip(ENGINE !== 'embedded', 'layout checked once')
  const ctx = await browser.newContext({ baseURL: BASE, viewport: { width: 390, height: 844 }, locale: 'zh-CN' })
  const page = await ctx.newPage()
  await page.goto('/app/talents')
  await signInAt(page, county.username, COUNTY_PASSWORD)
  await expect(page.locator('.mobile-list .el-card').first()).toBeVisible()
  expect(await page.locator('#talent-table').count()).toBe(0)
  const width = await page.evaluate(() => document.documentElement.scrollWidth)
  expect(width).toBeLessThanOrEqual(390)
  await page.getByRole('button', { name: '打开菜单' }).click()
  await expect(page.locator('.el-drawer')).toContainText('人才库')
  await shot(page, '10-mobile')
  await ctx.close()
})

test('the province sees its cities on the map and clicks through to one city', async ({ browser }) => {
  test.skip(ENGINE !== 'embedded', 'the map runs once, on the embedded engines')
  const [ctx, page] = await newPage(browser)
  await page.goto('/app/')
  await signInAt(page, ADMIN, ADMIN_PASSWORD)
  const map = page.locator('#map-card canvas').first()
  await expect(map).toBeVisible({ timeout: 60_000 })
  await page.waitForTimeout(1000) // the map's first frame (ECharts animates it in)
  await shot(page, '11-province-map')
  await page.locator('#map-card').getByText('本月报送').click()
  await shot(page, '12-province-map-reports')
  await map.scrollIntoViewIfNeeded() // the to-do list may push the map below the fold
  await page.waitForTimeout(500)
  const box = (await map.boundingBox())!
  await page.mouse.click(box.x + box.width * 0.5, box.y + box.height * 0.5) // a city in the middle of 河南
  await expect(page.locator('#map-title')).toContainText('各县（市、区）') // that city's own map
  await page.click('#map-city-talents')
  await page.waitForURL(/\/app\/talents\?tenant_id=/)
  await expect(page.locator('#talent-total')).toHaveText(/共 \d+ 人/)
  await shot(page, '13-city-from-map')
  await ctx.close()
})

test('the county files a key project and records an activity; the province sees a ranking and registers a partner', async ({ browser }) => {
  test.skip(ENGINE !== 'embedded', 'the project, activity, assessment and partner screens run once, on the embedded engines')
  const year = Number(new Intl.DateTimeFormat('en', { timeZone: 'Asia/Shanghai', year: 'numeric' }).format(new Date()))
  const province = await apiAs(ADMIN, ADMIN_PASSWORD)
  const callTitle = `科普示范社区申报${RUN}`
  const call = await province.post('/api/v1/calls', {
    data: { title: callTitle, programme: '科普示范社区', year, deadline: `${year + 1}-06-30` },
  })
  expect(call.status(), await call.text()).toBe(201)
  const schemeName = `${year}年度考核${RUN}`
  const scheme = await province.post('/api/v1/assessment/schemes', {
    data: {
      year,
      name: schemeName,
      indicators: [
        { code: '1', name: '科普活动开展', weight: 60, kind: 'automatic', metric: 'activities', rule: 'threshold', target: 1 },
        { code: '2', name: '组织领导', weight: 40, kind: 'manual' },
      ],
    },
  })
  expect(scheme.status(), await scheme.text()).toBe(201)

  // 重点项目: the county's draft, a field error on the phone, then filing it into the call.
  const [cctx, cpage] = await newPage(browser)
  const started = Date.now()
  await cpage.goto('/app/projects')
  await signInAt(cpage, county.username, COUNTY_PASSWORD)
  await expect(cpage.locator('#project-total')).toBeVisible()
  await cpage.click('#project-new')
  const form = cpage.locator('#project-form')
  const name = `社区科普大讲堂${RUN}`
  await form.locator('#p-name').fill(name)
  await form.locator('#p-applicant_unit').fill(county.name)
  await form.locator('#p-completing_unit').fill(`${county.name}科协`)
  await form.locator('#p-contact_person').fill('李主任')
  await form.locator('#p-contact_phone').fill('123')
  await form.locator('.el-form-item', { hasText: '项目类别' }).locator('.el-select').click()
  await cpage.locator('.el-select-dropdown__item:visible', { hasText: '科普活动' }).click()
  await form.locator('.el-form-item', { hasText: '申报批次' }).locator('.el-select').click()
  await cpage.locator('.el-select-dropdown__item:visible', { hasText: callTitle }).click()
  for (const [id, month] of [['#p-start_month', `${year}-03`], ['#p-end_month', `${year}-12`]]) {
    await form.locator(id).fill(month)
    await form.locator(id).press('Enter')
  }
  await form.locator('#p-content').fill('在辖区社区开展系列科普讲座12场。')
  await form.locator('#p-expected_performance').fill('惠及居民3000人次。')
  await cpage.click('#project-save')
  const phone = form.locator('.el-form-item', { has: cpage.locator('#p-contact_phone') })
  await expect(phone.locator('.el-form-item__error')).toContainText('联系电话')
  await form.locator('#p-contact_phone').fill(`1390${RUN}`)
  await cpage.click('#project-save')
  await expect(cpage).toHaveURL(/\/app\/projects\/[0-9a-f-]{36}$/)
  await expect(cpage.locator('#project-status')).toHaveText('草稿')
  await expect(cpage.locator('#project-phone')).not.toContainText(`1390${RUN}`) // masked
  await cpage.locator('[data-project-action="submit"]').click()
  await cpage.locator('.el-message-box').getByRole('button', { name: '申报' }).click()
  await expect(cpage.locator('#project-status')).toHaveText('已申报（逐级审核中）')
  await expect(cpage.locator('[data-project-action]')).toHaveCount(0) // nothing left for the county to do
  await shot(cpage, '14-project-submitted')
  await cpage.locator('.el-menu-item', { hasText: '重点项目' }).click()
  await expect(cpage.locator('#project-table')).toContainText(name)
  await expect(cpage.locator('#project-table tr', { hasText: name })).toContainText('已申报')

  // 科普活动: the form without its 形式 is refused on that field; recorded, it is in this month's list.
  await cpage.locator('.el-menu-item', { hasText: '科普活动' }).click()
  await cpage.click('#activity-new')
  const title = `科普进校园讲座${RUN}`
  await cpage.fill('#a-title', title)
  await cpage.click('#activity-save')
  const af = cpage.locator('#activity-form')
  await expect(af.locator('.el-form-item', { hasText: '活动形式' }).locator('.el-form-item__error')).toContainText('活动形式')
  await af.locator('.el-form-item', { hasText: '活动形式' }).locator('.el-select').click()
  await cpage.locator('.el-select-dropdown__item:visible', { hasText: '讲座' }).click()
  await af.locator('.el-form-item', { hasText: '五进' }).locator('.el-select').click()
  await cpage.locator('.el-select-dropdown__item:visible', { hasText: '进校园' }).click()
  await cpage.fill('#a-participants', '120')
  await cpage.click('#activity-save')
  await expect(cpage.locator('#activity-table')).toContainText(title)
  await expect(cpage.locator('#activity-total')).toContainText('场')
  await shot(cpage, '15-activities')
  await cctx.close()

  // 年度考核: the province's live ranking of its cities, with the chart.
  const [pctx, ppage] = await newPage(browser)
  await ppage.goto('/app/assessment')
  await signInAt(ppage, ADMIN, ADMIN_PASSWORD)
  await ppage.locator(`[data-scheme="${schemeName}"]`).click()
  await expect(ppage.locator('#ranking')).toContainText('满分 100 分')
  await expect(ppage.locator('#ranking-table')).toContainText(CITY_NAME)
  await expect(ppage.locator('#ranking canvas').first()).toBeVisible()
  await shot(ppage, '16-assessment-ranking')

  // 合作机构: a refused empty form, the one-time secret, a rotation that replaces it.
  await ppage.locator('.el-menu-item', { hasText: '合作机构' }).click()
  await ppage.click('#partner-new')
  await ppage.click('#partner-save')
  const pf = ppage.locator('#partner-form')
  await expect(pf.locator('.el-form-item', { hasText: '机构名称' }).locator('.el-form-item__error')).toBeVisible()
  const bank = `邮储银行测试分行${RUN}`
  await ppage.fill('#pa-name', bank)
  await pf.getByText('读取已授权的重点项目').click()
  await ppage.click('#partner-save')
  const secret = ppage.locator('#partner-client-secret')
  await expect(secret).not.toBeEmpty()
  const first = await secret.innerText()
  await shot(ppage, '17-partner-secret')
  await ppage.getByRole('button', { name: '已妥善保存' }).click()
  await expect(ppage.locator('#partner-table')).toContainText(bank)
  await ppage.locator(`[data-rotate="${bank}"]`).click()
  await ppage.locator('.el-message-box').getByRole('button', { name: '重置' }).click()
  await expect(secret).not.toHaveText(first)
  await expect(secret).not.toBeEmpty()
  console.log(`projects, activities, assessment and partner screens: ${Date.now() - started} ms`)
  await pctx.close()
})
