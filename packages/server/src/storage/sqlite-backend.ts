import { randomUUID } from 'node:crypto'
import { rmSync } from 'node:fs'
import Database from 'better-sqlite3'
import * as Y from 'yjs'
import { CardfileError, ErrorCodes, parseDocName } from '@cardfile/core'
import { removeAttachments } from './attachments'
import { lockDatabaseFile } from './file-lock'
import { checkLimit, decodeCursor, newestPage, priorityPage } from './cursor'
import { checkIndexRow, identityTaken } from './index-rules'
import { createSqliteLinkStorage } from '../linking/sqlite-link-storage'
import { createSqliteDeletionLog } from '../deletion/sqlite-deletion-log'
import { createSqliteExportStore } from '../exports/sqlite-export-store'
import type { BlobStore } from '../blobs/blob-store'
import { createFsBlobStore } from '../blobs/fs-blob-store'
import { createMemoryBlobStore } from '../blobs/memory-blob-store'
import { createSqliteCrmStorage } from '../crm/sqlite-crm-storage'
import { errorContext } from '../sync/logger'
import { migrate } from './sqlite-schema'
import { createBackgroundCompactor } from './background-compactor'
import type { NewDomainEvent } from '../events/domain-event'
import { createSqliteEventStore } from '../events/sqlite-event-store'
import { createSqliteJobStore } from '../jobs/sqlite-job-store'
import { createSqliteInboundLog } from '../ingestion/sqlite-inbound-log'
import type { Backend, StorageLogger } from '../backend'
import type { DocumentFence } from './document-owners'
import type { DocumentStore } from './document-store'
import { createSqliteDocumentOwners } from './sqlite-document-owners'
import type { IndexRow, IndexStore } from './index-store'
import { toContactIndexRow } from './contact-sql-row'
import { checkSearch } from '../search/contact-search-query'
import {
  backfillSqliteSearch,
  registerSearchFunctions,
  createSqliteSearchWriter,
  searchSqlite,
} from '../search/sqlite-search'
import type { ContactSqlRow } from './contact-sql-row'
import { toConversation } from './conversation-sql-row'
import type { ConversationSqlRow } from './conversation-sql-row'

export type { StorageLogger } from '../backend'

export interface SqliteBackendOptions {
  /** The database file; `-wal` and `-shm` files appear beside it. */
  readonly path: string
  /**
   * How long a group commit waits for more appends, in ms. 0 or unset: commit on the next
   * event-loop turn (setImmediate), which already groups everything that arrived in one turn.
   */
  readonly groupCommitMs?: number
  /**
   * Most appends in one transaction. better-sqlite3 blocks the event loop while it writes, so
   * a burst is committed in several short transactions instead of one long one. Default 1000.
   */
  readonly maxGroupSize?: number
  /** A document with more updates than this is compacted into its snapshot. Default 500. */
  readonly compactAfter?: number
  /** Delay before the background compactor runs for documents over the limit. Default 1000. */
  readonly compactDelayMs?: number
  /** Root of attachment files (`<attachmentsDir>/<encoded doc name>/`), removed on erase. */
  readonly attachmentsDir?: string
  /**
   * Where export files go. Default: the folder `<path>-exports` (created owner-only), in
   * memory for an in-memory database.
   */
  readonly blobs?: BlobStore
  /**
   * `full` (default): every commit is fsynced, so an acknowledged update survives power loss
   * as well as a killed process. `normal`: in WAL mode it survives a killed process (kill -9)
   * but the last commits may be lost on power loss; faster on slow disks.
   */
  readonly synchronous?: 'full' | 'normal'
  /**
   * SQLite's page cache in MB (default: SQLite's own, about 2 MB). A large index (searches over
   * a million contacts) reads far less from the file with a cache that holds its hot pages.
   */
  readonly cacheMb?: number
  /** How long a commit waits for a lock held by another connection. Default 5000. */
  readonly busyTimeoutMs?: number
  readonly logger?: StorageLogger
  /**
   * Give the store a new generation id, as a database restored from a backup needs: clients
   * then drop their cached copies (which may hold data newer than the backup) instead of
   * uploading them.
   */
  readonly newGeneration?: boolean
  /**
   * Delete the database (and its WAL) before opening it, to start over with an empty one.
   * Refused like opening when another server uses the file.
   */
  readonly reset?: boolean
}

