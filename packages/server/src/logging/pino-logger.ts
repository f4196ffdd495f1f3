import type { ServerLogger } from '../sync/logger'

/** One level of a pino logger, called as pino's `logger.info(mergingObject, message)`. */
type PinoLevel = (context: object, message: string) => void

/** The part of a pino `Logger` the adapter uses (any pino version from 7 on has it). */
export interface PinoLike {
  debug: PinoLevel
  info: PinoLevel
  warn: PinoLevel
  error: PinoLevel
}

/**
 * A {@link ServerLogger} that writes through a pino logger: each line is one JSON object with
 * pino's `level`, `time` and `msg`, and the context's fields (request and connection ids,
 * document names, error codes) beside them. The server scrubs credentials before a line gets
 * here; pino's own `redact` option can add paths of your own.
 *
 * @example
 * import pino from 'pino'
 * const server = await createCardfileServer({
 *   storage,
 *   auth: { secret },
 *   logger: pinoServerLogger(pino({ level: 'info' })),
 * })
 */
export function pinoServerLogger(pino: PinoLike): ServerLogger {
  return {
    debug: (message, context) => pino.debug(context ?? {}, message),
    info: (message, context) => pino.info(context ?? {}, message),
    warn: (message, context) => pino.warn(context ?? {}, message),
    error: (message, context) => pino.error(context ?? {}, message),
  }
}
