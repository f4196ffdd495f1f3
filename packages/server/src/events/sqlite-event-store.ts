import type { Database } from 'better-sqlite3'
import type { NewDomainEvent } from './domain-event'
import { toEvent } from './event-row'
import type { EventSqlRow } from './event-row'
import type { ConsumerCursor, EventStore } from './event-store'

/** The SQLite event store, plus the synchronous insert the document store's commit uses. */
export interface SqliteEventStore extends EventStore {
  /** Inserts events inside the caller's transaction (the commit of a document change). */
  insertNow(events: readonly NewDomainEvent[]): void
}

/**
 * The event log in the backend's SQLite file, sharing its connection (and so its transactions)
 * with the document store.
 *
 * @example
 * const events = createSqliteEventStore(db)
 */
export function createSqliteEventStore(
  db: Database,
  now: () => number = Date.now,
): SqliteEventStore {
  const sql = {
    insert: db.prepare<[string, string, string, string | null, string, number]>(
      'INSERT INTO events (type, workspace, subject, actor, data, at) VALUES (?, ?, ?, ?, ?, ?)',
    ),
    read: db.prepare<[number, number], EventSqlRow>(
      'SELECT * FROM events WHERE seq > ? ORDER BY seq LIMIT ?',
    ),
    head: db.prepare<[], { seq: number | null }>('SELECT max(seq) AS seq FROM events'),
    // The lease changes hands only when it is free or has run out; the owner renews its own.
    claim: db.prepare<[string, number, string, number, number, number]>(
      `INSERT INTO event_consumers (name, cursor, owner, lease_until, seen_at)
       VALUES (?, ?, ?, ?, ?)
       ON CONFLICT (name) DO UPDATE SET owner = excluded.owner,
         lease_until = excluded.lease_until, seen_at = excluded.seen_at
       WHERE event_consumers.owner IS excluded.owner OR event_consumers.owner IS NULL
         OR event_consumers.lease_until <= ?`,
    ),
    consumer: db.prepare<[string], { cursor: number; owner: string | null }>(
      'SELECT cursor, owner FROM event_consumers WHERE name = ?',
    ),
    advance: db.prepare<[number, number, number, string, string]>(
      `UPDATE event_consumers SET cursor = max(cursor, ?), lease_until = ?, seen_at = ?
       WHERE name = ? AND owner = ?`,
    ),
    release: db.prepare<[number, string, string]>(
      `UPDATE event_consumers SET cursor = max(cursor, ?), owner = NULL, lease_until = 0
       WHERE name = ? AND owner = ?`,
    ),
    floor: db.prepare<[number], { floor: number | null }>(
      'SELECT min(cursor) AS floor FROM event_consumers WHERE seen_at >= ?',
    ),
    prune: db.prepare<[number, number]>('DELETE FROM events WHERE seq <= ? OR at < ?'),
    forget: db.prepare<[string, string]>(
      `DELETE FROM events WHERE workspace = ? AND subject = ? AND type != 'contact.erased'`,
    ),
  }

  const insertNow = (events: readonly NewDomainEvent[]): void => {
    for (const e of events) {
      sql.insert.run(
        e.type,
        e.workspace,
        e.subject,
        e.actor === null ? null : JSON.stringify({ userId: e.actor.userId, role: e.actor.role }),
        JSON.stringify(e.data),
        e.at,
      )
    }
  }
  const publish = db.transaction(insertNow)
  /**
   * Runs a write of lease bookkeeping without waiting for the disk: in WAL mode it still
   * survives a killed process, and only a power cut before the next flush (any durable commit,
   * or the checkpoint when the database closes) could undo it, which costs a repeat: a claim
   * is made again, a cursor moves again past events consumers handle idempotently, a lease
   * nobody released runs out. A server makes these writes while it starts and stops, where a
   * flush of each would be waited for.
   */
  const unflushed = <T>(write: () => T): T => {
    const level = db.pragma('synchronous', { simple: true }) as number
    // 0 OFF, 1 NORMAL: already no flush per commit.
    if (level <= 1) return write()
    db.pragma('synchronous = NORMAL')
    try {
      return write()
    } finally {
      db.pragma(`synchronous = ${level}`)
    }
  }
  // Every claim of one call in one transaction: one commit for all of them.
  const claim = db.transaction((names: readonly string[], owner: string, leaseMs: number) => {
    const at = now()
    const head = sql.head.get()?.seq ?? 0
    return names.map((name) => {
      sql.claim.run(name, head, owner, at + leaseMs, at, at)
      const row = sql.consumer.get(name)
      return row?.owner === owner ? { cursor: row.cursor } : null
    })
  })
  const release = db.transaction((leases: readonly ConsumerCursor[], owner: string) => {
    for (const { name, cursor } of leases) sql.release.run(cursor, name, owner)
  })
  const forget = db.transaction((workspace: string, subjects: readonly string[]) => {
    for (const subject of subjects) sql.forget.run(workspace, subject)
  })

  return {
    insertNow,
    async publish(events) {
      publish.immediate(events)
    },
    async read(after, limit) {
      return sql.read.all(after, limit).map(toEvent)
    },
    async claim(name, owner, leaseMs) {
      return unflushed(() => claim.immediate([name], owner, leaseMs))[0] ?? null
    },
    async claimAll(names, owner, leaseMs) {
      return names.length === 0 ? [] : unflushed(() => claim.immediate(names, owner, leaseMs))
    },
    async advance(name, owner, seq, leaseMs) {
      const at = now()
      return sql.advance.run(seq, at + leaseMs, at, name, owner).changes === 1
    },
    async release(leases, owner) {
      if (leases.length > 0) unflushed(() => release.immediate(leases, owner))
    },
    async prune({ activeWithinMs, maxAgeMs }) {
      const at = now()
      const floor = sql.floor.get(at - activeWithinMs)?.floor ?? sql.head.get()?.seq ?? 0
      return sql.prune.run(floor, at - maxAgeMs).changes
    },
    async forgetSubjects(workspace, subjects) {
      forget.immediate(workspace, subjects)
    },
  }
}
