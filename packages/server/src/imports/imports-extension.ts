import type { Extension } from '../extensions/extension'
import { importJobHandler } from './import-job'
import { importRoutes } from './import-routes'

/** Options of {@link importsExtension}. */
export interface ImportsOptions {
  /** The largest accepted CSV upload in bytes. Default 64 MB. */
  readonly maxBytes?: number
  /** The longest record in characters. Default 64 KB. */
  readonly maxRowChars?: number
  /** Columns of a file at most. Default 500. */
  readonly maxColumns?: number
}

/**
 * Contact imports as an extension: `POST /api/<ws>/imports` (admins) takes a CSV of contacts
 * (channel identity plus attribute columns by alias) and the `contact-import` job creates or
 * updates them, row by row, with a report of refused rows (see `importJobHandler`).
 *
 * @example
 * await createCardfileServer({ backend, auth, extensions: [importsExtension({ maxBytes: 16 * 1024 * 1024 })] })
 */
export function importsExtension(options: ImportsOptions = {}): Extension {
  return {
    name: 'imports',
    start({ host, backend, coordination, enqueue }) {
      return {
        jobs: [
          importJobHandler({
            host,
            index: backend.index,
            blobs: backend.blobs,
            locks: coordination.locks,
            limits: {
              maxRowChars: options.maxRowChars ?? 64 * 1024,
              maxFields: options.maxColumns ?? 500,
            },
          }),
        ],
        routes: importRoutes({
          blobs: backend.blobs,
          enqueue,
          maxBytes: options.maxBytes ?? 64 * 1024 * 1024,
        }),
      }
    },
  }
}
