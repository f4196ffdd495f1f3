import { mkdtempSync, rmSync } from 'node:fs'
import { createServer } from 'node:http'
import type { ServerResponse } from 'node:http'
import type { AddressInfo } from 'node:net'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { fileURLToPath } from 'node:url'
import Database from 'better-sqlite3'
import { contactDocName, createCardfileClient } from '@cardfile/core'
import type { Role } from '@cardfile/core'
import { afterEach, describe, expect, it } from 'vitest'
import { WebSocket } from 'ws'
import * as Y from 'yjs'
import { createSqliteBackend } from '../src/storage/sqlite-backend'
import { signToken } from '../src/tokens'
import { startFixture } from './fixture-process'

const fixture = fileURLToPath(new URL('./fixtures/routing-crash-server.ts', import.meta.url))
const SECRET = 'routing-crash-secret-long-enough-for-hs256'
const WORKSPACE = 'acme'
const CONTACTS = 1500
const cleanups: (() => void | Promise<void>)[] = []

afterEach(async () => {
  for (const cleanup of cleanups.splice(0).reverse()) await cleanup()
})

/** Starts the fixture on `path` and resolves once it listens. */
async function serve(path: string, args: readonly string[] = []) {
  const served = await startFixture<{ url: string; wsUrl: string }>(
    fixture,
    [path, ...args],
    cleanups,
    { CARDFILE_TEST_SECRET: SECRET },
  )
  return { ...served, ...served.ready }
}

const tokenFor = (role: Role, userId = `${role}-1`): Promise<string> =>
  signToken({ secret: SECRET, userId, workspace: WORKSPACE, role })

async function api(
  url: string,
  role: Role,
  path: string,
  body?: unknown,
): Promise<{ status: number; json: Record<string, unknown> }> {
  const response = await fetch(`${url}/api/${WORKSPACE}${path}`, {
    method: body === undefined ? 'GET' : 'POST',
    headers: {
      authorization: `Bearer ${await tokenFor(role)}`,
      ...(body === undefined ? {} : { 'content-type': 'application/json' }),
    },
    ...(body === undefined ? {} : { body: JSON.stringify(body) }),
  })
  return { status: response.status, json: (await response.json()) as Record<string, unknown> }
}

/** The newest job of `kind` as the API shows it, or undefined. */
async function newestJob(url: string, kind: string): Promise<Record<string, unknown> | undefined> {
  const { json } = await api(url, 'agent', `/jobs?kind=${kind}&limit=1`)
  return (json.items as Record<string, unknown>[] | undefined)?.[0]
}

function tempDb(): string {
  const dir = mkdtempSync(join(tmpdir(), 'cardfile-routing-crash-'))
  cleanups.push(() => rmSync(dir, { recursive: true, force: true }))
  return join(dir, 'cardfile.db')
}

/** Contacts straight into the index, each with an email in two spellings of case. */
async function seedContacts(path: string): Promise<void> {
  const backend = createSqliteBackend({ path })
  const empty = Y.encodeStateAsUpdate(new Y.Doc())
  await Promise.all(
    Array.from({ length: CONTACTS }, (_, i) =>
      backend.documents.append(contactDocName(WORKSPACE, `c${i}`), empty, {
        kind: 'contact',
        workspace: WORKSPACE,
        id: `c${i}`,
        channel: 'email',
        platformUserId: `user${i}@example.org`,
        hint: `u***${i}`,
        vip: false,
        matchValue: null,
        values: { email: ` User${i}@Example.org` },
        createdAt: 1_000 + i,
        updatedAt: 1_000 + i,
      }),
    ),
  )
  await backend.close()
}

/** VIP contacts straight into the index (no conversations): a re-score visits each one. */
async function seedVipContacts(path: string): Promise<void> {
  const backend = createSqliteBackend({ path })
  const empty = Y.encodeStateAsUpdate(new Y.Doc())
  await Promise.all(
    Array.from({ length: CONTACTS }, (_, i) =>
      backend.documents.append(contactDocName(WORKSPACE, `v${i}`), empty, {
        kind: 'contact',
        workspace: WORKSPACE,
        id: `v${i}`,
        channel: 'sms',
        platformUserId: `+1415555${String(i).padStart(4, '0')}`,
        hint: `+1***${i}`,
        vip: true,
        matchValue: null,
        values: {},
        createdAt: 1_000 + i,
        updatedAt: 1_000 + i,
      }),
    ),
  )
  await backend.close()
}

