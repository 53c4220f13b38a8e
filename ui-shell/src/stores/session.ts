import { defineStore } from 'pinia'
import { ApiError, get, hasCsrf, post, setCsrf, type Identity } from '../api'

export const useSession = defineStore('session', {
  state: () => ({ me: null as Identity | null, checked: false }),
  getters: {
    signedIn: (s) => s.me !== null && s.me.audience !== 'anonymous',
    can: (s) => (perm: string) => !!s.me && (s.me.permissions.includes(perm) || s.me.permissions.includes('*')),
  },
  actions: {
    async load() {
      try {
        this.me = await get<Identity>('/v1/auth/me')
        // A sign-in through 一网通办 / 随申办 ends in a redirect, not in an
        // answer carrying the CSRF token: ask for it.
        if (this.me.audience !== 'anonymous' && !hasCsrf()) {
          setCsrf((await get<{ csrf_token: string }>('/v1/auth/csrf').catch(() => ({ csrf_token: '' }))).csrf_token || null)
        }
      } catch (e) {
        if (!(e instanceof ApiError) || e.status !== 401) throw e
        this.me = null
      }
      this.checked = true
    },
    async login(username: string, password: string) {
      const s = await post<{ csrf_token: string; user: Identity }>('/v1/auth/login', { username, password })
      setCsrf(s.csrf_token)
      this.me = s.user
      this.checked = true
    },
    async logout() {
      try {
        await post('/v1/auth/logout')
      } finally {
        setCsrf(null)
        this.me = null
      }
    },
  },
})
