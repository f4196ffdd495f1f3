import { randomUUID } from 'node:crypto'
import { collectedSnapshot } from './collected-snapshot'
import { CardfileError, ErrorCodes, contactDocName, parseDocName } from '@cardfile/core'
import type { Backend, StorageLogger } from '../backend'
import type { BlobStore } from '../blobs/blob-store'
import type { DatabaseBackendOptions } from './database-backend-options'
import { createPostgresBlobStore } from '../blobs/postgres-blob-store'
import { createPostgresCrmStorage } from '../crm/postgres-crm-storage'
import { createPostgresWebhookStore } from '../webhooks/postgres-webhook-store'
import { createPostgresDeletionLog } from '../deletion/postgres-deletion-log'
import type { NewDomainEvent } from '../events/domain-event'
import { createPostgresEventStore } from '../events/postgres-event-store'
import { actorOfCommit } from '../linking/auto-links'
import { postgresLinksAfterWrite } from '../linking/postgres-auto-links'
import { createPostgresExportStore } from '../exports/postgres-export-store'
import { createPostgresValueHistory } from '../history/postgres-value-history'
import type { ValueChange } from '../history/value-history'
import { createPostgresInboundLog } from '../ingestion/postgres-inbound-log'
import { createPostgresJobStore } from '../jobs/postgres-job-store'
import { createPostgresLinkStorage } from '../linking/postgres-link-storage'
import { errorContext } from '../sync/logger'
import { removeAttachments } from './attachments'
import { createBackgroundCompactor } from './background-compactor'
import { fenced } from './document-owners'
import type { DocumentFence } from './document-owners'
import type { PendingAppend } from './pending-append'
import type { DocumentStore } from './document-store'
import { DB_NOW_MS, createPostgresDocumentOwners } from './postgres-document-owners'
import { createPostgresIndexStore } from './postgres-index-store'
import { codeOf, openPgDatabase } from './postgres-database'
import type { PgConnectionOptions, PgDatabase, PgSession } from './postgres-database'
import { migratePostgres } from './postgres-schema'
import { backfillPostgresSearch, searchColumns } from '../search/postgres-search'
import { checkIndexRow, identityTaken } from './index-rules'
import type { ContactIndexRow, ConversationIndexRow } from './index-store'

/** Options of {@link createPostgresBackend}: the connection, group commits, export files. */
export interface PostgresBackendOptions extends PgConnectionOptions, DatabaseBackendOptions {
  /**
   * How long a group commit waits for more appends, in ms. 0 or unset: commit as soon as the
   * previous commit is done, so everything that arrived meanwhile goes in one transaction.
   */
  readonly groupCommitMs?: number
  /** Most appends in one transaction. Default 1000. */
  readonly maxGroupSize?: number
  /** Where export files go. Default: a table in the same database, shared by every instance. */
  readonly blobs?: BlobStore
}

/** The PostgreSQL backend: the {@link Backend} contract over one database (and schema). */
export interface PostgresBackend extends Backend {
  /** The pool every store uses (for readiness checks). */
  readonly database: PgDatabase
}

const deleted = (doc: string): CardfileError =>
  new CardfileError(ErrorCodes.Deleted, `document ${doc} was deleted`)

const messageOf = (e: unknown): string => (e instanceof Error ? e.message : String(e))

// Every writer of a document takes its advisory lock: appends shared (they never conflict with
// each other), erasure and compaction exclusive, so an erasure can neither miss an append that
// commits after it nor be undone by a compaction that read the document before it.
const LOCK_SHARED =
  'SELECT pg_advisory_xact_lock_shared(hashtextextended(d, 0)) FROM unnest($1::text[]) AS d'
const LOCK_EXCLUSIVE =
  'SELECT pg_advisory_xact_lock(hashtextextended(d, 0)) FROM unnest($1::text[]) AS d'

/**
 * Opens the PostgreSQL backend: connects a pool, runs the migrations (safe when several
 * instances start at once), and returns every store over that database. Appends are committed
 * in groups and acknowledged only after the commit; documents are compacted in the background;
 * export files live in the database too, so every instance can serve every file.
 *
 * @example
 * const backend = await createPostgresBackend({ url: 'postgres://cardfile@db/cardfile' })
 * const server = await createCardfileServer({ backend, auth: { secret } })
 */
