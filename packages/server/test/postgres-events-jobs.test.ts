import { afterEach, describe, expect, it } from 'vitest'
import type { NewDomainEvent } from '../src/events/domain-event'
import { createPostgresEventStore } from '../src/events/postgres-event-store'
import type { PostgresEventStore } from '../src/events/postgres-event-store'
import type { Job } from '../src/jobs/job-store'
import { createPostgresJobStore } from '../src/jobs/postgres-job-store'
import { openPgDatabase } from '../src/storage/postgres-database'
import type { PgDatabase } from '../src/storage/postgres-database'
import { openTestDatabase, postgresUrl } from './postgres-test-db'
import { prng } from './prng'

const changed = (subject: string): NewDomainEvent => ({
  type: 'contact.changed',
  workspace: 'ws',
  subject,
  actor: null,
  data: { custom: [], platform: [], created: false },
  at: Date.now(),
})

/** What lets go of transactions a test left open. */
const releases: (() => void)[] = []

/**
 * A transaction of `db` that inserts `subject`'s event and stays open until the test commits or
 * rolls it back; resolves once the event is inserted.
 */
async function inFlight(
  db: PgDatabase,
  store: PostgresEventStore,
  subject: string,
): Promise<{ commit(): Promise<void>; rollback(): Promise<void> }> {
  let release!: (commit: boolean) => void
  const held = new Promise<boolean>((resolve) => (release = resolve))
  let inserted!: () => void
  const ready = new Promise<void>((resolve) => (inserted = resolve))
  const done = db
    .transaction(async (tx) => {
      await store.insertIn(tx, [changed(subject)])
      inserted()
      if (!(await held)) throw new Error('rolled back')
    })
    .catch((error: unknown) => {
      if (!(error instanceof Error && error.message === 'rolled back')) throw error
    })
  await ready
  // A failed assertion must not leave the transaction open (closing the pool would wait for it).
  releases.push(() => release(false))
  return {
    commit: () => (release(true), done),
    rollback: () => (release(false), done),
  }
}

const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms))

describe('PostgreSQL event store across connections', () => {
  const cleanups: (() => Promise<void>)[] = []
  afterEach(async () => {
    for (const release of releases.splice(0)) release()
    for (const cleanup of cleanups.splice(0).reverse()) await cleanup()
  })
  const open = async (): Promise<{ db: PgDatabase; schema: string; store: PostgresEventStore }> => {
    const t = await openTestDatabase()
    cleanups.push(t.cleanup)
    return { db: t.db, schema: t.schema, store: createPostgresEventStore(t.db) }
  }
  /** Another pool on the same schema: another server process. */
  const process = async (schema: string, maxConnections = 4): Promise<PgDatabase> => {
    const db = await openPgDatabase({ url: postgresUrl(), schema, maxConnections })
    cleanups.push(() => db.close())
    return db
  }

  it('holds a committed event back while an older one is still in flight', async () => {
    const { db, store } = await open()
    const first = await inFlight(db, store, 'first')
    await store.publish([changed('second')])

    // Seq of "first" is lower and may still commit: returning "second" now would let a cursor
    // pass "first" for good.
    expect(await store.read(0, 10)).toEqual([])
    // A consumer seen for the first time starts below the in-flight event, so it gets it.
    const lease = await store.claim('late', 'p1', 10_000)

    await first.commit()
    const events = await store.read(0, 10)
    expect(events.map((e) => e.subject)).toEqual(['first', 'second'])
    expect(events[0]!.seq).toBeLessThan(events[1]!.seq)
    expect(lease!.cursor).toBeLessThan(events[0]!.seq)
  })

  it('lets reads pass an event whose transaction rolled back', async () => {
    const { db, store } = await open()
    const doomed = await inFlight(db, store, 'doomed')
    await store.publish([changed('kept')])
    expect(await store.read(0, 10)).toEqual([])
    await doomed.rollback()
    expect((await store.read(0, 10)).map((e) => e.subject)).toEqual(['kept'])
  })

  it('is not held back by an in-flight writer of another schema', async () => {
    const a = await open()
    // The schema's hash is part of the lock key; pick another schema whose hash differs.
    const tag = async (db: PgDatabase): Promise<number> =>
      (await db.one<{ t: number }>('SELECT hashtext(current_schema()) & 1023 AS t'))!.t
    let b = await open()
    while ((await tag(b.db)) === (await tag(a.db))) b = await open()
    const other = await inFlight(b.db, b.store, 'elsewhere')
    await a.store.publish([changed('here')])
    expect((await a.store.read(0, 10)).map((e) => e.subject)).toEqual(['here'])
    await other.commit()
  })

  it('never lets a reader skip an event while writers commit out of order', async () => {
    const { schema, store: reader } = await open()
    const writerDb = await process(schema, 10)
    const writer = createPostgresEventStore(writerDb)
    const random = prng(7)
    const writes = Array.from({ length: 60 }, (_, i) => ({
      subject: `c${i}`,
      before: random.int(5),
      after: random.int(15),
      rollback: random.chance(0.1),
    }))
    let writing = true
    const seen: number[] = []
    const subjects: string[] = []
    const reading = (async () => {
      let cursor = 0
      for (;;) {
        const done = !writing
        const events = await reader.read(cursor, 7)
        for (const e of events) {
          seen.push(e.seq)
          subjects.push(e.subject)
          cursor = e.seq
        }
        if (done && events.length === 0) return
        await sleep(1)
      }
    })()
    await Promise.all(
      writes.map(async (w, i) => {
        await sleep(i * 2 + w.before)
        await writerDb
          .transaction(async (tx) => {
            await writer.insertIn(tx, [changed(w.subject), changed(`${w.subject}b`)])
            await sleep(w.after)
            if (w.rollback) throw new Error('rolled back')
          })
          .catch(() => undefined)
      }),
    )
    writing = false
    await reading

    const committed = (await reader.read(0, 1000)).map((e) => e.seq)
    expect(seen).toEqual(committed)
    const expected = writes
      .filter((w) => !w.rollback)
      .flatMap((w) => [w.subject, `${w.subject}b`])
      .sort()
    expect([...subjects].sort()).toEqual(expected)
  })

  it('gives a consumer to one of several processes claiming it at once', async () => {
    const { schema } = await open()
    const stores = await Promise.all(
      [1, 2, 3, 4].map(async () => createPostgresEventStore(await process(schema, 2))),
    )
    const leases = await Promise.all(stores.map((s, i) => s.claim('crm', `p${i}`, 10_000)))
    expect(leases.filter((l) => l !== null)).toHaveLength(1)
  })

  it('relies on the identity sequence handing out values without a per-session cache', async () => {
    const { db } = await open()
    const row = await db.one<{ cache_size: number }>(
      `SELECT cache_size FROM pg_sequences
       WHERE schemaname = current_schema() AND sequencename = 'events_seq_seq'`,
    )
    expect(row?.cache_size).toBe(1)
  })
})

