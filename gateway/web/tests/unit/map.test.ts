import { describe, expect, it } from 'vitest'
import { countyRows } from '../../src/map/drill'
import { hasCityMap } from '../../src/map/cities'
import { projectQuery, sortFromTable } from '../../src/projects'

describe('city map drill-down', () => {
  const regions = [
    { code: '411602', name: '川汇区' },
    { code: '411621', name: '扶沟县' },
  ]

  it('puts each county on its region by code, else by name, and leaves the rest off', () => {
    const rows = countyRows(
      regions,
      [
        { id: 't1', code: '411602', name: '川汇区科协' },
        { id: 't2', code: '999999', name: '扶沟县科协' },
        { id: 't3', code: '411699', name: '周口市农学会' },
      ],
      [3, 0, 7],
    )
    expect(rows).toEqual([
      { name: '川汇区', tenant_id: 't1', unit: '川汇区科协', value: 3 },
      { name: '扶沟县', tenant_id: 't2', unit: '扶沟县科协', value: 0 },
    ])
  })

  it('knows which of 河南’s cities the package draws', () => {
    expect(hasCityMap('411600')).toBe(true)
    expect(hasCityMap('419001')).toBe(true)
    expect(hasCityMap('420100')).toBe(false)
  })
})

describe('projects list sorting', () => {
  it('turns a table header click into the API’s sort and order', () => {
    expect(sortFromTable('budget', 'ascending')).toEqual({ prop: 'budget', order: 'asc' })
    expect(sortFromTable('name', 'descending')).toEqual({ prop: 'name', order: 'desc' })
    expect(sortFromTable('name', null)).toBeNull()
    expect(sortFromTable('contact_phone', 'ascending')).toBeNull()
    const q = projectQuery({ q: '', status: '', category: '', scope: 'own' }, 2, 20, { prop: 'budget', order: 'desc' })
    expect(q).toEqual({ limit: 20, offset: 20, sort: 'budget', order: 'desc' })
  })
})
