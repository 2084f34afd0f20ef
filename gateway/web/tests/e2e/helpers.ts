import { crc32, deflateRawSync, inflateRawSync } from 'node:zlib'
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

/** A one-sheet .xlsx of text cells (inline strings), as a clerk's spreadsheet program saves one. */
export function writeXlsx(rows: string[][]): Buffer {
  const esc = (v: string) => v.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;')
  const col = (i: number) => String.fromCharCode(65 + i) // up to 26 columns
  const sheet =
    '<?xml version="1.0" encoding="UTF-8" standalone="yes"?><worksheet xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main"><sheetData>' +
    rows
      .map((r, y) => `<row r="${y + 1}">` + r.map((v, x) => `<c r="${col(x)}${y + 1}" t="inlineStr"><is><t>${esc(v)}</t></is></c>`).join('') + '</row>')
      .join('') +
    '</sheetData></worksheet>'
  const files: [string, string][] = [
    ['[Content_Types].xml', '<?xml version="1.0" encoding="UTF-8"?><Types xmlns="http://schemas.openxmlformats.org/package/2006/content-types"><Default Extension="rels" ContentType="application/vnd.openxmlformats-package.relationships+xml"/><Default Extension="xml" ContentType="application/xml"/><Override PartName="/xl/workbook.xml" ContentType="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet.main+xml"/><Override PartName="/xl/worksheets/sheet1.xml" ContentType="application/vnd.openxmlformats-officedocument.spreadsheetml.worksheet+xml"/></Types>'],
    ['_rels/.rels', '<?xml version="1.0" encoding="UTF-8"?><Relationships xmlns="http://schemas.openxmlformats.org/package/2006/relationships"><Relationship Id="rId1" Type="http://schemas.openxmlformats.org/officeDocument/2006/relationships/officeDocument" Target="xl/workbook.xml"/></Relationships>'],
    ['xl/workbook.xml', '<?xml version="1.0" encoding="UTF-8"?><workbook xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main" xmlns:r="http://schemas.openxmlformats.org/officeDocument/2006/relationships"><sheets><sheet name="汇总表" sheetId="1" r:id="rId1"/></sheets></workbook>'],
    ['xl/_rels/workbook.xml.rels', '<?xml version="1.0" encoding="UTF-8"?><Relationships xmlns="http://schemas.openxmlformats.org/package/2006/relationships"><Relationship Id="rId1" Type="http://schemas.openxmlformats.org/officeDocument/2006/relationships/worksheet" Target="worksheets/sheet1.xml"/></Relationships>'],
    ['xl/worksheets/sheet1.xml', sheet],
  ]
  const locals: Buffer[] = []
  const central: Buffer[] = []
  let offset = 0
  for (const [name, text] of files) {
    const raw = Buffer.from(text, 'utf8')
    const data = deflateRawSync(raw)
    const nameBytes = Buffer.from(name, 'utf8')
    const head = Buffer.alloc(30)
    head.writeUInt32LE(0x04034b50, 0)
    head.writeUInt16LE(20, 4)
    head.writeUInt16LE(0x0800, 6) // names in UTF-8
    head.writeUInt16LE(8, 8) // deflate
    head.writeUInt32LE(crc32(raw), 14)
    head.writeUInt32LE(data.length, 18)
    head.writeUInt32LE(raw.length, 22)
    head.writeUInt16LE(nameBytes.length, 26)
    const entry = Buffer.alloc(46)
    entry.writeUInt32LE(0x02014b50, 0)
    entry.writeUInt16LE(20, 4)
    entry.writeUInt16LE(20, 6)
    head.copy(entry, 8, 6, 30) // flags, method, time, crc, sizes, name length
    entry.writeUInt32LE(offset, 42)
    locals.push(head, nameBytes, data)
    central.push(entry, nameBytes)
    offset += head.length + nameBytes.length + data.length
  }
  const dir = Buffer.concat(central)
  const end = Buffer.alloc(22)
  end.writeUInt32LE(0x06054b50, 0)
  end.writeUInt16LE(files.length, 8)
  end.writeUInt16LE(files.length, 10)
  end.writeUInt32LE(dir.length, 12)
  end.writeUInt32LE(offset, 16)
  return Buffer.concat([...locals, dir, end])
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
