// Bulk actions on the talent list: the actions every selected record allows (from its
// ``allowed_actions``), what the approve button means for those records, and the per-record
// outcome lines shown after a run.
import type { Talent } from './api/types'
import { talentActions, type TalentAction } from './workflow'

export type BulkAction = 'recommend' | 'approve' | 'reject'
const BULKABLE: readonly BulkAction[] = ['recommend', 'approve', 'reject']

/** The actions all ``rows`` allow (an action one of them refuses is not offered). */
export function bulkActions(rows: readonly Talent[], tenantKind: string): BulkAction[] {
  if (!rows.length) return []
  const sets = rows.map((t) => new Set<TalentAction>(talentActions(t, tenantKind)))
  return BULKABLE.filter((a) => sets.every((s) => s.has(a)))
}

/** What 通过 does to the selected records: a city's opinion on recommended talents, the
 * province's 认定 of reviewed ones (or both kinds in one selection). */
export function bulkLabel(a: BulkAction, rows: readonly Talent[]): string {
  if (a === 'recommend') return '批量推荐'
  if (a === 'reject') return '批量不通过'
  const statuses = new Set(rows.map((t) => t.status))
  if (statuses.size === 1 && statuses.has('recommended')) return '批量同意（出具意见）'
  if (statuses.size === 1 && statuses.has('city_reviewed')) return '批量认定'
  return '批量通过'
}

export interface BulkOutcome {
  id: string
  name: string
  ok: boolean
  message: string
}

/** One line per selected record: its name and the new status or the refusal in Chinese. */
export function outcomes(
  rows: readonly Talent[],
  results: readonly { id: string; ok: boolean; status?: string; error?: string }[],
  statusLabel: Record<string, string>,
): BulkOutcome[] {
  const byId = new Map(results.map((r) => [r.id, r]))
  return rows.map((t) => {
    const r = byId.get(t.id)
    if (!r) return { id: t.id, name: t.fields.name, ok: false, message: '未处理' }
    return {
      id: t.id,
      name: t.fields.name,
      ok: r.ok,
      message: r.ok ? `成功，现为“${statusLabel[r.status ?? ''] ?? r.status}”` : r.error || '失败',
    }
  })
}
