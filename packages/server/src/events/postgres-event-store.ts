import type { PgDatabase, PgSession } from '../storage/postgres-database'
import type { NewDomainEvent } from './domain-event'
import { toEvent } from './event-row'
import type { EventSqlRow } from './event-row'
import type { EventStore } from './event-store'

/** The PostgreSQL event store, plus the insert the document store's commit transaction uses. */
export interface PostgresEventStore extends EventStore {
  /** Inserts events inside the caller's transaction (the commit of a document change). */
  insertIn(tx: PgSession, events: readonly NewDomainEvent[]): Promise<void>
}

/*
 * Why reads need a bound. An identity value is handed out when a row is inserted, but
 * transactions commit in any order: seq 12 can be visible while seq 11 is still in flight. A
 * consumer that read 12 would move its cursor past 11 and never see it. So `read` returns only
 * seqs that are final: committed, or never to be (rolled back).
 *
 * How, without making readers and writers wait for each other: every writer announces a lower
 * bound of the seqs it is about to take, in a place other sessions see at once and that clears
 * itself when the writer ends, a transaction-level advisory lock whose key holds L, the last
 * seq handed out before its insert (read from the sequence, which is not transactional). A
 * reader then takes, in one statement, H = the newest committed seq in its snapshot and after
 * that the smallest L among the locks held (pg_locks), and reads seqs up to B = min(H, L) in a
 * later statement, whose snapshot is newer.
 *
 * Why that is sound: say seq s <= B is not visible to the second statement and its writer W has
 * not rolled back, so W is still running. s < H, and H was committed before the first
 * statement's snapshot, so s was handed out before then, and W took its lock before taking s.
 * W still runs, so its lock was in pg_locks when the reader looked: B <= L_W < s. Contradiction.
 * This relies on the sequence handing out increasing values in time order, which holds for the
 * identity column's default CACHE 1 (a per-session cache would break it).
 *
 * Advisory locks are per database, not per schema, so the key also carries a hash of the
 * schema: a lock from another schema (or another application) that happens to match only
 * lowers the bound for a while, it never lets a read pass an in-flight seq.
 *
 * The key is the two-int4 form: 10 bits of schema hash and the top 21 bits of L in the first
 * int4, the low 31 bits of L in the second, all non-negative. L is capped at 2^52 - 1 (a lower
 * bound stays a lower bound), far beyond any real log.
 */
const SCHEMA_TAG = `(hashtext(current_schema())::bigint & 1023)`
const MAX_BOUND = '4503599627370495'

const ANNOUNCE = `
  SELECT pg_advisory_xact_lock_shared(
    (((${SCHEMA_TAG}) << 21) | (s.l >> 31))::int4,
    (s.l & 2147483647)::int4
  ) IS NULL AS locked
  FROM (
    SELECT LEAST(
      COALESCE(pg_sequence_last_value(pg_get_serial_sequence('events', 'seq')::regclass), 0),
      ${MAX_BOUND}
    ) AS l
  ) s`

/** The smallest L announced by a writer still running in this schema, or NULL when none runs. */
const IN_FLIGHT_FLOOR = `(
  SELECT min(((k.classid::bigint & 2097151) << 31) | k.objid::bigint)
  FROM pg_locks k
  WHERE k.locktype = 'advisory' AND k.objsubid = 2
    AND k.database = (SELECT oid FROM pg_database WHERE datname = current_database())
    AND (k.classid::bigint >> 21) = ${SCHEMA_TAG}
)`

/** The newest committed seq in the statement's snapshot (0 for an empty log). */
const HEAD = `(SELECT COALESCE(max(seq), 0) AS head FROM events)`

/**
 * The event log in PostgreSQL, shared by every server process using the database. Events of a
 * document change are inserted by the document store's commit through {@link
 * PostgresEventStore.insertIn}; `read` never returns an event while an older one may still
 * commit (see the comment above `ANNOUNCE`).
 *
 * @example
 * const events = createPostgresEventStore(db)
 * await db.transaction(async (tx) => { ...; await events.insertIn(tx, announced) })
 */
