import type { StorageLogger } from '../backend'
import { errorContext } from '../sync/logger'

/** Compacts documents in the background, one at a time, after a delay. */
export interface BackgroundCompactor {
  /** Queues a document that went over the limit (the run starts after the delay). */
  due(doc: string): void
  /** Drops a document from the queue (it was erased). */
  forget(doc: string): void
  /** Compacts a document now; a compaction of it already running is shared, not repeated. */
  compact(doc: string): Promise<boolean>
  /** Stops queueing and waits for the compactions in progress. */
  stop(): Promise<void>
}

/**
 * The background compaction every engine runs: documents are queued as they go over the
 * limit, and after `delayMs` compacted one after the other (with `betweenDocs` awaited in
 * between, so commits keep flowing), failures logged. The timer never keeps a process alive.
 */
export function createBackgroundCompactor(options: {
  readonly compactNow: (doc: string) => Promise<boolean>
  readonly delayMs: number
  readonly logger: StorageLogger
  readonly betweenDocs?: () => Promise<void>
}): BackgroundCompactor {
  const due = new Set<string>()
  const compacting = new Map<string, Promise<boolean>>()
  let timer: NodeJS.Timeout | null = null
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

  return {
    due(doc) {
      if (stopped) return
      due.add(doc)
      schedule()
    },
    forget(doc) {
      due.delete(doc)
    },
    compact,
    async stop() {
      stopped = true
      if (timer !== null) clearTimeout(timer)
      timer = null
      due.clear()
      await Promise.allSettled([run, ...compacting.values()])
    },
  }
}
