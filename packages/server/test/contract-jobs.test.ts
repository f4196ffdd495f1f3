import { afterEach, beforeEach, describe, expect, it } from 'vitest'
import type { JobStore } from '../src/jobs/job-store'
import { createMemoryJobStore } from '../src/jobs/memory-job-store'
import { createPostgresJobStore } from '../src/jobs/postgres-job-store'
import { createSqliteJobStore } from '../src/jobs/sqlite-job-store'
import { storeEngines } from './backends'

const clock = { now: 1_000_000 }
const now = (): number => clock.now

const stores = storeEngines<JobStore>({
  memory: () => createMemoryJobStore(now),
  sqlite: (db) => createSqliteJobStore(db, now),
  postgres: (db) => createPostgresJobStore(db, now),
})

describe.each(stores)('%s job store', (_name, factory) => {
  let store: JobStore
  let close: () => unknown
  beforeEach(async () => {
    clock.now = 1_000_000
    ;({ store, close } = await factory())
  })
  afterEach(async () => {
    await close()
  })

  it('enqueues a job once per key and kind', async () => {
    const a = await store.enqueue({ kind: 'relink', workspace: 'ws', key: 'e1', input: { n: 1 } })
    const b = await store.enqueue({ kind: 'relink', workspace: 'ws', key: 'e1', input: { n: 2 } })
    const c = await store.enqueue({ kind: 'export', workspace: 'ws', key: 'e1', input: { n: 3 } })
    expect(b.id).toBe(a.id)
    expect(b.input).toEqual({ n: 1 })
    expect(c.id).not.toBe(a.id)
    expect(a).toMatchObject({ state: 'queued', attempts: 0, progress: null, result: null })
  })

  it('hands a job to one worker, which renews, reports progress and completes it', async () => {
    const job = await store.enqueue({ kind: 'relink', workspace: 'ws', input: {} })
    const taken = await store.claim(['relink'], 'w1', 1000)
    expect(taken).toMatchObject({ id: job.id, state: 'running', owner: 'w1', attempts: 1 })
    expect(await store.claim(['relink'], 'w2', 1000)).toBeNull()
    expect(await store.heartbeat(job.id, 'w1', 1000, { after: 'c9' })).toBe(true)
    expect(await store.heartbeat(job.id, 'w2', 1000)).toBe(false)
    expect(await store.complete(job.id, 'w1', { changed: 3 })).toBe(true)
    expect(await store.get(job.id)).toMatchObject({
      state: 'done',
      progress: { after: 'c9' },
      result: { changed: 3 },
      owner: null,
    })
    expect(await store.complete(job.id, 'w1', {})).toBe(false)
  })

  it('lets another worker take over a job whose lease ran out, and refuses the old one', async () => {
    const job = await store.enqueue({ kind: 'relink', workspace: 'ws', input: {} })
    await store.claim(['relink'], 'w1', 1000)
    await store.heartbeat(job.id, 'w1', 1000, { after: 'c5' })
    clock.now += 1001
    const taken = await store.claim(['relink'], 'w2', 1000)
    expect(taken).toMatchObject({ id: job.id, owner: 'w2', attempts: 2, progress: { after: 'c5' } })
    expect(await store.heartbeat(job.id, 'w1', 1000, { after: 'c1' })).toBe(false)
    expect(await store.complete(job.id, 'w1', {})).toBe(false)
    expect(await store.complete(job.id, 'w2', { ok: true })).toBe(true)
  })

  it('retries a failed run when asked and fails it for good otherwise', async () => {
    const job = await store.enqueue({ kind: 'deliver', workspace: 'ws', input: {} })
    await store.claim(['deliver'], 'w1', 1000)
    expect(await store.fail(job.id, 'w1', 'timeout', clock.now + 500)).toBe(true)
    expect(await store.claim(['deliver'], 'w1', 1000)).toBeNull()
    expect(await store.nextDueAt(['deliver'])).toBe(clock.now + 500)
    clock.now += 500
    expect(await store.claim(['deliver'], 'w1', 1000)).toMatchObject({ attempts: 2 })
    expect(await store.fail(job.id, 'w1', 'refused', null)).toBe(true)
    expect(await store.get(job.id)).toMatchObject({ state: 'failed', error: 'refused' })
    expect(await store.nextDueAt(['deliver'])).toBeNull()
    expect(await store.retry(job.id)).toBe(true)
    expect(await store.retry(job.id)).toBe(false)
    expect(await store.claim(['deliver'], 'w1', 1000)).toMatchObject({ attempts: 1 })
  })

  it('runs the jobs of a lane one at a time in order', async () => {
    const first = await store.enqueue({ kind: 'deliver', workspace: 'ws', lane: 'c1', input: 1 })
    const second = await store.enqueue({ kind: 'deliver', workspace: 'ws', lane: 'c1', input: 2 })
    const other = await store.enqueue({ kind: 'deliver', workspace: 'ws', lane: 'c2', input: 3 })
    expect((await store.claim(['deliver'], 'w1', 1000))?.id).toBe(first.id)
    // The lane's next job waits for the first; another lane does not.
    expect((await store.claim(['deliver'], 'w1', 1000))?.id).toBe(other.id)
    expect(await store.claim(['deliver'], 'w1', 1000)).toBeNull()
    // A first job waiting for its retry still holds its lane.
    await store.fail(first.id, 'w1', 'later', clock.now + 100)
    expect(await store.claim(['deliver'], 'w1', 1000)).toBeNull()
    clock.now += 100
    expect((await store.claim(['deliver'], 'w1', 1000))?.id).toBe(first.id)
    await store.complete(first.id, 'w1', null)
    expect((await store.claim(['deliver'], 'w1', 1000))?.id).toBe(second.id)
  })

  it('takes only the kinds asked for, oldest first', async () => {
    const a = await store.enqueue({ kind: 'export', workspace: 'ws', input: {} })
    const b = await store.enqueue({ kind: 'relink', workspace: 'ws', input: {} })
    expect((await store.claim(['relink'], 'w1', 1000))?.id).toBe(b.id)
    expect((await store.claim(['relink', 'export'], 'w1', 1000))?.id).toBe(a.id)
  })

  it('cancels queued and running jobs so that their worker loses them', async () => {
    const running = await store.enqueue({ kind: 'relink', workspace: 'ws', input: {} })
    const queued = await store.enqueue({ kind: 'relink', workspace: 'ws', input: {} })
    const elsewhere = await store.enqueue({ kind: 'relink', workspace: 'other', input: {} })
    await store.claim(['relink'], 'w1', 1000)
    expect(await store.cancel({ workspace: 'ws', kind: 'relink' }, 'superseded')).toBe(2)
    expect(await store.heartbeat(running.id, 'w1', 1000)).toBe(false)
    expect(await store.get(queued.id)).toMatchObject({ state: 'cancelled', error: 'superseded' })
    expect(await store.get(elsewhere.id)).toMatchObject({ state: 'queued' })
  })

  it('cancels only the jobs named by id', async () => {
    const a = await store.enqueue({ kind: 'export', workspace: 'ws', input: {} })
    const b = await store.enqueue({ kind: 'export', workspace: 'ws', input: {} })
    const c = await store.enqueue({ kind: 'export', workspace: 'ws', input: {} })
    expect(await store.cancel({ workspace: 'ws', ids: [a.id, c.id] }, 'erased')).toBe(2)
    expect(await store.get(b.id)).toMatchObject({ state: 'queued' })
    expect((await store.list({ workspace: 'ws', ids: [] }, 10)).length).toBe(0)
    expect((await store.list({ workspace: 'ws', states: ['cancelled'] }, 10)).length).toBe(2)
  })

  it('replaces the result of a done job only', async () => {
    const job = await store.enqueue({ kind: 'export', workspace: 'ws', input: {} })
    expect(await store.setResult(job.id, { removed: 'why' })).toBe(false)
    await store.claim(['export'], 'w1', 1000)
    expect(await store.setResult(job.id, { removed: 'why' })).toBe(false)
    await store.complete(job.id, 'w1', { blob: 'b', removed: null })
    expect(await store.setResult(job.id, { blob: 'b', removed: 'why' })).toBe(true)
    expect(await store.get(job.id)).toMatchObject({
      state: 'done',
      result: { blob: 'b', removed: 'why' },
    })
    expect(await store.setResult('nope', {})).toBe(false)
  })

  it('lists a workspace newest first, counts by state and removes what a filter matches', async () => {
    const a = await store.enqueue({ kind: 'deliver', workspace: 'ws', lane: 'c1', input: {} })
    const b = await store.enqueue({ kind: 'deliver', workspace: 'ws', lane: 'c2', input: {} })
    await store.enqueue({ kind: 'export', workspace: 'ws', input: {} })
    expect((await store.list({ workspace: 'ws', kind: 'deliver' }, 10)).map((j) => j.id)).toEqual([
      b.id,
      a.id,
    ])
    expect(await store.list({ workspace: 'ws', states: ['done'] }, 10)).toEqual([])
    expect(await store.count({ workspace: 'ws', kind: 'deliver' })).toEqual({
      queued: 2,
      running: 0,
      done: 0,
      failed: 0,
      cancelled: 0,
    })
    expect(await store.remove({ workspace: 'ws', lane: 'c1' })).toBe(1)
    expect(await store.get(a.id)).toBeNull()
    expect(await store.list({ workspace: 'ws' }, 10)).toHaveLength(2)
  })
})
