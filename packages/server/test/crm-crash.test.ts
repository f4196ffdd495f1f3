import { mkdtempSync, rmSync } from 'node:fs'
import { createServer } from 'node:http'
import type { IncomingMessage, ServerResponse } from 'node:http'
import type { AddressInfo } from 'node:net'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { fileURLToPath } from 'node:url'
import { afterEach, describe, expect, it } from 'vitest'
import * as Y from 'yjs'
import { IDEMPOTENCY_HEADER } from '../src/crm/contract'
import { startFixture } from './fixture-process'
import { connectSynced, expectPoll, fieldValue, makeToken } from './sync-helpers'

const fixture = fileURLToPath(new URL('./fixtures/crm-crash-server.ts', import.meta.url))
const CRM_SECRET = '5a'.repeat(32)
const AGENT = { userId: 'alan', role: 'agent' as const }

const cleanups: (() => Promise<void> | void)[] = []
afterEach(async () => {
  for (const cleanup of cleanups.splice(0).reverse()) await cleanup()
})

/** One request the CRM received. */
interface Received {
  readonly path: string
  readonly key: string | null
  readonly body: Record<string, unknown>
}

/**
 * A CRM over real HTTP that records every request with its idempotency key; it answers at once
 * unless told to hold the write-backs or lookups open (a CRM that has not answered yet).
 */
