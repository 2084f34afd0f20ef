import { describe, expect, it } from 'vitest'
import { mount } from '@vue/test-utils'
import { createPinia, setActivePinia } from 'pinia'
import ElementPlus from 'element-plus'
import SchemeOwnerPanel from '../../src/components/SchemeOwnerPanel.vue'
import { allocationCheck, schemeActions } from '../../src/scheme'
import { meFromClaims, useSession } from '../../src/stores/session'
import type { Scheme } from '../../src/api/modules'

const scheme = (over: Partial<Scheme & { allowed_actions: string[] }>) =>
  ({ id: 's1', year: 2026, name: '2026年度考核', owner_tenant_id: 'prov', status: 'open', indicators: [], ...over }) as Scheme & { allowed_actions?: string[] }

describe('考核 owner actions', () => {
  it('takes the buttons from allowed_actions, in the screen’s order', () => {
    expect(schemeActions(scheme({ allowed_actions: ['view_results', 'publish', 'compute', 'allocate'] }), null)).toEqual(['compute', 'allocate', 'publish'])
    expect(schemeActions(scheme({ allowed_actions: ['view_results'] }), null)).toEqual([])
  })

  it('falls back to the owner’s admin rules when the API sends none', () => {
    const admin = meFromClaims({ tenant_id: 'prov', realm_access: { roles: ['admin'] } })
    expect(schemeActions(scheme({}), admin)).toEqual(['compute', 'allocate', 'close'])
    expect(schemeActions(scheme({ status: 'closed' }), admin)).toEqual(['publish'])
    expect(schemeActions(scheme({ status: 'open' }), meFromClaims({ tenant_id: 'city', realm_access: { roles: ['admin'] } }))).toEqual([])
  })

  it('says how far an allocation falls short of the owner’s quota', () => {
    expect(allocationCheck(100, [{ quota: 30 }, { quota: 50 }])).toEqual({ sum: 80, short: 20 })
    expect(allocationCheck(100, [{ quota: 60 }, { quota: 50 }])).toEqual({ sum: 110, short: 0 })
    expect(allocationCheck(0, [{ quota: null }])).toEqual({ sum: 0, short: 0 })
  })

  it('shows publish and no allocation form on a closed scheme', () => {
    const pinia = createPinia()
    setActivePinia(pinia)
    useSession().setClaims({ tenant_id: 'prov', realm_access: { roles: ['admin'] } })
    const w = mount(SchemeOwnerPanel, { props: { scheme: scheme({ status: 'closed', allowed_actions: ['publish'] }) }, global: { plugins: [pinia, ElementPlus] } })
    expect(w.findAll('[data-scheme-action]').map((b) => b.text())).toEqual(['发布考核结果'])
    expect(w.find('#alloc-indicator').exists()).toBe(false)
  })
})
