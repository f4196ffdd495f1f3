import { createServer } from 'node:http'
import type { IncomingMessage, ServerResponse } from 'node:http'
import type { AddressInfo } from 'node:net'
import { ContactDoc, SchemaDoc } from '@cardfile/core'
import type { Role } from '@cardfile/core'
import type { CardfileServer } from '@cardfile/server'
import { afterEach, describe, expect, it } from 'vitest'
import * as Y from 'yjs'
import { IDEMPOTENCY_HEADER } from '../src/crm/contract'
import { httpApi } from '../src/http/create-http-api'
import { openPgDatabase } from '../src/storage/postgres-database'
import { startCluster } from './cluster-harness'
import { postgresUrl } from './postgres-test-db'
import type { TestCluster } from './cluster-harness'
import { SYSTEM, connectSynced, expectPoll, fieldValue, makeToken } from './sync-helpers'

// The work a commit sets off (bot hand-offs, re-links, CRM write-backs, exports) runs once
// when two instances consume the same events and jobs.

const cleanups: (() => Promise<void> | void)[] = []
afterEach(async () => {
  for (const cleanup of cleanups.splice(0).reverse()) await cleanup()
})

interface Received {
  readonly path: string
  readonly key: string | null
  readonly body: Record<string, unknown>
}

/** An HTTP endpoint that records every request (a bot webhook, a CRM) and answers 200. */
async function startRecorder(answer: (path: string) => string = () => '{}') {
  const received: Received[] = []
  const server = createServer((req: IncomingMessage, res: ServerResponse) => {
    const chunks: Buffer[] = []
    req.on('data', (chunk: Buffer) => chunks.push(chunk))
    req.on('end', () => {
      const key = req.headers[IDEMPOTENCY_HEADER]
      const path = req.url ?? '/'
      received.push({
        path,
        key: typeof key === 'string' ? key : null,
        body: JSON.parse(Buffer.concat(chunks).toString('utf8') || '{}') as Record<string, unknown>,
      })
      res.writeHead(200, { 'content-type': 'application/json' }).end(answer(path))
    })
  })
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve))
  cleanups.push(
    () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections()
        server.close(() => resolve())
      }),
  )
  return { url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`, received }
}

async function twoInstances(
  options: Parameters<typeof startCluster>[1] = {},
): Promise<TestCluster> {
  const cluster = await startCluster(2, {
    httpHandler: httpApi({ onError: () => undefined }),
    background: { leaseMs: 500, pollMs: 50 },
    ...options,
  })
  cleanups.push(() => cluster.close())
  return cluster
}

async function api(
  server: CardfileServer,
  role: Role,
  method: string,
  path: string,
  body?: unknown,
): Promise<{ status: number; json: Record<string, unknown>; text: string }> {
  const response = await fetch(`${server.url}/api/demo${path}`, {
    method,
    headers: {
      authorization: `Bearer ${await makeToken({ user: `${role}-1`, role })}`,
      ...(body === undefined ? {} : { 'content-type': 'application/json' }),
    },
    ...(body === undefined ? {} : { body: JSON.stringify(body) }),
  })
  const text = await response.text()
  let json: Record<string, unknown> = {}
  try {
    json = JSON.parse(text) as Record<string, unknown>
  } catch {
    // A CSV download.
  }
  return { status: response.status, json, text }
}

async function inbound(
  server: CardfileServer,
  channel: string,
  platformUserId: string,
  metadata: Record<string, string> = {},
): Promise<{ contactId: string; conversationId: string }> {
  const answer = await api(server, 'system', 'POST', '/inbound', {
    channel,
    platformUserId,
    metadata,
    message: { text: 'hello' },
  })
  expect(answer.status, answer.text).toBe(200)
  return answer.json as { contactId: string; conversationId: string }
}

const idle = (cluster: TestCluster) =>
  Promise.all(cluster.instances.map((instance) => instance.server.idle()))

const editSchema = (server: CardfileServer, change: (schema: SchemaDoc) => void) =>
  server.host.transact('demo/schema', SYSTEM, (doc) => {
    const schema = new SchemaDoc(doc)
    change(schema)
    schema.destroy()
  })

describe('work set off by commits, with two instances consuming', { timeout: 60_000 }, () => {
  it('hands every new conversation to the bot once', async () => {
    const bot = await startRecorder()
    const cluster = await twoInstances({ botHandoff: { url: `${bot.url}/hook`, timeoutMs: 2000 } })
    const [a, b] = cluster.instances.map((i) => i.server) as [CardfileServer, CardfileServer]
    const started: string[] = []
    for (let i = 0; i < 12; i++) {
      const at = i % 2 === 0 ? a : b
      started.push((await inbound(at, 'webchat', `visitor-${i}`)).conversationId)
    }
    await expectPoll(() => bot.received.length >= 12, 15_000)
    await idle(cluster)
    await new Promise((resolve) => setTimeout(resolve, 300))
    const handed = bot.received.map((r) => r.body.conversationId as string)
    expect(handed.sort()).toEqual([...started].sort())
  })

  it('re-scores the VIP contacts once per switch when VIP is switched off and back on', async () => {
    const cluster = await twoInstances()
    const [a, b] = cluster.instances.map((i) => i.server) as [CardfileServer, CardfileServer]
    const started: { contactId: string; conversationId: string }[] = []
    for (let i = 0; i < 6; i++) {
      started.push(await inbound(i % 2 === 0 ? a : b, 'sms', `+1415555060${i}`))
    }
    const view = await a.host.read('demo/schema', (doc) => {
      const schema = new SchemaDoc(doc)
      const v = schema.view()
      schema.destroy()
      return v
    })
    for (const { contactId } of started.slice(0, 4)) {
      await b.host.transact(`demo/contact/${contactId}`, SYSTEM, (doc) => {
        const contact = new ContactDoc(doc, contactId)
        contact.setVip(true, SYSTEM, view)
        contact.destroy()
      })
    }
    const priorities = async (server: CardfileServer) => {
      const { json } = await api(server, 'agent', 'GET', '/conversations?order=newest')
      const rows = json.items as { id: string; priority: number }[]
      return started.map((s) => rows.find((r) => r.id === s.conversationId)?.priority)
    }
    const rescores = async () =>
      (
        (await api(b, 'admin', 'GET', '/jobs?kind=vip-rescore&limit=10')).json.items as {
          state: string
          active: boolean
          contacts: number
        }[]
      ).map((j) => `${j.active ? 'on' : 'off'}:${j.state}:${j.contacts}`)
    await expect.poll(() => priorities(a), { timeout: 15_000 }).toEqual([1, 1, 1, 1, 0, 0])

    await editSchema(a, (schema) => schema.updateSettings({ vipEnabled: false }))
    await expect.poll(rescores, { timeout: 15_000 }).toEqual(['off:done:4'])
    expect(await priorities(b)).toEqual([0, 0, 0, 0, 0, 0])

    await editSchema(b, (schema) => schema.updateSettings({ vipEnabled: true }))
    await expect.poll(rescores, { timeout: 15_000 }).toEqual(['on:done:4', 'off:done:4'])
    expect(await priorities(a)).toEqual([1, 1, 1, 1, 0, 0])
    await idle(cluster)
    expect(await rescores()).toEqual(['on:done:4', 'off:done:4'])
  })

  it('re-links the workspace once when the matching attribute changes', async () => {
    const cluster = await twoInstances()
    const [a, b] = cluster.instances.map((i) => i.server) as [CardfileServer, CardfileServer]
    const pairs: [string, string][] = []
    for (let i = 0; i < 6; i++) {
      const email = `p${i}@example.org`
      const first = await inbound(a, 'email', email, { email })
      const second = await inbound(b, 'webchat', `chat-${i}`, { email })
      pairs.push([first.contactId, second.contactId])
    }
    await editSchema(b, (schema) => schema.updateSettings({ matchingAttribute: 'email' }))
    const relinks = async () =>
      (await api(a, 'agent', 'GET', '/jobs?kind=relink&limit=10')).json.items as {
        state: string
        processed: number
        total: number
      }[]
    await expect
      .poll(async () => (await relinks()).map((j) => j.state), { timeout: 15_000 })
      .toEqual(['done'])
    const [job] = await relinks()
    expect(job).toMatchObject({ processed: 12, total: 12 })
    for (const [one, other] of pairs) {
      const linked = await api(b, 'agent', 'GET', `/contacts/${one}/linked`)
      expect((linked.json.items as { id: string }[]).map((c) => c.id)).toEqual([other])
    }
  })

  it('sends a CRM write-back once, with one idempotency key', async () => {
    const crm = await startRecorder((path) => (path === '/lookup' ? '{"found":false}' : '{}'))
    const cluster = await twoInstances({
      crm: { timeoutMs: 5000, retry: { baseDelayMs: 20, maxDelayMs: 100, maxAttempts: 5 } },
      // The CRM answers on this machine.
      allowPrivateOutboundTargets: true,
    })
    const [a, b] = cluster.instances.map((i) => i.server) as [CardfileServer, CardfileServer]
    await editSchema(a, (schema) => {
      schema.createAttribute({
        id: 'account',
        label: 'Account',
        type: 'text',
        alias: 'account',
        crmManaged: true,
      })
      schema.updateSettings({ plan: 'enterprise', agentsMayEditCrm: true })
    })
    await a.crm!.updateConfig('demo', {
      enabled: true,
      lookupUrl: `${crm.url}/lookup`,
      writeBackUrl: `${crm.url}/write-back`,
    })
    await a.crm!.rotateSecret('demo', 'ab'.repeat(32))
    const { contactId, conversationId } = await inbound(b, 'email', 'crm@example.org')
    await idle(cluster)
    const agent = { role: 'agent' as const, userId: 'agent-1' }
    const token = await makeToken({ user: agent.userId, role: 'agent' })
    // The contact edited through one instance, the conversation's status through the other.
    const contact = await connectSynced(b, `demo/contact/${contactId}`, token)
    contact.doc.getMap('custom').set('account', fieldValue('AC-1', agent))
    await expectPoll(() => ownAcked(contact))
    const conversation = await connectSynced(a, `demo/conversation/${conversationId}`, token)
    conversation.doc.getMap('meta').set('status', 'pending')
    await expectPoll(() => ownAcked(conversation))
    const writeBacks = () => crm.received.filter((r) => r.path === '/write-back')
    await expectPoll(() => writeBacks().length >= 1, 15_000)
    await idle(cluster)
    await new Promise((resolve) => setTimeout(resolve, 300))
    expect(writeBacks()).toHaveLength(1)
    expect(writeBacks()[0]?.body).toMatchObject({ values: { account: 'AC-1' } })
    const deliveries = await api(b, 'admin', 'GET', '/crm/deliveries')
    expect((deliveries.json.items as { kind: string }[]).map((d) => d.kind)).toEqual(['write-back'])
    contact.close()
    conversation.close()
  })

  it('runs an export once and serves its file from either instance', async () => {
    const cluster = await twoInstances()
    const [a, b] = cluster.instances.map((i) => i.server) as [CardfileServer, CardfileServer]
    for (let i = 0; i < 8; i++) await inbound(i % 2 === 0 ? a : b, 'webchat', `export-${i}`)
    await idle(cluster)
    const started = await api(a, 'admin', 'POST', '/exports', { type: 'contact-attributes' })
    expect(started.status).toBe(202)
    const id = (started.json.job as { id: string }).id
    await expect
      .poll(
        async () =>
          ((await api(b, 'admin', 'GET', `/exports/${id}`)).json.job as { status: string }).status,
        {
          timeout: 15_000,
        },
      )
      .toBe('done')
    for (const server of [a, b]) {
      const download = await api(server, 'admin', 'GET', `/exports/${id}/download`)
      expect(download.status).toBe(200)
      // A header and one row per contact, each once.
      const rows = download.text
        .replace(/^\uFEFF/, '')
        .trim()
        .split('\n')
        .slice(1)
      expect(rows).toHaveLength(8)
      expect(new Set(rows.map((row) => row.split(',')[0])).size).toBe(8)
    }
    // One job, run once (one attempt), and one file written.
    const db = await openPgDatabase({ url: postgresUrl(), schema: cluster.schema })
    try {
      const jobs = await db.rows<{ state: string; attempts: number }>(
        "SELECT state, attempts FROM jobs WHERE kind = 'export'",
      )
      expect(jobs).toEqual([{ state: 'done', attempts: 1 }])
      const blobs = await db.rows<{ n: number }>(
        'SELECT count(*)::int AS n FROM blob_chunks GROUP BY write_id',
      )
      expect(blobs).toHaveLength(1)
    } finally {
      await db.close()
    }
  })
})

/** The client's own changes are acknowledged. */
function ownAcked(client: { doc: Y.Doc; acks: Uint8Array[] }): boolean {
  const ack = client.acks.at(-1)
  if (ack === undefined) return false
  const own = client.doc.clientID
  return (
    (Y.decodeStateVector(ack).get(own) ?? 0) >=
    (Y.decodeStateVector(Y.encodeStateVector(client.doc)).get(own) ?? 0)
  )
}
