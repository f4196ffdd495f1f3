import type { StorageLogger } from '../backend'
import { errorContext } from '../sync/logger'

/** Compacts documents in the background, one at a time, after a delay. */
export interface BackgroundCompactor {
  /** Queues a document that went over the limit (the run starts after the delay). */
  due(doc: string): void
  /**
   * Notes that a document was just written: once nothing has been written to it for the quiet
   * period, it is compacted, so a document that stops being edited does not keep its last
   * updates (and what they overwrote) uncompacted at rest.
   */
  written(doc: string): void
  /**
   * Notes that a document is no longer loaded: written since it was last looked at, it is
   * compacted now rather than after the quiet period.
   */
  unloaded(doc: string): void
  /** Drops a document from the queue (it was erased). */
  forget(doc: string): void
  /** Compacts a document now; a compaction of it already running is shared, not repeated. */
  compact(doc: string): Promise<boolean>
  /** Stops queueing and waits for the compactions in progress. */
  stop(): Promise<void>
}

/**
 * The background compaction every engine runs: documents are queued as they go over the
 * limit, or once they have been quiet for `idleMs` after a write (or unloaded sooner than
 * that, then compacted at once), and after `delayMs`
 * compacted one after the other (with `betweenDocs` awaited in between, so commits keep
 * flowing), failures logged. The timers never keep a process alive.
 */
export function createBackgroundCompactor(options: {
  readonly compactNow: (doc: string) => Promise<boolean>
  readonly delayMs: number
  /** Quiet period after a document's last write before it is compacted. */
  readonly idleMs: number
  readonly logger: StorageLogger
  readonly betweenDocs?: () => Promise<void>
}): BackgroundCompactor {
  const due = new Set<string>()
  const compacting = new Map<string, Promise<boolean>>()
  /** Documents written lately, by the time of their last write (oldest first). */
  const lastWrite = new Map<string, number>()
  let timer: NodeJS.Timeout | null = null
  let quietTimer: NodeJS.Timeout | null = null
  let run: Promise<void> | null = null
  let stopped = false

  const compact = (doc: string): Promise<boolean> => {
    const running = compacting.get(doc)
    if (running !== undefined) return running
    const task = options.compactNow(doc).finally(() => compacting.delete(doc))
    compacting.set(doc, task)
    return task
  }

  const start = (): void => {
    timer = null
    run = (async () => {
      while (due.size > 0 && !stopped) {
        const doc = due.values().next().value as string
        due.delete(doc)
        try {
          await compact(doc)
        } catch (e) {
          options.logger.error('storage compaction failed', { doc, ...errorContext(e) })
        }
        await options.betweenDocs?.()
      }
    })().finally(() => {
      run = null
      // Queued after the loop's last look: start again rather than wait for the next one.
      if (due.size > 0 && !stopped) schedule()
    })
  }

  const schedule = (): void => {
    if (timer !== null || run !== null) return
    timer = setTimeout(start, options.delayMs)
    timer.unref()
  }

  /** Queues the documents quiet for long enough; waits for the next one to be. */
  const sweepQuiet = (): void => {
    quietTimer = null
    const now = Date.now()
    // Oldest write first (a write moves its document to the end), so stop at the first one
    // still inside its quiet period.
    for (const [doc, at] of lastWrite) {
      if (now - at < options.idleMs) break
      lastWrite.delete(doc)
      due.add(doc)
    }
    if (due.size > 0) schedule()
    watchQuiet()
  }

  const watchQuiet = (): void => {
    if (quietTimer !== null || stopped) return
    const oldest = lastWrite.values().next()
    if (oldest.done === true) return
    quietTimer = setTimeout(sweepQuiet, Math.max(0, oldest.value + options.idleMs - Date.now()))
    quietTimer.unref()
  }

  return {
    due(doc) {
      if (stopped) return
      due.add(doc)
      schedule()
    },
    written(doc) {
      if (stopped) return
      lastWrite.delete(doc)
      lastWrite.set(doc, Date.now())
      watchQuiet()
    },
    unloaded(doc) {
      if (stopped || !lastWrite.delete(doc)) return
      due.add(doc)
      // Nobody edits it any more: no burst to wait out.
      if (run !== null) return
      if (timer !== null) clearTimeout(timer)
      start()
    },
    forget(doc) {
      due.delete(doc)
      lastWrite.delete(doc)
    },
    compact,
    async stop() {
      stopped = true
      if (timer !== null) clearTimeout(timer)
      if (quietTimer !== null) clearTimeout(quietTimer)
      timer = null
      quietTimer = null
      due.clear()
      lastWrite.clear()
      await Promise.allSettled([run, ...compacting.values()])
    },
  }
}
