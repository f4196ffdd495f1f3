import Database from 'better-sqlite3'
import { CardfileError, ErrorCodes } from '@cardfile/core'
import type { ErrorCode } from '@cardfile/core'
import { createSqliteEventStore } from '../events/sqlite-event-store'
import { createSqliteValueHistory } from '../history/sqlite-value-history'
import { actorOfCommit } from '../linking/auto-links'
import { createSqliteAutoLinks } from '../linking/sqlite-auto-links'
import { createSqliteSearchWriter } from '../search/sqlite-search'
import { collectedSnapshot } from './collected-snapshot'
import { identityTaken } from './index-rules'
import { createSqliteDocumentOwners } from './sqlite-document-owners'
import type { ContactSqlRow } from './contact-sql-row'
import type { AppendRecord } from './pending-append'
import type { ConversationSqlRow } from './conversation-sql-row'
import { storedUpdateCounts } from './stored-update-counts'

// The commit thread takes its records from here, beside the writer that commits them.
export type { AppendRecord } from './pending-append'

/** An append's own refusal, as plain data. */
export interface Refusal {
  readonly code: ErrorCode
  readonly message: string
  readonly field: string | undefined
}

/** What a group commit did: the appends refused (by position in the batch), the rest stored. */
export interface GroupOutcome {
  readonly refused: readonly (readonly [number, Refusal])[]
  /** Documents of the group past the compaction limit. */
  readonly overLimit: readonly string[]
  /** Some contact's words are ahead of the search indexes (see {@link SqliteDocumentWriter.reindexSearch}). */
  readonly searchStale: boolean
}

/** The document writes of the SQLite backend, over one connection. */
export interface SqliteDocumentWriter {
  /**
   * Commits a group of appends in one immediate transaction and returns its outcome; throws
   * (and commits nothing) when the transaction itself fails.
   */
  commitGroup(batch: readonly AppendRecord[]): GroupOutcome
  /**
   * Reads a document and merges it into a garbage-collected snapshot of the rows up to `bound`;
   * null when it has no updates. Appends committed after the read get a seq above `bound`.
   */
  prepareCompaction(doc: string): { readonly merged: Uint8Array; readonly bound: number } | null
  /**
   * Writes a prepared snapshot in place of the rows it merged, then checkpoints the WAL; false
   * when the document was erased meanwhile.
   */
  writeCompaction(doc: string, merged: Uint8Array, bound: number): boolean
  /** Both steps at once; false when there was nothing to do. */
  compact(doc: string): boolean
  /** Checkpoints the WAL into the main file and truncates it; false when a reader kept it busy. */
  checkpoint(): boolean
  /**
   * Brings the search indexes up to the contacts' words changed since they last were, in a
   * transaction of its own (an append leaves that to a later one); returns the rows re-indexed.
   */
  reindexSearch(): number
}

/** How a connection to the backend's file is set up (the main one and the commit thread's). */
export interface SqliteConnectionOptions {
  readonly synchronous: 'full' | 'normal'
  readonly busyTimeoutMs: number
  /** Page cache of the connection in MiB (absent: SQLite's default). */
  readonly cacheMb?: number | undefined
}

/** Sets up a connection to the backend's file: WAL, durability, zeroed deletes, busy wait. */
export function configureConnection(db: Database.Database, options: SqliteConnectionOptions): void {
  db.pragma('journal_mode = WAL')
  db.pragma(`synchronous = ${options.synchronous === 'normal' ? 'NORMAL' : 'FULL'}`)
  // Zero deleted content in place, so an erased document leaves no bytes behind in the file.
  db.pragma('secure_delete = ON')
  db.pragma(`busy_timeout = ${options.busyTimeoutMs}`)
  if (options.cacheMb !== undefined) {
    // Negative: a size in KiB rather than in pages.
    db.pragma(`cache_size = ${-Math.max(1, Math.round(options.cacheMb * 1024))}`)
  }
}

export const refusalOf = (e: CardfileError): Refusal => ({
  code: e.code,
  message: e.message,
  field: e.field,
})

export const errorOfRefusal = (r: Refusal): CardfileError =>
  new CardfileError(r.code, r.message, r.field)

/**
 * The statements an append and a compaction run, prepared on `db`. The main thread uses it
 * directly for an in-memory database; for a file, the commit thread runs it on a connection of
 * its own (see sqlite-commit-thread.ts).
 */
