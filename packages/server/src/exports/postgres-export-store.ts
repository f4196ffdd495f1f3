import type { PoolClient } from 'pg'
import { CardfileError, ErrorCodes } from '@cardfile/core'
import { toContactIndexRow } from '../storage/contact-sql-row'
import type { ContactSqlRow } from '../storage/contact-sql-row'
import { asUnavailable } from '../storage/postgres-database'
import type { PgDatabase } from '../storage/postgres-database'
import { checkChunkSize, snapshotClosed } from './export-store'
import type { ContactSnapshot, ExportStore } from './export-store'

type Range = { readonly from: number | null; readonly to: number | null }

/**
 * Contact snapshots on PostgreSQL: each one is a connection of its own from the pool, holding
 * one `REPEATABLE READ READ ONLY` transaction, so every chunk reads the view of its first
 * statement while writers carry on. An open snapshot takes a connection out of the pool until
 * it is closed.
 *
 * @example
 * const exports = createPostgresExportStore(db)
 * const snapshot = await exports.openContactSnapshot('demo', { from: null, to: null })
 * try { for (;;) { const rows = await snapshot.next(1000); if (rows.length === 0) break } }
 * finally { await snapshot.close() }
 */
export function createPostgresExportStore(db: PgDatabase): ExportStore {
  return {
    async openContactSnapshot(workspace, range) {
      const held = hold(await db.connect())
      try {
        await held.client.query('BEGIN ISOLATION LEVEL REPEATABLE READ READ ONLY')
        // The first statement fixes the transaction's view: the count and every chunk agree.
        const { filter, params } = whereOf(workspace, range)
        const counted = await held.client.query<{ n: number }>(
          `SELECT count(*) AS n FROM contacts WHERE ${filter}`,
          params,
        )
        return snapshotOn(held, counted.rows[0]?.n ?? 0, filter, params)
      } catch (error) {
        await held.release()
        throw held.typed(error)
      }
    },
  }
}

/** A connection taken from the pool for one snapshot. */
interface Held {
  readonly client: PoolClient
  /** Ends the transaction and gives the connection back (never rejects). */
  release(): Promise<void>
  /** A failure of a statement on it as the error to throw. */
  typed(error: unknown): unknown
}

/**
 * Listens for the connection's own errors while the snapshot holds it: a connection that
 * breaks between two reads (the server restarted) emits `error` on the client, and with no
 * listener that would be an uncaught exception. The pool listens only to idle connections.
 */
function hold(client: PoolClient): Held {
  let lost = false
  const onError = (): void => {
    lost = true
  }
  client.on('error', onError)
  return {
    client,
    async release() {
      // A connection that cannot even roll back is broken: destroyed rather than returned.
      let broken = lost
      if (!broken) {
        try {
          await client.query('ROLLBACK')
        } catch {
          broken = true
        }
      }
      client.off('error', onError)
      client.release(broken)
    },
    typed: (error) => (lost ? unavailable() : asUnavailable(error)),
  }
}

/** The range filter as SQL with its parameters ($1 is the workspace). */
function whereOf(workspace: string, range: Range): { filter: string; params: unknown[] } {
  const where = ['workspace = $1']
  const params: unknown[] = [workspace]
  if (range.from !== null) {
    params.push(range.from)
    where.push(`created_at >= $${params.length}`)
  }
  if (range.to !== null) {
    params.push(range.to)
    where.push(`created_at < $${params.length}`)
  }
  return { filter: where.join(' AND '), params }
}

/**
 * Keyset pages by (created_at, id) inside the open transaction, as on SQLite. Ids compare
 * byte-wise (`COLLATE "C"`) whatever the database's collation, so the order is the one the
 * other engines give. Reads run one after the other (a second `next` asked for before the
 * first resolved continues after it), and a close waits for the read in progress.
 */
function snapshotOn(
  held: Held,
  total: number,
  filter: string,
  params: readonly unknown[],
): ContactSnapshot {
  const n = params.length
  const first = `SELECT * FROM contacts WHERE ${filter}
    ORDER BY created_at, id COLLATE "C" LIMIT $${n + 1}`
  // The plain `created_at >=` repeats what the OR implies so the index scan starts at the last
  // row read: the OR alone is only a filter, and every page would scan from the first contact.
  const after = `SELECT * FROM contacts WHERE ${filter} AND created_at >= $${n + 2}
      AND (created_at > $${n + 2} OR (created_at = $${n + 2} AND id COLLATE "C" > $${n + 3}))
    ORDER BY created_at, id COLLATE "C" LIMIT $${n + 1}`

  let last: { t: number; i: string } | null = null
  let done = false
  let released: Promise<void> | null = null
  let queue: Promise<unknown> = Promise.resolve()
  const inTurn = <T>(work: () => Promise<T>): Promise<T> => {
    const run = queue.then(work)
    queue = run.catch(() => undefined)
    return run
  }
  const end = (): Promise<void> => (released ??= held.release())

  return {
    total,
    async next(max) {
      checkChunkSize(max)
      return inTurn(async () => {
        if (released !== null) throw snapshotClosed()
        if (done) return []
        try {
          const result =
            last === null
              ? await held.client.query<ContactSqlRow>(first, [...params, max])
              : await held.client.query<ContactSqlRow>(after, [...params, max, last.t, last.i])
          const rows = result.rows
          const tail = rows.at(-1)
          if (tail === undefined || rows.length < max) done = true
          if (tail !== undefined) last = { t: tail.created_at, i: tail.id }
          return rows.map(toContactIndexRow)
        } catch (error) {
          // The transaction is aborted after a failed statement: nothing left to read, and the
          // connection goes back to the pool (or away) now rather than at close.
          await end()
          throw held.typed(error)
        }
      })
    },
    close: () => inTurn(end),
  }
}

const unavailable = (): CardfileError =>
  new CardfileError(ErrorCodes.Unavailable, 'the database is unavailable; retry later')
