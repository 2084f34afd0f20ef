import { describe, expect, it } from 'vitest'
import { callActions, cleanCriteria, selectionSize, weightedTotal } from '../../src/calls'
import { meFromClaims } from '../../src/stores/session'

const me = (tenant: string, roles: string[]) => meFromClaims({ preferred_username: 'u', tenant_id: tenant, realm_access: { roles } })

describe('申报批次 rules', () => {
  const call = { owner_tenant_id: 'city', open: true }

  it('gives the publishing unit its actions by role and a unit below none', () => {
    expect(callActions(call, me('city', ['admin']))).toEqual(['close', 'ranking', 'score', 'select'])
    expect(callActions(call, me('city', ['reviewer']))).toEqual(['ranking', 'score'])
    expect(callActions(call, me('city', ['viewer']))).toEqual(['ranking'])
    expect(callActions({ ...call, open: false }, me('city', ['admin']))).toEqual(['ranking', 'score', 'select'])
    expect(callActions(call, me('county', ['admin']))).toEqual([])
    expect(callActions(call, null)).toEqual([])
  })

  it('weights an expert’s scores as the service does, and waits for every criterion', () => {
    const criteria = [
      { name: '科学性', weight: 40 },
      { name: '创新性', weight: 60 },
    ]
    expect(weightedTotal(criteria, { 科学性: 90, 创新性: 70 })).toBe(78)
    // weights need not add up to 100
    expect(weightedTotal([{ name: 'a', weight: 1 }, { name: 'b', weight: 3 }], { a: 80, b: 100 })).toBe(95)
    expect(weightedTotal(criteria, { 科学性: 90 })).toBeNaN()
  })

  it('drops blank criteria rows and selects within the remaining quota', () => {
    expect(cleanCriteria([{ name: ' 科学性 ', weight: '30' }, { name: '', weight: 10 }])).toEqual([{ name: '科学性', weight: 30 }])
    expect(selectionSize({ quota: 5, approved: 3 }, 4, 0)).toBe(2)
    expect(selectionSize({ quota: 5, approved: 3 }, 4, 1)).toBe(1)
    expect(selectionSize({ quota: 0, approved: 0 }, 4, 0)).toBe(4)
    expect(selectionSize({ quota: 10, approved: 0 }, 2, 8)).toBe(2)
  })
})
