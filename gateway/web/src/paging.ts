// Paging a list the API answers whole (activities come by period, up to the API's limit).

/** Rows of page ``page`` (1-based) of ``rows``. */
export function pageOf<T>(rows: readonly T[], page: number, pageSize: number): T[] {
  const start = (Math.max(page, 1) - 1) * pageSize
  return rows.slice(start, start + pageSize)
}

/** The activities' order on screen: the latest date first, then the latest recorded. */
export function byDateDesc<T extends { date: string; created_at: string }>(rows: readonly T[]): T[] {
  return [...rows].sort((a, b) => b.date.localeCompare(a.date) || b.created_at.localeCompare(a.created_at))
}
