// The one date-time helper: every time a user sees is Beijing time (Asia/Shanghai).
const dateTime = new Intl.DateTimeFormat('zh-CN', {
  timeZone: 'Asia/Shanghai',
  year: 'numeric',
  month: '2-digit',
  day: '2-digit',
  hour: '2-digit',
  minute: '2-digit',
  hour12: false,
})
const dateOnly = new Intl.DateTimeFormat('zh-CN', {
  timeZone: 'Asia/Shanghai',
  year: 'numeric',
  month: '2-digit',
  day: '2-digit',
})

function parts(f: Intl.DateTimeFormat, d: Date): Record<string, string> {
  return Object.fromEntries(f.formatToParts(d).map((p) => [p.type, p.value]))
}

/** "2026-12-01 20:05" in Beijing time, "" for an empty or unreadable value. A bare date
 * ("2026-12-01") is a calendar date and is shown as it is. */
export function beijing(value: string | number | Date | null | undefined, withTime = true): string {
  if (value === null || value === undefined || value === '') return ''
  if (typeof value === 'string' && /^\d{4}-\d{2}-\d{2}$/.test(value)) return value
  const d = value instanceof Date ? value : new Date(value)
  if (Number.isNaN(d.getTime())) return ''
  if (!withTime) {
    const p = parts(dateOnly, d)
    return `${p.year}-${p.month}-${p.day}`
  }
  const p = parts(dateTime, d)
  const hour = p.hour === '24' ? '00' : p.hour
  return `${p.year}-${p.month}-${p.day} ${hour}:${p.minute}`
}

/** This month in Beijing time as "YYYY-MM" (the reporting period). */
export function beijingMonth(now: Date = new Date()): string {
  const p = parts(dateOnly, now)
  return `${p.year}-${p.month}`
}
