import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { CardfileError, ErrorCodes } from '@cardfile/core'
import type { Role } from '@cardfile/core'
import { afterEach, describe, expect, it } from 'vitest'
import type { CrmAdapter } from '../src/crm/adapter'
import { httpApi } from '../src/http/create-http-api'
import { createCardfileServer } from '../src/server'
import type { CardfileServer } from '../src/server'
import { createSqliteBackend } from '../src/storage/sqlite-backend'

const cleanups: (() => Promise<void> | void)[] = []
afterEach(async () => {
  for (const cleanup of cleanups.splice(0).reverse()) await cleanup()
})

/**
 * Tokens here are `<workspace>.<role>.<user>`; anything else is a forged token. The hook refuses
 * the workspace `locked` outright, as an app's own `authenticate` may.
 */
async function authenticate(token: string) {
  const [workspace, role, userId] = token.split('.')
  if (workspace === undefined || role === undefined || userId === undefined) {
    throw new CardfileError(ErrorCodes.Unauthorized, 'bad token')
  }
  if (workspace === 'locked') throw new CardfileError(ErrorCodes.Forbidden, 'workspace locked')
  return { workspace, role: role as Role, userId }
}

/** A CRM adapter that answers every lookup with found, and counts the calls. */
function countingAdapter(): CrmAdapter & { lookups: number } {
  const adapter = {
    requiresUrls: false,
    lookups: 0,
    async lookup() {
      adapter.lookups += 1
      return { found: true, values: {} }
    },
    async deliver() {},
  }
  return adapter
}

async function start(): Promise<{
  server: CardfileServer
  adapter: ReturnType<typeof countingAdapter>
}> {
  const dir = mkdtempSync(join(tmpdir(), 'cardfile-route-auth-'))
  cleanups.push(() => rmSync(dir, { recursive: true, force: true }))
  const backend = createSqliteBackend({ path: join(dir, 'cardfile.db') })
  cleanups.push(() => backend.close())
  const adapter = countingAdapter()
  const server = await createCardfileServer({
    autoCreateWorkspaces: 'advanced',
    backend,
    auth: { authenticate },
    host: '127.0.0.1',
    httpHandler: httpApi({ onError: () => {} }),
    crm: { adapter },
    logger: { warn: () => undefined },
  })
  cleanups.push(() => server.close())
  return { server, adapter }
}

async function call(
  server: CardfileServer,
  path: string,
  token: string,
  init: { method?: string; body?: unknown } = {},
) {
  const response = await fetch(`${server.url}${path}`, {
    method: init.method ?? 'GET',
    headers: {
      authorization: `Bearer ${token}`,
      ...(init.body === undefined ? {} : { 'content-type': 'application/json' }),
    },
    ...(init.body === undefined ? {} : { body: JSON.stringify(init.body) }),
  })
  const json = (await response.json()) as { error?: { code: string } }
  return { status: response.status, code: json.error?.code, headers: response.headers, json }
}

describe('authentication of the API routes', () => {
  it('slows token guessing on the CRM routes as on every other route (429 after the limit)', async () => {
    const { server } = await start()
    const answers: number[] = []
    for (let i = 0; i < 61; i += 1) {
      answers.push((await call(server, '/api/acme/crm/config', `forged-${i}`)).status)
    }
    expect(answers.slice(0, 60).every((status) => status === 401)).toBe(true)
    const limited = await call(server, '/api/acme/crm/config', 'forged-last')
    expect(limited.status).toBe(429)
    expect(limited.code).toBe(ErrorCodes.RateLimited)
    expect(Number(limited.headers.get('retry-after'))).toBeGreaterThan(0)
  })

  it('answers a workspace the authenticate hook refuses with 403 on the CRM routes too', async () => {
    const { server } = await start()
    for (const path of [
      '/api/locked/crm/config',
      '/api/locked/contacts',
      '/api/locked/contacts/search?q=ann',
      '/api/locked/queue',
    ]) {
      const answer = await call(server, path, 'locked.admin.ana')
      expect({ path, status: answer.status, code: answer.code }).toEqual({
        path,
        status: 403,
        code: ErrorCodes.Forbidden,
      })
    }
  })

  it('asks for a bearer token on a 401 from the CRM routes', async () => {
    const { server } = await start()
    const answer = await call(server, '/api/acme/crm/config', 'forged')
    expect(answer.status).toBe(401)
    expect(answer.headers.get('www-authenticate')).toBe('Bearer')
  })
})

describe('CRM look-ups by hand', () => {
  it('answers 404 for an unknown contact without calling the CRM or making a contact', async () => {
    const { server, adapter } = await start()
    const config = await call(server, '/api/acme/crm/config', 'acme.admin.ana', {
      method: 'PUT',
      body: { enabled: true },
    })
    expect(config.status).toBe(200)
    const answer = await call(server, '/api/acme/contacts/nobody/lookup', 'acme.agent.ben', {
      method: 'POST',
    })
    expect({ status: answer.status, code: answer.code }).toEqual({
      status: 404,
      code: ErrorCodes.NotFound,
    })
    expect(adapter.lookups).toBe(0)
    const profile = await server.host.read(
      'acme/contact/nobody',
      (doc) => doc.getMap('custom').size,
    )
    expect(profile).toBe(0)
  })
})
