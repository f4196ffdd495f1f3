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
