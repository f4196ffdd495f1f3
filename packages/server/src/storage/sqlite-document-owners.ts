import type { Database } from 'better-sqlite3'
import { fenced } from './document-owners'
import type { DocumentFence, DocumentOwners, DocumentOwnership } from './document-owners'

interface OwnerSqlRow {
  owner: string
  epoch: number
  lease_until: number
}

/** Document owners in the SQLite file, plus the check the commit runs in its transaction. */
export interface SqliteDocumentOwners extends DocumentOwners {
  /** Throws `fenced` unless `fence` is the document's live ownership (inside a transaction). */
  checkNow(doc: string, fence: DocumentFence): void
}

/**
 * Document ownership in the backend's SQLite file (table `document_owners`). One server uses a
 * file at a time, so this mostly keeps the engines alike; the rules are the PostgreSQL ones.
 */
export function createSqliteDocumentOwners(
  db: Database,
  now: () => number = Date.now,
): SqliteDocumentOwners {
  const sql = {
    get: db.prepare<[string], OwnerSqlRow>(
      'SELECT owner, epoch, lease_until FROM document_owners WHERE doc = ?',
    ),
    put: db.prepare<[string, string, number, number]>(
      `INSERT INTO document_owners (doc, owner, epoch, lease_until) VALUES (?, ?, ?, ?)
       ON CONFLICT (doc) DO UPDATE SET owner = excluded.owner, epoch = excluded.epoch,
         lease_until = excluded.lease_until`,
    ),
    renew: db.prepare<[number, string, string, number, number]>(
      `UPDATE document_owners SET lease_until = ?
       WHERE doc = ? AND owner = ? AND epoch = ? AND lease_until > ?`,
    ),
    release: db.prepare<[string, string, number]>(
      'UPDATE document_owners SET lease_until = 0 WHERE doc = ? AND owner = ? AND epoch = ?',
    ),
  }
  const live = (doc: string, at: number): DocumentOwnership | null => {
    const row = sql.get.get(doc)
    return row === undefined || row.lease_until <= at
      ? null
      : { owner: row.owner, epoch: row.epoch, leaseUntil: row.lease_until }
  }
  const claim = db.transaction((doc: string, owner: string, leaseMs: number) => {
    const at = now()
    const held = live(doc, at)
    if (held !== null && held.owner !== owner) return { claimed: false as const, ...held }
    const epoch = held !== null ? held.epoch : (sql.get.get(doc)?.epoch ?? 0) + 1
    sql.put.run(doc, owner, epoch, at + leaseMs)
    return { claimed: true as const, epoch, leaseUntil: at + leaseMs }
  })
  return {
    async claim(doc, owner, leaseMs) {
      return claim.immediate(doc, owner, leaseMs)
    },
    async renew(doc, owner, epoch, leaseMs) {
      const at = now()
      return sql.renew.run(at + leaseMs, doc, owner, epoch, at).changes === 1
    },
    async release(doc, owner, epoch) {
      sql.release.run(doc, owner, epoch)
    },
    async current(doc) {
      return live(doc, now())
    },
    checkNow(doc, fence) {
      const held = live(doc, now())
      if (held === null || held.owner !== fence.owner || held.epoch !== fence.epoch) {
        throw fenced(doc)
      }
    },
  }
}
