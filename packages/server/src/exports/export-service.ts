import { randomUUID } from 'node:crypto'
import { createWriteStream } from 'node:fs'
import { mkdir, rm } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { once } from 'node:events'
import { pipeline } from 'node:stream/promises'
import { stringify } from 'csv-stringify'
import { CardfileError, ErrorCodes, SchemaDoc, capabilities, schemaDocName } from '@cardfile/core'
import type { AttributeDefinition, WorkspaceSettings } from '@cardfile/core'
import type { DocumentHost } from '../document-host'
import { within } from '../http/within'
import { errorForConsole } from '../sync/logger'
import { csvLayout } from './csv-layout'
import type { ContactSnapshot, ExportJob, ExportStore, ExportType } from './export-store'

/** What starting an export takes. Bounds are ms since epoch on the contact's creation time. */
export interface ExportRequest {
  readonly type: ExportType
  readonly from?: number | null
  readonly to?: number | null
}

/** An export job as the API shows it: the stored job plus progress from 0 to 1. */
export interface ExportJobView extends Omit<ExportJob, 'file'> {
  readonly progress: number
}

export interface ExportServiceOptions {
  readonly store: ExportStore
  readonly host: DocumentHost
  /** Folder for CSV files; default the store's (SQLite: `<db file>-exports`), else a temp one. */
  readonly dir?: string
  /** Contacts read per event-loop turn. Default 1000. */
  readonly chunkSize?: number
  /** Told about unexpected failures (without personal data: messages only). */
  readonly onError?: (error: unknown) => void
}

/** Runs contact-attribute exports to CSV files and answers their status. */
export interface ExportService {
  /**
   * Starts an export for an admin after checking the workspace plan; resolves the new job
   * (running). Rejects with `plan-lacks-feature` when the plan has no exports.
   */
  start(workspace: string, requestedBy: string, request: ExportRequest): Promise<ExportJobView>
  /** A job with live progress, or null. */
  status(workspace: string, id: string): Promise<ExportJobView | null>
  /** The file of a finished job; rejects with a clear code when there is none (yet). */
  file(workspace: string, id: string): Promise<{ readonly path: string; readonly job: ExportJob }>
  /**
   * Runs `erase` (the erasure of a contact created at `createdAt`) with no export snapshot open:
   * running exports that would contain the contact are cancelled, others are waited for, and
   * new ones wait until the erasure ends. Then finished export files that may hold the contact
   * are deleted (their jobs become `removed`). An open snapshot would keep the erased rows
   * readable in the WAL, and erasure could not checkpoint it.
   */
  whileErasing<T>(workspace: string, createdAt: number, erase: () => Promise<T>): Promise<T>
  /** Cancels running jobs and waits for them to stop. */
  close(): Promise<void>
}

interface Running {
  job: ExportJob
  cancelled: string | null
  readonly done: Promise<void>
}

const key = (workspace: string, id: string): string => `${workspace}\u0000${id}`

const progressOf = (job: ExportJob): number => {
  if (job.status === 'done') return 1
  if (job.total === null || job.total === 0) return 0
  return Math.min(1, job.rows / job.total)
}

const view = (job: ExportJob): ExportJobView => {
  const { file: _file, ...rest } = job
  return { ...rest, progress: progressOf(job) }
}

const nextTurn = (): Promise<void> => new Promise((resolve) => setImmediate(resolve))

/** True when a job's snapshot may hold a contact created at `createdAt`. */
const mayHold = (job: ExportJob, createdAt: number): boolean =>
  (job.from === null || createdAt >= job.from) &&
  (job.to === null || createdAt < job.to) &&
  createdAt <= job.createdAt

/**
 * Creates the export service. Each job reads one consistent snapshot of the contact index in
 * chunks (one chunk per event-loop turn, so sockets keep being served), maps rows to CSV cells
 * with the schema read once at the start, and streams them through csv-stringify into a file
 * with backpressure, so memory stays flat whatever the workspace size. Cells that a spreadsheet
 * would run as a formula (`=`, `+`, `-`, `@`, tab, CR) are prefixed with a quote.
 *
 * @example
 * const exports = createExportService({ store: storage.exportStore!, host })
 * const job = await exports.start('demo', 'ana', { type: 'contact-attributes' })
 * // later: (await exports.status('demo', job.id))?.progress === 1
 */
