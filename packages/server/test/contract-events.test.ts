import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import Database from 'better-sqlite3'
import { afterEach, beforeEach, describe, expect, it } from 'vitest'
import type { NewDomainEvent } from '../src/events/domain-event'
import type { EventStore } from '../src/events/event-store'
import { createMemoryEventStore } from '../src/events/memory-event-store'
import { createPostgresEventStore } from '../src/events/postgres-event-store'
import { createSqliteEventStore } from '../src/events/sqlite-event-store'
import { migrate } from '../src/storage/sqlite-schema'
import { storeEngines } from './backends'

/** A clock the test moves by hand, so leases run out without waiting. */
const clock = { now: 1_000_000 }
const now = (): number => clock.now

const stores = storeEngines<EventStore>({
  memory: () => createMemoryEventStore(now),
  sqlite: (db) => createSqliteEventStore(db, now),
  postgres: (db) => createPostgresEventStore(db, now),
})

const changed = (subject: string, at = clock.now): NewDomainEvent => ({
  type: 'contact.changed',
  workspace: 'ws',
  subject,
  actor: { userId: 'u1', role: 'agent' },
  data: { custom: ['plan'], platform: [], created: false },
  at,
})

describe.each(stores)('%s event store', (_name, factory) => {
  let store: EventStore
  let close: () => unknown
  beforeEach(async () => {
    clock.now = 1_000_000
    ;({ store, close } = await factory())
  })
  afterEach(async () => {
    await close()
  })

  it('reads events back in publish order with increasing seqs and their data', async () => {
    await store.publish([changed('c1'), changed('c2')])
    await store.publish([changed('c3')])
    const events = await store.read(0, 10)
    expect(events.map((e) => e.subject)).toEqual(['c1', 'c2', 'c3'])
    expect(events[0]).toMatchObject({
      type: 'contact.changed',
      workspace: 'ws',
      actor: { userId: 'u1', role: 'agent' },
      data: { custom: ['plan'], platform: [], created: false },
    })
    const seqs = events.map((e) => e.seq)
    expect([...seqs].sort((a, b) => a - b)).toEqual(seqs)
    expect(await store.read(seqs[1]!, 10)).toHaveLength(1)
    expect(await store.read(0, 2)).toHaveLength(2)
  })

  it('starts a new consumer after the newest event', async () => {
    await store.publish([changed('c1')])
    const [first] = await store.read(0, 1)
    const lease = await store.claim('routing', 'p1', 1000)
    expect(lease).toEqual({ cursor: first!.seq })
    await store.publish([changed('c2')])
    expect((await store.read(lease!.cursor, 10)).map((e) => e.subject)).toEqual(['c2'])
  })

  it('gives a consumer to one owner at a time until its lease runs out', async () => {
    expect(await store.claim('crm', 'p1', 1000)).not.toBeNull()
    expect(await store.claim('crm', 'p2', 1000)).toBeNull()
    expect(await store.claim('crm', 'p1', 1000)).not.toBeNull()
    clock.now += 1001
    expect(await store.claim('crm', 'p2', 1000)).not.toBeNull()
    // The old owner lost it: its cursor moves are refused.
    expect(await store.advance('crm', 'p1', 5, 1000)).toBe(false)
    expect(await store.claim('crm', 'p1', 1000)).toBeNull()
  })

  it('keeps a cursor across owners and never moves it backwards', async () => {
    await store.publish([changed('c1'), changed('c2'), changed('c3')])
    const seqs = (await store.read(0, 10)).map((e) => e.seq)
    const start = await store.claim('crm', 'p1', 1000)
    expect(start).not.toBeNull()
    await store.release([{ name: 'crm', cursor: 0 }], 'p1')
    // Released: the next owner need not wait for the lease.
    const lease = await store.claim('crm', 'p2', 1000)
    expect(lease?.cursor).toBe(seqs[2])
  })

  it('moves the cursor of the owner and hands the cursor to the next owner', async () => {
    const lease = await store.claim('routing', 'p1', 1000)
    await store.publish([changed('c1'), changed('c2')])
    const events = await store.read(lease!.cursor, 10)
    expect(await store.advance('routing', 'p1', events[0]!.seq, 1000)).toBe(true)
    expect(await store.advance('routing', 'p1', 0, 1000)).toBe(true)
    await store.release([{ name: 'routing', cursor: 0 }], 'p1')
    const next = await store.claim('routing', 'p2', 1000)
    expect(next?.cursor).toBe(events[0]!.seq)
  })

  it('claims several consumers at once, each as a claim of its own would', async () => {
    await store.publish([changed('c1')])
    const [first] = await store.read(0, 1)
    expect(await store.claim('held', 'p2', 1000)).not.toBeNull()
    const leases = await store.claimAll(['routing', 'held', 'crm'], 'p1', 1000)
    // New consumers start after the newest event; one another owner holds is not taken.
    expect(leases).toEqual([{ cursor: first!.seq }, null, { cursor: first!.seq }])
    expect(await store.claim('routing', 'p2', 1000)).toBeNull()
    expect(await store.claim('crm', 'p1', 1000)).toEqual({ cursor: first!.seq })
    expect(await store.claimAll([], 'p1', 1000)).toEqual([])
  })

  it('stores the cursors of the leases it gives up, never backwards, and frees them', async () => {
    await store.publish([changed('c1'), changed('c2'), changed('c3')])
    const seqs = (await store.read(0, 10)).map((e) => e.seq)
    await store.claimAll(['a', 'b', 'c'], 'p1', 1000)
    await store.claim('other', 'p2', 1000)
    // Claimed after the newest event: moving a's cursor back to the first one changes nothing.
    await store.release(
      [
        { name: 'a', cursor: seqs[0]! },
        { name: 'b', cursor: seqs[2]! },
        { name: 'other', cursor: 0 },
      ],
      'p1',
    )
    await store.publish([changed('c4')])
    const [c4] = await store.read(seqs[2]!, 1)
    // Released: another owner takes them at once, where p1 left them.
    expect(await store.claimAll(['a', 'b'], 'p3', 1000)).toEqual([
      { cursor: seqs[2]! },
      { cursor: seqs[2]! },
    ])
    // Still held: c by p1, other by p2 (p1's release of it did nothing).
    expect(await store.claim('c', 'p3', 1000)).toBeNull()
    expect(await store.claim('other', 'p3', 1000)).toBeNull()
    expect(c4?.subject).toBe('c4')
  })

  it('prunes what every active consumer passed, and what is too old', async () => {
    const a = await store.claim('a', 'p1', 1000)
    await store.claim('b', 'p1', 1000)
    await store.publish([changed('c1'), changed('c2'), changed('c3')])
    const seqs = (await store.read(0, 10)).map((e) => e.seq)
    await store.advance('a', 'p1', seqs[2]!, 1000)
    await store.advance('b', 'p1', seqs[0]!, 1000)
    expect(a).not.toBeNull()
    expect(await store.prune({ activeWithinMs: 60_000, maxAgeMs: 3_600_000 })).toBe(1)
    expect((await store.read(0, 10)).map((e) => e.subject)).toEqual(['c2', 'c3'])
    clock.now += 3_600_001
    expect(await store.prune({ activeWithinMs: 60_000, maxAgeMs: 3_600_000 })).toBe(2)
    expect(await store.read(0, 10)).toEqual([])
  })

  it('forgets the events of erased subjects but keeps their erasure', async () => {
    await store.publish([
      changed('c1'),
      changed('c2'),
      {
        type: 'contact.erased',
        workspace: 'ws',
        subject: 'c1',
        actor: null,
        data: { createdAt: 5, conversationIds: ['v1'] },
        at: clock.now,
      },
    ])
    await store.forgetSubjects('ws', ['c1', 'v1'])
    const events = await store.read(0, 10)
    expect(events.map((e) => `${e.type}:${e.subject}`)).toEqual([
      'contact.changed:c2',
      'contact.erased:c1',
    ])
  })
})

