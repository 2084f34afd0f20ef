export interface FieldDef { key: string; label: string; kind: string; unit: string; required: boolean; source: string }
export interface ReportType { code: string; name: string; period_kind: string; fields: FieldDef[]; builtin: boolean }
export interface Report {
  id: string; type_code: string; period: string; tenant_id: string; tenant_name: string; status: string; status_label: string
  values: Record<string, unknown>; prefilled: boolean; deadline: string; submitted_at: string; on_time: boolean
  return_reason: string; accepted_at: string; version: number; updated_at: string
}
export interface ChildStatus {
  tenant_id: string; name: string; kind: string; status: string; status_label: string; deadline: string
  submitted_at: string; on_time: boolean; overdue: boolean; return_reason: string
}
export interface ChildrenOverview {
  type_code: string; period: string; children: ChildStatus[]; expected: number; submitted: number; on_time: number
  completeness: number; timeliness: number
}
export interface Notification { id: string; kind: string; title: string; body: string; created_at: string; read: boolean }

/** The report type a month's work brief uses: the first monthly type (the built-in one). */
export function monthlyType(types: ReportType[]): ReportType | undefined {
  return types.find((t) => t.period_kind === 'month' && t.builtin) ?? types.find((t) => t.period_kind === 'month')
}
