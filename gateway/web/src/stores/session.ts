// Who is signed in: the token's claims (tenant, roles) and the tenant record.
import { defineStore } from 'pinia'
import { api } from '../api/client'
import type { Tenant } from '../api/types'

export interface Me {
  username: string
  name: string
  tenant_id: string
  tenant_path: string
  tenant_kind: string
  tenant_name: string
  roles: string[]
}

export function meFromClaims(claims: Record<string, unknown>): Me {
  const realm = (claims.realm_access as { roles?: string[] } | undefined)?.roles
  const roles = (Array.isArray(claims.roles) ? (claims.roles as string[]) : realm) ?? []
  return {
    username: String(claims.preferred_username ?? claims.sub ?? ''),
    name: String(claims.name ?? claims.preferred_username ?? ''),
    tenant_id: String(claims.tenant_id ?? ''),
    tenant_path: String(claims.tenant_path ?? ''),
    tenant_kind: String(claims.tenant_kind ?? ''),
    tenant_name: String(claims.tenant_name ?? ''),
    roles: roles.filter((r) => !r.startsWith('default-roles') && r !== 'offline_access' && r !== 'uma_authorization'),
  }
}

export const ROLE_LABEL: Record<string, string> = {
  admin: '管理员',
  reviewer: '审核员',
  reporter: '填报员',
  viewer: '查看者',
  platform_admin: '平台管理员',
}

export const useSession = defineStore('session', {
  state: () => ({ me: null as Me | null, tenant: null as Tenant | null }),
  getters: {
    isAdmin: (s) => !!s.me && (s.me.roles.includes('admin') || s.me.roles.includes('platform_admin')),
    canReview: (s) => !!s.me && s.me.roles.some((r) => ['admin', 'reviewer', 'platform_admin'].includes(r)),
    tenantName: (s) => s.tenant?.name || s.me?.tenant_name || '',
  },
  actions: {
    setClaims(claims: Record<string, unknown>) {
      this.me = meFromClaims(claims)
    },
    async loadTenant() {
      this.tenant = await api<Tenant>('/api/v1/tenants/me')
    },
  },
})