async function startCrm() {
  const received: Received[] = []
  const hold = { writeBacks: false, lookups: false }
  const held: ServerResponse[] = []
  const server = createServer((req: IncomingMessage, res: ServerResponse) => {
    const chunks: Buffer[] = []
    req.on('data', (chunk: Buffer) => chunks.push(chunk))
    req.on('end', () => {
      const path = req.url ?? '/'
      const key = req.headers[IDEMPOTENCY_HEADER]
      received.push({
        path,
        key: typeof key === 'string' ? key : null,
        body: JSON.parse(Buffer.concat(chunks).toString('utf8')) as Record<string, unknown>,
      })
      if ((path === '/write-back' && hold.writeBacks) || (path === '/lookup' && hold.lookups)) {
        held.push(res)
        return
      }
      res.writeHead(200, { 'content-type': 'application/json' })
      res.end(path === '/lookup' ? '{"found":false}' : '{}')
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
  return {
    url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`,
    hold,
    writeBacks: () => received.filter((r) => r.path === '/write-back'),
    lookups: () => received.filter((r) => r.path === '/lookup'),
    /** Answers nothing to what it held: the connections just end. */
    dropHeld: () => {
      for (const res of held.splice(0)) res.destroy()
    },
  }
}

interface ServerProcess {
  readonly wsUrl: string
  readonly url: string
  /** SIGKILL, resolved once the process is gone. */
  kill(): Promise<void>
}

/** Starts the fixture server on `db`; resolves once it serves. */
async function startServerProcess(
  db: string,
  crmUrl: string,
  seed: boolean,
): Promise<ServerProcess> {
  const served = await startFixture<{ wsUrl: string; url: string }>(
    fixture,
    [db, crmUrl, CRM_SECRET, ...(seed ? ['seed'] : [])],
    cleanups,
  )
  return { ...served.ready, kill: served.kill }
}

/** The workspace's CRM deliveries, as admins read them over HTTP. */
async function deliveries(server: ServerProcess, state?: string) {
  const token = await makeToken({ user: 'ada', role: 'admin' })
  const response = await fetch(
    `${server.url}/api/demo/crm/deliveries${state === undefined ? '' : `?state=${state}`}`,
    { headers: { authorization: `Bearer ${token}` } },
  )
  expect(response.status).toBe(200)
  return ((await response.json()) as { items: { id: string; kind: string }[] }).items
}

/** Commits an agent's edit through a websocket client and waits for its durable ack. */
async function edit(
  server: ServerProcess,
  docName: string,
  change: (doc: Y.Doc) => void,
): Promise<void> {
  const client = await connectSynced(
    server,
    docName,
    await makeToken({ user: AGENT.userId, role: 'agent' }),
  )
  change(client.doc)
  // Acknowledged: the server's durable ack covers this client's own edits (the server's own
  // writes it relays meanwhile, like the CRM's pending flag, are not this client's to wait for).
  const own = Y.decodeStateVector(Y.encodeStateVector(client.doc)).get(client.doc.clientID) ?? 0
  await expectPoll(() => {
    const ack = client.acks.at(-1)
    return ack !== undefined && (Y.decodeStateVector(ack).get(client.doc.clientID) ?? 0) >= own
  })
  expect(client.refusals).toEqual([])
  client.close()
}

const tempDb = (): string => {
  const dir = mkdtempSync(join(tmpdir(), 'cardfile-crm-crash-'))
  cleanups.push(() => rmSync(dir, { recursive: true, force: true }))
  return join(dir, 'cardfile.db')
}

describe('CRM write-backs under kill -9', () => {
  it('sends a write-back cut off by the kill again with its one idempotency key', async () => {
    const crm = await startCrm()
    const db = tempDb()
    const first = await startServerProcess(db, crm.url, true)
    crm.hold.writeBacks = true

    await edit(first, 'demo/contact/c1', (doc) => {
      doc.getMap('custom').set('account', fieldValue('AC-KILL-1', AGENT))
    })
    await edit(first, 'demo/conversation/v1', (doc) => {
      doc.getMap('meta').set('status', 'pending')
    })
    // The CRM has the write-back and has not answered: the job is running when the kill comes.
    await expect.poll(() => crm.writeBacks().length).toBe(1)
    await first.kill()
    crm.hold.writeBacks = false
    crm.dropHeld()

    const second = await startServerProcess(db, crm.url, false)
    await expect.poll(async () => (await deliveries(second, 'delivered')).length).toBe(1)

    const keys = new Set(crm.writeBacks().map((r) => r.key))
    expect(keys.size).toBe(1)
    expect(crm.writeBacks().length).toBeGreaterThanOrEqual(2)
    expect(crm.writeBacks()[0]?.body).toMatchObject({
      type: 'write-back',
      values: { account: 'AC-KILL-1' },
      changedBy: { account: { role: 'agent', userId: AGENT.userId } },
      conversation: { id: 'v1', status: { from: 'new', to: 'pending' } },
    })
    expect(
      crm
        .writeBacks()
        .every((r) => JSON.stringify(r.body) === JSON.stringify(crm.writeBacks()[0]?.body)),
    ).toBe(true)
    const all = await deliveries(second)
    expect(all.map((d) => [d.id, d.kind])).toEqual([[[...keys][0], 'write-back']])
  })

  it('loses no write-back when killed after the status change committed and before it was handled', async () => {
    const crm = await startCrm()
    const db = tempDb()
    const first = await startServerProcess(db, crm.url, true)
    const lookupsBefore = crm.lookups().length
    crm.hold.lookups = true

    await edit(first, 'demo/contact/c1', (doc) => {
      doc.getMap('custom').set('account', fieldValue('AC-KILL-2', AGENT))
    })
    // A new lookup value: the consumer waits on the CRM's lookup answer, which does not come.
    await edit(first, 'demo/contact/c1', (doc) => {
      doc.getMap('custom').set('customer', fieldValue('CU-9', AGENT))
    })
    await expect.poll(() => crm.lookups().length).toBe(lookupsBefore + 1)
    await edit(first, 'demo/conversation/v1', (doc) => {
      doc.getMap('meta').set('status', 'resolved')
    })
    // Committed and acknowledged, not handled: nothing was sent or queued for it yet.
    expect(crm.writeBacks()).toEqual([])
    await first.kill()
    crm.hold.lookups = false
    crm.dropHeld()

    const second = await startServerProcess(db, crm.url, false)
    await expect.poll(async () => (await deliveries(second, 'delivered')).length).toBe(1)

    expect(new Set(crm.writeBacks().map((r) => r.key)).size).toBe(1)
    expect(crm.writeBacks()[0]?.body).toMatchObject({
      values: { account: 'AC-KILL-2' },
      contact: { id: 'c1', lookup: { customer: 'CU-9' } },
      conversation: { id: 'v1', status: { from: 'new', to: 'resolved' } },
    })
    expect((await deliveries(second)).map((d) => d.kind)).toEqual(['write-back'])
  })
})
