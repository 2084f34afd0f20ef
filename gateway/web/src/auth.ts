// Sign-in through the configured issuer (the embedded provider or Keycloak behind /auth):
// authorization code + PKCE, tokens kept in memory only, renewed with the refresh token
// before they expire, sign-out through the issuer's end-session endpoint.
import { InMemoryWebStorage, UserManager, WebStorageStateStore, type User } from 'oidc-client-ts'

export interface PortalConfig {
  issuer: string
  client_id: string
}

export const APP_BASE = import.meta.env.BASE_URL.replace(/\/$/, '') // "/app"

let manager: UserManager | null = null

export async function loadConfig(): Promise<PortalConfig> {
  const r = await fetch(`${APP_BASE}/config.json`, { cache: 'no-store' })
  if (!r.ok) throw new Error('门户配置读取失败')
  return (await r.json()) as PortalConfig
}

export function createManager(config: PortalConfig, origin = window.location.origin): UserManager {
  return new UserManager({
    authority: config.issuer,
    client_id: config.client_id,
    redirect_uri: `${origin}${APP_BASE}/callback`,
    post_logout_redirect_uri: `${origin}${APP_BASE}/logged-out`,
    response_type: 'code',
    scope: 'openid profile',
    // Tokens never reach localStorage/sessionStorage: a reload signs in again through the
    // provider's SSO session (one redirect, no password). Only the PKCE verifier and state of an
    // unfinished sign-in wait in sessionStorage, as the redirect needs them.
    userStore: new WebStorageStateStore({ store: new InMemoryWebStorage() }),
    automaticSilentRenew: true, // with a refresh token: a back-channel token request
    loadUserInfo: false,
  })
}

export async function auth(): Promise<UserManager> {
  if (!manager) manager = createManager(await loadConfig())
  return manager
}

export async function currentUser(): Promise<User | null> {
  const m = await auth()
  const user = await m.getUser()
  return user && !user.expired ? user : null
}

export async function accessToken(): Promise<string> {
  let user = await (await auth()).getUser()
  if (user && user.expired && user.refresh_token) {
    try {
      user = await (await auth()).signinSilent()
    } catch {
      user = null
    }
  }
  return user && !user.expired ? user.access_token : ''
}

export async function signIn(returnTo: string): Promise<void> {
  await (await auth()).signinRedirect({ state: { returnTo } })
}

export async function completeSignIn(): Promise<string> {
  const user = await (await auth()).signinRedirectCallback()
  const state = user.state as { returnTo?: string } | undefined
  const back = state?.returnTo ?? '/'
  return back.startsWith('/') && !back.startsWith('//') ? back : '/'
}

export async function signOut(): Promise<void> {
  const m = await auth()
  const user = await m.getUser()
  await m.removeUser()
  await m.signoutRedirect({ id_token_hint: user?.id_token })
}

/** The claims of an access token (tenant, roles); the API verifies it, the portal only reads. */
export function claimsOf(token: string): Record<string, unknown> {
  try {
    const part = token.split('.')[1].replace(/-/g, '+').replace(/_/g, '/')
    const json = decodeURIComponent(
      Array.from(atob(part + '='.repeat((4 - (part.length % 4)) % 4)))
        .map((c) => '%' + c.charCodeAt(0).toString(16).padStart(2, '0'))
        .join(''),
    )
    return JSON.parse(json) as Record<string, unknown>
  } catch {
    return {}
  }
}
