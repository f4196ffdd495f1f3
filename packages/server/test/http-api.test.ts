import { mkdtempSync, readFileSync, rmSync } from 'node:fs'
import { request } from 'node:http'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import {
  ContactDoc,
  ConversationDoc,
  SchemaDoc,
  contactDocName,
  conversationDocName,
  schemaDocName,
} from '@cardfile/core'
import type { Actor, ConversationStatus, Role } from '@cardfile/core'
import { afterEach, describe, expect, it } from 'vitest'
import { createHttpApi, httpApi } from '../src/http/create-http-api'
import { within } from '../src/http/within'
import { createCardfileServer } from '../src/server'
import type { CardfileServer } from '../src/server'
import { createSqliteBackend } from '../src/storage/sqlite-backend'
import type { Backend } from '../src/backend'
import { signToken } from '../src/tokens'

const SECRET = 'http-api-test-secret'
const cleanups: (() => Promise<void> | void)[] = []
afterEach(async () => {
  for (const cleanup of cleanups.splice(0).reverse()) await cleanup()
})

interface Running {
  readonly url: string
  readonly server: CardfileServer
  readonly backend: Backend
}

/** A real server on port 0 with a real SQLite file and the HTTP API wired in. */
async function startServer(
  options: { devTokens?: boolean; authFailuresPerMinute?: number } = {},
): Promise<Running> {
  const dir = mkdtempSync(join(tmpdir(), 'cardfile-http-'))
  cleanups.push(() => rmSync(dir, { recursive: true, force: true }))
  const backend = createSqliteBackend({ path: join(dir, 'cardfile.db') })
  cleanups.push(() => backend.close())
  const server = await createCardfileServer({
    autoCreateWorkspaces: 'advanced',
    backend,
    auth: { secret: SECRET },
    port: 0,
    host: '127.0.0.1',
    ...(options.authFailuresPerMinute === undefined
      ? {}
      : { authFailuresPerMinute: options.authFailuresPerMinute }),
    httpHandler: httpApi({
      ...(options.devTokens === true ? { devTokens: { secret: SECRET } } : {}),
      onError: () => {},
    }),
  })
  cleanups.push(() => server.close())
  return { url: server.url, server, backend }
}

const tokenFor = (role: Role, workspace = 'acme', userId = `${role}-1`): Promise<string> =>
  signToken({ secret: SECRET, userId, workspace, role })

async function post(
  base: string,
  path: string,
  body: unknown,
  token?: string,
): Promise<{ status: number; json: Record<string, unknown> }> {
  const response = await fetch(`${base}${path}`, {
    method: 'POST',
    headers: {
      'content-type': 'application/json',
      ...(token === undefined ? {} : { authorization: `Bearer ${token}` }),
    },
    body: typeof body === 'string' ? body : JSON.stringify(body),
  })
  return { status: response.status, json: (await response.json()) as Record<string, unknown> }
}

async function get(
  base: string,
  path: string,
  token?: string,
): Promise<{ status: number; json: Record<string, unknown> }> {
  const response = await fetch(`${base}${path}`, {
    headers: token === undefined ? {} : { authorization: `Bearer ${token}` },
  })
  return { status: response.status, json: (await response.json()) as Record<string, unknown> }
}

const xMessage = (id: string | undefined, text: string, platformUserId = '42') => ({
  channel: 'x',
  platformUserId,
  metadata: { x_user_id: platformUserId, x_handle: '@anna', x_display_name: 'Anna K' },
  message: { ...(id === undefined ? {} : { id }), text },
})

async function readConversation(server: CardfileServer, workspace: string, id: string) {
  return server.host.read(conversationDocName(workspace, id), (doc) =>
    within(new ConversationDoc(doc, id), (c) => ({ meta: c.meta(), messages: c.messages() })),
  )
}

async function setStatus(
  server: CardfileServer,
  workspace: string,
  id: string,
  status: ConversationStatus,
) {
  const agent: Actor = { userId: 'agent-1', role: 'agent' }
  const schema = await server.host.read(schemaDocName(workspace), (doc) =>
    within(new SchemaDoc(doc), (s) => s.view()),
  )
  await server.host.transact(conversationDocName(workspace, id), agent, (doc) =>
    within(new ConversationDoc(doc, id), (c) => c.setStatus(status, agent, schema)),
  )
}

