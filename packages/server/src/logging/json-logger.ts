import { pino } from 'pino'
import type { DestinationStream, Logger } from 'pino'

/** Levels `CARDFILE_LOG_LEVEL` accepts, quietest last. */
export const LOG_LEVELS = ['trace', 'debug', 'info', 'warn', 'error', 'fatal', 'silent'] as const

export type LogLevel = (typeof LOG_LEVELS)[number]

/** True for a level name pino knows. */
export const isLogLevel = (value: string): value is LogLevel =>
  (LOG_LEVELS as readonly string[]).includes(value)

/**
 * The logger of `cardfile serve`: one JSON object per line (`level` as a name, `time` in epoch
 * milliseconds, `msg`, and the context's fields), written synchronously so that the lines of a
 * shutdown are out before the process exits.
 *
 * @example
 * const log = createJsonLogger('info')
 * createCardfileServer({ storage, auth, logger: pinoServerLogger(log) })
 */
export function createJsonLogger(
  level: LogLevel,
  destination: DestinationStream = pino.destination({ dest: 1, sync: true }),
): Logger {
  return pino(
    {
      level,
      base: { service: 'cardfile' },
      formatters: { level: (label) => ({ level: label }) },
    },
    destination,
  )
}
