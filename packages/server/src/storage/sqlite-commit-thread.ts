import { Worker } from 'node:worker_threads'
import type { StorageLogger } from '../backend'
import { errorContext } from '../sync/logger'
import type {
  AppendRecord,
  GroupOutcome,
  SqliteConnectionOptions,
  SqliteDocumentWriter,
} from './sqlite-document-writer'

/** What the commit thread opens. */
export interface CommitWorkerData extends SqliteConnectionOptions {
  readonly path: string
  readonly compactAfter: number
}

/** A request to the commit thread. */
export type CommitRequest =
  | { readonly kind: 'commit'; readonly batch: readonly AppendRecord[] }
  | { readonly kind: 'compact'; readonly doc: string }
  | { readonly kind: 'reindex-search' }
  | { readonly kind: 'close' }

/** The commit thread's answer to one request, in the order of the requests. */
export type CommitReply =
  | { readonly kind: 'committed'; readonly outcome: GroupOutcome; readonly ms: number }
  | { readonly kind: 'compacted'; readonly done: boolean }
  | { readonly kind: 'reindexed'; readonly rows: number }
  | { readonly kind: 'failed'; readonly message: string }
  | { readonly kind: 'closed' }
  /** Sent once, unasked, when the thread's connection is open. */
  | { readonly kind: 'ready' }

/** Where the SQLite backend's document writes run. */
export interface CommitThread {
  /** Commits a group; resolves after the commit (fsync included), rejects if none happened. */
  commitGroup(
    batch: readonly AppendRecord[],
  ): Promise<{ outcome: GroupOutcome; ms: number; offThread: boolean }>
  /** Compacts a document; resolves true when it did. */
  compact(doc: string): Promise<boolean>
  /** Re-indexes the contacts' words appends left stale; resolves with the rows re-indexed. */
  reindexSearch(): Promise<number>
  /** Waits for the requests sent so far, then stops (closing the thread's connection). */
  close(): Promise<void>
}

/**
 * The record with its update in a buffer of its own: posting a view clones the whole buffer
 * under it (a socket's receive buffer, a pool slab), not just the update.
 */
const tightRecord = (r: AppendRecord): AppendRecord =>
  r.update.byteOffset === 0 && r.update.byteLength === r.update.buffer.byteLength
    ? r
    : { ...r, update: r.update.slice() }

/** The writes on the calling thread: for an in-memory database, which no thread can share. */
export function localCommitThread(writer: SqliteDocumentWriter): CommitThread {
  return {
    async commitGroup(batch) {
      const started = performance.now()
      const outcome = writer.commitGroup(batch)
      return { outcome, ms: performance.now() - started, offThread: false }
    },
    async compact(doc) {
      const prepared = writer.prepareCompaction(doc)
      if (prepared === null) return false
      // Let queued group commits land before writing, as the merge held the thread.
      await new Promise((resolve) => setImmediate(resolve))
      return writer.writeCompaction(doc, prepared.merged, prepared.bound)
    },
    async reindexSearch() {
      return writer.reindexSearch()
    },
    async close() {},
  }
}

/**
 * The worker script beside this module: the built file of the same format in dist (the build
 * emits one beside each bundle holding this code), or, run from the TypeScript sources (tests,
 * the `source` condition), the source itself, loaded through tsx's hooks registered in the
 * thread (Node 20 ignores `--import` in a worker's execArgv).
 */
function workerScript(): { readonly script: URL | string; readonly eval: boolean } {
  const here = import.meta.url
  if (here.endsWith('.ts')) {
    const source = new URL('./sqlite-commit-worker.ts', here).href
    return {
      script: `import('tsx/esm/api').then(({ register }) => { register(); return import(${JSON.stringify(source)}) })`,
      eval: true,
    }
  }
  const ext = here.endsWith('.cjs') ? 'cjs' : 'js'
  return { script: new URL(`./sqlite-commit-worker.${ext}`, here), eval: false }
}

/**
 * Starts the commit thread for a database file: a worker thread with its own connection (WAL
 * lets it write while the main connection reads) that runs every document append and
 * compaction, so their transactions and fsyncs never stall the event loop. Requests are
 * answered in order, one at a time. The thread is spawned on the turn of the event loop after
 * the first request, and loads meanwhile; until it is ready, and should it die, requests run
 * on `fallback`, the main connection (the requests a dying thread held are rejected: none of
 * them was acknowledged).
 *
 * @example
 * const thread = startCommitThread({ path, synchronous: 'full', busyTimeoutMs: 5000, compactAfter: 500 }, () => createSqliteDocumentWriter(db, 500), logger)
 * const { outcome } = await thread.commitGroup(batch) // after the commit
 */
