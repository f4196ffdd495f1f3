import { join } from 'node:path'
import { ContactDoc, SchemaDoc } from '@cardfile/core'
import type { Role } from '@cardfile/core'
import { createSqliteBackend } from '@cardfile/server/sqlite'
import { afterEach, describe, expect, it } from 'vitest'
import { tempDir } from './storage-helpers'
import {
  SYSTEM,
  connectSynced,
  expectPoll,
  loadFromStorage,
  makeToken,
  seedDemo,
  startServer,
} from './sync-helpers'
import type { TestServer } from './sync-helpers'

const cleanups: (() => Promise<void> | void)[] = []
afterEach(async () => {
  for (const cleanup of cleanups.splice(0).reverse()) await cleanup()
})

/** A real server on port 0 over a real SQLite file, seeded with workspace `demo` and `c1`. */
async function start(): Promise<TestServer> {
  const { dir, cleanup } = tempDir('cardfile-rest-')
  cleanups.push(cleanup)
  const backend = createSqliteBackend({ path: join(dir, 'cardfile.db') })
  cleanups.push(() => backend.close())
  const running = await startServer({ backend, port: 0, host: '127.0.0.1' })
  cleanups.push(() => running.close())
  await seedDemo(running.server)
  return running
}

const token = (role: Role, user = `${role}-1`, workspace = 'demo') =>
  makeToken({ user, role, workspace })

interface FieldJson {
  readonly value: unknown
  readonly by: { readonly role: string; readonly userId: string }
}

/** An answer's body: a contact, or an error with the refused values. */
interface Body {
  readonly contact: {
    readonly id: string
    readonly etag: string
    readonly profile: Record<string, unknown> | null
    readonly values: Readonly<Record<string, FieldJson | undefined>>
    readonly platform: Readonly<Record<string, FieldJson | undefined>>
    readonly vip: FieldJson | null
  }
  readonly error: { readonly code: string; readonly message: string }
  readonly refusals: readonly unknown[]
}

interface Answer {
  readonly status: number
  readonly etag: string | null
  readonly json: Body
}

async function call(
  running: TestServer,
  method: string,
  path: string,
  options: { token?: string; body?: unknown; headers?: Record<string, string> } = {},
): Promise<Answer> {
  const response = await fetch(`${running.server.url}${path}`, {
    method,
    headers: {
      ...(options.token === undefined ? {} : { authorization: `Bearer ${options.token}` }),
      ...(options.body === undefined ? {} : { 'content-type': 'application/json' }),
      ...options.headers,
    },
    ...(options.body === undefined
      ? {}
      : { body: typeof options.body === 'string' ? options.body : JSON.stringify(options.body) }),
  })
  const text = await response.text()
  return {
    status: response.status,
    etag: response.headers.get('etag'),
    json: (text === '' ? {} : JSON.parse(text)) as Body,
  }
}

const patch = (running: TestServer, id: string, body: unknown, tok: string, ifMatch?: string) =>
  call(running, 'PATCH', `/api/demo/contacts/${id}/values`, {
    token: tok,
    body,
    ...(ifMatch === undefined ? {} : { headers: { 'if-match': ifMatch } }),
  })

describe('GET /api/<ws>/contacts/<id>', () => {
  it('answers the profile, values with provenance, VIP and an ETag', async () => {
    const running = await start()
    const answer = await call(running, 'GET', '/api/demo/contacts/c1', {
      token: await token('agent'),
    })
    expect(answer.status).toBe(200)
    expect(answer.etag).toMatch(/^"[A-Za-z0-9_-]{27}"$/)
    const contact = answer.json.contact
    expect(contact.id).toBe('c1')
    expect(contact.etag).toBe(answer.etag)
    expect(contact.profile).toMatchObject({ channel: 'email', hint: 'an***@example.com' })
    expect(contact.values.plan).toMatchObject({
      value: 'silver',
      by: { role: 'system', userId: 'system' },
    })
    expect(contact.platform.email?.value).toBe('ana@example.com')
    expect(contact.vip).toBeNull()
  })

  it('answers 404 for a contact that does not exist, 401 without a token, 403 for another workspace', async () => {
    const running = await start()
    const agent = await token('agent')
    expect((await call(running, 'GET', '/api/demo/contacts/nobody', { token: agent })).status).toBe(
      404,
    )
    expect((await call(running, 'GET', '/api/demo/contacts/c1')).status).toBe(401)
    const other = await token('admin', 'admin-1', 'other')
    const refused = await call(running, 'GET', '/api/demo/contacts/c1', { token: other })
    expect(refused.status).toBe(403)
    expect(refused.json.error.code).toBe('wrong-workspace')
  })

  it('keeps the ETag while nothing changes and moves it on any change', async () => {
    const running = await start()
    const agent = await token('agent')
    const first = await call(running, 'GET', '/api/demo/contacts/c1', { token: agent })
    const again = await call(running, 'GET', '/api/demo/contacts/c1', { token: agent })
    expect(again.etag).toBe(first.etag)
    const view = await running.server.host.read('demo/schema', (doc) => new SchemaDoc(doc).view())
    await running.server.host.transact('demo/contact/c1', SYSTEM, (doc) =>
      new ContactDoc(doc, 'c1').setValue('note', 'hi', SYSTEM, view),
    )
    const after = await call(running, 'GET', '/api/demo/contacts/c1', { token: agent })
    expect(after.etag).not.toBe(first.etag)
  })
})

