import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import Database from 'better-sqlite3'
import { afterEach, describe, expect, it } from 'vitest'
import { createCardfileServer, signBody, verifySignature } from '@cardfile/server'
import { createMemoryBackend } from '@cardfile/server/memory'
import { createSqliteBackend } from '@cardfile/server/sqlite'
import type { Backend } from '@cardfile/server'
import { CrmCallError } from '../src/crm/adapter'
import type { CrmAdapter } from '../src/crm/adapter'
import type { DeliveryBody } from '../src/crm/contract'
import { createCrmService } from '../src/crm/crm-service'
import type { CrmParts } from '../src/crm/crm-service'
import {
  CRM_DELIVERY,
  DEFAULT_RETRY,
  backoffMs,
  deliveryLane,
  deliveryOf,
} from '../src/crm/delivery-job'
import type { DeliveryInput } from '../src/crm/delivery-job'
import { createSqliteJobStore } from '../src/jobs/sqlite-job-store'
import { startJobRunner } from '../src/jobs/job-runner'
import type { JobRunner } from '../src/jobs/job-runner'
import { migrate } from '../src/storage/sqlite-schema'

const dirs: string[] = []
const cleanups: (() => Promise<void> | void)[] = []
afterEach(async () => {
  for (const cleanup of cleanups.splice(0).reverse()) await cleanup()
  for (const d of dirs.splice(0)) rmSync(d, { recursive: true, force: true })
})

const tempDir = (): string => {
  const dir = mkdtempSync(join(tmpdir(), 'cardfile-crm-delivery-'))
  dirs.push(dir)
  return dir
}

const backends: [string, () => Backend][] = [
  ['memory', () => createMemoryBackend()],
  ['SQLite', () => createSqliteBackend({ path: join(tempDir(), 'db.sqlite') })],
]

const quiet = { debug: () => {}, info: () => {}, warn: () => {}, error: () => {} }

describe('CRM signatures', () => {
  const secret = '0f'.repeat(32)

  it('verifies a body signed with the same secret', () => {
    const body = '{"type":"lookup"}'
    expect(verifySignature(body, signBody(body, secret), secret)).toBe(true)
  })

  it('refuses another secret, a changed body and a missing header', () => {
    const body = '{"type":"lookup"}'
    const signature = signBody(body, secret)
    expect(verifySignature(body, signature, 'aa'.repeat(32))).toBe(false)
    expect(verifySignature(`${body} `, signature, secret)).toBe(false)
    expect(verifySignature(body, undefined, secret)).toBe(false)
  })
})

describe('CRM retry backoff', () => {
  it('doubles per attempt up to the cap, with jitter within half of the delay', () => {
    const policy = { ...DEFAULT_RETRY, baseDelayMs: 100, maxDelayMs: 1000 }
    expect(backoffMs(1, policy, () => 0)).toBe(50)
    expect(backoffMs(1, policy, () => 1)).toBe(100)
    expect(backoffMs(3, policy, () => 1)).toBe(400)
    expect(backoffMs(10, policy, () => 1)).toBe(1000)
    expect(backoffMs(10, policy, () => 0)).toBe(500)
  })
})

