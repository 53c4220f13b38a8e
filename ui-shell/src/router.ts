import { createRouter, createWebHistory, type RouteRecordRaw } from 'vue-router'
import { useSession } from './stores/session'
import StaffLayout from './layouts/StaffLayout.vue'
import LoginPage from './pages/LoginPage.vue'
import HomePage from './pages/HomePage.vue'
import InboxPage from './pages/InboxPage.vue'

// The workbench's first pages are in the main bundle; the task page, the
// admin console, plugin pages and the public portal load on demand.
const routes: RouteRecordRaw[] = [
  { path: '/login', component: LoginPage, meta: { public: true } },
  { path: '/portal', component: () => import('./portal/PortalHome.vue'), meta: { public: true } },
  { path: '/portal/plugins/:plugin/:rest(.*)*', component: () => import('./portal/PortalPluginPage.vue'), meta: { public: true } },
  { path: '/verify/:id?', component: () => import('./portal/VerifyPage.vue'), meta: { public: true } },
  {
    path: '/',
    component: StaffLayout,
    children: [
      { path: '', redirect: '/workbench' },
      { path: 'workbench', component: HomePage },
      { path: 'workbench/inbox/:box?', component: InboxPage },
      { path: 'workbench/tasks/:id', component: () => import('./pages/TaskPage.vue') },
      { path: 'workbench/instances/:id', component: () => import('./pages/InstancePage.vue') },
      { path: 'workbench/start', component: () => import('./pages/StartPage.vue') },
      { path: 'messages', component: () => import('./pages/MessagesPage.vue') },
      { path: 'profile', component: () => import('./pages/ProfilePage.vue') },
      { path: 'plugins/:plugin/:rest(.*)*', component: () => import('./pages/PluginPage.vue') },
      { path: 'admin/plugins', component: () => import('./admin/PluginsPage.vue') },
      { path: 'admin/processes', component: () => import('./admin/ProcessesPage.vue') },
      { path: 'admin/calendars', component: () => import('./admin/CalendarsPage.vue') },
      { path: 'admin/audit', component: () => import('./admin/AuditPage.vue') },
      { path: 'admin/dicts', component: () => import('./admin/DictsPage.vue') },
      { path: 'admin/users', component: () => import('./admin/UsersPage.vue') },
      { path: 'admin/orgs', component: () => import('./admin/OrgsPage.vue'), meta: { permission: 'org.read' } },
      { path: 'admin/roles', component: () => import('./admin/RolesPage.vue'), meta: { permission: 'roles.manage' } },
      { path: 'admin/sessions', component: () => import('./admin/SessionsPage.vue') },
      { path: 'admin/policies', component: () => import('./admin/PoliciesPage.vue') },
    ],
  },
  { path: '/:pathMatch(.*)*', redirect: '/workbench' },
]

export const router = createRouter({ history: createWebHistory(), routes })

router.beforeEach(async (to) => {
  if (to.meta.public) return true
  const s = useSession()
  if (!s.checked) await s.load()
  if (!s.signedIn || s.me?.audience !== 'staff') return { path: '/login', query: { return: to.fullPath } }
  // A page gated by a permission (meta.permission) is the workbench for others.
  if (typeof to.meta.permission === 'string' && !s.can(to.meta.permission)) return { path: '/workbench' }
  return true
})