describe('health, readiness and metrics', () => {
  it('answers /healthz, /readyz and Prometheus text on /metrics', async () => {
    const { url } = await startServer()
    expect(await get(url, '/healthz')).toEqual({ status: 200, json: { status: 'ok' } })
    expect(await get(url, '/readyz')).toEqual({ status: 200, json: { status: 'ready' } })
    const metrics = await fetch(`${url}/metrics`)
    expect(metrics.status).toBe(200)
    expect(metrics.headers.get('content-type')).toMatch(/^text\/plain; version=0\.0\.4/)
    expect(await metrics.text()).toMatch(/^# TYPE cardfile_connections gauge$/m)
  })

  it('reports not ready with 503 while the server cannot serve', async () => {
    const running = await startServer()
    let ready = false
    const api = createHttpApi({
      host: running.server.host,
      backend: running.backend,
      authenticate: () => Promise.reject(new Error('unused')),
      metrics: running.server.metrics,
      ready: () => ready,
    })
    const { createServer } = await import('node:http')
    const plain = createServer((req, res) => void api(req, res))
    await new Promise<void>((resolve) => plain.listen(0, '127.0.0.1', resolve))
    cleanups.push(() => new Promise<void>((resolve) => plain.close(() => resolve())))
    const address = plain.address()
    if (address === null || typeof address === 'string') throw new Error('no port')
    const base = `http://127.0.0.1:${address.port}`
    const notReady = await get(base, '/readyz')
    expect(notReady.status).toBe(503)
    expect(notReady.json).toMatchObject({ error: { code: 'internal' } })
    ready = true
    expect((await get(base, '/readyz')).status).toBe(200)
  })
})

describe('POST /api/<workspace>/inbound', () => {
  it('creates a contact with a masked hint and platform values, and a new conversation', async () => {
    const { url, server, backend } = await startServer()
    const system = await tokenFor('system')
    const { status, json } = await post(url, '/api/acme/inbound', xMessage('m1', 'Hello'), system)
    expect(status).toBe(200)
    expect(json).toMatchObject({ createdContact: true, createdConversation: true })
    const contactId = json.contactId as string
    const conversationId = json.conversationId as string

    const contact = await server.host.read(contactDocName('acme', contactId), (doc) =>
      within(new ContactDoc(doc, contactId), (c) => c.read()),
    )
    expect(contact.profile).toMatchObject({ channel: 'x', platformUserId: '42', hint: '@an***a' })
    expect(contact.platform.x_handle).toMatchObject({ value: '@anna', by: { role: 'system' } })
    expect(contact.platform.x_display_name?.value).toBe('Anna K')

    const conversation = await readConversation(server, 'acme', conversationId)
    expect(conversation.meta).toMatchObject({ contactId, channel: 'x', status: 'new' })
    expect(conversation.messages.map((m) => [m.id, m.text, m.direction])).toEqual([
      ['m1', 'Hello', 'inbound'],
    ])
    expect((await backend.index.findContact('acme', 'x', '42'))?.id).toBe(contactId)

    // The workspace schema was seeded with the channel catalogue on first use.
    const seeded = await server.host.read(schemaDocName('acme'), (doc) =>
      within(new SchemaDoc(doc), (s) => s.definition('x_handle')?.kind),
    )
    expect(seeded).toBe('platform')
  })

  it('appends a second message from the same identity to the open conversation', async () => {
    const { url, server } = await startServer()
    const system = await tokenFor('system')
    const first = await post(url, '/api/acme/inbound', xMessage('m1', 'Hello'), system)
    const second = await post(url, '/api/acme/inbound', xMessage('m2', 'Anyone?'), system)
    expect(second.json).toEqual({
      contactId: first.json.contactId,
      conversationId: first.json.conversationId,
      createdContact: false,
      createdConversation: false,
    })
    const conversation = await readConversation(server, 'acme', first.json.conversationId as string)
    expect(conversation.messages.map((m) => m.text)).toEqual(['Hello', 'Anyone?'])
  })

  it('starts a new conversation once the open one is resolved', async () => {
    const { url, server } = await startServer()
    const system = await tokenFor('system')
    const first = await post(url, '/api/acme/inbound', xMessage('m1', 'Hello'), system)
    await setStatus(server, 'acme', first.json.conversationId as string, 'resolved')
    const again = await post(url, '/api/acme/inbound', xMessage('m2', 'Me again'), system)
    expect(again.json).toMatchObject({
      contactId: first.json.contactId,
      createdContact: false,
      createdConversation: true,
    })
    expect(again.json.conversationId).not.toBe(first.json.conversationId)
    const fresh = await readConversation(server, 'acme', again.json.conversationId as string)
    expect(fresh.meta?.status).toBe('new')
  })

  it('moves a pending conversation back to new when the contact replies', async () => {
    const { url, server } = await startServer()
    const system = await tokenFor('system')
    const first = await post(url, '/api/acme/inbound', xMessage('m1', 'Hello'), system)
    const id = first.json.conversationId as string
    await setStatus(server, 'acme', id, 'pending')
    const reply = await post(url, '/api/acme/inbound', xMessage('m2', 'Thanks, but...'), system)
    expect(reply.json).toMatchObject({ conversationId: id, createdConversation: false })
    expect((await readConversation(server, 'acme', id)).meta?.status).toBe('new')
  })

  it('keeps the hint made from a handle when a later message brings only the user id', async () => {
    const { url, server } = await startServer()
    const system = await tokenFor('system')
    const first = await post(url, '/api/acme/inbound', xMessage('m1', 'Hello'), system)
    await post(
      url,
      '/api/acme/inbound',
      {
        channel: 'x',
        platformUserId: '42',
        metadata: { x_user_id: '42' },
        message: { text: 'Hi' },
      },
      system,
    )
    const contactId = first.json.contactId as string
    const contact = await server.host.read(contactDocName('acme', contactId), (doc) =>
      within(new ContactDoc(doc, contactId), (c) => c.read()),
    )
    expect(contact.profile?.hint).toBe('@an***a')
    expect(contact.platform.x_handle?.value).toBe('@anna')
  })

  it('answers a repeated message id with the first answer and stores the message once', async () => {
    const { url, server } = await startServer()
    const system = await tokenFor('system')
    const first = await post(url, '/api/acme/inbound', xMessage('<m1@mail>', 'Hello'), system)
    const retry = await post(url, '/api/acme/inbound', xMessage('<m1@mail>', 'Hello'), system)
    expect(retry).toEqual(first)
    const conversation = await readConversation(server, 'acme', first.json.conversationId as string)
    expect(conversation.messages).toHaveLength(1)
  })

  it('recognises a repeated message id after a restart of the HTTP API (memo gone)', async () => {
    const running = await startServer()
    const system = await tokenFor('system')
    const first = await post(running.url, '/api/acme/inbound', xMessage('m1', 'Hello'), system)
    await post(running.url, '/api/acme/inbound', xMessage('m2', 'More'), system)
    const fresh = createHttpApi({
      host: running.server.host,
      backend: running.backend,
      authenticate: () => Promise.reject(new Error('unused')),
      metrics: running.server.metrics,
      ready: () => true,
    })
    const actor: Actor = { userId: 'system-1', role: 'system' }
    expect(await fresh.ingest('acme', actor, xMessage('m1', 'Hello'))).toEqual(first.json)
    const conversation = await readConversation(
      running.server,
      'acme',
      first.json.conversationId as string,
    )
    expect(conversation.messages.map((m) => m.id)).toEqual(['m1', 'm2'])
  })

  it('answers a retried message from the inbound log after a restart, however old its conversation', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'cardfile-http-'))
    cleanups.push(() => rmSync(dir, { recursive: true, force: true }))
    const path = join(dir, 'cardfile.db')
    const start = async () => {
      const backend = createSqliteBackend({ path })
      const server = await createCardfileServer({
        autoCreateWorkspaces: 'advanced',
        backend,
        auth: { secret: SECRET },
        host: '127.0.0.1',
        httpHandler: httpApi({ onError: () => {} }),
      })
      return { backend, server }
    }
    const system = await tokenFor('system')
    let { backend, server } = await start()
    const first = await post(server.url, '/api/acme/inbound', xMessage('<m0@mail>', 'Hi'), system)
    // More conversations than a scan of the newest ones would look through.
    let current = first.json.conversationId as string
    for (let n = 1; n <= 7; n += 1) {
      await setStatus(server, 'acme', current, 'resolved')
      const next = await post(
        server.url,
        '/api/acme/inbound',
        xMessage(`<m${n}@mail>`, `n${n}`),
        system,
      )
      expect(next.json.conversationId).not.toBe(current)
      current = next.json.conversationId as string
    }
    await server.close()
    await backend.close()
    ;({ backend, server } = await start())
    cleanups.push(async () => {
      await server.close()
      await backend.close()
    })
    const retry = await post(server.url, '/api/acme/inbound', xMessage('<m0@mail>', 'Hi'), system)
    expect(retry).toEqual(first)
    const conversation = await readConversation(server, 'acme', first.json.conversationId as string)
    expect(conversation.messages).toHaveLength(1)
    // The log holds a hash of the identity and message id, never the identity itself.
    const raw = readFileSync(path).toString('latin1')
    expect(raw).not.toContain('<m0@mail>')
  })

  it('creates one contact when two first messages of an identity arrive together', async () => {
    const { url } = await startServer()
    const system = await tokenFor('system')
    const answers = await Promise.all(
      ['a', 'b', 'c'].map((id) => post(url, '/api/acme/inbound', xMessage(id, id, '77'), system)),
    )
    expect(new Set(answers.map((a) => a.json.contactId)).size).toBe(1)
    expect(new Set(answers.map((a) => a.json.conversationId)).size).toBe(1)
    expect(answers.filter((a) => a.json.createdContact === true)).toHaveLength(1)
  })

  it('refuses a missing, forged or expired token with 401', async () => {
    const { url } = await startServer()
    const missing = await post(url, '/api/acme/inbound', xMessage('m1', 'x'))
    expect(missing.status).toBe(401)
    const challenge = await fetch(`${url}/api/acme/contacts`)
    expect(challenge.headers.get('www-authenticate')).toBe('Bearer')
    expect(missing.json).toMatchObject({ error: { code: 'unauthorized' } })
    const forged = await signToken({
      secret: 'not-the-secret',
      userId: 'sys',
      workspace: 'acme',
      role: 'system',
    })
    const refused = await post(url, '/api/acme/inbound', xMessage('m1', 'x'), forged)
    expect(refused.status).toBe(401)
    expect(refused.json).toEqual({
      error: { code: 'unauthorized', message: 'The token is not valid' },
    })
    const expired = await signToken({
      secret: SECRET,
      userId: 'sys',
      workspace: 'acme',
      role: 'system',
      expiresIn: 1,
    })
    await expect
      .poll(async () => (await post(url, '/api/acme/inbound', xMessage('m1', 'x'), expired)).json, {
        timeout: 5000,
        interval: 250,
      })
      .toMatchObject({ error: { code: 'token-expired' } })
  })

  it('answers 429 with retry-after once an address keeps failing to authenticate, on any route', async () => {
    const { url } = await startServer({ authFailuresPerMinute: 3 })
    const forged = await signToken({
      secret: 'guess',
      userId: 's',
      workspace: 'acme',
      role: 'system',
    })
    // One guess on each route family (ingestion, exports, linking): one count for all of them.
    expect((await post(url, '/api/acme/inbound', xMessage('m1', 'x'), forged)).status).toBe(401)
    expect(
      (await post(url, '/api/acme/exports', { type: 'contact-attributes' }, forged)).status,
    ).toBe(401)
    const linked = await fetch(`${url}/api/acme/contacts/c1/linked`, {
      headers: { authorization: `Bearer ${forged}` },
    })
    expect(linked.status).toBe(401)
    const response = await fetch(`${url}/api/acme/contacts`, {
      headers: { authorization: `Bearer ${await tokenFor('agent')}` },
    })
    expect(response.status).toBe(429)
    expect(Number(response.headers.get('retry-after'))).toBeGreaterThan(0)
    expect(await response.json()).toMatchObject({ error: { code: 'rate-limited' } })
    // Health checks need no token and stay available.
    expect((await get(url, '/healthz')).status).toBe(200)
  })

  it('refuses an agent token (403 forbidden) and another workspace (403 wrong-workspace)', async () => {
    const { url, backend } = await startServer()
    const agent = await post(url, '/api/acme/inbound', xMessage('m1', 'x'), await tokenFor('agent'))
    expect(agent.status).toBe(403)
    expect(agent.json).toMatchObject({ error: { code: 'forbidden' } })
    const other = await post(
      url,
      '/api/acme/inbound',
      xMessage('m1', 'x'),
      await tokenFor('system', 'globex'),
    )
    expect(other.status).toBe(403)
    expect(other.json).toMatchObject({ error: { code: 'wrong-workspace' } })
    expect(await backend.index.findContact('acme', 'x', '42')).toBeNull()
  })

  it('refuses malformed JSON with 400 and a non-JSON body with 415', async () => {
    const { url } = await startServer()
    const system = await tokenFor('system')
    const malformed = await post(url, '/api/acme/inbound', '{"channel": "x",', system)
    expect(malformed).toEqual({
      status: 400,
      json: { error: { code: 'bad-request', message: 'The body is not valid JSON' } },
    })
    const response = await fetch(`${url}/api/acme/inbound`, {
      method: 'POST',
      headers: { 'content-type': 'text/plain', authorization: `Bearer ${system}` },
      body: 'hello',
    })
    expect(response.status).toBe(415)
    expect(await response.json()).toMatchObject({ error: { code: 'bad-request' } })
  })

  it('refuses a body over 1 MB with 413, counted while it streams without content-length', async () => {
    const { url } = await startServer()
    const system = await tokenFor('system')
    const answer = await new Promise<{ status: number; body: string }>((resolve, reject) => {
      const req = request(`${url}/api/acme/inbound`, {
        method: 'POST',
        headers: { 'content-type': 'application/json', authorization: `Bearer ${system}` },
      })
      req.on('response', (res) => {
        let body = ''
        res.setEncoding('utf8')
        res.on('data', (chunk: string) => (body += chunk))
        res.on('end', () => resolve({ status: res.statusCode ?? 0, body }))
      })
      req.on('error', reject)
      // Chunked: the server cannot know the size up front and must count.
      const chunk = `"${'x'.repeat(64 * 1024)}",`
      req.write('{"padding": [')
      const write = (left: number): void => {
        if (left === 0 || req.destroyed) return void req.end('"end"]}')
        if (req.write(chunk)) write(left - 1)
        else req.once('drain', () => write(left - 1))
      }
      write(20)
    })
    expect(answer.status).toBe(413)
    expect(JSON.parse(answer.body)).toMatchObject({ error: { code: 'payload-too-large' } })
  })

  it('refuses a declared content-length over the limit before reading the body', async () => {
    const { url } = await startServer()
    const system = await tokenFor('system')
    const big = JSON.stringify({ padding: 'x'.repeat(1024 * 1024 + 10) })
    const { status, json } = await post(url, '/api/acme/inbound', big, system)
    expect(status).toBe(413)
    expect(json).toMatchObject({ error: { code: 'payload-too-large' } })
  })

  it('refuses an unknown channel and an unknown metadata attribute, writing nothing', async () => {
    const { url, backend } = await startServer()
    const system = await tokenFor('system')
    const fax = await post(
      url,
      '/api/acme/inbound',
      { ...xMessage('m1', 'x'), channel: 'fax' },
      system,
    )
    expect(fax.status).toBe(400)
    expect(fax.json).toMatchObject({ error: { code: 'bad-request' } })
    expect(String((fax.json.error as { message: string }).message)).toMatch(/channel/)

    const body = xMessage('m1', 'x')
    const unknown = await post(
      url,
      '/api/acme/inbound',
      { ...body, metadata: { ...body.metadata, phone_number: '+1555' } },
      system,
    )
    expect(unknown.status).toBe(400)
    expect(unknown.json).toMatchObject({
      error: { code: 'unknown-attribute', field: 'platform:phone_number' },
    })
    expect(await backend.index.findContact('acme', 'x', '42')).toBeNull()
  })

  it('refuses a platform value over its maximum length with too-long', async () => {
    const { url } = await startServer()
    const body = xMessage('m1', 'x')
    const { status, json } = await post(
      url,
      '/api/acme/inbound',
      { ...body, metadata: { x_handle: '@'.padEnd(1001, 'a') } },
      await tokenFor('system'),
    )
    expect(status).toBe(400)
    expect(json).toMatchObject({ error: { code: 'too-long' } })
  })

  it('refuses a message time no date can hold, and an attachment size past exact integers', async () => {
    const { url, backend } = await startServer()
    const token = await tokenFor('system')
    const body = xMessage('m1', 'x')
    const late = await post(
      url,
      '/api/acme/inbound',
      { ...body, message: { ...body.message, at: 1e300 } },
      token,
    )
    expect({ status: late.status, json: late.json }).toMatchObject({
      status: 400,
      json: { error: { code: 'bad-request' } },
    })
    const attachment = { id: 'a1', name: 'a.png', contentType: 'image/png', size: 1e300 }
    const huge = await post(
      url,
      '/api/acme/inbound',
      { ...body, message: { ...body.message, attachments: [attachment] } },
      token,
    )
    expect(huge.status).toBe(400)
    expect((await backend.index.listContacts('acme', { limit: 10 })).items).toEqual([])
  })
})