describe.each(backends)('CRM deliveries as jobs (%s)', (_, open) => {
  /** What the adapter was asked to deliver, and what it answers next. */
  interface Crm {
    readonly sent: { key: string; body: DeliveryBody }[]
    answer: (body: DeliveryBody) => void
  }

  const start = async (retry = { maxAttempts: 3, baseDelayMs: 5, maxDelayMs: 10 }) => {
    const backend = open()
    cleanups.push(() => backend.close())
    // A server without extensions: its host is what the CRM reads documents through.
    const server = await createCardfileServer({
      autoCreateWorkspaces: 'advanced',
      backend,
      auth: { secret: 's' },
      host: '127.0.0.1',
      extensions: [],
    })
    cleanups.push(() => server.close())
    const crm: Crm = { sent: [], answer: () => {} }
    const adapter: CrmAdapter = {
      requiresUrls: false,
      async lookup() {
        return { found: false }
      },
      async deliver(call, body) {
        crm.sent.push({ key: call.idempotencyKey, body })
        crm.answer(body)
      },
    }
    let runner: JobRunner | null = null
    const parts: CrmParts = createCrmService({
      host: server.host,
      storage: backend.crm,
      jobs: backend.jobs,
      enqueue: async (job) => {
        const queued = await backend.jobs.enqueue(job)
        runner?.poke()
        return queued
      },
      logger: quiet,
      options: { adapter, retry, random: () => 0 },
    })
    runner = startJobRunner({
      store: backend.jobs,
      handlers: [parts.deliveries],
      owner: 'test',
      logger: quiet,
      pollMs: 20,
    })
    cleanups.push(() => runner.stop())
    const queue = (contactId: string, n: number) => {
      const input: DeliveryInput = {
        contactId,
        kind: 'notification',
        body: JSON.stringify({ type: 'notification', sequence: n }),
        attributeIds: [],
      }
      return backend.jobs.enqueue({
        kind: CRM_DELIVERY,
        workspace: 'w',
        key: `${contactId}/${n}`,
        lane: deliveryLane('w', contactId),
        input,
      })
    }
    return { backend, crm, service: parts.service, runner, queue }
  }

  it("sends a contact's deliveries one at a time in order, each with its job id as key", async () => {
    const { crm, runner, queue, service } = await start()
    await service.updateConfig('w', { enabled: true })
    const jobs = [await queue('a', 1), await queue('a', 2), await queue('a', 3)]
    runner.poke()
    await expect.poll(() => crm.sent.length).toBe(3)
    expect(crm.sent.map((s) => (s.body as { sequence: number }).sequence)).toEqual([1, 2, 3])
    expect(crm.sent.map((s) => s.key)).toEqual(jobs.map((j) => j.id))
    await expect
      .poll(async () => (await service.metrics('w')).deliveries)
      .toEqual({
        pending: 0,
        delivered: 3,
        dead: 0,
      })
  })

  it('waits without counting an attempt while the connection is off', async () => {
    const { crm, runner, queue, service } = await start()
    await service.updateConfig('w', { enabled: false })
    await queue('a', 1)
    runner.poke()
    await runner.settled()
    const [delivery] = await service.deliveries('w', { state: 'pending', limit: 10 })
    expect(delivery).toMatchObject({ attempts: 0, lastError: 'the CRM connection is switched off' })
    expect(delivery!.nextAttemptAt).toBeGreaterThan(Date.now() + 30_000)
    expect(crm.sent).toEqual([])
  })

  it('retries with the same key, dies after maxAttempts, and counts afresh once retried', async () => {
    const { crm, runner, queue, service } = await start()
    await service.updateConfig('w', { enabled: true })
    crm.answer = () => {
      throw new CrmCallError('status', 'the CRM answered 503', true, 503)
    }
    const job = await queue('a', 1)
    runner.poke()
    await expect
      .poll(async () => (await service.deliveries('w', { state: 'dead', limit: 10 })).length)
      .toBe(1)
    expect(crm.sent.map((s) => s.key)).toEqual([job.id, job.id, job.id])
    const [dead] = await service.deliveries('w', { state: 'dead', limit: 10 })
    expect(dead).toMatchObject({ id: job.id, attempts: 3, lastError: 'the CRM answered 503' })

    expect(await service.retry('other', job.id)).toBe(false)
    let calls = 0
    crm.answer = () => {
      calls += 1
      if (calls === 1) throw new CrmCallError('status', 'the CRM answered 503', true, 503)
    }
    expect(await service.retry('w', job.id)).toBe(true)
    expect(await service.retry('w', job.id)).toBe(false)
    runner.poke()
    // One failure after the retry is the first of three again, not the fourth: it is retried.
    await expect
      .poll(
        async () => (await service.deliveries('w', { state: 'delivered', limit: 10 }))[0]?.attempts,
      )
      .toBe(2)
    expect(crm.sent.map((s) => s.key)).toEqual(Array(5).fill(job.id))
  })

  it("drops an erased contact's deliveries and CRM rows, and no one else's", async () => {
    const { backend, queue, service } = await start()
    await service.updateConfig('w', { enabled: false })
    await queue('a', 1)
    await queue('b', 1)
    await backend.crm!.putPending([
      {
        workspace: 'w',
        contactId: 'a',
        attributeId: 'tier',
        by: { role: 'agent', userId: 'u', at: 1 },
      },
    ])
    await backend.crm!.putLookup({
      workspace: 'w',
      contactId: 'a',
      at: 1,
      outcome: 'found',
      reason: null,
    })
    await service.onContactErased({ workspace: 'w', contactId: 'a' })
    const left = await service.deliveries('w', { limit: 10 })
    expect(left.map((d) => d.contactId)).toEqual(['b'])
    expect(await backend.crm!.listPending('w', 'a')).toEqual([])
    expect(await backend.crm!.getLookup('w', 'a')).toBeNull()
  })

  it('clears only the pending write-backs a queued write-back carries', async () => {
    const { backend } = await start()
    const by = { role: 'agent' as const, userId: 'u', at: 1 }
    await backend.crm!.putPending([
      { workspace: 'w', contactId: 'a', attributeId: 'tier', by },
      { workspace: 'w', contactId: 'a', attributeId: 'account', by },
    ])
    await backend.crm!.clearPending('w', 'a', ['tier'])
    expect((await backend.crm!.listPending('w', 'a')).map((p) => p.attributeId)).toEqual([
      'account',
    ])
  })
})