describe('PostgreSQL job store across processes', () => {
  const cleanups: (() => Promise<void>)[] = []
  afterEach(async () => {
    for (const cleanup of cleanups.splice(0).reverse()) await cleanup()
  })
  const schemaWithProcesses = async (n: number) => {
    const t = await openTestDatabase()
    cleanups.push(t.cleanup)
    const dbs = await Promise.all(
      Array.from({ length: n }, () =>
        openPgDatabase({ url: postgresUrl(), schema: t.schema, maxConnections: 3 }),
      ),
    )
    for (const db of dbs) cleanups.push(() => db.close())
    return { db: t.db, stores: dbs.map((db) => createPostgresJobStore(db)) }
  }

  it('never hands one job to two workers claiming at once', async () => {
    const { db, stores } = await schemaWithProcesses(3)
    const main = createPostgresJobStore(db)
    const ids = new Set<string>()
    for (let i = 0; i < 40; i += 1) {
      ids.add((await main.enqueue({ kind: 'relink', workspace: 'ws', input: { i } })).id)
    }
    const taken: string[] = []
    await Promise.all(
      Array.from({ length: 9 }, async (_, w) => {
        const store = stores[w % stores.length]!
        for (;;) {
          const job = await store.claim(['relink'], `w${w}`, 60_000)
          if (job === null) return
          taken.push(job.id)
        }
      }),
    )
    expect(taken).toHaveLength(40)
    expect(new Set(taken)).toEqual(ids)
  })

  it('runs a lane one job at a time, in order, across workers', async () => {
    const { db, stores } = await schemaWithProcesses(3)
    const main = createPostgresJobStore(db)
    const lanes = ['a', 'b', 'c']
    const enqueued: Job[] = []
    for (let i = 0; i < 30; i += 1) {
      enqueued.push(
        await main.enqueue({ kind: 'deliver', workspace: 'ws', lane: lanes[i % 3]!, input: i }),
      )
    }
    const running = new Set<string>()
    const order = new Map<string, number[]>()
    const overlaps: string[] = []
    await Promise.all(
      Array.from({ length: 6 }, async (_, w) => {
        const store = stores[w % stores.length]!
        let idle = 0
        while (idle < 5) {
          const job = await store.claim(['deliver'], `w${w}`, 60_000)
          if (job === null) {
            idle += 1
            await sleep(5)
            continue
          }
          idle = 0
          if (running.has(job.lane!)) overlaps.push(job.lane!)
          running.add(job.lane!)
          order.set(job.lane!, [...(order.get(job.lane!) ?? []), job.seq])
          await sleep(2)
          // Off the books before it is done in the database, so a next claim never sees it.
          running.delete(job.lane!)
          expect(await store.complete(job.id, `w${w}`, null)).toBe(true)
        }
      }),
    )
    expect(overlaps).toEqual([])
    for (const lane of lanes) {
      const seqs = enqueued.filter((j) => j.lane === lane).map((j) => j.seq)
      expect(order.get(lane)).toEqual(seqs)
    }
  })

  it('enqueues one job per key when processes enqueue it at once', async () => {
    const { stores } = await schemaWithProcesses(3)
    const jobs = await Promise.all(
      stores.flatMap((store) =>
        [1, 2].map(() =>
          store.enqueue({ kind: 'relink', workspace: 'ws', key: 'e7', lane: 'ws', input: {} }),
        ),
      ),
    )
    expect(new Set(jobs.map((j) => j.id)).size).toBe(1)
    expect(await stores[0]!.count({ workspace: 'ws' })).toMatchObject({ queued: 1 })
  })
})