describe('list endpoints', () => {
  async function seedTraffic(running: Running) {
    const system = await tokenFor('system')
    const anna = await post(running.url, '/api/acme/inbound', xMessage('m1', 'Hi'), system)
    const bo = await post(
      running.url,
      '/api/acme/inbound',
      { channel: 'sms', platformUserId: '15550100', metadata: {}, message: { text: 'Hey' } },
      system,
    )
    const cy = await post(
      running.url,
      '/api/acme/inbound',
      {
        channel: 'email',
        platformUserId: 'cy@example.com',
        metadata: { email: 'cy@example.com' },
        message: { text: 'Hello' },
      },
      system,
    )
    // Anna is VIP; Bo's conversation is resolved.
    const admin: Actor = { userId: 'admin-1', role: 'admin' }
    const annaId = anna.json.contactId as string
    const schema = await running.server.host.read(schemaDocName('acme'), (doc) =>
      within(new SchemaDoc(doc), (s) => s.view()),
    )
    await running.server.host.transact(contactDocName('acme', annaId), admin, (doc) =>
      within(new ContactDoc(doc, annaId), (c) => c.setVip(true, admin, schema)),
    )
    await setStatus(running.server, 'acme', bo.json.conversationId as string, 'resolved')
    return { anna: anna.json, bo: bo.json, cy: cy.json }
  }

  it('lists contacts newest first, the VIP group, and pages with a cursor', async () => {
    const running = await startServer()
    const { anna, bo, cy } = await seedTraffic(running)
    const agent = await tokenFor('agent')
    const all = await get(running.url, '/api/acme/contacts', agent)
    expect(all.status).toBe(200)
    const ids = (all.json.items as { id: string }[]).map((c) => c.id)
    expect(ids).toEqual([cy.contactId, bo.contactId, anna.contactId])

    await expect
      .poll(async () => {
        const vip = await get(running.url, '/api/acme/contacts?vip=true', agent)
        return (vip.json.items as { id: string }[]).map((c) => c.id)
      })
      .toEqual([anna.contactId])

    const firstPage = await get(running.url, '/api/acme/contacts?limit=2', agent)
    expect(firstPage.json.items).toHaveLength(2)
    expect(typeof firstPage.json.next).toBe('string')
    const rest = await get(
      running.url,
      `/api/acme/contacts?limit=2&cursor=${encodeURIComponent(firstPage.json.next as string)}`,
      agent,
    )
    expect((rest.json.items as { id: string }[]).map((c) => c.id)).toEqual([anna.contactId])
    expect(rest.json.next).toBeNull()
  })

  it('lists conversations by status and by contact', async () => {
    const running = await startServer()
    const { anna, bo, cy } = await seedTraffic(running)
    const admin = await tokenFor('admin')
    await expect
      .poll(async () => {
        const open = await get(running.url, '/api/acme/conversations?status=new,pending', admin)
        return (open.json.items as { id: string }[]).map((c) => c.id).sort()
      })
      .toEqual([anna.conversationId, cy.conversationId].sort())
    const ofBo = await get(running.url, `/api/acme/conversations?contactId=${bo.contactId}`, admin)
    expect(ofBo.json.items).toMatchObject([{ id: bo.conversationId, status: 'resolved' }])
    const unassigned = await get(
      running.url,
      '/api/acme/conversations?unassigned=true&order=newest',
      admin,
    )
    expect(unassigned.json.items).toHaveLength(3)
    expect((await get(running.url, '/api/acme/conversations?team=vip', admin)).json.items).toEqual(
      [],
    )
    const both = await get(running.url, '/api/acme/conversations?team=vip&unassigned=true', admin)
    expect(both.status).toBe(400)
  })

  it('refuses list queries from service roles, other workspaces and bad parameters', async () => {
    const { url } = await startServer()
    const system = await get(url, '/api/acme/contacts', await tokenFor('system'))
    expect(system.status).toBe(403)
    const other = await get(url, '/api/acme/conversations', await tokenFor('agent', 'globex'))
    expect(other.json).toMatchObject({ error: { code: 'wrong-workspace' } })
    const agent = await tokenFor('agent')
    const badLimit = await get(url, '/api/acme/contacts?limit=100000', agent)
    expect(badLimit.status).toBe(400)
    expect(badLimit.json).toMatchObject({ error: { code: 'bad-request' } })
    const badStatus = await get(url, '/api/acme/conversations?status=open', agent)
    expect(badStatus.status).toBe(400)
    const unknownParam = await get(url, '/api/acme/contacts?sort=name', agent)
    expect(unknownParam.status).toBe(400)
  })
})

