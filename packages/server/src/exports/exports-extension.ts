import type { Extension } from '../extensions/extension'
import { exportJobHandler } from './export-handler'
import { exportRemovalConsumer } from './export-removal'
import { exportRoutes } from './export-routes'
import { createExportSnapshots } from './export-snapshots'

/** Options of {@link exportsExtension}. */
export interface ExportsOptions {
  /** Contacts read per step of an export (and per event-loop turn). Default 1000. */
  readonly chunkSize?: number
}

/**
 * Contact-attribute exports to CSV: `export` jobs in the jobs table (progress, take-over after
 * a crash), their files in the storage's blob store (`backend.blobs`: SQLite's default is the
 * folder `<db file>-exports`), the routes under `/api/<ws>/exports`, the `exports` consumer that
 * removes files holding an erased contact, and the barrier a contact deletion passes before it
 * erases (`beforeContactErased`). A storage without `exportStore` or `blobs` gets routes that
 * answer 501.
 *
 * @example
 * await createCardfileServer({ backend, auth, extensions: [exportsExtension({ chunkSize: 500 })] })
 */
export function exportsExtension(options: ExportsOptions = {}): Extension {
  const chunkSize = Math.max(1, options.chunkSize ?? 1000)
  return {
    name: 'exports',
    start({ host, backend, coordination, enqueue }) {
      const store = backend.exports
      const blobs = backend.blobs
      const snapshots = createExportSnapshots({ locks: coordination.locks, jobs: backend.jobs })
      return {
        jobs: [exportJobHandler({ host, store, blobs, snapshots, chunkSize })],
        consumers: [exportRemovalConsumer({ jobs: backend.jobs, blobs })],
        routes: exportRoutes({ jobs: backend.jobs, blobs, enqueue }),
        beforeContactErased: snapshots.beforeErase,
      }
    },
  }
}
