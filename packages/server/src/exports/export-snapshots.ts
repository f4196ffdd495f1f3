import type { KeyedLock } from '../coordination/keyed-lock'
import type { ErasureBarrier } from '../deletion/contact-erasure'
import { JobLostError } from '../jobs/job-runner'
import type { Job, JobStore } from '../jobs/job-store'
import { ERASED_CANCEL, EXPORT_JOB, coversContact, exportInputOf } from './export-job'
import type { ContactSnapshot } from './export-store'

/** A contact snapshot an export job holds open, which an erasure may close under it. */
export interface HeldSnapshot extends ContactSnapshot {
  /** True once an erasure closed it: `next` throws a JobLostError from then on. */
  readonly stopped: boolean
}

/** The export snapshots of this process, and the barrier between them and erasures. */
export interface ExportSnapshots {
  /**
   * Opens a snapshot for `job` with `open`, once no erasure is going on in this process, and
   * holds it until it is closed.
   */
  open(job: Job, open: () => Promise<ContactSnapshot>): Promise<HeldSnapshot>
  /**
   * Before a contact created at `createdAt` is erased: takes the erasure lock (no export
   * snapshot opens in this process until the release), cancels the unfinished exports of the
   * workspace whose range covers the contact, closes this process's snapshots of those at once
   * and waits for its other snapshots to close. Resolves the release, which the deletion calls
   * after it sealed the erasure.
   */
  readonly beforeErase: ErasureBarrier
}

/** One lock for every erasure and snapshot opening: a WAL checkpoint is of the whole file. */
const LOCK = 'exports:snapshots'
/** Unfinished exports of a workspace looked at by one erasure; there are a handful at most. */
const MAX_UNFINISHED = 1000

interface Entry {
  readonly job: Job
  readonly snapshot: ContactSnapshot
  stopped: boolean
  readonly closed: Promise<void>
  close(): Promise<void>
}

/**
 * The erasure barrier of exports. SQLite cannot checkpoint its WAL (which an erasure's seal
 * does, so the erased rows are gone from every file) while any read snapshot is open, and a
 * snapshot opened before the erasure would put the contact in an export file. So an erasure
 * holds a lock from `locks` that snapshot openings take too, stops the exports that may hold
 * the contact through the jobs table (their workers lose the job) and closes their snapshots
 * here, and waits for the others to finish.
 *
 * Within one process that is all it takes. The set of open snapshots is this process's own
 * (each is a read connection of this process, gone with it), so it holds nothing that matters
 * across restarts. A second process serving the same database would need a `coordination`
 * whose locks are shared by every instance, and a way to wait for the snapshots open in the
 * others (a row per open snapshot with a lease, say); until then its cancelled exports stop at
 * their next heartbeat and a seal that finds the WAL busy fails and is retried.
 *
 * @example
 * const snapshots = createExportSnapshots({ locks: coordination.locks, jobs: backend.jobs })
 * const release = await snapshots.beforeErase('demo', contact.createdAt)
 * try { await eraseAndSeal() } finally { await release() }
 */
export function createExportSnapshots(options: {
  readonly locks: KeyedLock
  readonly jobs: JobStore
}): ExportSnapshots {
  const { locks, jobs } = options
  const open = new Set<Entry>()

  return {
    async open(job, openSnapshot) {
      return locks.run(LOCK, async () => {
        const snapshot = await openSnapshot()
        let markClosed!: () => void
        let closing: Promise<void> | null = null
        const entry: Entry = {
          job,
          snapshot,
          stopped: false,
          closed: new Promise<void>((resolve) => (markClosed = resolve)),
          close() {
            // Marked closed only once the store let go of it: on SQLite an erasure's checkpoint
            // fails while the read connection is still open.
            closing ??= snapshot.close().finally(() => {
              open.delete(entry)
              markClosed()
            })
            return closing
          },
        }
        open.add(entry)
        const held: HeldSnapshot = {
          total: snapshot.total,
          get stopped() {
            return entry.stopped
          },
          async next(max) {
            // Never an empty page: that would read as the end, and finish a cut-off file.
            if (entry.stopped) throw new JobLostError(`export ${job.id} was stopped by an erasure`)
            return snapshot.next(max)
          },
          close: () => entry.close(),
        }
        return held
      })
    },

    async beforeErase(workspace, createdAt) {
      let release!: () => void
      const held = new Promise<void>((resolve) => (release = resolve))
      let entered!: () => void
      const inside = new Promise<void>((resolve) => (entered = resolve))
      const done = locks.run(LOCK, () => {
        entered()
        return held
      })
      await inside
      const end = async (): Promise<void> => {
        release()
        await done
      }
      try {
        const unfinished = await jobs.list(
          { workspace, kind: EXPORT_JOB, states: ['queued', 'running'] },
          MAX_UNFINISHED,
        )
        const ids = unfinished
          .filter((job) => coversContact(exportInputOf(job), createdAt))
          .map((job) => job.id)
        if (ids.length > 0) {
          await jobs.cancel(
            { workspace, kind: EXPORT_JOB, ids, states: ['queued', 'running'] },
            ERASED_CANCEL,
          )
        }
        // Closed here rather than at the worker's next heartbeat: the worker may be waiting on
        // a slow disk, and the erasure should not wait for it.
        const cancelled = new Set(ids)
        for (const entry of [...open]) {
          if (entry.job.workspace === workspace && cancelled.has(entry.job.id)) {
            entry.stopped = true
            void entry.close()
          }
        }
        await Promise.all([...open].map((entry) => entry.closed))
      } catch (error) {
        await end()
        throw error
      }
      return end
    },
  }
}
