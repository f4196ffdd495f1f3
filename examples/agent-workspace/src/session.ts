import type { Role } from '@cardfile/core'

/** The workspace `cardfile serve --demo` seeds. */
export const WORKSPACE = 'demo'

/** A demo user one can sign in as (the server seeds the same three). */
export interface DemoUser {
  readonly userId: string
  readonly name: string
  readonly role: Role
  readonly title: string
}

export const DEMO_USERS: readonly DemoUser[] = [
  { userId: 'ana', name: 'Ana', role: 'admin', title: 'Support lead · admin' },
  { userId: 'ben', name: 'Ben', role: 'agent', title: 'Agent' },
  { userId: 'cleo', name: 'Cleo', role: 'agent', title: 'Agent' },
]

const STORAGE_KEY = 'cardfile-demo-user'

/** The user signed in on this browser, kept across reloads. */
export function savedUser(): DemoUser | null {
  const id = window.localStorage.getItem(STORAGE_KEY)
  return DEMO_USERS.find((u) => u.userId === id) ?? null
}

export function saveUser(user: DemoUser | null): void {
  if (user === null) window.localStorage.removeItem(STORAGE_KEY)
  else window.localStorage.setItem(STORAGE_KEY, user.userId)
}

/** A signed-in user and a token source shared by the sync client and the list requests. */
export interface Session {
  readonly user: DemoUser
  /** A valid token (fetched once, then again shortly before it expires). */
  token(): Promise<string>
}

const TOKEN_LIFETIME_S = 60 * 60

/**
 * Asks the demo server for a token (`POST /api/dev/token`, development mode only). A real app
 * gets its token from its own back end after its own sign-in.
 */
async function fetchDevToken(user: DemoUser): Promise<string> {
  const res = await fetch('/api/dev/token', {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({
      workspace: WORKSPACE,
      role: user.role,
      userId: user.userId,
      name: user.name,
      expiresIn: TOKEN_LIFETIME_S,
    }),
  })
  const body = (await res.json()) as { token?: string; error?: { message: string } }
  if (!res.ok || body.token === undefined) {
    throw new Error(body.error?.message ?? `The server answered ${res.status}`)
  }
  return body.token
}

export function createSession(user: DemoUser): Session {
  let current: { token: string; until: number } | null = null
  let request: Promise<string> | null = null
  return {
    user,
    token() {
      if (current !== null && Date.now() < current.until) return Promise.resolve(current.token)
      request ??= fetchDevToken(user)
        .then((token) => {
          // Renew at half the lifetime, as the sync client does.
          current = { token, until: Date.now() + (TOKEN_LIFETIME_S * 1000) / 2 }
          return token
        })
        .finally(() => {
          request = null
        })
      return request
    },
  }
}