export async function createPostgresBackend(
  options: PostgresBackendOptions,
): Promise<PostgresBackend> {
  const logger: StorageLogger = options.logger ?? console
  const db = await openPgDatabase({
    ...options,
    onError: (error) => {
      logger.warn('database connection lost', errorContext(error))
      options.onError?.(error)
    },
  })
  try {
    await migratePostgres(db)
    await backfillPostgresSearch(db)
    if (options.newGeneration === true) {
      await db.run("UPDATE store_meta SET value = $1 WHERE key = 'generation'", [randomUUID()])
    }
  } catch (error) {
    await db.close()
    throw error
  }
  const generation = (
    await db.one<{ value: string }>("SELECT value FROM store_meta WHERE key = 'generation'")
  )?.value
  if (generation === undefined) {
    await db.close()
    throw new CardfileError(ErrorCodes.Internal, 'the database has no generation id')
  }

  const events = createPostgresEventStore(db)
  const valueHistory = createPostgresValueHistory(db)
  const commits = createGroupCommitter(
    db,
    { events: events.insertIn, history: valueHistory.insertIn },
    logger,
    options,
  )
  const health = watchDatabase(db, logger)
  let closing: Promise<void> | null = null
  return {
    database: db,
    async generation() {
      return generation
    },
    documents: commits.documents,
    owners: createPostgresDocumentOwners(db),
    index: createPostgresIndexStore(db),
    events,
    jobs: createPostgresJobStore(db),
    inbound: createPostgresInboundLog(db),
    links: createPostgresLinkStorage(db),
    crm: createPostgresCrmStorage(db),
    webhooks: createPostgresWebhookStore(db),
    deletionLog: createPostgresDeletionLog(db),
    valueHistory,
    exports: createPostgresExportStore(db),
    blobs: options.blobs ?? createPostgresBlobStore(db),
    stats: commits.stats,
    available: health.available,
    close() {
      // Once: a process may close its backend from more than one place on the way out.
      closing ??= (async () => {
        health.stop()
        await commits.close()
        await db.close()
      })()
      return closing
    },
  }
}

/** How often the backend checks that the database answers, in ms. */
const PING_MS = 2000

/**
 * Pings the database in the background so that readiness reflects it without a query per
 * probe: unavailable from the first failed ping until the next one that succeeds.
 */
function watchDatabase(db: PgDatabase, logger: StorageLogger) {
  let ok = true
  let stopped = false
  let timer: NodeJS.Timeout | null = null
  const ping = async (): Promise<void> => {
    try {
      await db.run('SELECT 1')
      if (!ok) logger.warn('database reachable again')
      ok = true
    } catch (error) {
      if (ok) logger.error('database unreachable', errorContext(error))
      ok = false
    }
    if (!stopped) {
      timer = setTimeout(() => void ping(), PING_MS)
      timer.unref()
    }
  }
  timer = setTimeout(() => void ping(), PING_MS)
  timer.unref()
  return {
    available: () => ok,
    stop() {
      stopped = true
      if (timer !== null) clearTimeout(timer)
    },
  }
}

