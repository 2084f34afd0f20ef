// Shapes of the API's answers. Routes with a response_model come from the generated schema;
// the talent and reporting routes still answer plain dicts, so their shapes are written here
// from the proto messages (kepu/talent/v1, kepu/reporting/v1).
import type { components } from './schema'

export type Tenant = components['schemas']['TenantOut']
export type User = components['schemas']['UserOut']

export interface TalentFields {
  name: string
  gender: string
  birth_month: string
  ethnicity: string
  political_status: string
  education: string
  industry: string
  specialty: string
  employer: string
  position: string
  phone: string
  email: string
  im_account: string
  categories: string[]
  biography: string
  experience: string
  plan: string
  id_number: string
}

export interface ReviewStep {
  step: string
  from_status: string
  to_status: string
  opinion: string
  actor: string
  actor_username: string
  actor_tenant_path: string
  at: string
}

export interface Talent {
  id: string
  tenant_id: string
  tenant_path: string
  tenant_name: string
  status: string
  status_label: string
  fields: TalentFields
  revealed: boolean
  age: number
  recommend_opinion: string
  city_opinion: string
  province_opinion: string
  reject_reason: string
  certificate_no: string
  certified_at: string
  source: string
  created_at: string
  updated_at: string
  history: ReviewStep[]
  /** From the owning domain (issue 9); absent on an older API. */
  allowed_actions?: string[]
}

export interface TalentPage {
  talents: Talent[]
  total: number
  page: number
  page_size: number
}

export interface TenantQuota {
  tenant_id: string
  code: string
  name: string
  kind: string
  path: string
  quota: number
  certified: number
  pending: number
  progress: number
}

export interface TalentStats {
  own: TenantQuota
  children: TenantQuota[]
}

export interface RowError {
  row: number
  column: string
  field: string
  message: string
  label?: string
  name?: string
}

export interface ImportJob {
  id: string
  status: string
  layout: string
  mode: string
  total: number
  processed: number
  inserted: number
  error_count: number
  errors: RowError[]
  message: string
  created_at: string
  finished_at: string
  filename: string
}

export const CATEGORIES = [
  '青少年科普',
  '农村科普',
  '社区科普',
  '园区科普',
  '公务员科普',
  '服务双创',
  '服务精准扶贫',
  '科普创作',
  '其他',
] as const

export const TALENT_STATUS: Record<string, string> = {
  draft: '草稿',
  recommended: '已推荐',
  city_reviewed: '市级已审',
  certified: '已认定',
  rejected: '未通过',
  suspended: '已暂停',
  revoked: '已撤销',
}