describe('SQLite migration 7', () => {
  it('moves the CRM outbox into the jobs table, in order, with its ids, states and attempts', async () => {
    const db = new Database(join(tempDir(), 'old.sqlite'))
    cleanups.push(() => {
      db.close()
    })
    migrate(db, 6)
    const insert = db.prepare(
      `INSERT INTO crm_deliveries (id, workspace, contact_id, kind, body, state, attempts,
         next_attempt_at, last_error, created_at, updated_at) VALUES (?, 'w', ?, ?, ?, ?, ?, 5, ?, 1, 2)`,
    )
    insert.run('d1', 'a', 'write-back', '{"n":1}', 'delivered', 1, null)
    insert.run('d2', 'a', 'notification', '{"n":2}', 'pending', 2, 'the CRM answered 503')
    insert.run('d3', 'b', 'write-back', '{"n":3}', 'dead', 8, 'the CRM answered 422')
    migrate(db)

    expect(
      db.prepare("SELECT name FROM sqlite_master WHERE name = 'crm_deliveries'").get(),
    ).toBeUndefined()
    const jobs = createSqliteJobStore(db)
    const moved = await jobs.list({ workspace: 'w', kind: CRM_DELIVERY }, 10)
    expect(moved.map((j) => [j.id, j.state, j.lane])).toEqual([
      ['d3', 'failed', 'crm/w/b'],
      ['d2', 'queued', 'crm/w/a'],
      ['d1', 'done', 'crm/w/a'],
    ])
    expect(moved[1]).toMatchObject({
      input: { contactId: 'a', kind: 'notification', body: '{"n":2}', attributeIds: [] },
      error: 'the CRM answered 503',
      runAt: 5,
    })
    expect(moved.map((j) => deliveryOf(j)?.attempts)).toEqual([8, 2, 1])
    expect(moved.map((j) => deliveryOf(j)?.state)).toEqual(['dead', 'pending', 'delivered'])
    // Retried by an admin, the dead one starts its attempts again.
    expect(await jobs.retry('d3')).toBe(true)
    expect(deliveryOf((await jobs.get('d3'))!)).toMatchObject({ state: 'pending', attempts: 0 })
  })
})
