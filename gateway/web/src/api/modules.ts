// Shapes of the projects, activities, assessment and partner answers. Assessment and work
// plans come from the generated schema (each route's response model is its proto message);
// the others are still written out here from kepu/projects/v1, kepu/reporting/v1 and
// kepu/identity/v1.
import type { components } from './schema'

type Schemas = components['schemas']

export interface ProjectFields {
  name: string
  applicant_unit: string
  completing_unit: string
  contact_person: string
  contact_phone: string
  category: string
  start_month: string
  end_month: string
  content: string
  expected_performance: string
  budget: string
  call_id: string
}

export interface Opinion {
  tenant_id: string
  tenant_name: string
  decision: string
  opinion: string
  actor: string
  created_at: string
}

export interface Progress {
  content: string
  percent: number
  actor: string
  created_at: string
}

export interface Project extends ProjectFields {
  id: string
  tenant_id: string
  tenant_name: string
  phone_revealed: boolean
  category_label: string
  call_title: string
  programme: string
  status: string
  status_label: string
  submitted_at: string
  approved_at: string
  library_no: string
  reject_reason: string
  completed_at: string
  evaluation_score: number
  evaluation_grade: string
  evaluation_comment: string
  award_recommended: boolean
  opinions: Opinion[]
  progress: Progress[]
  created_at: string
  updated_at: string
  completion_summary: string
  returned_at: string
  return_reason: string
  allowed_actions: string[]
}

export interface ProjectPage {
  projects: Project[]
  total: number
}

export interface Call {
  id: string
  owner_name: string
  title: string
  programme: string
  year: number
  deadline: string
  quota: number
  open: boolean
}

export interface Consent {
  id: string
  partner_client_id: string
  purpose: string
  expires_at: string
  created_at: string
  created_by: string
  revoked_at: string
  live: boolean
}

export interface Activity {
  id: string
  tenant_id: string
  title: string
  date: string
  place: string
  form: string
  target: string
  participants: number | string
  talents: string[]
  created_at: string
}

export type Scheme = Schemas['AssessmentScheme']
export type IndicatorScore = Schemas['AssessmentIndicatorScore']
export type AssessmentResult = Schemas['AssessmentResult']
export type Results = Schemas['AssessmentResultsResponse']

export type Plan = Schemas['AssessmentPlan']
export type PlanTask = Schemas['AssessmentTask']
export type PlanProgress = Schemas['AssessmentProgress']
export type EvidenceFile = Schemas['AssessmentEvidenceFile']
export type PlanTodo = Schemas['AssessmentTodoItem']

export interface Partner {
  client_id: string
  name: string
  tenant_name: string
  scopes: string[]
  webhook_url: string
  events: string[]
  enabled: boolean
  created_at: string
  secret_rotated_at: string
}

export interface PartnerCredentials {
  partner: Partner
  client_secret: string
  webhook_secret?: string
  notice: string
}

export const PROJECT_STATUS: Record<string, string> = {
  draft: '草稿',
  submitted: '已申报（逐级审核中）',
  returned: '已退回修改',
  expert_review: '专家评审中',
  approved: '已入库立项',
  rejected: '未通过',
  in_progress: '实施中',
  completed: '已完成',
  evaluated: '已考核',
}

export const PROJECT_CATEGORY: Record<string, string> = {
  activity: '科普活动',
  creation: '科普创作',
  facility: '科普设施建设',
  other: '其他',
}

export const ACTIVITY_FORMS = ['报告', '讲座', '培训', '咨询', '推广', '展览', '竞赛', '创客大赛', '文艺演出', '影片放映', '其他']
export const ACTIVITY_TARGETS = ['进校园', '进乡村', '进社区', '进园区/企业', '进机关', '其他']

export const PARTNER_SCOPES: Record<string, string> = {
  'partner:talents:read': '读取已授权的科普人才',
  'partner:projects:read': '读取已授权的重点项目',
  'partner:financing:write': '回传融资结果',
}
export const PARTNER_EVENTS: Record<string, string> = {
  'talent.certified': '人才认定',
  'talent.revoked': '人才撤销',
  'project.approved': '项目入库',
}
