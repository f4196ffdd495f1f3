import { closeSync, openSync, readFileSync, rmSync, writeSync } from 'node:fs'
import { CardfileError, ErrorCodes } from '@cardfile/core'

/** A held lock on a database file; release it when the database is closed. */
export interface FileLock {
  release(): void
}

/** True while a process with this id runs (a lock left by a killed process is stale). */
function running(pid: number): boolean {
  try {
    process.kill(pid, 0)
    return true
  } catch (error) {
    // EPERM: it runs, under another user.
    return (error as NodeJS.ErrnoException).code === 'EPERM'
  }
}

function holderOf(lockPath: string): number | null {
  try {
    const pid = Number(readFileSync(lockPath, 'utf8').trim())
    return Number.isInteger(pid) && pid > 0 ? pid : null
  } catch {
    return null
  }
}

/**
 * Takes the lock that makes one process the only writer of `path`: a `<path>.lock` file holding
 * the owner's process id, created exclusively. A lock whose process is gone (killed, crashed) is
 * taken over; one held by a running process (this one included: two stores on one file in one
 * process are as wrong as two servers) refuses with `database-in-use`.
 *
 * @example
 * const lock = lockDatabaseFile('./cardfile.db')
 * try { ... } finally { lock.release() }
 */
export function lockDatabaseFile(path: string): FileLock {
  const lockPath = `${path}.lock`
  for (let attempt = 0; attempt < 3; attempt++) {
    let fd: number
    try {
      fd = openSync(lockPath, 'wx')
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code !== 'EEXIST') throw error
      const holder = holderOf(lockPath)
      if (holder !== null && running(holder)) {
        throw new CardfileError(
          ErrorCodes.DatabaseInUse,
          `${path} is in use by another Cardfile server (process ${holder})`,
        )
      }
      // Left by a process that is gone (or half-written): take it over.
      rmSync(lockPath, { force: true })
      continue
    }
    writeSync(fd, `${process.pid}\n`)
    closeSync(fd)
    let released = false
    return {
      release() {
        if (released) return
        released = true
        if (holderOf(lockPath) === process.pid) rmSync(lockPath, { force: true })
      },
    }
  }
  throw new CardfileError(ErrorCodes.DatabaseInUse, `could not lock ${path}`)
}