export function createPostgresEventStore(
  db: PgDatabase,
  now: () => number = Date.now,
): PostgresEventStore {
  const insertIn = async (tx: PgSession, events: readonly NewDomainEvent[]): Promise<void> => {
    if (events.length === 0) return
    // Before the insert: the lock must be visible before any seq of this transaction exists.
    await tx.run(ANNOUNCE)
    await tx.run(
      `INSERT INTO events (type, workspace, subject, actor, data, at)
       SELECT type, workspace, subject, actor, data, at
       FROM unnest($1::text[], $2::text[], $3::text[], $4::text[], $5::text[], $6::bigint[])
         WITH ORDINALITY AS e (type, workspace, subject, actor, data, at, n)
       ORDER BY n`,
      [
        events.map((e) => e.type),
        events.map((e) => e.workspace),
        events.map((e) => e.subject),
        events.map((e) =>
          e.actor === null ? null : JSON.stringify({ userId: e.actor.userId, role: e.actor.role }),
        ),
        events.map((e) => JSON.stringify(e.data)),
        events.map((e) => e.at),
      ],
    )
  }

  const claimIn = async (
    q: PgSession,
    name: string,
    owner: string,
    leaseMs: number,
  ): Promise<{ cursor: number } | null> => {
    const at = now()
    // One statement, so two processes claiming at once cannot both win. The lease changes
    // hands only when it is free or has run out; the owner renews its own. A new consumer
    // starts at the newest final seq: an event still in flight below the head commits after
    // this claim, so the consumer must still see it. The existing cursor is looked up first so
    // that a known consumer's claim does not read pg_locks (COALESCE stops at the first value).
    const row = await q.one<{ cursor: number }>(
      `INSERT INTO event_consumers AS c (name, cursor, owner, lease_until, seen_at)
       SELECT $1, COALESCE(
           (SELECT cursor FROM event_consumers WHERE name = $1),
           LEAST(h.head, ${IN_FLIGHT_FLOOR})
         ), $2, $3, $4
       FROM ${HEAD} h
       ON CONFLICT (name) DO UPDATE SET owner = excluded.owner,
         lease_until = excluded.lease_until, seen_at = excluded.seen_at
       WHERE c.owner = excluded.owner OR c.owner IS NULL OR c.lease_until <= $4
       RETURNING c.cursor`,
      [name, owner, at + leaseMs, at],
    )
    return row === undefined ? null : { cursor: row.cursor }
  }

  return {
    insertIn,

    async publish(events) {
      if (events.length === 0) return
      await db.transaction((tx) => insertIn(tx, events))
    },

    async read(after, limit) {
      // One statement: its snapshot gives the head, and pg_locks is read after that snapshot.
      // The floor is only computed when there is something new to read.
      const bound = await db.one<{ head: number; floor: number | null }>(
        `SELECT h.head, CASE WHEN h.head > $1 THEN ${IN_FLIGHT_FLOOR} END AS floor
         FROM ${HEAD} h`,
        [after],
      )
      const head = bound?.head ?? 0
      const floor = bound?.floor ?? null
      const upto = floor === null ? head : Math.min(head, floor)
      if (upto <= after || limit <= 0) return []
      // A later statement, so a later snapshot: every seq up to `upto` is final in it.
      const rows = await db.rows<EventSqlRow>(
        'SELECT * FROM events WHERE seq > $1 AND seq <= $2 ORDER BY seq LIMIT $3',
        [after, upto, limit],
      )
      return rows.map(toEvent)
    },

    async claim(name, owner, leaseMs) {
      return claimIn(db, name, owner, leaseMs)
    },

    async claimAll(names, owner, leaseMs) {
      if (names.length === 0) return []
      // One transaction: one commit for every consumer of a starting server.
      return db.transaction(async (tx) => {
        const leases: ({ cursor: number } | null)[] = []
        for (const name of names) leases.push(await claimIn(tx, name, owner, leaseMs))
        return leases
      })
    },

    async advance(name, owner, seq, leaseMs) {
      const at = now()
      const changed = await db.run(
        `UPDATE event_consumers SET cursor = GREATEST(cursor, $1), lease_until = $2, seen_at = $3
         WHERE name = $4 AND owner = $5`,
        [seq, at + leaseMs, at, name, owner],
      )
      return changed === 1
    },

    async release(leases, owner) {
      if (leases.length === 0) return
      // One statement for every consumer of a stopping server.
      await db.run(
        `UPDATE event_consumers c SET cursor = GREATEST(c.cursor, l.cursor), owner = NULL,
           lease_until = 0
         FROM unnest($1::text[], $2::bigint[]) AS l(name, cursor)
         WHERE c.name = l.name AND c.owner = $3`,
        [leases.map((l) => l.name), leases.map((l) => l.cursor), owner],
      )
    },

    async prune({ activeWithinMs, maxAgeMs }) {
      const at = now()
      // An event in flight below the floor commits after this and stays: it is only late.
      return db.run(
        `DELETE FROM events WHERE seq <= COALESCE(
           (SELECT min(cursor) FROM event_consumers WHERE seen_at >= $1),
           (SELECT max(seq) FROM events),
           0
         ) OR at < $2`,
        [at - activeWithinMs, at - maxAgeMs],
      )
    },

    async forgetSubjects(workspace, subjects) {
      if (subjects.length === 0) return
      await db.run(
        `DELETE FROM events WHERE workspace = $1 AND subject = ANY($2::text[])
           AND type <> 'contact.erased'`,
        [workspace, subjects],
      )
    },
  }
}
