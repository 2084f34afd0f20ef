// Shapes of the projects, activities, assessment and partner answers, from the generated
// schema (each route's response model is its proto message); the partners' are still written
// out here from kepu/identity/v1.
import type { components } from './schema'
import type { Answer, ItemOf } from './answers'

type Schemas = components['schemas']

export type Project = Answer<'/api/v1/projects/{project_id}'>
export type ProjectPage = Answer<'/api/v1/projects'>
/** What the 入库表 form edits (all text; the budget is sent as null when left blank). */
export type ProjectFields = Pick<
  Project,
  | 'name' | 'applicant_unit' | 'completing_unit' | 'contact_person' | 'contact_phone' | 'category'
  | 'start_month' | 'end_month' | 'content' | 'expected_performance' | 'budget' | 'call_id'
>
export type Call = ItemOf<Answer<'/api/v1/calls'>, 'calls'>
/** A consent on one project (its 信息授权 tab). */
export type Consent = Answer<'/api/v1/projects/{project_id}/consents'>[number]
export type Activity = ItemOf<Answer<'/api/v1/activities'>, 'activities'>
export type ActivityPage = Answer<'/api/v1/activities'>

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
