import { describe, expect, it } from 'vitest'
import { mount } from '@vue/test-utils'
import { createPinia, setActivePinia } from 'pinia'
import ElementPlus from 'element-plus'
import TalentActions from '../../src/components/TalentActions.vue'
import { useSession } from '../../src/stores/session'

describe('TalentActions', () => {
  it('shows one button per allowed action, labelled in Chinese', () => {
    const pinia = createPinia()
    setActivePinia(pinia)
    useSession().setClaims({ preferred_username: 'u', tenant_kind: 'province', realm_access: { roles: ['admin'] } })
    const w = mount(TalentActions, {
      props: { talent: { id: '1', status: 'certified', fields: { name: '李四' }, allowed_actions: ['suspend', 'revoke'] } as never },
      global: { plugins: [pinia, ElementPlus] },
    })
    const labels = w.findAll('button').map((b) => b.text())
    expect(labels).toEqual(['暂停', '撤销', '推荐表'])
    expect(w.find('[data-action="revoke"]').exists()).toBe(true)
  })
})
