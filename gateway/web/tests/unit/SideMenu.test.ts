import { describe, expect, it } from 'vitest'
import { mount } from '@vue/test-utils'
import { createPinia, setActivePinia } from 'pinia'
import { createMemoryHistory, createRouter } from 'vue-router'
import ElementPlus from 'element-plus'
import SideMenu from '../../src/components/SideMenu.vue'
import { useSession } from '../../src/stores/session'

function menuFor(kind: string, roles = ['admin']): string[] {
  const pinia = createPinia()
  setActivePinia(pinia)
  useSession().setClaims({ preferred_username: 'u', tenant_kind: kind, realm_access: { roles } })
  const router = createRouter({ history: createMemoryHistory(), routes: [{ path: '/:p(.*)*', component: { template: '<div />' } }] })
  const w = mount(SideMenu, { global: { plugins: [pinia, router, ElementPlus] } })
  return w.findAll('li').map((li) => li.text())
}

describe('SideMenu', () => {
  it('offers the plans and e站 screens to a city', () => {
    expect(menuFor('city')).toEqual(expect.arrayContaining(['工作要点', 'e站', '人才库']))
    expect(menuFor('county', ['reporter'])).toContain('科技志愿者')
  })

  it('offers the projects, activities and assessment screens to everyone, partners to admins only', () => {
    expect(menuFor('county', ['reporter'])).toEqual(expect.arrayContaining(['重点项目', '科普活动', '年度考核']))
    expect(menuFor('county', ['reporter'])).not.toContain('合作机构')
    expect(menuFor('province')).toContain('合作机构')
  })

  it('offers a member department its to-dos and plan tasks only', () => {
    expect(menuFor('department')).toEqual(['首页', '工作要点'])
  })
})
