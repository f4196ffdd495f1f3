import type Database from 'better-sqlite3'

/** When the commit thread checkpoints the WAL. */
export interface WalCheckpointOptions {
  /** Checkpoint after this many commits since the last checkpoint. Default 32. */
  readonly everyCommits?: number
  /** Checkpoint this long after a commit when fewer followed. Default 1000 ms. */
  readonly idleMs?: number
}

/** Checkpoints a connection's WAL between its commits. */
export interface WalCheckpointer {
  /** A commit was just answered. */
  committed(): void
  /** Cancels what is scheduled (the connection is closing, which checkpoints anyway). */
  stop(): void
}

/**
 * Moves the WAL checkpoints of a commit connection out of its commits. SQLite's automatic
 * checkpoint runs inside the commit that takes the log past 1,000 pages: that commit, and the
 * acknowledgement and relay of every edit in it, wait for a copy of the pages into the main
 * file and its fsync, one commit in every few dozen, which is what a latency p99 sees. Here the
 * connection's automatic checkpoint is off and a passive checkpoint (it never waits for
 * readers) runs after the commit has been answered: on the next turn once `everyCommits`
 * commits have piled up, else `idleMs` after the last one. Other connections of the file keep
 * SQLite's automatic checkpoint, which these keep from being reached.
 *
 * @example
 * const checkpoints = createWalCheckpointer(db)
 * port.postMessage(reply)
 * checkpoints.committed()
 */
export function createWalCheckpointer(
  db: Database.Database,
  options: WalCheckpointOptions = {},
): WalCheckpointer {
  const everyCommits = options.everyCommits ?? 32
  const idleMs = options.idleMs ?? 1000
  db.pragma('wal_autocheckpoint = 0')
  let since = 0
  let soon: ReturnType<typeof setImmediate> | null = null
  let idle: ReturnType<typeof setTimeout> | null = null

  const cancel = (): void => {
    if (soon !== null) clearImmediate(soon)
    if (idle !== null) clearTimeout(idle)
    soon = null
    idle = null
  }
  const run = (): void => {
    cancel()
    since = 0
    try {
      db.pragma('wal_checkpoint(PASSIVE)')
    } catch {
      // Busy or closing: the next one, or the close, copies what this one did not.
    }
  }

  return {
    committed() {
      since += 1
      if (since >= everyCommits) {
        soon ??= setImmediate(run)
      } else if (idle === null) {
        idle = setTimeout(run, idleMs)
        idle.unref()
      }
    },
    stop: cancel,
  }
}
