import { randomUUID } from 'node:crypto'
import { rmSync } from 'node:fs'
import Database from 'better-sqlite3'
import { CardfileError, ErrorCodes, parseDocName } from '@cardfile/core'
import { removeAttachments } from './attachments'
import { lockDatabaseFile } from './file-lock'
import { checkLimit, decodeCursor, newestPage, priorityPage } from './cursor'
import { checkIndexRow } from './index-rules'
import { createSqliteLinkStorage } from '../linking/sqlite-link-storage'
import { createSqliteDeletionLog } from '../deletion/sqlite-deletion-log'
import { createSqliteExportStore } from '../exports/sqlite-export-store'
import type { BlobStore } from '../blobs/blob-store'
import type { DatabaseBackendOptions } from './database-backend-options'
import { createFsBlobStore } from '../blobs/fs-blob-store'
import { createMemoryBlobStore } from '../blobs/memory-blob-store'
import { createSqliteCrmStorage } from '../crm/sqlite-crm-storage'
import { createSqliteWebhookStore } from '../webhooks/sqlite-webhook-store'
import { errorContext } from '../sync/logger'
import { migrate } from './sqlite-schema'
import { createBackgroundCompactor } from './background-compactor'
import { localCommitThread, startCommitThread } from './sqlite-commit-thread'
import type { CommitThread } from './sqlite-commit-thread'
import {
  configureConnection,
  createSqliteDocumentWriter,
  errorOfRefusal,
} from './sqlite-document-writer'
import type { SqliteConnectionOptions } from './sqlite-document-writer'
import { createSqliteEventStore } from '../events/sqlite-event-store'
import { createSqliteValueHistory } from '../history/sqlite-value-history'
import { createSqliteJobStore } from '../jobs/sqlite-job-store'
import { createSqliteInboundLog } from '../ingestion/sqlite-inbound-log'
import type { Backend, StorageLogger } from '../backend'
import type { PendingAppend } from './pending-append'
import type { DocumentStore } from './document-store'
import { createSqliteDocumentOwners } from './sqlite-document-owners'
import type { IndexStore } from './index-store'
import { toContactIndexRow } from './contact-sql-row'
import { checkSearch } from '../search/contact-search-query'
import { backfillSqliteSearch, registerSearchFunctions } from '../search/sqlite-search'
import { createSqliteSearch } from '../search/sqlite-search-plan'
import { warmSqliteSearch } from '../search/sqlite-search-warmup'
import { createSearchReindexer } from './sqlite-search-reindexer'
import type { ContactSqlRow } from './contact-sql-row'
import { toConversation } from './conversation-sql-row'
import type { ConversationSqlRow } from './conversation-sql-row'

export type { StorageLogger } from '../backend'

/**
 * Options of {@link createSqliteBackend}: the file, group commits, export files, durability.
 * Documents a previous process left with updates are compacted soon after the backend opens.
 */
export interface SqliteBackendOptions extends DatabaseBackendOptions {
  /** The database file; `-wal` and `-shm` files appear beside it. */
  readonly path: string
  /**
   * How long a group commit waits for more appends, in ms. 0 or unset: commit on the next
   * event-loop turn (setImmediate), which already groups everything that arrived in one turn.
   */
  readonly groupCommitMs?: number
  /**
   * Most appends in one transaction. A burst is committed in several short transactions
   * instead of one long one, so other writers of the file (and, before the commit thread is
   * up or for an in-memory database, the event loop) wait less. Default 1000.
   */
  readonly maxGroupSize?: number
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
  /**
   * Read the contact search's indexes at open (default true): the words' full-text index, the
   * name index and the search rows' key index, so that the first searches after a restart do
   * not read them from the disk a page at a time. The cost is at open, before the backend is
   * handed out: for a million contacts about 250 MB read in order, two to three seconds from a
   * cold disk and under half a second when the operating system's cache holds the file.
   */
  readonly warmSearchIndex?: boolean
  /**
   * How long after an edit's commit its contact's words reach the full-text search indexes, in
   * ms (default 500). An edit's commit stores the words with the contact, and re-indexing them
   * (which erases the old words from the index's pages) runs in a transaction of its own, once
   * for every edit made meanwhile; a search always waits for the words of every acknowledged
   * edit, and a compaction or the close re-indexes first.
   */
  readonly searchReindexMs?: number
  /** How long a commit waits for a lock held by another connection. Default 5000. */
  readonly busyTimeoutMs?: number
  /**
   * Delete the database (and its WAL) before opening it, to start over with an empty one.
   * Refused like opening when another server uses the file.
   */
  readonly reset?: boolean
}

/** The SQLite backend: the {@link Backend} contract over one database file. */
export type SqliteBackend = Backend

const asBytes = (b: Buffer): Uint8Array => new Uint8Array(b.buffer, b.byteOffset, b.byteLength)

/** How long an erasure's seal waits before it tries a busy checkpoint again. */
const SEAL_RETRY_MS = 5

const nextTurn = (): Promise<void> => new Promise((resolve) => setImmediate(resolve))

const messageOf = (e: unknown): string => (e instanceof Error ? e.message : String(e))

