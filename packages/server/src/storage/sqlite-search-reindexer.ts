import type { StorageLogger } from '../backend'
import { errorContext } from '../sync/logger'

/**
 * Keeps SQLite's contact search indexes up with the words that appends leave stale. An append
 * writes a contact's new words to its search row but not to the full-text indexes (with
 * secure-delete, that was most of the cost of an edit's commit): those catch up in a
 * transaction of their own, on the commit thread, at most `delayMs` after the commit (edits
 * of one contact within that time cost one re-index), before any search that starts after
 * the commit is acknowledged, at compaction and at close.
 */
export interface SearchReindexer {
  /** The commit group numbered `group` (see `posted`) left rows stale. */
  stale(group: number): void
  /**
   * Resolves once the indexes hold the words of every commit acknowledged so far (at once
   * when none left anything stale since the last re-index).
   */
  current(): Promise<void>
  /** Cancels the timer; what is left stale is re-indexed by the close or the next open. */
  stop(): void
}

/** What the re-indexer needs of its backend. */
export interface SearchReindexerDeps {
  /** Runs a re-index after every group sent to the commit thread so far. */
  readonly reindex: () => Promise<number>
  /** How many commit groups have been sent to the commit thread. */
  readonly posted: () => number
  readonly delayMs: number
  readonly logger: StorageLogger
}

/**
 * The re-indexer of a SQLite backend. Groups are sent to the commit thread one at a time and
 * it answers in order, so a re-index sent after group n was sent runs after group n committed.
 *
 * @example
 * const reindexer = createSearchReindexer({ reindex: () => thread.reindexSearch(), posted: () => groups, delayMs: 500, logger })
 * if (outcome.searchStale) reindexer.stale(group)
 * await reindexer.current() // before a search
 */
export function createSearchReindexer(deps: SearchReindexerDeps): SearchReindexer {
  /** The last group that left rows stale. */
  let staleUpTo = 0
  /** The groups the last finished re-index covers. */
  let doneUpTo = 0
  let running: { readonly covers: number; readonly done: Promise<void> } | null = null
  let timer: ReturnType<typeof setTimeout> | null = null

  const run = (): Promise<void> => {
    const covers = deps.posted()
    const done = deps.reindex().then(
      () => {
        doneUpTo = Math.max(doneUpTo, covers)
      },
      (error: unknown) => {
        // Searches go on with the index as it is; the next search or timer tries again.
        deps.logger.error('search re-index failed', errorContext(error))
      },
    )
    const entry = {
      covers,
      done: done.finally(() => {
        if (running === entry) running = null
      }),
    }
    running = entry
    return entry.done
  }

  const current = (): Promise<void> => {
    if (staleUpTo <= doneUpTo) return Promise.resolve()
    if (running !== null && running.covers >= staleUpTo) return running.done
    return run()
  }

  return {
    stale(group) {
      staleUpTo = Math.max(staleUpTo, group)
      if (timer !== null) return
      timer = setTimeout(() => {
        timer = null
        void current()
      }, deps.delayMs)
      timer.unref()
    },
    current,
    stop() {
      if (timer !== null) clearTimeout(timer)
      timer = null
    },
  }
}
