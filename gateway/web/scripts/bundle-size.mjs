// Initial JavaScript of the built portal: the entry script and its modulepreloads, gzipped.
import { readFileSync } from 'node:fs'
import { gzipSync } from 'node:zlib'

const dist = new URL('../dist/', import.meta.url)
const html = readFileSync(new URL('index.html', dist), 'utf8')
const files = [...html.matchAll(/(?:src|href)="\/app\/(assets\/[^"]+\.(?:js|css))"/g)].map((m) => m[1])
let js = 0
let css = 0
for (const f of files) {
  const size = gzipSync(readFileSync(new URL(f, dist))).length
  if (f.endsWith('.js')) js += size
  else css += size
  console.log(`${f}: ${(size / 1024).toFixed(1)} KB gzipped`)
}
console.log(`initial JS ${(js / 1024).toFixed(1)} KB gzipped, CSS ${(css / 1024).toFixed(1)} KB gzipped`)