export function createSqliteDocumentWriter(
  db: Database.Database,
  compactAfter: number,
): SqliteDocumentWriter {
  const events = createSqliteEventStore(db)
  const valueHistory = createSqliteValueHistory(db)
  const search = createSqliteSearchWriter(db)
  const owners = createSqliteDocumentOwners(db)
  const autoLinks = createSqliteAutoLinks(db)
  const sql = {
    isErased: db.prepare<[string], { one: number }>(
      'SELECT 1 AS one FROM tombstones WHERE doc = ?',
    ),
    insertUpdate: db.prepare<[string, Uint8Array]>('INSERT INTO updates (doc, data) VALUES (?, ?)'),
    upsertContact: db.prepare<[ContactSqlRow & { search_keys: string; sort_name: string | null }]>(
      `INSERT INTO contacts (workspace, id, channel, platform_user_id, hint, vip, match_value,
         values_json, created_at, updated_at, search_keys, sort_name)
       VALUES (@workspace, @id, @channel, @platform_user_id, @hint, @vip, @match_value,
         @values_json, @created_at, @updated_at, @search_keys, @sort_name)
       ON CONFLICT (workspace, id) DO UPDATE SET channel = excluded.channel,
         platform_user_id = excluded.platform_user_id, hint = excluded.hint, vip = excluded.vip,
         match_value = excluded.match_value, values_json = excluded.values_json,
         created_at = excluded.created_at, updated_at = excluded.updated_at,
         search_keys = excluded.search_keys, sort_name = excluded.sort_name`,
    ),
    // Most commits of a contact change its values alone: an UPDATE that assigns only those
    // columns leaves the contacts table's eight indexes untouched (SQLite rewrites an index
    // whose columns an UPDATE assigns, whatever their values), a third of the pages of such a
    // commit. It changes nothing when another column differs; the upsert then writes the row.
    updateContactValues: db.prepare<
      [ContactSqlRow & { search_keys: string; sort_name: string | null }]
    >(
      `UPDATE contacts SET values_json = @values_json, updated_at = @updated_at,
         search_keys = @search_keys
       WHERE workspace = @workspace AND id = @id AND channel = @channel
         AND platform_user_id = @platform_user_id AND hint = @hint AND vip = @vip
         AND match_value IS @match_value AND created_at = @created_at
         AND sort_name IS @sort_name`,
    ),
    upsertConversation: db.prepare<[ConversationSqlRow]>(
      `INSERT INTO conversations (workspace, id, contact_id, channel, status, team, priority,
         created_at, updated_at)
       VALUES (@workspace, @id, @contact_id, @channel, @status, @team, @priority, @created_at,
         @updated_at)
       ON CONFLICT (workspace, id) DO UPDATE SET contact_id = excluded.contact_id,
         channel = excluded.channel, status = excluded.status, team = excluded.team,
         priority = excluded.priority, created_at = excluded.created_at,
         updated_at = excluded.updated_at`,
    ),
    // Bounded scan: reads at most compactAfter + 1 index entries whatever the document's size.
    overLimit: db.prepare<[string, number], { n: number }>(
      'SELECT count(*) AS n FROM (SELECT 1 FROM updates WHERE doc = ? LIMIT ?)',
    ),
    snapshot: db.prepare<[string], { data: Buffer; upto: number }>(
      'SELECT data, upto FROM snapshots WHERE doc = ?',
    ),
    updates: db.prepare<[string], { seq: number; data: Buffer }>(
      'SELECT seq, data FROM updates WHERE doc = ? ORDER BY seq',
    ),
    writeSnapshot: db.prepare<[string, Uint8Array, number]>(
      `INSERT INTO snapshots (doc, data, upto) VALUES (?, ?, ?)
       ON CONFLICT (doc) DO UPDATE SET data = excluded.data, upto = excluded.upto`,
    ),
    deleteUpTo: db.prepare<[string, number]>('DELETE FROM updates WHERE doc = ? AND seq <= ?'),
  }
  const counts = storedUpdateCounts(
    compactAfter,
    (doc) => sql.overLimit.get(doc, compactAfter + 1)!.n,
  )

  // Index upserts, one per append. Called inside the group transaction, so better-sqlite3 runs
  // each as a savepoint: a row that breaks a constraint fails its own append, not the group.
  const writeAppend = db.transaction((p: AppendRecord) => {
    if (p.fence !== undefined) owners.checkNow(p.doc, p.fence)
    sql.insertUpdate.run(p.doc, p.update)
    if (p.events !== undefined) events.insertNow(p.events)
    if (p.history !== undefined) valueHistory.insertNow(p.history)
    const row = p.index
    if (row?.kind === 'contact') {
      const links = autoLinks.track(row.workspace, [
        { id: row.id, before: autoLinks.matchOf(row.workspace, row.id), after: row.matchValue },
      ])
      const columns = {
        workspace: row.workspace,
        id: row.id,
        channel: row.channel,
        platform_user_id: row.platformUserId,
        hint: row.hint,
        vip: row.vip ? 1 : 0,
        match_value: row.matchValue,
        // A row built without values (older callers) stores none rather than failing.
        values_json: JSON.stringify(row.values ?? {}),
        created_at: row.createdAt,
        updated_at: row.updatedAt,
        ...search.columns(row),
      }
      try {
        if (sql.updateContactValues.run(columns).changes === 0) sql.upsertContact.run(columns)
      } catch (e) {
        if (e instanceof Database.SqliteError && e.code === 'SQLITE_CONSTRAINT_UNIQUE') {
          throw identityTaken(row)
        }
        throw e
      }
      const linked = links.finish(actorOfCommit(p.events), row.updatedAt)
      if (linked.length > 0) events.insertNow(linked)
    } else if (row?.kind === 'conversation') {
      sql.upsertConversation.run({
        workspace: row.workspace,
        id: row.id,
        contact_id: row.contactId,
        channel: row.channel,
        status: row.status,
        team: row.team,
        priority: row.priority,
        created_at: row.createdAt,
        updated_at: row.updatedAt,
      })
    }
  })

  const writeGroup = db.transaction((batch: readonly AppendRecord[]) => {
    const refused: [number, Refusal][] = []
    batch.forEach((p, at) => {
      // Erased after the append was queued (an erasure commits on another connection): the
      // tombstone is read in this transaction, so the erasure either came first and refuses
      // the append here, or comes after and deletes what this commit writes.
      if (sql.isErased.get(p.doc) !== undefined) {
        refused.push([
          at,
          refusalOf(new CardfileError(ErrorCodes.Deleted, `document ${p.doc} was deleted`)),
        ])
        return
      }
      if (
        p.index === undefined &&
        p.fence === undefined &&
        (p.events === undefined || p.events.length === 0) &&
        (p.history === undefined || p.history.length === 0)
      ) {
        sql.insertUpdate.run(p.doc, p.update)
        return
      }
      try {
        writeAppend(p)
      } catch (e) {
        // Only the append's own, expected refusal is isolated; anything else fails the group.
        if (!(e instanceof CardfileError)) throw e
        refused.push([at, refusalOf(e)])
      }
    })
    return refused
  })

  const writeSnapshot = db.transaction((doc: string, merged: Uint8Array, bound: number) => {
    // Erased while merging: writing the snapshot would bring the document back.
    if (sql.isErased.get(doc) !== undefined) return false
    sql.writeSnapshot.run(doc, merged, bound)
    sql.deleteUpTo.run(doc, bound)
    return true
  })

  const checkpoint = (): boolean => {
    const [result] = db.pragma('wal_checkpoint(TRUNCATE)') as { busy: number }[]
    return result !== undefined && result.busy === 0
  }

  return {
    commitGroup(batch) {
      const refused = writeGroup.immediate(batch)
      const skipped = new Set(refused.map(([at]) => at))
      const appended = new Map<string, number>()
      batch.forEach((p, at) => {
        if (!skipped.has(at)) appended.set(p.doc, (appended.get(p.doc) ?? 0) + 1)
      })
      const overLimit = [...appended].flatMap(([doc, n]) => (counts.appended(doc, n) ? [doc] : []))
      const searchStale = batch.some((p) => p.index?.kind === 'contact') && search.hasStale()
      return { refused, overLimit, searchStale }
    },

    prepareCompaction(doc) {
      const { snapshot, rows } = db.transaction(() => ({
        snapshot: sql.snapshot.get(doc),
        rows: sql.updates.all(doc),
      }))()
      const last = rows.at(-1)
      if (last === undefined) return null
      const parts = rows.map((r) => asBytes(r.data))
      if (snapshot !== undefined) parts.unshift(asBytes(snapshot.data))
      return { merged: collectedSnapshot(parts), bound: last.seq }
    },

    writeCompaction(doc, merged, bound) {
      const done = writeSnapshot.immediate(doc, merged, bound)
      counts.reset(doc)
      if (!done) return false
      // The index's entries for overwritten words go too, before the checkpoint below.
      search.reindexStale()
      // secure_delete zeroed the merged rows in the pages, but the WAL still holds the pages as
      // they were: checkpoint and truncate it, so what was overwritten is gone from every file.
      // A long reader (an export) would hold the checkpoint for the whole busy timeout, and the
      // commits behind it: wait briefly, and leave it to the next compaction or erasure.
      const busyTimeout = db.pragma('busy_timeout', { simple: true }) as number
      db.pragma(`busy_timeout = ${Math.min(busyTimeout, CHECKPOINT_WAIT_MS)}`)
      try {
        checkpoint()
      } finally {
        db.pragma(`busy_timeout = ${busyTimeout}`)
      }
      return true
    },

    compact(doc) {
      // The merge runs outside the write lock, which other connections may need meanwhile.
      const prepared = this.prepareCompaction(doc)
      return prepared !== null && this.writeCompaction(doc, prepared.merged, prepared.bound)
    },

    checkpoint,

    reindexSearch: () => search.reindexStale(),
  }
}

/** Longest a compaction's checkpoint waits for readers. */
const CHECKPOINT_WAIT_MS = 100

const asBytes = (b: Buffer): Uint8Array => new Uint8Array(b.buffer, b.byteOffset, b.byteLength)