/** The SQLite backend: the {@link Backend} contract over one database file. */
export type SqliteBackend = Backend

interface PendingAppend {
  readonly doc: string
  readonly update: Uint8Array
  readonly index: IndexRow | undefined
  readonly events: readonly NewDomainEvent[] | undefined
  readonly fence: DocumentFence | undefined
  readonly resolve: () => void
  readonly reject: (error: Error) => void
}

const asBytes = (b: Buffer): Uint8Array => new Uint8Array(b.buffer, b.byteOffset, b.byteLength)

const nextTurn = (): Promise<void> => new Promise((resolve) => setImmediate(resolve))

const messageOf = (e: unknown): string => (e instanceof Error ? e.message : String(e))

/**
 * Opens (or creates) the embedded SQLite backend: one file in WAL mode holding every store,
 * appends committed in groups and acknowledged only after the commit, documents compacted in
 * the background, and erasure that leaves no readable copy in the file or its WAL. Takes the
 * database path, or options with it.
 *
 * @example
 * const backend = createSqliteBackend({ path: './cardfile.db', attachmentsDir: './files' })
 * await backend.documents.append('demo/contact/c1', update) // resolves once committed
 * const parts = await backend.documents.load('demo/contact/c1') // snapshot first, then updates
 * await backend.close()
 */
