import { SchemaDoc, schemaDocName, vipActive } from '@cardfile/core'
import type { AttributeDefinition } from '@cardfile/core'
import type { BlobStore } from '../blobs/blob-store'
import type { DocumentHost } from '../document-host'
import { within } from '../http/within'
import { JobLostError } from '../jobs/job-runner'
import type { JobHandler } from '../jobs/job-runner'
import { csvLayout } from './csv-layout'
import { EXPORT_JOB, exportBlobKey, exportInputOf } from './export-job'
import type { ExportProgress, ExportResult } from './export-job'
import type { ExportSnapshots } from './export-snapshots'
import type { ExportStore } from './export-store'

export interface ExportHandlerOptions {
  readonly host: DocumentHost
  readonly store: ExportStore
  readonly blobs: BlobStore
  readonly snapshots: ExportSnapshots
  /** Contacts read per step. */
  readonly chunkSize: number
}

/** Progress is stored (one write) at most this often; the lease is renewed with it. */
const PROGRESS_EVERY_MS = 100

const nextTurn = (): Promise<void> => new Promise((resolve) => setImmediate(resolve))

const readSchema = (
  host: DocumentHost,
  workspace: string,
): Promise<{ definitions: readonly AttributeDefinition[]; vip: boolean }> =>
  host.read(schemaDocName(workspace), (doc) =>
    within(new SchemaDoc(doc), (s) => ({
      definitions: s.definitions(),
      vip: vipActive(s.settings()),
    })),
  )

/**
 * The `export` job handler. A run reads one consistent snapshot of the workspace's contact
 * index in chunks, maps rows to CSV cells with the schema read once at its start, and streams
 * them into the blob store, which pulls the next chunk only when it has written the last (so
 * memory stays flat whatever the workspace size). Cells that a spreadsheet would run as a
 * formula (`=`, `+`, `-`, `@`, tab, CR) are prefixed with a quote.
 *
 * Every run starts from the first row: a snapshot cannot be reopened where an interrupted run
 * had read to, and a run cut off by a crash has written nothing that anyone can see, because
 * the blob store writes a blob whole or not at all. So the job taken over after its lease ran
 * out simply writes the file again, under the same key, and no partial file is ever served.
 *
 * @example
 * const handler = exportJobHandler({ host, store: backend.exports, blobs, snapshots, chunkSize: 1000 })
 */
export function exportJobHandler(options: ExportHandlerOptions): JobHandler {
  const { host, store, blobs, snapshots, chunkSize } = options
  return {
    kind: EXPORT_JOB,
    async run({ job, progress, signal }) {
      const input = exportInputOf(job)
      // Loaded by the first export rather than by every server starting up.
      const { stringify } = await import('csv-stringify/sync')
      const schema = await readSchema(host, job.workspace)
      const layout = csvLayout(schema.definitions, schema.vip)
      const snapshot = await snapshots.open(job, () =>
        store.openContactSnapshot(job.workspace, { from: input.from, to: input.to }),
      )
      const key = exportBlobKey(job.workspace, job.id)
      let written = false
      try {
        const total = snapshot.total
        let rows = 0
        const report = (): Promise<void> => progress({ rows, total } satisfies ExportProgress)
        // Also tells a job cancelled while it waited for the snapshot to stop now.
        await report()
        let reportedAt = Date.now()
        const stopIfLost = (): void => {
          if (signal.aborted) throw new JobLostError(`export ${job.id} is not running here`)
        }
        async function* csv(): AsyncGenerator<string> {
          yield stringify([layout.header], { bom: true, escape_formulas: true })
          for (;;) {
            stopIfLost()
            const chunk = await snapshot.next(chunkSize)
            if (chunk.length === 0) return
            rows += chunk.length
            yield stringify(
              chunk.map((row) => layout.row(row)),
              { escape_formulas: true },
            )
            if (Date.now() - reportedAt >= PROGRESS_EVERY_MS) {
              await report()
              reportedAt = Date.now()
            }
            // One chunk per event-loop turn whatever the store, so sockets keep being served.
            await nextTurn()
          }
        }
        const bytes = await blobs.write(key, csv())
        written = true
        // Cancelled (by an erasure) while the last bytes went out: the file must not stay.
        if (snapshot.stopped) throw new JobLostError(`export ${job.id} was stopped by an erasure`)
        await report()
        const result: ExportResult = { blob: key, rows, bytes, removed: null }
        return result
      } catch (error) {
        if (written) await blobs.delete(key)
        throw error
      } finally {
        await snapshot.close()
      }
    },
  }
}