describe('PATCH /api/<ws>/contacts/<id>/values', () => {
  it('writes values with the token as provenance, commits them and relays them to a live client at once', async () => {
    const running = await start()
    const agent = await token('agent', 'agent-7')
    const live = await connectSynced(running.server, 'demo/contact/c1', agent)
    cleanups.push(() => live.close())
    const answer = await patch(running, 'c1', { plan: 'gold', note: 'vip soon' }, agent)
    expect(answer.status).toBe(200)
    expect(answer.json.contact.values.plan).toMatchObject({
      value: 'gold',
      by: { role: 'agent', userId: 'agent-7' },
    })
    expect(answer.etag).toBe(answer.json.contact.etag)
    // The live client has it without asking, and storage holds it (committed before the answer).
    await expectPoll(
      () => (live.doc.getMap('custom').get('plan') as { value?: string })?.value === 'gold',
    )
    const stored = await loadFromStorage(running.backend, 'demo/contact/c1')
    expect((stored.getMap('custom').get('note') as { value: string }).value).toBe('vip soon')
    // And the index has it, in the same commit.
    const page = await running.backend.index.listContacts('demo', { limit: 10, cursor: null })
    expect(page.items.find((row) => row.id === 'c1')?.values).toMatchObject({
      plan: 'gold',
      note: 'vip soon',
    })
  })

  it('clears a value with null', async () => {
    const running = await start()
    const admin = await token('admin')
    const answer = await patch(running, 'c1', { plan: null }, admin)
    expect(answer.status).toBe(200)
    expect(answer.json.contact.values.plan).toBeUndefined()
  })

  it('refuses the whole write when one value breaks a rule and writes nothing of it', async () => {
    const running = await start()
    const agent = await token('agent')
    const before = await call(running, 'GET', '/api/demo/contacts/c1', { token: agent })
    const answer = await patch(
      running,
      'c1',
      { note: 'ok', plan: 'platinum', nope: 'x', crm_tier: 'A' },
      agent,
    )
    expect(answer.status).toBe(400)
    expect(answer.json.error.code).toBe('not-an-option')
    expect(answer.json.refusals).toEqual(
      expect.arrayContaining([
        expect.objectContaining({ attributeId: 'plan', code: 'not-an-option' }),
        expect.objectContaining({ attributeId: 'nope', code: 'unknown-attribute' }),
        expect.objectContaining({ attributeId: 'crm_tier', code: 'crm-managed-locked' }),
      ]),
    )
    const after = await call(running, 'GET', '/api/demo/contacts/c1', { token: agent })
    expect(after.etag).toBe(before.etag)
    expect(after.json.contact.values.note).toBeUndefined()
  })

  it('refuses a text longer than the attribute allows, and a value that is not text', async () => {
    const running = await start()
    const agent = await token('agent')
    const long = await patch(running, 'c1', { note: 'x'.repeat(11) }, agent)
    expect(long.status).toBe(400)
    expect(long.json.error.code).toBe('too-long')
    const typed = await patch(running, 'c1', { note: { nested: true } }, agent)
    expect(typed.status).toBe(400)
    expect(typed.json.error.code).toBe('type-mismatch')
  })

  it('refuses roles by the same rules as the websocket: the bot may not write CRM-managed values, a system token nothing', async () => {
    const running = await start()
    const bot = await token('bot')
    const refused = await patch(running, 'c1', { crm_tier: 'A' }, bot)
    expect(refused.status).toBe(403)
    expect(refused.json.error.code).toBe('crm-managed-locked')
    expect((await patch(running, 'c1', { note: 'from bot' }, bot)).status).toBe(200)
    const system = await token('system')
    expect((await patch(running, 'c1', { note: 'x' }, system)).status).toBe(403)
    const crm = await token('crm')
    const crmWrite = await patch(running, 'c1', { note: 'x' }, crm)
    expect(crmWrite.status).toBe(403)
    expect(crmWrite.json.error.code).toBe('forbidden')
  })

  it('honours If-Match: a stale ETag is refused with 412 and the race is lost by one writer only', async () => {
    const running = await start()
    const agent = await token('agent')
    const read = await call(running, 'GET', '/api/demo/contacts/c1', { token: agent })
    const etag = read.etag!
    const [a, b] = await Promise.all([
      patch(running, 'c1', { note: 'first' }, agent, etag),
      patch(running, 'c1', { note: 'second' }, agent, etag),
    ])
    expect([a.status, b.status].sort()).toEqual([200, 412])
    const loser = a.status === 412 ? a : b
    expect(loser.json.error.code).toBe('precondition-failed')
    const winner = a.status === 200 ? a : b
    const now = await call(running, 'GET', '/api/demo/contacts/c1', { token: agent })
    expect(now.json.contact.values.note?.value).toBe(winner.json.contact.values.note?.value)
    // The winner's answer carries the ETag to use for the next write.
    expect((await patch(running, 'c1', { note: 'third' }, agent, winner.etag!)).status).toBe(200)
    expect((await patch(running, 'c1', { note: 'fourth' }, agent, '*')).status).toBe(200)
    expect((await patch(running, 'c1', { note: 'fifth' }, agent, 'W/' + etag)).status).toBe(412)
  })

  it('moves the ETag when a websocket client edits, so a write based on the old read is refused', async () => {
    const running = await start()
    const agent = await token('agent')
    const read = await call(running, 'GET', '/api/demo/contacts/c1', { token: agent })
    const live = await connectSynced(running.server, 'demo/contact/c1', agent)
    cleanups.push(() => live.close())
    live.doc.getMap('custom').set('note', {
      value: 'live',
      by: { role: 'agent', userId: 'agent-1', at: Date.now() },
    })
    await expectPoll(() => live.saved())
    const answer = await patch(running, 'c1', { note: 'stale' }, agent, read.etag!)
    expect(answer.status).toBe(412)
    expect(answer.json.error.code).toBe('precondition-failed')
  })

  it('answers hostile requests with typed errors: malformed JSON, not an object, empty, too large, bad ids, wrong method', async () => {
    const running = await start()
    const agent = await token('agent')
    expect((await patch(running, 'c1', '{"plan":', agent)).json.error.code).toBe('bad-request')
    expect((await patch(running, 'c1', ['gold'], agent)).status).toBe(400)
    expect((await patch(running, 'c1', {}, agent)).status).toBe(400)
    expect((await patch(running, 'c1', { 'bad id!': 'x' }, agent)).status).toBe(400)
    const huge = await patch(running, 'c1', { note: 'x'.repeat(300 * 1024) }, agent)
    expect(huge.status).toBe(413)
    expect((await patch(running, 'nobody', { note: 'x' }, agent)).status).toBe(404)
    expect((await patch(running, 'bad%20id', { note: 'x' }, agent)).status).toBe(400)
    const put = await call(running, 'PUT', '/api/demo/contacts/c1/values', {
      token: agent,
      body: { note: 'x' },
    })
    expect(put.status).toBe(405)
    const post = await call(running, 'POST', '/api/demo/contacts/c1', { token: agent })
    expect(post.status).toBe(405)
    // Nothing of it was written, and the contact still answers.
    const after = await call(running, 'GET', '/api/demo/contacts/c1', { token: agent })
    expect(after.json.contact.values.note).toBeUndefined()
  })

  it('leaves DELETE of the same path to the deletion extension', async () => {
    const running = await start()
    const agent = await call(running, 'DELETE', '/api/demo/contacts/c1', {
      token: await token('agent'),
    })
    expect(agent.status).toBe(403)
    const admin = await call(running, 'DELETE', '/api/demo/contacts/c1', {
      token: await token('admin'),
    })
    expect(admin.status).toBe(200)
    expect(
      (await call(running, 'GET', '/api/demo/contacts/c1', { token: await token('admin') })).status,
    ).toBe(410)
  })
})
