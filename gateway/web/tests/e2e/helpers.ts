import { inflateRawSync } from 'node:zlib'
import { mkdirSync, readFileSync } from 'node:fs'
import { expect, type Page, request as pwRequest } from '@playwright/test'

export const BASE = process.env.KEPU_BASE_URL ?? ''
export const ENGINE = process.env.KEPU_ENGINE ?? 'embedded'
export const SHOTS = new URL('../../../../test-output/screenshots/', import.meta.url).pathname

export async function shot(page: Page, name: string): Promise<void> {
  mkdirSync(SHOTS, { recursive: true })
  await page.screenshot({ path: `${SHOTS}spa-${ENGINE}-${name}.png`, fullPage: true })
}

/** The provider's sign-in page (the embedded one and Keycloak's use the same ids). */
export async function signInAt(page: Page, username: string, password: string): Promise<void> {
  await page.waitForSelector('#kc-login')
  await page.fill('#username', username)
  await page.fill('#password', password)
  await page.click('#kc-login')
}

/** Cells of the first sheet of an .xlsx, row by row (a small reader: zip + shared strings). */
export function readXlsx(path: string): string[][] {
  const zip = readFileSync(path)
  const files = new Map<string, Buffer>()
  let eocd = zip.length - 22
  while (eocd >= 0 && zip.readUInt32LE(eocd) !== 0x06054b50) eocd--
  let p = zip.readUInt32LE(eocd + 16)
  const count = zip.readUInt16LE(eocd + 10)
  for (let i = 0; i < count; i++) {
    const method = zip.readUInt16LE(p + 10)
    const size = zip.readUInt32LE(p + 20)
    const nameLen = zip.readUInt16LE(p + 28)
    const extra = zip.readUInt16LE(p + 30)
    const comment = zip.readUInt16LE(p + 32)
    const offset = zip.readUInt32LE(p + 42)
    const name = zip.toString('utf8', p + 46, p + 46 + nameLen)
    const start = offset + 30 + zip.readUInt16LE(offset + 26) + zip.readUInt16LE(offset + 28)
    const data = zip.subarray(start, start + size)
    files.set(name, method === 8 ? inflateRawSync(data) : data)
    p += 46 + nameLen + extra + comment
  }
  const unescape = (s: string) =>
    s
      .replace(/&#x([0-9a-f]+);/gi, (_, h: string) => String.fromCodePoint(parseInt(h, 16)))
      .replace(/&#(\d+);/g, (_, d: string) => String.fromCodePoint(Number(d)))
      .replace(/&lt;/g, '<').replace(/&gt;/g, '>').replace(/&quot;/g, '"').replace(/&amp;/g, '&')
  const shared = [...(files.get('xl/sharedStrings.xml')?.toString() ?? '').matchAll(/<si>([\s\S]*?)<\/si>/g)].map((m) =>
    unescape([...m[1].matchAll(/<t[^>]*>([\s\S]*?)<\/t>/g)].map((t) => t[1]).join('')),
  )
  const sheet = files.get('xl/worksheets/sheet1.xml')?.toString() ?? ''
  return [...sheet.matchAll(/<row[^>]*>([\s\S]*?)<\/row>/g)].map((row) =>
    [...row[1].matchAll(/<c ([^>]*?)(?:\/>|>([\s\S]*?)<\/c>)/g)].map((c) => {
      const attrs = c[1]
      const body = c[2] ?? ''
      const v = /<v>([\s\S]*?)<\/v>/.exec(body)?.[1]
      if (/t="s"/.test(attrs)) return shared[Number(v)] ?? ''
      const t = /<t[^>]*>([\s\S]*?)<\/t>/.exec(body)?.[1]
      return unescape(t ?? v ?? '')
    }),
  )
}

/** A token for scripted setup through the API (the kepu-cli client's password grant). */
export async function apiAs(username: string, password: string) {
  const ctx = await pwRequest.newContext({ baseURL: BASE })
  const r = await ctx.post('/auth/realms/kepu/protocol/openid-connect/token', {
    form: { grant_type: 'password', client_id: 'kepu-cli', username, password, scope: 'openid' },
  })
  expect(r.status(), await r.text()).toBe(200)
  const token = (await r.json()).access_token as string
  return pwRequest.newContext({ baseURL: BASE, extraHTTPHeaders: { Authorization: `Bearer ${token}` } })
}