export function startCommitThread(
  data: CommitWorkerData,
  fallback: () => SqliteDocumentWriter,
  logger: StorageLogger,
): CommitThread {
  const waiting: { resolve: (reply: CommitReply) => void; reject: (e: Error) => void }[] = []
  // Until the thread has opened its connection, and if it ever dies, the writes run on the
  // main connection: a server takes its first edits at once.
  let mainWriter: CommitThread | null = null
  const onMain = (): CommitThread => (mainWriter ??= localCommitThread(fallback()))
  let ready = false
  let dead = false
  let closing: Promise<void> | null = null

  const stopped = (error: Error): void => {
    for (const w of waiting.splice(0)) w.reject(error)
    if (dead || closing !== null) return
    dead = true
    logger.error('storage commit thread stopped; committing on the main thread', {
      ...errorContext(error),
    })
  }

  let worker: Worker | null = null
  const spawn = (): void => {
    const { script, eval: isSource } = workerScript()
    // A worker inherits the process's flags, but fails to load under --input-type (a host run
    // as `node --input-type=module -e`); flags given explicitly are checked, and V8 ones such
    // as --expose-gc refused, so they are given only to drop that one.
    const flags = process.execArgv
    const inputType = (flag: string): boolean => flag.startsWith('--input-type')
    let started: Worker
    try {
      started = new Worker(script, {
        workerData: data,
        eval: isSource,
        ...(flags.some(inputType) ? { execArgv: flags.filter((f) => !inputType(f)) } : {}),
      })
    } catch (error) {
      stopped(error instanceof Error ? error : new Error(String(error)))
      return
    }
    // Idle, the thread must not keep the process alive (as the connection it replaces did not).
    started.unref()
    started.on('message', (reply: CommitReply) => {
      if (reply.kind === 'ready') {
        ready = true
        logger.debug?.('storage commit thread ready')
        return
      }
      waiting.shift()?.resolve(reply)
      if (waiting.length === 0) started.unref()
    })
    started.on('error', (error) => stopped(error))
    started.on('exit', (code) =>
      stopped(new Error(`storage commit thread exited with code ${code}`)),
    )
    worker = started
  }
  // Started once there is something to write, on the next turn of the event loop: a thread
  // loading its own copy of the modules competes with a starting server for the machine's cores,
  // and costs its stop a message round trip and a thread to wind down, for nothing while no
  // document is written (a server restarted for readers, a stop soon after a start). Creating a
  // worker costs the calling thread a few milliseconds: not in the middle of the first request
  // (nothing waits on the thread: until it is up, writes run on the main connection).
  let pendingSpawn: NodeJS.Immediate | null = null
  let spawnAsked = false
  const spawnSoon = (): void => {
    if (spawnAsked) return
    spawnAsked = true
    pendingSpawn = setImmediate(() => {
      pendingSpawn = null
      if (closing === null) spawn()
    })
  }

  const request = (thread: Worker, message: CommitRequest): Promise<CommitReply> =>
    new Promise((resolve, reject) => {
      waiting.push({ resolve, reject })
      thread.ref()
      thread.postMessage(message)
    })

  const failed = (reply: CommitReply): Error =>
    new Error(reply.kind === 'failed' ? reply.message : `unexpected reply ${reply.kind}`)

  /**
   * Sends `message` to the thread and returns its reply of kind `expected`; null while the
   * thread is not up (or dead), when the caller runs the request on the main connection.
   */
  const onThread = async <K extends CommitReply['kind']>(
    message: () => CommitRequest,
    expected: K,
  ): Promise<Extract<CommitReply, { kind: K }> | null> => {
    if (dead || !ready || worker === null) return null
    const reply = await request(worker, message())
    if (reply.kind !== expected) throw failed(reply)
    return reply as Extract<CommitReply, { kind: K }>
  }

  return {
    async commitGroup(batch) {
      const reply = await onThread(
        () => ({ kind: 'commit', batch: batch.map(tightRecord) }),
        'committed',
      )
      if (reply !== null) return { outcome: reply.outcome, ms: reply.ms, offThread: true }
      spawnSoon()
      return onMain().commitGroup(batch)
    },
    async compact(doc) {
      const reply = await onThread(() => ({ kind: 'compact', doc }), 'compacted')
      if (reply !== null) return reply.done
      spawnSoon()
      return onMain().compact(doc)
    },
    async reindexSearch() {
      // Not a reason to start the thread: only appends leave rows stale.
      const reply = await onThread(() => ({ kind: 'reindex-search' }), 'reindexed')
      return reply !== null ? reply.rows : onMain().reindexSearch()
    },
    close() {
      closing ??= (async () => {
        if (pendingSpawn !== null) clearImmediate(pendingSpawn)
        pendingSpawn = null
        const thread = worker
        if (dead || thread === null) return
        // Not up yet: nothing was sent to it, so there is nothing to wait for. Held until it is
        // gone: a process closing its backend on the way out (a failed start) would otherwise
        // end before the thread, and its exit code and last words with it.
        if (!ready) {
          thread.ref()
          await thread.terminate()
          return
        }
        // The reply comes once its connection is closed: every commit is in the file. What is
        // left, the thread winding down, keeps nobody waiting (nor the process alive).
        await request(thread, { kind: 'close' }).catch(() => undefined)
        thread.unref()
      })()
      return closing
    },
  }
}
