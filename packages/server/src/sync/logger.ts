import { CardfileError } from '@cardfile/core'
import type { ErrorCode } from '@cardfile/core'

/** Where the server reports what happened. `debug` gets client mistakes, `error` server faults. */
export interface ServerLogger {
  debug(message: string, context?: Record<string, unknown>): void
  info(message: string, context?: Record<string, unknown>): void
  warn(message: string, context?: Record<string, unknown>): void
  error(message: string, context?: Record<string, unknown>): void
}

const noop = (): void => undefined

/** Quiet for debug and info, console for warnings and errors. */
export const defaultLogger: ServerLogger = {
  debug: noop,
  info: noop,
  warn: (message, context) => console.warn(`[cardfile] ${message}`, context ?? ''),
  error: (message, context) => console.error(`[cardfile] ${message}`, context ?? ''),
}

/** Fills the levels a partial logger leaves out. */
export const completeLogger = (logger: Partial<ServerLogger> | undefined): ServerLogger => ({
  ...defaultLogger,
  ...logger,
})

/**
 * What a log line says about an error. A CardfileError's message may quote a contact's value
 * (`"gold" is not an option of Plan`, or a CRM's answer), and logs outlive a contact's erasure:
 * such an error is logged by its stable code only, never its message. Any other error is a
 * fault of the server (backend, a bug) and keeps its text.
 *
 * @example
 * logger.error('onCommit threw', { doc: docName, ...errorContext(error) })
 */
export const errorContext = (
  error: unknown,
): { readonly code: ErrorCode } | { readonly error: string } =>
  error instanceof CardfileError ? { code: error.code } : { error: String(error) }

/**
 * An error as handed to `console.error`: a CardfileError by its code (see {@link errorContext}),
 * any other error whole, stack included.
 *
 * @example
 * console.error('cardfile http:', errorForConsole(error))
 */
export const errorForConsole = (error: unknown): unknown =>
  error instanceof CardfileError ? errorContext(error) : error