export function createExportService(options: ExportServiceOptions): ExportService {
  const { store, host } = options
  const chunkSize = options.chunkSize ?? 1000
  const onError =
    options.onError ??
    ((error: unknown) => console.error('cardfile export:', errorForConsole(error)))
  const running = new Map<string, Running>()
  let dir: Promise<string> | null = null
  /** Erasures in progress; new jobs wait for them. */
  let erasures = 0
  let erasuresDone: Promise<void> = Promise.resolve()
  let releaseErasures: () => void = () => undefined
  let closed = false

  const exportsDir = (): Promise<string> => {
    dir ??= (async () => {
      const path =
        options.dir ?? store.defaultDir ?? join(tmpdir(), `cardfile-exports-${process.pid}`)
      // Owner-only: export files hold personal data.
      await mkdir(path, { recursive: true, mode: 0o700 })
      return path
    })()
    return dir
  }

  // Jobs marked running in storage were interrupted by a restart: their files are partial.
  const recovered = (async () => {
    for (const job of await store.running()) {
      if (job.file !== null) await rm(job.file, { force: true })
      await store.save({
        ...job,
        status: 'failed',
        file: null,
        error: 'interrupted by a server restart; start the export again',
        finishedAt: Date.now(),
      })
    }
  })().catch(onError)

  const readSchema = (
    workspace: string,
  ): Promise<{ definitions: readonly AttributeDefinition[]; settings: WorkspaceSettings }> =>
    host.read(schemaDocName(workspace), (doc) =>
      within(new SchemaDoc(doc), (s) => ({ definitions: s.definitions(), settings: s.settings() })),
    )

  async function run(
    entry: Running,
    snapshot: ContactSnapshot,
    definitions: readonly AttributeDefinition[],
  ): Promise<void> {
    const layout = csvLayout(definitions)
    const path = entry.job.file!
    const csv = stringify({ escape_formulas: true, bom: true })
    const written = pipeline(csv, createWriteStream(path, { flags: 'wx', mode: 0o600 }))
    // pipeline rejects on a write error; keep it observed while the loop runs.
    written.catch(() => undefined)
    try {
      csv.write(layout.header)
      while (entry.cancelled === null) {
        const rows = snapshot.next(chunkSize)
        if (rows.length === 0) break
        for (const row of rows) {
          if (!csv.write(layout.row(row))) await once(csv, 'drain')
        }
        entry.job = { ...entry.job, rows: entry.job.rows + rows.length }
        await nextTurn()
      }
      snapshot.close()
      if (entry.cancelled !== null) {
        csv.destroy()
        await written.catch(() => undefined)
        await rm(path, { force: true })
        entry.job = {
          ...entry.job,
          status: 'cancelled',
          file: null,
          error: entry.cancelled,
          finishedAt: Date.now(),
        }
      } else {
        csv.end()
        await written
        entry.job = { ...entry.job, status: 'done', finishedAt: Date.now() }
      }
    } catch (error) {
      snapshot.close()
      csv.destroy()
      await rm(path, { force: true }).catch(() => undefined)
      onError(error)
      entry.job = {
        ...entry.job,
        status: 'failed',
        file: null,
        error: 'the export failed; see the server log',
        finishedAt: Date.now(),
      }
    }
    await store.save(entry.job)
  }

  const service: ExportService = {
    async start(workspace, requestedBy, request) {
      if (closed) throw new CardfileError(ErrorCodes.Internal, 'the export service is closed')
      await recovered
      const from = request.from ?? null
      const to = request.to ?? null
      if (from !== null && to !== null && from >= to) {
        throw new CardfileError(ErrorCodes.BadRequest, '`from` must be before `to`')
      }
      const { definitions, settings } = await readSchema(workspace)
      if (!capabilities(settings.plan).exports) {
        throw new CardfileError(
          ErrorCodes.PlanLacksFeature,
          `The ${settings.plan} plan does not include exports (advanced and enterprise do)`,
        )
      }
      const folder = await exportsDir()
      // An erasure in progress must not find a new snapshot open: wait until it ends.
      while (erasures > 0) await erasuresDone
      const id = randomUUID()
      const now = Date.now()
      const snapshot = store.openContactSnapshot(workspace, { from, to })
      const job: ExportJob = {
        workspace,
        id,
        type: request.type,
        from,
        to,
        status: 'running',
        rows: 0,
        total: snapshot.total,
        file: join(folder, `${workspace}-${id}.csv`),
        error: null,
        requestedBy,
        createdAt: now,
        finishedAt: null,
      }
      try {
        await store.save(job)
      } catch (error) {
        snapshot.close()
        throw error
      }
      const entry: Running = {
        job,
        cancelled: null,
        done: Promise.resolve(),
      }
      const k = key(workspace, id)
      running.set(k, entry)
      const done = run(entry, snapshot, definitions).finally(() => running.delete(k))
      Object.assign(entry, { done: done.catch(onError) })
      return view(job)
    },

    async status(workspace, id) {
      const live = running.get(key(workspace, id))
      if (live !== undefined) return view(live.job)
      const job = await store.get(workspace, id)
      return job === null ? null : view(job)
    },

    async file(workspace, id) {
      const job = running.get(key(workspace, id))?.job ?? (await store.get(workspace, id))
      if (job === null) throw new CardfileError(ErrorCodes.NotFound, `No export ${id}`)
      if (job.status === 'running') {
        throw new CardfileError(ErrorCodes.BadRequest, 'The export is still running')
      }
      if (job.status !== 'done' || job.file === null) {
        throw new CardfileError(
          ErrorCodes.Deleted,
          `The export has no file (${job.status}${job.error === null ? '' : `: ${job.error}`})`,
        )
      }
      return { path: job.file, job }
    },

    async whileErasing(workspace, createdAt, erase) {
      if (erasures === 0) erasuresDone = new Promise((resolve) => (releaseErasures = resolve))
      erasures += 1
      try {
        await recovered
        const waits: Promise<void>[] = []
        for (const entry of running.values()) {
          if (entry.job.workspace === workspace && mayHold(entry.job, createdAt)) {
            entry.cancelled = 'a contact in this export was deleted; start the export again'
          }
          waits.push(entry.done)
        }
        await Promise.all(waits)
        const result = await erase()
        for (const job of await store.list(workspace)) {
          if (job.status !== 'done' || !mayHold(job, createdAt)) continue
          if (job.file !== null) await rm(job.file, { force: true })
          await store.save({
            ...job,
            status: 'removed',
            file: null,
            error: 'a contact in this export was deleted; start a new export',
          })
        }
        return result
      } finally {
        erasures -= 1
        if (erasures === 0) releaseErasures()
      }
    },

    async close() {
      closed = true
      for (const entry of running.values()) entry.cancelled = 'the server is shutting down'
      await Promise.all([...running.values()].map((e) => e.done))
      await recovered
    },
  }
  return service
}
