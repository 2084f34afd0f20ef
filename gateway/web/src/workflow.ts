// Which buttons a talent shows. The owning domain says it in the record's ``allowed_actions``;
// while an API does not send them yet, the buttons of the record's state are offered and the
// server, which alone decides, answers a refusal in Chinese.
import type { Talent } from './api/types'

export type TalentAction = 'edit' | 'recommend' | 'approve' | 'reject' | 'suspend' | 'reinstate' | 'revoke'

export const ACTION_LABEL: Record<TalentAction, string> = {
  edit: '修改',
  recommend: '推荐',
  approve: '通过',
  reject: '不通过',
  suspend: '暂停',
  reinstate: '恢复',
  revoke: '撤销',
}

const REVIEW_ALIASES = new Set(['review', 'city_opinion', 'province_review', 'certify'])

export function talentActions(t: Talent, tenantKind: string): TalentAction[] {
  if (Array.isArray(t.allowed_actions)) {
    const out = new Set<TalentAction>()
    for (const a of t.allowed_actions) {
      if (REVIEW_ALIASES.has(a)) {
        out.add('approve')
        out.add('reject')
      } else if (a in ACTION_LABEL) out.add(a as TalentAction)
    }
    return [...out]
  }
  const owner = ['county', 'society', 'township'].includes(tenantKind)
  switch (t.status) {
    case 'draft':
      return owner ? ['edit', 'recommend'] : []
    case 'recommended':
      return tenantKind === 'city' || tenantKind === 'province' ? ['approve', 'reject'] : []
    case 'city_reviewed':
      return tenantKind === 'province' ? ['approve', 'reject'] : []
    case 'certified':
      return tenantKind === 'province' ? ['suspend', 'revoke'] : []
    case 'suspended':
      return tenantKind === 'province' ? ['reinstate', 'revoke'] : []
    default:
      return []
  }
}

/** The statuses whose talents wait for this tenant's action, for the to-do list. */
export function todoStatuses(tenantKind: string, canReview: boolean): { status: string; text: string }[] {
  if (['county', 'society'].includes(tenantKind)) return [{ status: 'draft', text: '待推荐（草稿）' }]
  if (!canReview) return []
  if (tenantKind === 'city') return [{ status: 'recommended', text: '待出具市级意见' }]
  if (tenantKind === 'province')
    return [
      { status: 'city_reviewed', text: '待省级资格审核' },
      { status: 'recommended', text: '已推荐（学会直报或待市级意见）' },
    ]
  return []
}

/** What an action needs in its dialog: an opinion (optional or required) or a reason. */
export function actionPrompt(a: TalentAction): { label: string; required: boolean } | null {
  switch (a) {
    case 'recommend':
      return { label: '推荐意见', required: true }
    case 'approve':
      return { label: '审核意见', required: false }
    case 'reject':
      return { label: '不通过的理由', required: true }
    case 'suspend':
      return { label: '暂停的理由', required: true }
    case 'reinstate':
      return { label: '恢复的说明', required: true }
    case 'revoke':
      return { label: '撤销的理由', required: true }
    default:
      return null
  }
}
