import { describe, expect, it } from 'vitest'
import type { Talent } from '../../src/api/types'
import { meFromClaims } from '../../src/stores/session'
import { talentActions, todoStatuses } from '../../src/workflow'

const talent = (status: string, allowed?: string[]): Talent =>
  ({ id: '1', status, fields: { name: '张三' }, allowed_actions: allowed }) as unknown as Talent

describe('talent buttons', () => {
  it('come from allowed_actions when the API sends them', () => {
    expect(talentActions(talent('recommended', ['city_opinion']), 'city')).toEqual(['approve', 'reject'])
    expect(talentActions(talent('certified', ['suspend', 'revoke']), 'province')).toEqual(['suspend', 'revoke'])
    // The record says nothing may be done: no button, whatever the state suggests.
    expect(talentActions(talent('draft', []), 'county')).toEqual([])
  })
  it("fall back to the record's state while the API has no allowed_actions", () => {
    expect(talentActions(talent('draft'), 'county')).toEqual(['edit', 'recommend'])
    expect(talentActions(talent('draft'), 'city')).toEqual([])
    expect(talentActions(talent('city_reviewed'), 'province')).toEqual(['approve', 'reject'])
  })
})

describe('to-do list', () => {
  it('asks each level for the talents waiting for it', () => {
    expect(todoStatuses('county', true).map((t) => t.status)).toEqual(['draft'])
    expect(todoStatuses('city', true).map((t) => t.status)).toEqual(['recommended'])
    expect(todoStatuses('city', false)).toEqual([])
  })
})

describe('session', () => {
  it('reads the tenant and roles from the token, without Keycloak default roles', () => {
    const me = meFromClaims({
      preferred_username: 'kx411300',
      tenant_id: 't1',
      tenant_kind: 'city',
      tenant_name: '南阳市科协',
      realm_access: { roles: ['admin', 'default-roles-kepu', 'offline_access'] },
    })
    expect(me).toMatchObject({ username: 'kx411300', tenant_kind: 'city', roles: ['admin'] })
  })
})
