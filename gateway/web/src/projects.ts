// The key-project screens' rules: which buttons a project shows (from the record's
// ``allowed_actions``, which the projects service computes with the same checks its use cases
// make), what a review decision needs, and the list's query.

export type ProjectAction = 'edit' | 'submit' | 'review' | 'report_progress' | 'complete' | 'evaluate' | 'flag_award'

export const PROJECT_ACTION_LABEL: Record<ProjectAction, string> = {
  edit: '修改',
  submit: '申报',
  review: '审核',
  report_progress: '报送进展',
  complete: '申请结项',
  evaluate: '项目考核',
  flag_award: '推荐参评成果奖',
}

/** The buttons a project shows, in the service's order; an action the portal has no screen
 * for yet is left out rather than guessed at. */
export function projectActions(allowed: readonly string[] | undefined): ProjectAction[] {
  return (allowed ?? []).filter((a): a is ProjectAction => a in PROJECT_ACTION_LABEL)
}

export const DECISION_LABEL: Record<string, string> = { pass: '通过', fail: '不通过', return: '退回修改' }

/** A refusal or a return needs its reason (the service says so too; the form marks it first). */
export function reviewNeedsReason(decision: string): boolean {
  return decision === 'fail' || decision === 'return'
}

export interface ProjectFilters {
  q: string
  status: string
  category: string
  scope: 'own' | 'subtree' | 'awaiting'
}

/** A table column the server sorts the list by (``sort``/``order`` of /api/v1/projects). */
export const PROJECT_SORTS = ['updated_at', 'submitted_at', 'created_at', 'name', 'status', 'category', 'budget', 'tenant_name'] as const
export type ProjectSort = { prop: (typeof PROJECT_SORTS)[number]; order: 'asc' | 'desc' }

/** el-table's sort-change ({prop, order: 'ascending' | 'descending' | null}) as the API's
 * sort; null (the server's default, latest update first) when the column has no server sort. */
export function sortFromTable(prop: string | null | undefined, order: string | null | undefined): ProjectSort | null {
  if (!prop || !order || !(PROJECT_SORTS as readonly string[]).includes(prop)) return null
  return { prop: prop as ProjectSort['prop'], order: order === 'ascending' ? 'asc' : 'desc' }
}

/** The /api/v1/projects query of a page (limit/offset paging and sorting on the server). */
export function projectQuery(f: ProjectFilters, page: number, pageSize: number, sort: ProjectSort | null = null): Record<string, string | number | boolean> {
  const q: Record<string, string | number | boolean> = { limit: pageSize, offset: (Math.max(page, 1) - 1) * pageSize }
  if (sort) {
    q.sort = sort.prop
    q.order = sort.order
  }
  if (f.q.trim()) q.q = f.q.trim()
  if (f.status) q.status = f.status
  if (f.category) q.category = f.category
  if (f.scope === 'subtree') q.subtree = true
  if (f.scope === 'awaiting') {
    q.awaiting_me = true
    q.subtree = true
  }
  return q
}

/** "¥12,345.00" for a budget in yuan, "未填" when none was given. */
export function yuan(budget: string | number | null | undefined): string {
  if (budget === '' || budget === null || budget === undefined) return '未填'
  const n = Number(budget)
  if (!Number.isFinite(n)) return String(budget)
  return `¥${n.toLocaleString('zh-CN', { minimumFractionDigits: 2, maximumFractionDigits: 2 })}`
}