export function createSqliteBackend(input: string | SqliteBackendOptions): SqliteBackend {
  const options: SqliteBackendOptions = typeof input === 'string' ? { path: input } : input
  const groupCommitMs = options.groupCommitMs ?? 0
  const maxGroupSize = Math.max(1, options.maxGroupSize ?? 1000)
  const compactAfter = options.compactAfter ?? 500
  const compactDelayMs = options.compactDelayMs ?? 1000
  const logger: StorageLogger = options.logger ?? console

  // One writer per file: a second server would interleave its own caches and commits with ours.
  const lock = options.path === ':memory:' ? null : lockDatabaseFile(options.path)
  let db: Database.Database
  try {
    if (options.reset === true) {
      for (const suffix of ['', '-wal', '-shm']) rmSync(`${options.path}${suffix}`, { force: true })
    }
    db = new Database(options.path)
    try {
      db.pragma('journal_mode = WAL')
      db.pragma(`synchronous = ${options.synchronous === 'normal' ? 'NORMAL' : 'FULL'}`)
      // Zero deleted content in place, so an erased document leaves no bytes behind in the file.
      db.pragma('secure_delete = ON')
      db.pragma(`busy_timeout = ${options.busyTimeoutMs ?? 5000}`)
      if (options.cacheMb !== undefined) {
        // Negative: a size in KiB rather than in pages.
        db.pragma(`cache_size = ${-Math.max(1, Math.round(options.cacheMb * 1024))}`)
      }
      migrate(db)
      registerSearchFunctions(db)
      backfillSqliteSearch(db)
    } catch (error) {
      db.close()
      throw error
    }
  } catch (error) {
    lock?.release()
    throw error
  }

  const events = createSqliteEventStore(db)
  const search = createSqliteSearchWriter(db)
  const owners = createSqliteDocumentOwners(db)
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
    deleteUpdates: db.prepare<[string]>('DELETE FROM updates WHERE doc = ?'),
    deleteSnapshot: db.prepare<[string]>('DELETE FROM snapshots WHERE doc = ?'),
    deleteContact: db.prepare<[string, string]>(
      'DELETE FROM contacts WHERE workspace = ? AND id = ?',
    ),
    deleteConversation: db.prepare<[string, string]>(
      'DELETE FROM conversations WHERE workspace = ? AND id = ?',
    ),
    tombstone: db.prepare<[string, number]>(
      'INSERT INTO tombstones (doc, erased_at) VALUES (?, ?) ON CONFLICT (doc) DO NOTHING',
    ),
    findContact: db.prepare<[string, string, string], ContactSqlRow>(
      'SELECT * FROM contacts WHERE workspace = ? AND channel = ? AND platform_user_id = ?',
    ),
    findOpenConversation: db.prepare<[string, string], ConversationSqlRow>(
      `SELECT * FROM conversations WHERE workspace = ? AND contact_id = ? AND status != 'resolved'
       ORDER BY created_at DESC, id DESC LIMIT 1`,
    ),
  }

  // Index upserts, one per append. Called inside the group transaction, so better-sqlite3 runs
  // each as a savepoint: a row that breaks a constraint fails its own append, not the group.
  const writeAppend = db.transaction((p: PendingAppend) => {
    if (p.fence !== undefined) owners.checkNow(p.doc, p.fence)
    sql.insertUpdate.run(p.doc, p.update)
    if (p.events !== undefined) events.insertNow(p.events)
    const row = p.index
    if (row?.kind === 'contact') {
      try {
        sql.upsertContact.run({
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
        })
      } catch (e) {
        if (e instanceof Database.SqliteError && e.code === 'SQLITE_CONSTRAINT_UNIQUE') {
          throw identityTaken(row)
        }
        throw e
      }
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

  const writeGroup = db.transaction((batch: readonly PendingAppend[]) => {
    const refused = new Map<PendingAppend, CardfileError>()
    for (const p of batch) {
      if (
        p.index === undefined &&
        p.fence === undefined &&
        (p.events === undefined || p.events.length === 0)
      ) {
        sql.insertUpdate.run(p.doc, p.update)
        continue
      }
      try {
        writeAppend(p)
      } catch (e) {
        // Only the append's own, expected refusal is isolated; anything else fails the group.
        if (!(e instanceof CardfileError)) throw e
        refused.set(p, e)
      }
    }
    return refused
  })

  const eraseRows = db.transaction((docs: readonly string[], at: number) => {
    for (const doc of docs) {
      sql.deleteUpdates.run(doc)
      sql.deleteSnapshot.run(doc)
      const name = parseDocName(doc)
      if (name?.kind === 'contact') sql.deleteContact.run(name.workspace, name.id)
      if (name?.kind === 'conversation') sql.deleteConversation.run(name.workspace, name.id)
      sql.tombstone.run(doc, at)
    }
  })

  let queue: PendingAppend[] = []
  let cancelScheduled: (() => void) | null = null
  let closed = false
  let closing: Promise<void> | null = null
  const counters = { commits: 0, appends: 0, lastCommitMs: 0, compactions: 0 }

  const compactor = createBackgroundCompactor({
    compactNow: (doc) => compactNow(doc),
    delayMs: compactDelayMs,
    logger,
    // One document per turn: group commits keep flowing between compactions.
    betweenDocs: nextTurn,
  })

  const ensureOpen = (): void => {
    if (closed) throw new CardfileError(ErrorCodes.Internal, 'storage is closed')
  }

  const deleted = (doc: string): CardfileError =>
    new CardfileError(ErrorCodes.Deleted, `document ${doc} was deleted`)

  /** Schedules the next group commit; `soon` skips the group window (rest of a burst). */
  function scheduleFlush(soon = false): void {
    if (cancelScheduled !== null) return
    if (groupCommitMs > 0 && !soon) {
      const timer = setTimeout(flush, groupCommitMs)
      cancelScheduled = () => clearTimeout(timer)
    } else {
      const immediate = setImmediate(flush)
      cancelScheduled = () => clearImmediate(immediate)
    }
  }

  function cancelFlush(): void {
    cancelScheduled?.()
    cancelScheduled = null
  }

  /** Commits queued appends (up to maxGroupSize) in one transaction, then settles them. */
  function flush(): void {
    cancelScheduled = null
    if (queue.length === 0) return
    const batch = queue.length > maxGroupSize ? queue.splice(0, maxGroupSize) : queue
    if (batch === queue) queue = []
    // The rest of a burst goes in the next turn, so sockets are served between transactions.
    else scheduleFlush(true)
    const started = performance.now()
    let refused: Map<PendingAppend, CardfileError>
    try {
      refused = writeGroup.immediate(batch)
    } catch (e) {
      // Nothing of the group is committed, so nothing of it may be acknowledged.
      const error = new CardfileError(ErrorCodes.Internal, `storage commit failed: ${messageOf(e)}`)
      logger.error('storage commit failed', { appends: batch.length, ...errorContext(e) })
      for (const p of batch) p.reject(error)
      return
    }
    counters.commits += 1
    counters.appends += batch.length - refused.size
    counters.lastCommitMs = performance.now() - started
    const touched = new Set<string>()
    for (const p of batch) {
      const error = refused.get(p)
      if (error === undefined) {
        touched.add(p.doc)
        p.resolve()
      } else {
        p.reject(error)
      }
    }
    for (const doc of touched) {
      if (sql.overLimit.get(doc, compactAfter + 1)!.n > compactAfter) compactor.due(doc)
    }
  }

  async function compactNow(doc: string): Promise<boolean> {
    ensureOpen()
    const snapshot = sql.snapshot.get(doc)
    const rows = sql.updates.all(doc)
    const last = rows.at(-1)
    if (last === undefined) return false
    const bound = last.seq
    const parts = rows.map((r) => asBytes(r.data))
    if (snapshot !== undefined) parts.unshift(asBytes(snapshot.data))
    const merged = Y.mergeUpdates(parts)
    // Let queued group commits land before writing: appends committed meanwhile get a seq
    // above `bound`, so the delete below leaves them in place.
    await nextTurn()
    if (closed) return false
    return db
      .transaction(() => {
        // Erased while merging: writing the snapshot would bring the document back.
        if (sql.isErased.get(doc) !== undefined) return false
        sql.writeSnapshot.run(doc, merged, bound)
        sql.deleteUpTo.run(doc, bound)
        counters.compactions += 1
        return true
      })
      .immediate()
  }

  const statementCache = new Map<string, Database.Statement<unknown[]>>()
  const query = <T>(text: string, params: unknown[]): T[] => {
    let stmt = statementCache.get(text)
    if (stmt === undefined) {
      stmt = db.prepare<unknown[]>(text)
      statementCache.set(text, stmt)
    }
    return stmt.all(...params) as T[]
  }

  if (options.newGeneration === true) {
    // A restored backup: caches synced with the data after the backup must not come back.
    db.prepare("UPDATE store_meta SET value = ? WHERE key = 'generation'").run(randomUUID())
  }
  // Read once: made with the file (or renewed just above), nothing changes it while open.
  const generation = db
    .prepare<[], { value: string }>("SELECT value FROM store_meta WHERE key = 'generation'")
    .get()?.value
  if (generation === undefined) {
    throw new CardfileError(ErrorCodes.Internal, 'the database has no generation id')
  }

  const documents: DocumentStore = {
    async load(docName) {
      ensureOpen()
      // Both reads in one transaction so a compaction can't slip between them.
      return db.transaction(() => {
        const snapshot = sql.snapshot.get(docName)
        const rows = sql.updates.all(docName).map((r) => asBytes(r.data))
        return snapshot === undefined ? rows : [asBytes(snapshot.data), ...rows]
      })()
    },

    append(docName, update, index, announced, fence) {
      return new Promise<void>((resolve, reject) => {
        ensureOpen()
        checkIndexRow(docName, index)
        if (sql.isErased.get(docName) !== undefined) throw deleted(docName)
        queue.push({ doc: docName, update, index, events: announced, fence, resolve, reject })
        scheduleFlush()
      })
    },

    async isErased(docName) {
      ensureOpen()
      return sql.isErased.get(docName) !== undefined
    },

    async erase(docNames) {
      ensureOpen()
      const docs = new Set(docNames)
      if (docs.size === 0) return
      // Queued appends of these documents were never acknowledged: refuse them instead of
      // writing bytes that would only be deleted again.
      queue = queue.filter((p) => {
        if (!docs.has(p.doc)) return true
        p.reject(deleted(p.doc))
        return false
      })
      for (const doc of docs) compactor.forget(doc)
      eraseRows([...docs], Date.now())
      await removeAttachments(options.attachmentsDir, docs)
    },

    async sealErasure() {
      ensureOpen()
      // The WAL still holds the pages as they were before the deletes; copy everything into the
      // main file (where secure_delete zeroed the rows) and truncate the WAL to nothing.
      const [result] = db.pragma('wal_checkpoint(TRUNCATE)') as { busy: number }[]
      if (result === undefined || result.busy !== 0) {
        throw new CardfileError(
          ErrorCodes.Internal,
          'erasure could not checkpoint the WAL; old copies may remain until it is retried',
        )
      }
    },

    compact: compactor.compact,
  }

  const index: IndexStore = {
    async findContact(workspace, channel, platformUserId) {
      ensureOpen()
      const row = sql.findContact.get(workspace, channel, platformUserId)
      return row === undefined ? null : toContactIndexRow(row)
    },

    async findOpenConversation(workspace, contactId) {
      ensureOpen()
      const row = sql.findOpenConversation.get(workspace, contactId)
      return row === undefined ? null : toConversation(row)
    },

    async listContacts(workspace, q) {
      ensureOpen()
      const limit = checkLimit(q.limit)
      const after = decodeCursor(q.cursor, 'newest')
      const where = ['workspace = ?']
      const params: unknown[] = [workspace]
      if (q.vip !== undefined) {
        where.push('vip = ?')
        params.push(q.vip ? 1 : 0)
      }
      if (q.matchValue !== undefined) {
        where.push('match_value = ?')
        params.push(q.matchValue)
      }
      if (after !== null) {
        where.push('(created_at < ? OR (created_at = ? AND id < ?))')
        params.push(after.t, after.t, after.i)
      }
      const rows = query<ContactSqlRow>(
        `SELECT * FROM contacts WHERE ${where.join(' AND ')}
         ORDER BY created_at DESC, id DESC LIMIT ?`,
        [...params, limit + 1],
      ).map(toContactIndexRow)
      return newestPage(rows, limit, (r) => ({ t: r.createdAt, i: r.id }))
    },

    async searchContacts(workspace, q) {
      ensureOpen()
      return searchSqlite(db, workspace, checkSearch(q))
    },

    async listConversations(workspace, q) {
      ensureOpen()
      const limit = checkLimit(q.limit)
      if (q.contactIds !== undefined && q.contactIds.length === 0) return { items: [], next: null }
      if (q.status !== undefined && q.status.length === 0) return { items: [], next: null }
      const where = ['workspace = ?']
      const params: unknown[] = [workspace]
      if (q.contactIds?.length === 1) {
        // One contact: an equality lets SQLite walk the per-contact history index instead of
        // the workspace's newest-first one (a full scan for a contact with old conversations).
        where.push('contact_id = ?')
        params.push(q.contactIds[0])
      } else if (q.contactIds !== undefined) {
        // One statement for any number of ids: the list travels as JSON.
        where.push('contact_id IN (SELECT value FROM json_each(?))')
        params.push(JSON.stringify(q.contactIds))
      }
      if (q.team === null) where.push('team IS NULL')
      else if (q.team !== undefined) {
        where.push('team = ?')
        params.push(q.team)
      }
      if (q.status !== undefined) {
        where.push('status IN (SELECT value FROM json_each(?))')
        params.push(JSON.stringify(q.status))
      }
      let orderBy: string
      if (q.order === 'priority') {
        const after = decodeCursor(q.cursor, 'priority')
        if (after !== null) {
          where.push(
            '(priority < ? OR (priority = ? AND (created_at > ? OR (created_at = ? AND id > ?))))',
          )
          params.push(after.p, after.p, after.t, after.t, after.i)
        }
        orderBy = 'priority DESC, created_at ASC, id ASC'
      } else {
        const after = decodeCursor(q.cursor, 'newest')
        if (after !== null) {
          where.push('(created_at < ? OR (created_at = ? AND id < ?))')
          params.push(after.t, after.t, after.i)
        }
        orderBy = 'created_at DESC, id DESC'
      }
      const rows = query<ConversationSqlRow>(
        `SELECT * FROM conversations WHERE ${where.join(' AND ')} ORDER BY ${orderBy} LIMIT ?`,
        [...params, limit + 1],
      ).map(toConversation)
      return q.order === 'priority'
        ? priorityPage(rows, limit, (r) => ({ p: r.priority, t: r.createdAt, i: r.id }))
        : newestPage(rows, limit, (r) => ({ t: r.createdAt, i: r.id }))
    },
  }

  return {
    async generation() {
      return generation
    },
    documents,
    owners,
    index,
    events,
    jobs: createSqliteJobStore(db),
    inbound: createSqliteInboundLog(db),
    links: createSqliteLinkStorage(db, ensureOpen),

    crm: createSqliteCrmStorage(db, ensureOpen),
    deletionLog: createSqliteDeletionLog(db),
    exports: createSqliteExportStore(options.path),
    blobs:
      options.blobs ??
      (options.path === ':memory:' || options.path === ''
        ? createMemoryBlobStore()
        : createFsBlobStore(`${options.path}-exports`)),

    stats() {
      return { pendingAppends: queue.length, ...counters }
    },

    available: () => true,

    close() {
      closing ??= (async () => {
        // Drain in-flight compactions before refusing new calls.
        await compactor.stop()
        cancelFlush()
        while (queue.length > 0) flush()
        cancelFlush()
        closed = true
        db.close()
        lock?.release()
      })()
      return closing
    },
  }
}