describe('routing and development tokens', () => {
  it('answers unknown API routes with 404 and wrong methods with 405, as JSON', async () => {
    const { url } = await startServer()
    const missing = await get(url, '/api/acme/nothing')
    expect(missing).toMatchObject({ status: 404, json: { error: { code: 'not-found' } } })
    const wrongMethod = await fetch(`${url}/api/acme/inbound`)
    expect(wrongMethod.status).toBe(405)
    expect(wrongMethod.headers.get('allow')).toBe('POST')
  })

  it('has no dev token endpoint unless development tokens are on', async () => {
    const { url } = await startServer()
    const { status } = await post(url, '/api/dev/token', {
      workspace: 'acme',
      role: 'admin',
      userId: 'ana',
    })
    expect(status).toBe(404)
  })

  it('signs a dev token the server accepts when development tokens are on', async () => {
    const { url } = await startServer({ devTokens: true })
    const { status, json } = await post(url, '/api/dev/token', {
      workspace: 'acme',
      role: 'agent',
      userId: 'ben',
      name: 'Ben',
    })
    expect(status).toBe(200)
    const list = await get(url, '/api/acme/contacts', json.token as string)
    expect(list.status).toBe(200)
    const bad = await post(url, '/api/dev/token', { workspace: 'acme', role: 'boss', userId: 'x' })
    expect(bad.status).toBe(400)
  })

  it('answers 500 without internals when storage fails', async () => {
    const { url, backend } = await startServer()
    await backend.close()
    const { status, json } = await get(url, '/api/acme/contacts', await tokenFor('agent'))
    expect(status).toBe(500)
    expect(json).toEqual({ error: { code: 'internal', message: 'Internal server error' } })
  })
})
