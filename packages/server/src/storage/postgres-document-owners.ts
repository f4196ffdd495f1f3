import type { DocumentOwners } from './document-owners'
import type { PgDatabase } from './postgres-database'

/** The database's clock in epoch milliseconds: every instance measures leases by it. */
export const DB_NOW_MS = '(extract(epoch FROM clock_timestamp()) * 1000)::bigint'

/**
 * Document ownership in PostgreSQL (table `document_owners`), measured by the database's clock
 * so that instances whose clocks disagree still agree on who holds what. A claim is one
 * statement (taking over only a free or run-out lease, bumping the epoch), and it waits for
 * appends in flight under the old epoch, which hold the row `FOR SHARE` until they commit: an
 * ex-owner's append either committed before the takeover or is refused after it.
 *
 * @example
 * const owners = createPostgresDocumentOwners(db)
 * const claim = await owners.claim('demo/contact/c1', instanceId, 10_000)
 */
export function createPostgresDocumentOwners(db: PgDatabase): DocumentOwners {
  return {
    async claim(doc, owner, leaseMs) {
      for (;;) {
        const won = await db.one<{ epoch: number; lease_until: number }>(
          `INSERT INTO document_owners AS o (doc, owner, epoch, lease_until)
           VALUES ($1, $2, 1, ${DB_NOW_MS} + $3)
           ON CONFLICT (doc) DO UPDATE SET owner = excluded.owner,
             epoch = CASE WHEN o.owner = excluded.owner AND o.lease_until > ${DB_NOW_MS}
               THEN o.epoch ELSE o.epoch + 1 END,
             lease_until = excluded.lease_until
           WHERE o.owner = excluded.owner OR o.lease_until <= ${DB_NOW_MS}
           RETURNING epoch, lease_until`,
          [doc, owner, leaseMs],
        )
        if (won !== undefined) {
          return { claimed: true, epoch: won.epoch, leaseUntil: won.lease_until }
        }
        const held = await this.current(doc)
        if (held !== null) return { claimed: false, ...held }
        // Released or run out between the two statements: ask again.
      }
    },
    async renew(doc, owner, epoch, leaseMs) {
      const changed = await db.run(
        `UPDATE document_owners SET lease_until = ${DB_NOW_MS} + $4
         WHERE doc = $1 AND owner = $2 AND epoch = $3 AND lease_until > ${DB_NOW_MS}`,
        [doc, owner, epoch, leaseMs],
      )
      return changed === 1
    },
    async release(doc, owner, epoch) {
      // The row stays with its epoch, so the next owner's is higher.
      await db.run(
        'UPDATE document_owners SET lease_until = 0 WHERE doc = $1 AND owner = $2 AND epoch = $3',
        [doc, owner, epoch],
      )
    },
    async current(doc) {
      const row = await db.one<{ owner: string; epoch: number; lease_until: number }>(
        `SELECT owner, epoch, lease_until FROM document_owners
         WHERE doc = $1 AND lease_until > ${DB_NOW_MS}`,
        [doc],
      )
      return row === undefined
        ? null
        : { owner: row.owner, epoch: row.epoch, leaseUntil: row.lease_until }
    },
  }
}
