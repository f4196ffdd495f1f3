import { randomUUID } from 'node:crypto'
import { CardfileError, ContactDoc, ErrorCodes, contactDocName, isChannelId } from '@cardfile/core'
import type { Actor, ChannelId, ErrorCode } from '@cardfile/core'
import type { BlobStore } from '../blobs/blob-store'
import type { KeyedLock } from '../coordination/keyed-lock'
import type { DocumentHost } from '../document-host'
import { readSchema, ValuesRefused } from '../contacts/contact-values'
import type { ValueRefusal } from '../contacts/contact-values'
import { within } from '../http/within'
import { maskHint } from '../ingestion/mask-hint'
import { JobLostError } from '../jobs/job-runner'
import type { JobHandler } from '../jobs/job-runner'
import type { Job } from '../jobs/job-store'
import type { IndexStore } from '../storage/index-store'
import { cellValue, importColumns } from './import-columns'
import { applyRow, badVipCell, rowRefusals, vipCell, writesNothing } from './import-row'
import type { RowWrites } from './import-row'
import type { ImportColumns } from './import-columns'
import { readCsvRows } from './csv-reader'
import type { CsvLimits } from './csv-reader'

/** The job kind of a contact import. */
export const CONTACT_IMPORT = 'contact-import'

/** Refused rows listed in a report (all are counted). */
export const MAX_REPORTED_ROWS = 1000

/** What an import job is asked to do. */
export interface ImportInput {
  /** Where the uploaded CSV waits (deleted once the import ends). */
  readonly blobKey: string
  readonly bytes: number
  /** Who imports: the provenance of every value written. */
  readonly actor: Actor
}

/** Why one row was refused: per column, core's code and message. */
export interface RowRefusal {
  /** The record's number in the file, the header being 1. */
  readonly row: number
  readonly errors: readonly {
    readonly column: string
    readonly code: ErrorCode
    readonly message: string
  }[]
}

/** Where an import stands (its progress, and its result once done). */
export interface ImportReport {
  /** `checking` reads the whole file first; nothing is written before it passed. */
  readonly phase: 'checking' | 'importing' | 'done'
  /** Data rows in the file (known once checked). */
  readonly total: number | null
  /** Data rows handled so far. */
  readonly rows: number
  readonly created: number
  readonly updated: number
  /** Rows whose values were already those of the contact. */
  readonly unchanged: number
  readonly refused: number
  /** The first 1000 refused rows. */
  readonly refusals: readonly RowRefusal[]
}

const START: ImportReport = {
  phase: 'checking',
  total: null,
  rows: 0,
  created: 0,
  updated: 0,
  unchanged: 0,
  refused: 0,
  refusals: [],
}

/** What the handler works with. */
export interface ImportHandlerDeps {
  readonly host: DocumentHost
  readonly index: IndexStore
  readonly blobs: BlobStore
  /** The server's locks: a channel identity is created under the same lock as ingestion's. */
  readonly locks: KeyedLock
  readonly limits: CsvLimits
  /** Rows between stored progress reports (default 200). */
  readonly progressEvery?: number
  /** Rows imported at once (default 64). */
  readonly batchSize?: number
}

/** A message without the cell it quotes: reports are kept, a refused value should not be. */
const withoutValue = (message: string, cell: string): string =>
  cell.length === 0 ? message : message.split(cell).join('…')

type RowOutcome = 'created' | 'updated' | 'unchanged' | RowRefusal

/** The key under which ingestion serialises a channel identity (see ingestInbound). */
const identityKey = (workspace: string, channel: ChannelId, platformUserId: string): string =>
  `${workspace}\u0000${channel}\u0000${platformUserId}`

