import { describe, expect, it } from 'vitest'
import { mount } from '@vue/test-utils'
import { createPinia, setActivePinia } from 'pinia'
import ElementPlus from 'element-plus'
import BulkTalentActions from '../../src/components/BulkTalentActions.vue'
import { bulkActions, bulkLabel, outcomes } from '../../src/bulk'
import { TALENT_STATUS, type Talent } from '../../src/api/types'
import { useSession } from '../../src/stores/session'

const talent = (id: string, name: string, status: string, allowed: string[]) =>
  ({ id, status, fields: { name }, allowed_actions: allowed }) as unknown as Talent

describe('bulk talent actions', () => {
  const a = talent('1', '张三', 'recommended', ['review'])
  const b = talent('2', '李四', 'recommended', ['review'])
  const c = talent('3', '王五', 'draft', ['edit', 'recommend'])

  it('offers only what every selected record allows', () => {
    expect(bulkActions([a, b], 'city')).toEqual(['approve', 'reject'])
    expect(bulkActions([c], 'county')).toEqual(['recommend'])
    expect(bulkActions([a, c], 'city')).toEqual([])
    expect(bulkActions([], 'city')).toEqual([])
  })

  it('names the approve step after the records’ state', () => {
    expect(bulkLabel('approve', [a, b])).toBe('批量同意（出具意见）')
    expect(bulkLabel('approve', [talent('4', '赵六', 'city_reviewed', ['certify'])])).toBe('批量认定')
    expect(bulkLabel('reject', [a])).toBe('批量不通过')
  })

  it('gives one line per record with its new status or the refusal', () => {
    const lines = outcomes([a, b], [{ id: '1', ok: true, status: 'city_reviewed' }, { id: '2', ok: false, error: '该人才已被其他人审核。' }], TALENT_STATUS)
    expect(lines).toEqual([
      { id: '1', name: '张三', ok: true, message: '成功，现为“市级已审”' },
      { id: '2', name: '李四', ok: false, message: '该人才已被其他人审核。' },
    ])
  })

  it('shows the common actions as buttons for the selection', () => {
    const pinia = createPinia()
    setActivePinia(pinia)
    useSession().setClaims({ preferred_username: 'u', tenant_kind: 'city', realm_access: { roles: ['admin'] } })
    const w = mount(BulkTalentActions, { props: { selected: [a, b] }, global: { plugins: [pinia, ElementPlus] } })
    expect(w.findAll('[data-bulk]').map((x) => x.text())).toEqual(['批量同意（出具意见）', '批量不通过'])
    expect(w.text()).toContain('已选 2 人')
  })
})
