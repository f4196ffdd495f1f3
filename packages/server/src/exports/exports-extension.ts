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
 * a crash), their files in the storage's blob store (`storage.blobs`: SQLite's default is the
 * folder `<db file>-exports`), the routes under `/api/<ws>/exports`, the `exports` consumer that
 * removes files holding an erased contact, and the barrier a contact deletion passes before it
 * erases (`beforeContactErased`). A storage without `exportStore` or `blobs` gets routes that
 * answer 501.
 *
 * @example
 * await createCardfileServer({ storage, auth, extensions: [exportsExtension({ chunkSize: 500 })] })
 */
export function exportsExtension(options: ExportsOptions = {}): Extension {
  const chunkSize = Math.max(1, options.chunkSize ?? 1000)
  return {
    name: 'exports',
    start({ host, storage, coordination, enqueue }) {
      const store = storage.exportStore
      const blobs = storage.blobs
      if (store === undefined || blobs === undefined) return { routes: exportRoutes(null) }
      const snapshots = createExportSnapshots({ locks: coordination.locks, jobs: storage.jobs })
      return {
        jobs: [exportJobHandler({ host, store, blobs, snapshots, chunkSize })],
        consumers: [exportRemovalConsumer({ jobs: storage.jobs, blobs })],
        routes: exportRoutes({ jobs: storage.jobs, blobs, enqueue }),
        beforeContactErased: snapshots.beforeErase,
      }
    },
  }
}