/** The document store: group commits, compaction and erasure over the updates tables. */
function createGroupCommitter(
  db: PgDatabase,
  insert: {
    readonly events: (tx: PgSession, events: readonly NewDomainEvent[]) => Promise<void>
    readonly history: (tx: PgSession, changes: readonly ValueChange[]) => Promise<void>
  },
  logger: StorageLogger,
  options: PostgresBackendOptions,
) {
  const groupCommitMs = options.groupCommitMs ?? 0
  const maxGroupSize = Math.max(1, options.maxGroupSize ?? 1000)
  const compactAfter = options.compactAfter ?? 500
  const compactDelayMs = options.compactDelayMs ?? 1000

  let queue: PendingAppend[] = []
  let committing: Promise<void> | null = null
  let timer: NodeJS.Timeout | null = null
  let closed = false
  let closing: Promise<void> | null = null
  const counters = { commits: 0, appends: 0, lastCommitMs: 0, compactions: 0 }

  // Appends this process committed per document since its last compaction check: a cheap gate
  // before asking the database how many updates a document has.
  const appendsSince = new Map<string, number>()
  const compactor = createBackgroundCompactor({
    compactNow: (doc) => compactNow(doc),
    delayMs: compactDelayMs,
    idleMs: options.compactIdleMs ?? 10_000,
    logger,
  })

  const ensureOpen = (): void => {
    if (closed) throw new CardfileError(ErrorCodes.Internal, 'storage is closed')
  }

  function schedule(): void {
    if (committing !== null || timer !== null || queue.length === 0) return
    if (groupCommitMs > 0) {
      timer = setTimeout(() => {
        timer = null
        startCommit()
      }, groupCommitMs)
    } else {
      // One turn's appends together; while a commit runs, the next group gathers.
      setImmediate(startCommit)
    }
  }

  function startCommit(): void {
    if (committing !== null || queue.length === 0) return
    const batch = queue.splice(0, maxGroupSize)
    committing = commit(batch).finally(() => {
      committing = null
      schedule()
    })
  }

  async function commit(batch: PendingAppend[]): Promise<void> {
    const started = performance.now()
    let refused: Map<PendingAppend, Error>
    try {
      refused = await db.transaction((tx) => writeGroup(tx, batch))
    } catch (e) {
      // Nothing of the group is committed, so nothing of it may be acknowledged.
      const error =
        e instanceof CardfileError && e.code === ErrorCodes.Unavailable
          ? e
          : new CardfileError(ErrorCodes.Internal, `storage commit failed: ${messageOf(e)}`)
      logger.error('storage commit failed', { appends: batch.length, ...errorContext(e) })
      for (const p of batch) p.reject(error)
      return
    }
    counters.commits += 1
    counters.appends += batch.length - refused.size
    counters.lastCommitMs = performance.now() - started
    for (const p of batch) {
      const error = refused.get(p)
      if (error === undefined) {
        noteAppend(p.doc)
        p.resolve()
      } else {
        p.reject(error)
      }
    }
  }

  function noteAppend(doc: string): void {
    compactor.written(doc)
    const n = (appendsSince.get(doc) ?? 0) + 1
    if (n >= compactAfter) {
      appendsSince.delete(doc)
      compactor.due(doc)
    } else {
      // Bounded: forgetting a count only delays a compaction until the document is next loaded.
      if (appendsSince.size >= 10_000 && !appendsSince.has(doc)) appendsSince.clear()
      appendsSince.set(doc, n)
    }
  }

  /**
   * Writes one group. Fast path: every update, event and index row of the group in a handful
   * of statements. If one append breaks a rule (a channel identity another contact has), the
   * group is redone one append per savepoint, so only that append is refused.
   */
  async function writeGroup(
    tx: PgSession,
    batch: readonly PendingAppend[],
  ): Promise<Map<PendingAppend, Error>> {
    const refused = new Map<PendingAppend, Error>()
    const docs = [...new Set(batch.map((p) => p.doc))].sort()
    await tx.run(LOCK_SHARED, [docs])
    const erased = new Set(
      (
        await tx.rows<{ doc: string }>('SELECT doc FROM tombstones WHERE doc = ANY($1::text[])', [
          docs,
        ])
      ).map((r) => r.doc),
    )
    const owners = await currentOwners(tx, batch)
    const live: PendingAppend[] = []
    for (const p of batch) {
      if (erased.has(p.doc)) refused.set(p, deleted(p.doc))
      else if (p.fence !== undefined && !holds(owners.get(p.doc), p.fence)) {
        refused.set(p, fenced(p.doc))
      } else live.push(p)
    }
    if (live.length === 0) return refused
    await tx.run('SAVEPOINT fast_path')
    try {
      await writeAppends(tx, live)
      await tx.run('RELEASE SAVEPOINT fast_path')
      return refused
    } catch (e) {
      if (!isRowRefusal(e)) throw e
      await tx.run('ROLLBACK TO SAVEPOINT fast_path')
    }
    for (const p of live) {
      await tx.run('SAVEPOINT one_append')
      try {
        await writeAppends(tx, [p])
        await tx.run('RELEASE SAVEPOINT one_append')
      } catch (e) {
        if (!isRowRefusal(e)) throw e
        await tx.run('ROLLBACK TO SAVEPOINT one_append')
        refused.set(p, refusalOf(e, p))
      }
    }
    return refused
  }

  async function writeAppends(tx: PgSession, appends: readonly PendingAppend[]): Promise<void> {
    await tx.run(
      `INSERT INTO updates (doc, data)
       SELECT d, u FROM unnest($1::text[], $2::bytea[]) WITH ORDINALITY AS t(d, u, n) ORDER BY n`,
      [appends.map((p) => p.doc), appends.map((p) => Buffer.from(p.update))],
    )
    const announced = appends.flatMap((p) => p.events ?? [])
    if (announced.length > 0) await insert.events(tx, announced)
    const changes = appends.flatMap((p) => p.history ?? [])
    if (changes.length > 0) await insert.history(tx, changes)
    // The last row of a document in the group is its state after the group.
    const contacts = new Map<string, ContactIndexRow>()
    const conversations = new Map<string, ConversationIndexRow>()
    for (const p of appends) {
      if (p.index?.kind === 'contact') contacts.set(p.doc, p.index)
      else if (p.index?.kind === 'conversation') conversations.set(p.doc, p.index)
    }
    const stored = contacts.size > 0 ? await upsertContacts(tx, [...contacts.values()]) : []
    if (conversations.size > 0) await upsertConversations(tx, [...conversations.values()])
    const moved = stored.filter((r) => r.before !== r.after)
    if (moved.length > 0) {
      // Each link is told with the actor of the commit that changed its subject.
      const actors = new Map(appends.map((p) => [p.doc, actorOfCommit(p.events)] as const))
      const linked: NewDomainEvent[] = []
      for (const workspace of [...new Set(moved.map((r) => r.workspace))].sort()) {
        const changes = moved.filter((r) => r.workspace === workspace)
        for (const e of await postgresLinksAfterWrite(tx, workspace, changes, Date.now())) {
          linked.push({ ...e, actor: actors.get(contactDocName(e.workspace, e.subject)) ?? null })
        }
      }
      if (linked.length > 0) await insert.events(tx, linked)
    }
  }

  const isRowRefusal = (e: unknown): boolean =>
    e instanceof CardfileError || (codeOf(e) === '23505' && constraintOf(e) === 'contacts_identity')

  const refusalOf = (e: unknown, p: PendingAppend): Error =>
    e instanceof CardfileError
      ? e
      : p.index?.kind === 'contact'
        ? identityTaken(p.index)
        : new CardfileError(ErrorCodes.InvalidValue, messageOf(e))

  async function compactNow(doc: string): Promise<boolean> {
    ensureOpen()
    // Reads, merges and deletes exactly the rows it read, under the document's exclusive lock:
    // appends committed by other instances meanwhile are either in the read or left in place.
    const done = await db.transaction(async (tx) => {
      await tx.run(LOCK_EXCLUSIVE, [[doc]])
      if ((await tx.one('SELECT 1 FROM tombstones WHERE doc = $1', [doc])) !== undefined) {
        return false
      }
      const snapshot = await tx.one<{ data: Buffer }>('SELECT data FROM snapshots WHERE doc = $1', [
        doc,
      ])
      const rows = await tx.rows<{ seq: number; data: Buffer }>(
        'SELECT seq, data FROM updates WHERE doc = $1 ORDER BY seq',
        [doc],
      )
      const last = rows.at(-1)
      if (last === undefined) return false
      const parts = rows.map((r) => new Uint8Array(r.data))
      if (snapshot !== undefined) parts.unshift(new Uint8Array(snapshot.data))
      const merged = collectedSnapshot(parts)
      await tx.run(
        `INSERT INTO snapshots (doc, data, upto) VALUES ($1, $2, $3)
         ON CONFLICT (doc) DO UPDATE SET data = excluded.data, upto = excluded.upto`,
        [doc, Buffer.from(merged), last.seq],
      )
      await tx.run('DELETE FROM updates WHERE doc = $1 AND seq <= $2', [doc, last.seq])
      return true
    })
    if (done) counters.compactions += 1
    return done
  }

  const documents: DocumentStore = {
    unloaded: (docName) => compactor.unloaded(docName),

    async load(docName) {
      ensureOpen()
      // One statement, so one snapshot of the data: a compaction can't slip between the reads.
      const rows = await db.rows<{ data: Buffer }>(
        `SELECT data FROM (
           SELECT data, 0 AS part, 0::bigint AS seq FROM snapshots WHERE doc = $1
           UNION ALL
           SELECT data, 1 AS part, seq FROM updates WHERE doc = $1
         ) AS parts ORDER BY part, seq`,
        [docName],
      )
      if (rows.length > compactAfter) compactor.due(docName)
      return rows.map((r) => new Uint8Array(r.data.buffer, r.data.byteOffset, r.data.byteLength))
    },

    append(docName, update, index, announced, fence, history) {
      return new Promise<void>((resolve, reject) => {
        ensureOpen()
        checkIndexRow(docName, index)
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
        schedule()
      })
    },

    async isErased(docName) {
      ensureOpen()
      return (await db.one('SELECT 1 FROM tombstones WHERE doc = $1', [docName])) !== undefined
    },

    async erase(docNames) {
      ensureOpen()
      const docs = [...new Set(docNames)].sort()
      if (docs.length === 0) return
      const erasing = new Set(docs)
      // Queued appends of these documents were never acknowledged: refuse them instead of
      // writing bytes that would only be deleted again.
      queue = queue.filter((p) => {
        if (!erasing.has(p.doc)) return true
        p.reject(deleted(p.doc))
        return false
      })
      for (const doc of docs) {
        compactor.forget(doc)
        appendsSince.delete(doc)
      }
      await db.transaction(async (tx) => {
        await tx.run(LOCK_EXCLUSIVE, [docs])
        await tx.run('DELETE FROM updates WHERE doc = ANY($1::text[])', [docs])
        await tx.run('DELETE FROM snapshots WHERE doc = ANY($1::text[])', [docs])
        const rows = { contact: [[], []] as string[][], conversation: [[], []] as string[][] }
        for (const doc of docs) {
          const name = parseDocName(doc)
          if (name?.kind === 'contact' || name?.kind === 'conversation') {
            rows[name.kind][0]!.push(name.workspace)
            rows[name.kind][1]!.push(name.id)
          }
        }
        await tx.run(
          `DELETE FROM contacts c USING unnest($1::text[], $2::text[]) AS d(w, i)
           WHERE c.workspace = d.w AND c.id = d.i`,
          rows.contact,
        )
        await tx.run(
          `DELETE FROM conversations c USING unnest($1::text[], $2::text[]) AS d(w, i)
           WHERE c.workspace = d.w AND c.id = d.i`,
          rows.conversation,
        )
        await tx.run(
          `INSERT INTO tombstones (doc, erased_at) SELECT d, $2 FROM unnest($1::text[]) AS d
           ON CONFLICT (doc) DO NOTHING`,
          [docs, Date.now()],
        )
      })
      await removeAttachments(options.attachmentsDir, docs)
    },

    async sealErasure() {
      ensureOpen()
      // Deleted rows stay in their pages until vacuumed; VACUUM removes them from every table
      // an erasure deletes from (it cannot run inside a transaction, hence a statement of its
      // own). Export files count: one may have held the contact.
      await db.run(
        `VACUUM updates, snapshots, contacts, conversations, contact_links, contact_link_log,
           events, jobs, inbound_messages, crm_pending, crm_lookups, crm_sequences, blobs,
           blob_chunks, value_history`,
      )
    },

    compact: compactor.compact,
  }

  return {
    documents,
    stats: () => ({ pendingAppends: queue.length, ...counters }),
    close(): Promise<void> {
      closing ??= (async () => {
        await compactor.stop()
        if (timer !== null) clearTimeout(timer)
        timer = null
        while (committing !== null || queue.length > 0) {
          if (committing === null) startCommit()
          await committing
        }
        closed = true
      })()
      return closing
    },
  }
}