/**
 * Runs contact imports. The uploaded file is read twice, streamed both times: first to check
 * that it is CSV and that its header names only known columns (nothing is written before that
 * passed), then row by row: each row's identity and values (custom, platform and VIP columns)
 * are checked with core's rules and the importing role's authority (the same as the
 * websocket's and `PATCH .../values`: platform values are the system's to write, VIP needs the
 * plan and the setting), a refused row is reported with every refused column and nothing of
 * it is written, and an accepted one creates its contact or updates it, profile and values in
 * one transaction, under the identity's ingestion lock. Progress is
 * stored every few rows, so an import cut off by a crash resumes after its last reported row.
 *
 * @example
 * const handler = importJobHandler({ host, index: backend.index, blobs: backend.blobs, locks, limits })
 */
export function importJobHandler(deps: ImportHandlerDeps): JobHandler {
  const progressEvery = deps.progressEvery ?? 200
  const batchSize = Math.max(1, deps.batchSize ?? 64)

  const importRow = async (
    workspace: string,
    actor: Actor,
    columns: ImportColumns,
    row: number,
    fields: readonly string[],
    schema: Awaited<ReturnType<typeof readSchema>>,
  ): Promise<RowOutcome> => {
    const errors: { column: string; code: ErrorCode; message: string }[] = []
    if (fields.length !== columns.width) {
      return {
        row,
        errors: [
          {
            column: '*',
            code: ErrorCodes.BadRequest,
            message: `expected ${columns.width} fields, got ${fields.length}`,
          },
        ],
      }
    }
    const channel = fields[columns.channel]!.trim()
    const platformUserId = fields[columns.platformUserId]!.trim()
    if (!isChannelId(channel)) {
      errors.push({ column: 'channel', code: ErrorCodes.InvalidValue, message: 'not a channel' })
    }
    if (platformUserId.length === 0 || platformUserId.length > 256) {
      errors.push({
        column: 'platformUserId',
        code: ErrorCodes.InvalidValue,
        message: 'a platform user id is 1 to 256 characters',
      })
    }
    const custom: Record<string, string> = {}
    const platform: Record<string, string> = {}
    let vip: boolean | undefined
    const cells = new Map<string, { header: string; cell: string }>()
    const refusals: ValueRefusal[] = []
    for (const { index, header, def } of columns.attributes) {
      const cell = fields[index]!
      // An empty cell leaves the value as it is.
      if (cell === '') continue
      cells.set(def.id, { header, cell })
      if (def.kind === 'custom') custom[def.id] = cellValue(def, cell)
      else if (def.kind === 'platform') platform[def.id] = cell
      else {
        const flag = vipCell(cell)
        if (flag === null) refusals.push(badVipCell(def.id))
        else vip = flag
      }
    }
    const writes: RowWrites = { custom, platform, ...(vip === undefined ? {} : { vip }) }
    const refusedAs = (r: ValueRefusal) => {
      const at = cells.get(r.attributeId)
      return {
        column: at?.header ?? r.attributeId,
        code: r.code,
        message: withoutValue(r.message, at?.cell ?? ''),
      }
    }
    errors.push(...[...refusals, ...rowRefusals(writes, actor, schema)].map(refusedAs))
    if (errors.length > 0 || !isChannelId(channel)) return { row, errors }

    try {
      return await deps.locks.run(identityKey(workspace, channel, platformUserId), async () => {
        const existing = (await deps.index.findContact(workspace, channel, platformUserId))?.id
        if (existing !== undefined && writesNothing(writes)) return 'unchanged'
        const contactId = existing ?? randomUUID()
        const now = Date.now()
        // An update is checked against the schema as it is now (it may have changed since the
        // file was checked), as `PATCH .../values` does.
        const current = existing === undefined ? schema : await readSchema(deps.host, workspace)
        const changed = await deps.host.transact(
          contactDocName(workspace, contactId),
          actor,
          (doc) =>
            within(new ContactDoc(doc, contactId), (contact) => {
              const before = contact.read()
              if (existing !== undefined) {
                if (before.profile === null) {
                  throw new CardfileError(ErrorCodes.NotFound, `No contact ${contactId}`)
                }
              } else {
                contact.setProfile({
                  channel,
                  platformUserId,
                  hint: maskHint(channel, { platformUserId, metadata: {} }),
                  createdAt: now,
                })
              }
              const late = rowRefusals(writes, actor, current)
              if (late.length > 0) throw new ValuesRefused(late)
              return applyRow(contact, before, writes, actor, current, now)
            }),
        )
        if (existing === undefined) return 'created'
        return changed > 0 ? 'updated' : 'unchanged'
      })
    } catch (error) {
      // The schema changed since the check, or the contact was erased meanwhile.
      if (error instanceof ValuesRefused) return { row, errors: error.refusals.map(refusedAs) }
      if (error instanceof CardfileError && error.code !== ErrorCodes.Internal) {
        return { row, errors: [{ column: '*', code: error.code, message: error.message }] }
      }
      throw error
    }
  }

  return {
    kind: CONTACT_IMPORT,
    async run(context) {
      const { job } = context
      const input = job.input as ImportInput
      let lost = false
      try {
        const open = async () => {
          const blob = await deps.blobs.read(input.blobKey)
          if (blob === null) {
            throw new CardfileError(ErrorCodes.NotFound, 'The uploaded file is gone')
          }
          return readCsvRows(blob.stream as AsyncIterable<Uint8Array>, deps.limits)
        }
        const schema = await readSchema(deps.host, job.workspace)
        let report: ImportReport = { ...START, ...(job.progress as Partial<ImportReport> | null) }
        let columns: ImportColumns | null = null
        let lastReported = report.rows
        if (report.phase === 'checking') {
          let total = 0
          for await (const { row, fields } of await open()) {
            if (row === 1 || columns === null) columns = importColumns(fields, schema)
            else total += 1
          }
          if (columns === null) throw new CardfileError(ErrorCodes.BadRequest, 'The CSV is empty')
          report = { ...report, phase: 'importing', total }
          await context.progress(report)
        }
        let seen = 0
        let refusals = [...report.refusals]
        // Rows run a batch at a time: their commits share group commits, which a row at a time
        // would each wait for. Rows of one identity still run in file order (its lock is taken
        // in call order), and a batch is reported once all of it is done, so a resumed import
        // starts after the last whole batch.
        let batch: Promise<RowOutcome>[] = []
        const settle = async (): Promise<void> => {
          for (const outcome of await Promise.all(batch)) {
            if (typeof outcome === 'string') {
              report = { ...report, [outcome]: report[outcome] + 1 }
            } else {
              if (refusals.length < MAX_REPORTED_ROWS) refusals = [...refusals, outcome]
              report = { ...report, refused: report.refused + 1, refusals }
            }
          }
          report = { ...report, rows: seen }
          batch = []
        }
        let header = true
        for await (const { row, fields } of await open()) {
          if (header || columns === null) {
            header = false
            columns ??= importColumns(fields, schema)
            continue
          }
          seen += 1
          // Rows handled before a crash are not handled again.
          if (seen <= report.rows) continue
          batch.push(importRow(job.workspace, input.actor, columns, row, fields, schema))
          if (batch.length >= batchSize) {
            await settle()
            if (seen - lastReported >= progressEvery) {
              lastReported = seen
              await context.progress(report)
            }
          }
        }
        await settle()
        report = { ...report, phase: 'done' }
        return report
      } catch (error) {
        lost = error instanceof JobLostError
        throw error
      } finally {
        // The upload holds contacts' data: it goes once the import ended, whichever way (a lost
        // job is another worker's to finish).
        if (!lost) await deps.blobs.delete(input.blobKey)
      }
    },
    // An import is not run again after a failure (its file is gone); a crash still resumes it.
    retryAfter: () => null,
    view: importView,
    // Only admins may import: the report of refused rows is theirs.
    readers: ['admin'],
  }
}

/** An import job as `GET /api/<ws>/jobs/<id>` shows it: counts and the refused rows. */
export function importView(job: Job) {
  const report = (job.state === 'done' ? job.result : job.progress) as Partial<ImportReport> | null
  return {
    id: job.id,
    kind: job.kind,
    state: job.state,
    error: job.error,
    ...START,
    ...report,
    createdAt: job.createdAt,
    finishedAt: job.finishedAt,
  }
}
