// The tenant's consents list (管理 → 信息授权): one row per consent recorded in the unit's
// subtree, from /api/v1/consents/talents or /projects.
import type { Answer, ItemOf } from './api/answers'
import type { Partner } from './api/modules'

/** A row of either list (a talent's consent carries ``talent_id``, a project's ``project_id``). */
export type TenantConsent =
  | ItemOf<Answer<'/api/v1/consents/talents'>, 'consents'>
  | ItemOf<Answer<'/api/v1/consents/projects'>, 'consents'>
export type ConsentPage = Answer<'/api/v1/consents/talents'> | Answer<'/api/v1/consents/projects'>

export type ConsentKind = 'talents' | 'projects'

/** 有效 / 已撤回 / 已到期: a consent not live and not revoked has expired. */
export function consentState(c: Pick<TenantConsent, 'live' | 'revoked_at'>): { label: string; type: 'success' | 'info' | 'warning' } {
  if (c.revoked_at) return { label: '已撤回', type: 'info' }
  if (c.live) return { label: '有效', type: 'success' }
  return { label: '已到期', type: 'warning' }
}

/** The partner's name when the unit registered it, else its client id (a partner an ancestor
 * registered is not in this unit's list). */
export function partnerName(clientId: string, partners: readonly Pick<Partner, 'client_id' | 'name'>[]): string {
  return partners.find((p) => p.client_id === clientId)?.name ?? clientId
}