/**
 * The live owners of the group's fenced documents, their rows locked `FOR SHARE` until the
 * commit: a takeover (an update of the row) waits for this commit, so an append is either in
 * before the new epoch or refused.
 */
async function currentOwners(
  tx: PgSession,
  batch: readonly PendingAppend[],
): Promise<Map<string, { owner: string; epoch: number }>> {
  const docs = [...new Set(batch.filter((p) => p.fence !== undefined).map((p) => p.doc))].sort()
  if (docs.length === 0) return new Map()
  const rows = await tx.rows<{ doc: string; owner: string; epoch: number }>(
    `SELECT doc, owner, epoch FROM document_owners
     WHERE doc = ANY($1::text[]) AND lease_until > ${DB_NOW_MS}
     ORDER BY doc FOR SHARE`,
    [docs],
  )
  return new Map(rows.map((r) => [r.doc, r]))
}

const holds = (
  current: { owner: string; epoch: number } | undefined,
  fence: DocumentFence,
): boolean =>
  current !== undefined && current.owner === fence.owner && current.epoch === fence.epoch

const constraintOf = (e: unknown): string | undefined =>
  typeof e === 'object' && e !== null && 'constraint' in e
    ? String((e as { constraint: unknown }).constraint)
    : undefined

/**
 * Writes contact index rows; answers each row's matching value before and after (the
 * subquery of RETURNING reads the rows as they were before this statement).
 */
