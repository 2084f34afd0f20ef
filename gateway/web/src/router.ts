// Client routes, each screen loaded on first visit; every route but the sign-in pages needs a user.
import { createRouter, createWebHistory, type RouteRecordRaw } from 'vue-router'
import { claimsOf, currentUser, signIn } from './auth'
import { useSession } from './stores/session'

// ``admin``: shown to a tenant's administrators only (the API refuses the others anyway).
export const menu: { path: string; title: string; icon: string; admin?: boolean }[] = [
  { path: '/', title: '首页', icon: 'HomeFilled' },
  { path: '/talents', title: '人才库', icon: 'UserFilled' },
  { path: '/volunteers', title: '科技志愿者', icon: 'Medal' },
  { path: '/reports', title: '报表', icon: 'Document' },
  { path: '/plans', title: '工作要点', icon: 'List' },
  { path: '/stations', title: 'e站', icon: 'Location' },
  { path: '/projects', title: '重点项目', icon: 'Folder' },
  { path: '/calls', title: '申报批次', icon: 'Tickets' },
  { path: '/resources', title: '科普资源库', icon: 'Collection' },
  { path: '/bases', title: '科普基地', icon: 'School' },
  { path: '/activities', title: '科普活动', icon: 'Calendar' },
  { path: '/assessment', title: '年度考核', icon: 'TrendCharts' },
  { path: '/partners', title: '合作机构', icon: 'OfficeBuilding', admin: true },
  { path: '/admin', title: '管理', icon: 'Setting' },
]

const routes: RouteRecordRaw[] = [
  { path: '/callback', component: () => import('./views/CallbackView.vue'), meta: { public: true } },
  { path: '/logged-out', component: () => import('./views/LoggedOutView.vue'), meta: { public: true } },
  {
    path: '/',
    component: () => import('./layouts/AppLayout.vue'),
    children: [
      { path: '', component: () => import('./views/HomeView.vue'), meta: { title: '首页' } },
      { path: 'talents', component: () => import('./views/TalentsView.vue'), meta: { title: '人才库' } },
      {
        path: 'talents/:id',
        component: () => import('./views/TalentDetailView.vue'),
        meta: { title: '人才详情', parent: { path: '/talents', title: '人才库' } },
      },
      { path: 'volunteers', component: () => import('./views/VolunteersView.vue'), meta: { title: '科技志愿者' } },
      { path: 'reports', component: () => import('./views/ReportsView.vue'), meta: { title: '报表' } },
      { path: 'plans', component: () => import('./views/PlansView.vue'), meta: { title: '工作要点' } },
      { path: 'stations', component: () => import('./views/StationsView.vue'), meta: { title: 'e站' } },
      { path: 'projects', component: () => import('./views/ProjectsView.vue'), meta: { title: '重点项目' } },
      {
        path: 'projects/:id',
        component: () => import('./views/ProjectDetailView.vue'),
        meta: { title: '项目详情', parent: { path: '/projects', title: '重点项目' } },
      },
      { path: 'calls', component: () => import('./views/CallsView.vue'), meta: { title: '申报批次' } },
      {
        path: 'calls/:id',
        component: () => import('./views/CallDetailView.vue'),
        meta: { title: '批次详情', parent: { path: '/calls', title: '申报批次' } },
      },
      { path: 'resources', component: () => import('./views/ResourcesView.vue'), meta: { title: '科普资源库' } },
      { path: 'bases', component: () => import('./views/BasesView.vue'), meta: { title: '科普基地' } },
      { path: 'activities', component: () => import('./views/ActivitiesView.vue'), meta: { title: '科普活动' } },
      { path: 'assessment', component: () => import('./views/AssessmentView.vue'), meta: { title: '年度考核' } },
      { path: 'partners', component: () => import('./views/PartnersView.vue'), meta: { title: '合作机构' } },
      { path: 'admin', component: () => import('./views/AdminView.vue'), meta: { title: '管理' } },
      { path: ':rest(.*)*', component: () => import('./views/NotFoundView.vue'), meta: { title: '页面不存在' } },
    ],
  },
]

export const router = createRouter({ history: createWebHistory(import.meta.env.BASE_URL), routes })

router.beforeEach(async (to) => {
  if (to.meta.public) return true
  const user = await currentUser()
  if (!user) {
    await signIn(to.fullPath)
    return false
  }
  const session = useSession()
  if (!session.me) session.setClaims(claimsOf(user.access_token))
  return true
})

router.afterEach((to) => {
  const title = to.meta.title as string | undefined
  document.title = title ? `${title} - 科普云服务平台` : '科普云服务平台'
})