describe('SQLite event store, lease bookkeeping', () => {
  let dir = ''
  afterEach(() => rmSync(dir, { recursive: true, force: true }))

  it('commits claims and releases at once, and puts the connection back to flushing every commit', async () => {
    dir = mkdtempSync(join(tmpdir(), 'cardfile-events-'))
    const db = new Database(join(dir, 'events.db'))
    db.pragma('journal_mode = WAL')
    db.pragma('synchronous = FULL')
    migrate(db)
    const reader = new Database(join(dir, 'events.db'))
    const owners = () =>
      reader.prepare('SELECT name, owner FROM event_consumers ORDER BY name').all()
    try {
      const store = createSqliteEventStore(db, now)
      expect(await store.claimAll(['a', 'b'], 'p1', 1000)).toEqual([{ cursor: 0 }, { cursor: 0 }])
      // Committed: another connection sees the leases at once; every other write still flushes.
      expect(owners()).toEqual([
        { name: 'a', owner: 'p1' },
        { name: 'b', owner: 'p1' },
      ])
      expect(db.pragma('synchronous', { simple: true })).toBe(2)
      await store.release([{ name: 'a', cursor: 0 }], 'p1')
      expect(owners()).toEqual([
        { name: 'a', owner: null },
        { name: 'b', owner: 'p1' },
      ])
      expect(db.pragma('synchronous', { simple: true })).toBe(2)
    } finally {
      reader.close()
      db.close()
    }
  })
})