async function upsertContacts(
  tx: PgSession,
  rows: readonly ContactIndexRow[],
): Promise<{ workspace: string; id: string; before: string | null; after: string | null }[]> {
  return tx.rows(
    `INSERT INTO contacts (workspace, id, channel, platform_user_id, hint, vip, match_value,
       values_json, created_at, updated_at, search_words, search_keys, sort_name)
     SELECT * FROM unnest($1::text[], $2::text[], $3::text[], $4::text[], $5::text[],
       $6::int[], $7::text[], $8::text[], $9::bigint[], $10::bigint[], $11::text[], $12::text[],
       $13::text[])
     ON CONFLICT (workspace, id) DO UPDATE SET channel = excluded.channel,
       platform_user_id = excluded.platform_user_id, hint = excluded.hint, vip = excluded.vip,
       match_value = excluded.match_value, values_json = excluded.values_json,
       created_at = excluded.created_at, updated_at = excluded.updated_at,
       search_words = excluded.search_words, search_keys = excluded.search_keys,
       sort_name = excluded.sort_name
     RETURNING workspace, id, match_value AS after,
       (SELECT o.match_value FROM contacts AS o
         WHERE o.workspace = contacts.workspace AND o.id = contacts.id) AS before`,
    [
      rows.map((r) => r.workspace),
      rows.map((r) => r.id),
      rows.map((r) => r.channel),
      rows.map((r) => r.platformUserId),
      rows.map((r) => r.hint),
      rows.map((r) => (r.vip ? 1 : 0)),
      rows.map((r) => r.matchValue),
      // A row built without values stores none rather than failing.
      rows.map((r) => JSON.stringify(r.values ?? {})),
      rows.map((r) => r.createdAt),
      rows.map((r) => r.updatedAt),
      ...searchColumns(rows),
    ],
  )
}

async function upsertConversations(
  tx: PgSession,
  rows: readonly ConversationIndexRow[],
): Promise<void> {
  await tx.run(
    `INSERT INTO conversations (workspace, id, contact_id, channel, status, team, priority,
       created_at, updated_at)
     SELECT * FROM unnest($1::text[], $2::text[], $3::text[], $4::text[], $5::text[],
       $6::text[], $7::float8[], $8::bigint[], $9::bigint[])
     ON CONFLICT (workspace, id) DO UPDATE SET contact_id = excluded.contact_id,
       channel = excluded.channel, status = excluded.status, team = excluded.team,
       priority = excluded.priority, created_at = excluded.created_at,
       updated_at = excluded.updated_at`,
    [
      rows.map((r) => r.workspace),
      rows.map((r) => r.id),
      rows.map((r) => r.contactId),
      rows.map((r) => r.channel),
      rows.map((r) => r.status),
      rows.map((r) => r.team),
      rows.map((r) => r.priority),
      rows.map((r) => r.createdAt),
      rows.map((r) => r.updatedAt),
    ],
  )
}
