import { httpApi } from '@cardfile/server'
import { afterEach, describe, expect, it } from 'vitest'
import { WebSocket } from 'ws'
import type { TestServer } from './sync-helpers'
import { makeToken, startSeededServer } from './sync-helpers'

let t: TestServer | null = null
afterEach(async () => {
  await t?.close()
  t = null
})

async function start(origins?: { origins?: string[]; loopback?: boolean }) {
  t = await startSeededServer({ httpHandler: httpApi(), ...(origins ? { origins } : {}) })
  return t.server
}

const APP = 'https://inbox.example.com'

/** Opens a websocket with the given Origin; resolves 'open' or the HTTP status it was refused with. */
function upgradeWith(url: string, origin: string | undefined): Promise<'open' | number> {
  return new Promise((resolve) => {
    const ws = new WebSocket(url, origin === undefined ? {} : { origin })
    ws.on('open', () => {
      ws.close()
      resolve('open')
    })
    ws.on('unexpected-response', (_req, res) => resolve(res.statusCode ?? 0))
    ws.on('error', () => undefined)
  })
}

describe('allowed origins', () => {
  it('answers a preflight from an allowed origin and lets it read the answer', async () => {
    const server = await start({ origins: [APP] })
    const preflight = await fetch(`${server.url}/api/demo/contacts`, {
      method: 'OPTIONS',
      headers: {
        origin: APP,
        'access-control-request-method': 'GET',
        'access-control-request-headers': 'authorization',
      },
    })
    expect(preflight.status).toBe(204)
    expect(preflight.headers.get('access-control-allow-origin')).toBe(APP)
    expect(preflight.headers.get('access-control-allow-headers')).toContain('authorization')
    expect(preflight.headers.get('access-control-allow-methods')).toContain('DELETE')
    const token = await makeToken({ user: 'ana', role: 'admin' })
    const answer = await fetch(`${server.url}/api/demo/contacts`, {
      headers: { origin: APP, authorization: `Bearer ${token}` },
    })
    expect(answer.status).toBe(200)
    expect(answer.headers.get('access-control-allow-origin')).toBe(APP)
    expect(answer.headers.get('vary')).toContain('Origin')
  })

  it('refuses the preflight of an origin that is not listed and gives it no CORS headers', async () => {
    const server = await start({ origins: [APP] })
    const preflight = await fetch(`${server.url}/api/demo/contacts`, {
      method: 'OPTIONS',
      headers: { origin: 'https://evil.example', 'access-control-request-method': 'DELETE' },
    })
    expect(preflight.status).toBe(403)
    expect(preflight.headers.get('access-control-allow-origin')).toBeNull()
    const simple = await fetch(`${server.url}/healthz`, {
      headers: { origin: 'https://evil.example' },
    })
    expect(simple.headers.get('access-control-allow-origin')).toBeNull()
  })

  it('checks the websocket Origin against the same list', async () => {
    const server = await start({ origins: [APP] })
    const token = await makeToken({ user: 'ana', role: 'admin' })
    const url = `${server.wsUrl}/demo/contact/c1?token=${token}`
    expect(await upgradeWith(url, APP)).toBe('open')
    expect(await upgradeWith(url, 'https://evil.example')).toBe(403)
    // Not a browser page: no Origin, nothing to check.
    expect(await upgradeWith(url, undefined)).toBe('open')
    // The server's own pages are always welcome.
    expect(await upgradeWith(url, server.url)).toBe('open')
  })

  it('allows only same-origin pages by default, and loopback pages when asked', async () => {
    const strict = await start()
    const token = await makeToken({ user: 'ana', role: 'admin' })
    expect(
      await upgradeWith(`${strict.wsUrl}/demo/contact/c1?token=${token}`, 'http://localhost:5173'),
    ).toBe(403)
    await t?.close()
    const demo = await start({ loopback: true })
    const url = `${demo.wsUrl}/demo/contact/c1?token=${token}`
    expect(await upgradeWith(url, 'http://localhost:5173')).toBe('open')
    expect(await upgradeWith(url, 'http://127.0.0.1:3000')).toBe('open')
    expect(await upgradeWith(url, 'http://localhost.evil.example')).toBe(403)
  })
})
