import type { BlobStore } from '../blobs/blob-store'
import type { EventConsumer } from '../events/event-consumers'
import type { JobStore } from '../jobs/job-store'
import {
  ERASED_REMOVE,
  EXPORT_JOB,
  coversContact,
  exportBlobKey,
  exportInputOf,
  exportResultOf,
} from './export-job'

/** Finished exports of a workspace looked at per erasure, newest first. */
const MAX_FINISHED = 10_000

/**
 * The `exports` consumer: when a contact is erased, deletes the files of the finished exports
 * that may hold it (range covering its creation time, started before the erasure, finished
 * after the contact was created) and marks done ones `removed`. Cancelled and failed ones lose
 * their file too: a run cancelled between writing its file and completing leaves one behind.
 * Idempotent: deleting a blob that is gone does nothing, and the mark is the same each time;
 * the file goes first, so a crash in between leaves the mark to the replay, never the file.
 *
 * @example
 * const consumer = exportRemovalConsumer({ jobs: backend.jobs, blobs })
 */
export function exportRemovalConsumer(options: {
  readonly jobs: JobStore
  readonly blobs: BlobStore
}): EventConsumer {
  const { jobs, blobs } = options
  return {
    name: 'exports',
    types: ['contact.erased'],
    async handle(event) {
      if (event.type !== 'contact.erased') return
      const { createdAt } = event.data
      const finished = await jobs.list(
        { workspace: event.workspace, kind: EXPORT_JOB, states: ['done', 'cancelled', 'failed'] },
        MAX_FINISHED,
      )
      for (const job of finished) {
        // Enqueued after the erasure: its snapshot opened without the contact.
        if (job.createdAt > event.at) continue
        // Finished before the contact existed.
        if (createdAt !== null && job.finishedAt !== null && job.finishedAt < createdAt) continue
        if (!coversContact(exportInputOf(job), createdAt)) continue
        const result = exportResultOf(job)
        await blobs.delete(result?.blob ?? exportBlobKey(job.workspace, job.id))
        if (result !== null && result.removed === null) {
          await jobs.setResult(job.id, { ...result, removed: ERASED_REMOVE })
        }
      }
    },
  }
}