/**
 * Opens (or creates) the embedded SQLite backend: one file in WAL mode holding every store,
 * appends committed in groups on a thread of their own (off the event loop) and acknowledged
 * only after the commit, documents compacted there with garbage collection, and erasure that
 * leaves no readable copy in the file or its WAL. Takes the database path, or options with it.
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
  // Problems only, by default: console.debug would print the commit thread's routine news.
  const logger: StorageLogger = options.logger ?? { warn: console.warn, error: console.error }

  const connection: SqliteConnectionOptions = {
    synchronous: options.synchronous ?? 'full',
    busyTimeoutMs: options.busyTimeoutMs ?? 5000,
    cacheMb: options.cacheMb,
  }

  // One writer per file: a second server would interleave its own caches and commits with ours.
  const lock = options.path === ':memory:' ? null : lockDatabaseFile(options.path)
  let db: Database.Database
  try {
    if (options.reset === true) {
      for (const suffix of ['', '-wal', '-shm']) rmSync(`${options.path}${suffix}`, { force: true })
    }
    db = new Database(options.path)
    try {
      configureConnection(db, connection)
      migrate(db)
      registerSearchFunctions(db)
      backfillSqliteSearch(db)
      if (options.warmSearchIndex !== false) warmSqliteSearch(db)
    } catch (error) {
      db.close()
      throw error
    }
  } catch (error) {
    lock?.release()
    throw error
  }

  const events = createSqliteEventStore(db)
  const search = createSqliteSearch(db)
  const valueHistory = createSqliteValueHistory(db)
  const owners = createSqliteDocumentOwners(db)
  const sql = {
    isErased: db.prepare<[string], { one: number }>(
      'SELECT 1 AS one FROM tombstones WHERE doc = ?',
    ),
    snapshot: db.prepare<[string], { data: Buffer; upto: number }>(
      'SELECT data, upto FROM snapshots WHERE doc = ?',
    ),
    updates: db.prepare<[string], { seq: number; data: Buffer }>(
      'SELECT seq, data FROM updates WHERE doc = ? ORDER BY seq',
    ),
    deleteUpdates: db.prepare<[string]>('DELETE FROM updates WHERE doc = ?'),
    searchStale: db.prepare<[], { one: number }>(
      'SELECT 1 AS one FROM contact_search_stale LIMIT 1',
    ),
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

  // Appends and compactions run on the commit thread, a worker with its own connection, so
  // their transactions and fsyncs never stall the sockets; the main connection keeps the reads
  // and the other stores' writes (rarer, small). This rather than a thread owning every write:
  // the other stores stay synchronous and unchanged, and only the hot path pays a message.
  // SQLite lets one connection write at a time: a main-thread write waits (busy_timeout) for
  // the commit in progress, a millisecond or two, and every transaction that reads before it
  // writes starts IMMEDIATE, so none fails after reading a state the commit thread has since
  // changed. An erasure commits on the main connection while a group may be committing: the
  // group reads the tombstones in its own transaction (see the writer), and a compaction
  // checks them before it writes. An in-memory database cannot be shared with a thread: its
  // writes stay on this one.
  const thread: CommitThread =
    options.path === ':memory:' || options.path === ''
      ? localCommitThread(createSqliteDocumentWriter(db, compactAfter))
      : startCommitThread(
          { path: options.path, compactAfter, ...connection },
          () => createSqliteDocumentWriter(db, compactAfter),
          logger,
        )

  let queue: PendingAppend[] = []
  /** The group the commit thread is committing (one at a time: the next one gathers meanwhile). */
  let committing: Promise<void> | null = null
  let cancelScheduled: (() => void) | null = null
  let closed = false
  let closing: Promise<void> | null = null
  const counters = { commits: 0, appends: 0, lastCommitMs: 0, compactions: 0, offThreadCommits: 0 }
  /** Groups sent to the commit thread so far. */
  let groupsPosted = 0
  const reindexer = createSearchReindexer({
    reindex: () => thread.reindexSearch(),
    posted: () => groupsPosted,
    delayMs: options.searchReindexMs ?? 500,
    logger,
  })

  const compactor = createBackgroundCompactor({
    compactNow: (doc) => compactNow(doc),
    delayMs: compactDelayMs,
    idleMs: options.compactIdleMs ?? 10_000,
    logger,
    // One document per turn: group commits keep flowing between compactions.
    betweenDocs: nextTurn,
  })

  // Documents a previous process left with updates have been at rest since: they are compacted
  // soon after the backend opens (not before: the server is starting), one at a time.
  const atRest = setTimeout(() => {
    if (closed) return
    for (const { doc } of db.prepare<[], { doc: string }>('SELECT DISTINCT doc FROM updates').all())
      compactor.due(doc)
  }, compactDelayMs)
  atRest.unref()

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

  /**
   * Sends queued appends (up to maxGroupSize) to the commit thread as one transaction, then
   * settles them; appends that arrive meanwhile form the next group.
   */
  function flush(): void {
    cancelScheduled = null
    if (committing !== null || queue.length === 0) return
    const batch = queue.length > maxGroupSize ? queue.splice(0, maxGroupSize) : queue
    if (batch === queue) queue = []
    committing = commit(batch).finally(() => {
      committing = null
      if (queue.length > 0) scheduleFlush(true)
    })
  }

  async function commit(batch: readonly PendingAppend[]): Promise<void> {
    let result: Awaited<ReturnType<CommitThread['commitGroup']>>
    const group = ++groupsPosted
    try {
      result = await thread.commitGroup(
        batch.map(({ doc, update, index, events, fence, history }) => ({
          doc,
          update,
          index,
          events,
          fence,
          history,
        })),
      )
    } catch (e) {
      // Nothing of the group is committed, so nothing of it may be acknowledged.
      const error = new CardfileError(ErrorCodes.Internal, `storage commit failed: ${messageOf(e)}`)
      logger.error('storage commit failed', { appends: batch.length, ...errorContext(e) })
      for (const p of batch) p.reject(error)
      return
    }
    const refused = new Map(result.outcome.refused)
    counters.commits += 1
    counters.appends += batch.length - refused.size
    counters.lastCommitMs = result.ms
    if (result.offThread) counters.offThreadCommits += 1
    batch.forEach((p, at) => {
      const refusal = refused.get(at)
      if (refusal === undefined) {
        p.resolve()
        compactor.written(p.doc)
      } else p.reject(errorOfRefusal(refusal))
    })
    for (const doc of result.outcome.overLimit) compactor.due(doc)
    if (result.outcome.searchStale) reindexer.stale(group)
  }

  async function compactNow(doc: string): Promise<boolean> {
    ensureOpen()
    const done = await thread.compact(doc)
    if (done) counters.compactions += 1
    return done
  }

  /** Copies the WAL into the main file and truncates it; false when a reader kept it busy. */
  function checkpoint(): boolean {
    const [result] = db.pragma('wal_checkpoint(TRUNCATE)') as { busy: number }[]
    return result !== undefined && result.busy === 0
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
    unloaded: (docName) => compactor.unloaded(docName),

    async load(docName) {
      ensureOpen()
      // Both reads in one transaction so a compaction can't slip between them.
      return db.transaction(() => {
        const snapshot = sql.snapshot.get(docName)
        const rows = sql.updates.all(docName).map((r) => asBytes(r.data))
        return snapshot === undefined ? rows : [asBytes(snapshot.data), ...rows]
      })()
    },

    append(docName, update, index, announced, fence, history) {
      return new Promise<void>((resolve, reject) => {
        ensureOpen()
        checkIndexRow(docName, index)
        // An erased document's append is refused by the group commit, which reads the
        // tombstones in its own transaction (see the writer): a read here as well would cost
        // the main thread a query per append for the same answer, only sooner.
        queue.push({
          doc: docName,
          update,
          index,
          events: announced,
          fence,
          history,
          resolve,
          reject,
        })
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
      eraseRows.immediate([...docs], Date.now())
      await removeAttachments(options.attachmentsDir, docs)
    },

    async sealErasure() {
      ensureOpen()
      // The WAL still holds the pages as they were before the deletes; copy everything into the
      // main file (where secure_delete zeroed the rows) and truncate the WAL to nothing. A
      // checkpoint another connection is running (the commit thread checkpoints between its
      // commits) makes this one return busy at once, without waiting: try again until the
      // busy timeout.
      const deadline = Date.now() + connection.busyTimeoutMs
      while (!checkpoint()) {
        if (Date.now() >= deadline) {
          throw new CardfileError(
            ErrorCodes.Internal,
            'erasure could not checkpoint the WAL; old copies may remain until it is retried',
          )
        }
        await new Promise((resolve) => setTimeout(resolve, SEAL_RETRY_MS))
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
      const query = checkSearch(q)
      await reindexer.current()
      ensureOpen()
      return search(workspace, query)
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
      if (q.contactGroup === 'vip') {
        where.push('contact_id IN (SELECT id FROM contacts WHERE workspace = ? AND vip = 1)')
        params.push(workspace)
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
    webhooks: createSqliteWebhookStore(db, ensureOpen),
    deletionLog: createSqliteDeletionLog(db),
    valueHistory,
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
        clearTimeout(atRest)
        // Drain in-flight compactions before refusing new calls.
        await compactor.stop()
        cancelFlush()
        while (queue.length > 0 || committing !== null) {
          if (committing === null) flush()
          await committing
        }
        cancelFlush()
        closed = true
        reindexer.stop()
        // No overwritten word is left in the search indexes for the next process to clear
        // (looked up here first: a server that wrote nothing has no writer to wake for it).
        if (sql.searchStale.get() !== undefined) {
          await thread.reindexSearch().catch((e: unknown) => {
            logger.error('search re-index failed', errorContext(e))
          })
        }
        // Every commit has landed: the two connections close side by side, and whichever
        // closes last checkpoints the log (the thread, if it is still closing, off this one).
        const threadClosed = thread.close()
        db.close()
        await threadClosed
        lock?.release()
      })()
      return closing
    },
  }
}