/** A bot over real HTTP that records each request's idempotency key; it can hold requests open. */
async function startBot() {
  const received: { key: string | null; conversationId: string }[] = []
  const held: ServerResponse[] = []
  const state = { hold: false }
  const server = createServer((req, res) => {
    const chunks: Buffer[] = []
    req.on('data', (chunk: Buffer) => chunks.push(chunk))
    req.on('end', () => {
      const body = JSON.parse(Buffer.concat(chunks).toString('utf8')) as {
        conversationId: string
        idempotencyKey: string
      }
      const key = req.headers['idempotency-key']
      expect(body.idempotencyKey).toBe(key)
      received.push({
        key: typeof key === 'string' ? key : null,
        conversationId: body.conversationId,
      })
      if (state.hold) held.push(res)
      else res.writeHead(204).end()
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
  return { url: `http://127.0.0.1:${(server.address() as AddressInfo).port}/bot`, received, state }
}

describe('routing and linking under kill -9', () => {
  it('resumes a re-link cut off by a killed process and links every contact once', async () => {
    const path = tempDb()
    await seedContacts(path)
    // 150 chunks of 10, each waiting 10 ms on the slow index: well over a second of work.
    const first = await serve(path, ['--slow-relink', '10'])
    const admin = createCardfileClient({
      url: first.wsUrl,
      workspace: WORKSPACE,
      token: await tokenFor('admin'),
      WebSocket,
      indexedDB: false,
      keepAliveMs: 0,
    })
    const schema = admin.schema()
    await schema.whenSynced()
    // The settings change is the trigger: its event queues the re-link job.
    schema.schema.updateSettings({ matchingAttribute: 'email' })
    let cut: Record<string, unknown> | undefined
    await expect
      .poll(
        async () => {
          cut = await newestJob(first.url, 'relink')
          const processed = Number(cut?.processed ?? 0)
          return processed > 0 && processed < CONTACTS
        },
        { timeout: 20_000, interval: 20 },
      )
      .toBe(true)
    first.child.kill('SIGKILL')
    expect(await first.exited).toBe('SIGKILL')
    schema.release()
    await admin.destroy()
    expect(cut).toMatchObject({ state: 'running', attribute: 'email', total: CONTACTS })

    // The lease of the killed process runs out after 2 s; the new one resumes the job.
    const second = await serve(path)
    await expect
      .poll(async () => (await newestJob(second.url, 'relink'))?.state, {
        timeout: 20_000,
        interval: 50,
      })
      .toBe('done')
    const done = await newestJob(second.url, 'relink')
    expect(done).toMatchObject({ id: cut?.id, processed: CONTACTS, total: CONTACTS, attempts: 2 })
    // Resumed, not restarted: the second run did not read the contacts the first one recorded.
    expect(Number(done?.changed)).toBeGreaterThan(CONTACTS - 20)
    expect(Number(done?.changed)).toBeLessThanOrEqual(CONTACTS)
    second.child.kill('SIGTERM')
    expect(await second.exited).toBe('0')

    const db = new Database(path, { readonly: true })
    try {
      const rows = db
        .prepare('SELECT id, match_value AS value FROM contacts WHERE workspace = ?')
        .all(WORKSPACE) as { id: string; value: string | null }[]
      expect(rows).toHaveLength(CONTACTS)
      for (const row of rows) expect(row.value).toBe(`user${row.id.slice(1)}@example.org`)
      // One job, done once: the event that queued it was not replayed into a second one.
      const jobs = db.prepare("SELECT state, attempts FROM jobs WHERE kind = 'relink'").all()
      expect(jobs).toEqual([{ state: 'done', attempts: 2 }])
    } finally {
      db.close()
    }
  }, 60_000)

  it('hands a conversation to the bot again after a kill -9, under the same idempotency key', async () => {
    const path = tempDb()
    const bot = await startBot()
    bot.state.hold = true
    const first = await serve(path, ['--bot', bot.url])
    const inbound = await api(first.url, 'system', '/inbound', {
      channel: 'webchat',
      platformUserId: 'visitor-1',
      metadata: {},
      message: { text: 'hello', id: 'm1' },
    })
    expect(inbound.status).toBe(200)
    const { conversationId } = inbound.json as { conversationId: string }
    // The bot has the hand-off and has not answered: the server dies waiting.
    await expect.poll(() => bot.received.length, { timeout: 10_000 }).toBe(1)
    first.child.kill('SIGKILL')
    expect(await first.exited).toBe('SIGKILL')

    bot.state.hold = false
    const second = await serve(path, ['--bot', bot.url])
    await expect
      .poll(async () => (await newestJob(second.url, 'bot-handoff'))?.state, {
        timeout: 20_000,
        interval: 50,
      })
      .toBe('done')
    expect(await newestJob(second.url, 'bot-handoff')).toMatchObject({
      conversationId,
      attempts: 2,
      result: { sent: true },
    })
    // Asked twice, as one hand-off: a bot that dedupes by the key acts once.
    expect(bot.received).toHaveLength(2)
    expect(new Set(bot.received.map((r) => r.key)).size).toBe(1)
    expect(bot.received.every((r) => r.conversationId === conversationId)).toBe(true)
    // The conversation was routed once too: its priority is set and it is in the queue.
    const queue = await api(second.url, 'agent', '/queue')
    expect((queue.json.items as { id: string }[]).map((i) => i.id)).toEqual([conversationId])

    // A third process finds nothing left to hand off.
    second.child.kill('SIGTERM')
    expect(await second.exited).toBe('0')
    const third = await serve(path, ['--bot', bot.url])
    expect((await api(third.url, 'agent', '/queue')).status).toBe(200)
    await new Promise((resolve) => setTimeout(resolve, 1000))
    expect(bot.received).toHaveLength(2)
  }, 60_000)

  it('resumes a VIP re-score cut off by a killed process and runs it once', async () => {
    const path = tempDb()
    await seedVipContacts(path)
    // Every conversation listing waits 2 ms: a re-score of 1500 contacts takes seconds.
    const first = await serve(path, ['--slow-rescore', '2'])
    const started = await api(first.url, 'system', '/inbound', {
      channel: 'webchat',
      platformUserId: 'visitor-vip',
      metadata: {},
      message: { text: 'hello', id: 'm1' },
    })
    const { contactId, conversationId } = started.json as {
      contactId: string
      conversationId: string
    }
    const connect = async (url: string, role: Role) =>
      createCardfileClient({
        url,
        workspace: WORKSPACE,
        token: await tokenFor(role),
        WebSocket,
        indexedDB: false,
        keepAliveMs: 0,
      })
    const priority = async (url: string) => {
      const { json } = await api(url, 'agent', '/conversations?order=newest')
      return (json.items as { id: string; priority: number }[]).find((c) => c.id === conversationId)
        ?.priority
    }
    const agent = await connect(first.wsUrl, 'agent')
    const contact = agent.contact(contactId)
    await contact.whenSynced()
    contact.setVip(true)
    contact.release()
    await expect.poll(() => priority(first.url), { timeout: 10_000 }).toBe(1)
    await agent.destroy()

    const admin = await connect(first.wsUrl, 'admin')
    const schema = admin.schema()
    await schema.whenSynced()
    schema.schema.updateSettings({ vipEnabled: false })
    let cut: Record<string, unknown> | undefined
    await expect
      .poll(
        async () => {
          cut = await newestJob(first.url, 'vip-rescore')
          const contacts = Number(cut?.contacts ?? 0)
          return contacts > 0 && contacts < CONTACTS
        },
        { timeout: 20_000, interval: 20 },
      )
      .toBe(true)
    first.child.kill('SIGKILL')
    expect(await first.exited).toBe('SIGKILL')
    schema.release()
    await admin.destroy()
    expect(cut).toMatchObject({ state: 'running', active: false })

    // The lease of the killed process runs out after 2 s; the new one resumes the job.
    const second = await serve(path)
    await expect
      .poll(async () => (await newestJob(second.url, 'vip-rescore'))?.state, {
        timeout: 20_000,
        interval: 50,
      })
      .toBe('done')
    expect(await newestJob(second.url, 'vip-rescore')).toMatchObject({
      id: cut?.id,
      attempts: 2,
      contacts: CONTACTS + 1,
      result: { contacts: CONTACTS + 1 },
    })
    expect(await priority(second.url)).toBe(0)
    const vipGroup = await api(second.url, 'agent', '/groups/vip')
    expect(vipGroup.json).toMatchObject({ items: [], vipEnabled: false })

    // Switched back on after the restart: one more job, and the boost is back.
    const again = await connect(second.wsUrl, 'admin')
    const schemaAgain = again.schema()
    await schemaAgain.whenSynced()
    await expect.poll(() => schemaAgain.schema.settings().vipEnabled).toBe(false)
    schemaAgain.schema.updateSettings({ vipEnabled: true })
    await expect.poll(() => priority(second.url), { timeout: 20_000 }).toBe(1)
    await expect
      .poll(async () => (await newestJob(second.url, 'vip-rescore'))?.state, { timeout: 20_000 })
      .toBe('done')
    schemaAgain.release()
    await again.destroy()
    second.child.kill('SIGTERM')
    expect(await second.exited).toBe('0')

    const db = new Database(path, { readonly: true })
    try {
      // One job per switch: the event of the first was not replayed into a second job.
      const jobs = db
        .prepare("SELECT state, attempts FROM jobs WHERE kind = 'vip-rescore' ORDER BY seq")
        .all()
      expect(jobs).toEqual([
        { state: 'done', attempts: 2 },
        { state: 'done', attempts: 1 },
      ])
    } finally {
      db.close()
    }
  }, 90_000)
})
