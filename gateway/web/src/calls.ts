// The 申报批次 screens' rules: what the signed-in unit may do with a call, an expert's weighted
// total and the selection. The calls' and ranking's shapes are the routes' generated answers.
import type { Answer, ItemOf } from './api/answers'
import type { Me } from './stores/session'

export type CallDetail = Answer<'/api/v1/calls/{call_id}'>
export type Criterion = ItemOf<CallDetail, 'criteria'>
export type Ranking = Answer<'/api/v1/calls/{call_id}/ranking'>
export type RankingEntry = ItemOf<Ranking, 'entries'>
export type ExpertScore = Answer<'/api/v1/calls/{call_id}/scores', 'post'>

export const PROGRAMMES = ['现代农业科普园', '科普示范社区', '农村中学科技馆', 'i科普科技志愿服务', '中原科普讲坛', '科普教育基地']

export type CallAction = 'close' | 'score' | 'ranking' | 'select'

export const CALL_ACTION_LABEL: Record<CallAction, string> = {
  close: '截止申报',
  score: '专家评分',
  ranking: '评审排名',
  select: '择优立项',
}

/** What the signed-in unit may do with a call, by the service's rules: only the publishing
 * unit sees the ranking; its admins close filing and select, its admins and 审核员 (the
 * experts' accounts) score. A unit below only files into the call. */
export function callActions(call: Pick<CallDetail, 'owner_tenant_id' | 'open'>, me: Me | null): CallAction[] {
  if (!me || call.owner_tenant_id !== me.tenant_id) return []
  const admin = me.roles.includes('admin')
  const reviewer = admin || me.roles.includes('reviewer')
  const out: CallAction[] = []
  if (admin && call.open) out.push('close')
  out.push('ranking')
  if (reviewer) out.push('score')
  if (admin) out.push('select')
  return out
}

/** The expert's total as the service computes it: the criteria's scores weighted by their
 * normalised weights (weights need not add up to 100). NaN while a score is missing. */
export function weightedTotal(criteria: readonly Criterion[], scores: Record<string, number | null | undefined>): number {
  const sum = criteria.reduce((s, c) => s + (Number(c.weight) || 0), 0)
  if (!criteria.length || sum <= 0) return NaN
  let total = 0
  for (const c of criteria) {
    const v = scores[c.name]
    if (v === null || v === undefined || Number.isNaN(Number(v))) return NaN
    total += (Number(v) * c.weight) / sum
  }
  return Math.round(total * 100) / 100
}

/** The form's criteria, cleaned: blank rows dropped, weights as numbers. */
export function cleanCriteria(rows: readonly { name: string; weight: number | string | null }[]): Criterion[] {
  return rows.filter((r) => r.name.trim()).map((r) => ({ name: r.name.trim(), weight: Number(r.weight) || 0 }))
}

/** How many projects a selection takes: the remaining quota when ``topN`` is 0 (the service's
 * default), bounded by the projects that are eligible. */
export function selectionSize(call: Pick<CallDetail, 'quota' | 'approved'>, eligible: number, topN: number): number {
  const remaining = call.quota > 0 ? Math.max(call.quota - call.approved, 0) : eligible
  const wanted = topN > 0 ? Math.min(topN, remaining) : remaining
  return Math.min(wanted, eligible)
}
