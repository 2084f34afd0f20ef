// The scheme owner's actions in 考核: which buttons a scheme shows (from its
// ``allowed_actions`` when the API sends them, else by the service's rules: the owner's admin
// computes, allocates and closes an open scheme and publishes a closed one) and the
// allocation table's figures.
import type { Scheme } from './api/modules'
import type { Me } from './stores/session'

export type SchemeAction = 'compute' | 'allocate' | 'close' | 'publish'

export const SCHEME_ACTION_LABEL: Record<SchemeAction, string> = {
  compute: '重新计算得分',
  allocate: '分配任务指标',
  close: '结束考核（冻结结果）',
  publish: '发布考核结果',
}

const ORDER: SchemeAction[] = ['compute', 'allocate', 'close', 'publish']

export function schemeActions(scheme: Scheme & { allowed_actions?: string[] }, me: Me | null): SchemeAction[] {
  if (Array.isArray(scheme.allowed_actions)) {
    const allowed = new Set(scheme.allowed_actions.map((a) => (a === 'set_allocation' ? 'allocate' : a)))
    return ORDER.filter((a) => allowed.has(a))
  }
  if (!me || scheme.owner_tenant_id !== me.tenant_id || !me.roles.includes('admin')) return []
  if (scheme.status === 'open') return ['compute', 'allocate', 'close']
  if (scheme.status === 'closed') return ['publish']
  return []
}

export interface Quota {
  tenant_id: string
  name: string
  quota: number
}

export interface Allocation {
  indicator_code: string
  indicator_name: string
  parent_quota: number
  allocated: number
  quotas: Quota[]
}

/** The children's quotas summed, and whether they cover the owner's own quota (the service
 * refuses an allocation that falls short: 合计不得少于本级指标). */
export function allocationCheck(parentQuota: number, quotas: readonly { quota: number | null | undefined }[]): { sum: number; short: number } {
  const sum = Math.round(quotas.reduce((s, q) => s + (Number(q.quota) || 0), 0) * 100) / 100
  return { sum, short: parentQuota > 0 && sum < parentQuota ? Math.round((parentQuota - sum) * 100) / 100 : 0 }
}
