import { AsyncLocalStorage } from 'node:async_hooks'
import type { ServerLogger } from '../sync/logger'
import { scrubContext, scrubSecrets } from './redact'

/** Ids that name what a log line was written for: a request, a websocket connection. */
export interface LogContext {
  readonly requestId?: string
  readonly connectionId?: string
  readonly doc?: string
}

/**
 * The context of the work under way, carried across awaits, so that a line logged deep in the
 * HTTP API or a document's code names its request or connection without every function taking
 * a logger argument. One per server: two servers in a process never see each other's ids.
 */
export interface LogScope {
  /** Runs `fn` with `context` added to every line logged from it, awaits included. */
  run<T>(context: LogContext, fn: () => T): T
  /** The context of the work under way (empty outside of `run`). */
  current(): LogContext
}

/**
 * Creates a {@link LogScope}.
 *
 * @example
 * const scope = createLogScope()
 * scope.run({ requestId }, () => handle(req, res))
 */
export function createLogScope(): LogScope {
  const storage = new AsyncLocalStorage<LogContext>()
  return {
    run: (context, fn) => storage.run({ ...storage.getStore(), ...context }, fn),
    current: () => storage.getStore() ?? {},
  }
}

/**
 * Wraps a logger so every line carries the scope's ids and no line carries a credential: the
 * message and every string in the context go through `scrubSecrets`. The server writes all its
 * lines through this wrapper, whatever logger it was given.
 *
 * @example
 * const logger = contextualLogger(completeLogger(options.logger), scope)
 */
export function contextualLogger(base: ServerLogger, scope: LogScope): ServerLogger {
  const write =
    (level: keyof ServerLogger) =>
    (message: string, context?: Record<string, unknown>): void => {
      base[level](scrubSecrets(message), scrubContext({ ...scope.current(), ...context }))
    }
  return {
    debug: write('debug'),
    info: write('info'),
    warn: write('warn'),
    error: write('error'),
  }
}
