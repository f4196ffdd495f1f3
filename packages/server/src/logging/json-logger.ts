import { writeSync } from 'node:fs'
import type { ServerLogger } from '../sync/logger'

/** Levels `CARDFILE_LOG_LEVEL` accepts, quietest last. */
export const LOG_LEVELS = ['trace', 'debug', 'info', 'warn', 'error', 'fatal', 'silent'] as const

export type LogLevel = (typeof LOG_LEVELS)[number]

/** True for a level name the JSON logger knows. */
export const isLogLevel = (value: string): value is LogLevel =>
  (LOG_LEVELS as readonly string[]).includes(value)

/** Where the lines go: one call per line, the line ending in a newline. */
export interface LineDestination {
  write(line: string): void
}

/** Waited on between retries of a write the pipe was not ready for. */
const pause = new Int32Array(new SharedArrayBuffer(4))

/**
 * Standard output, written synchronously so that the lines of a shutdown are out before the
 * process exits; a pipe that is full is waited for, a closed one drops the line.
 */
const stdoutLines: LineDestination = {
  write(line) {
    let bytes = Buffer.from(line)
    while (bytes.length > 0) {
      try {
        bytes = bytes.subarray(writeSync(1, bytes))
      } catch (error) {
        if ((error as NodeJS.ErrnoException).code !== 'EAGAIN') return
        Atomics.wait(pause, 0, 0, 1)
      }
    }
  },
}

/** JSON that never throws: bigints as numbers, a cycle as the string "[Circular]". */
function stringify(value: Record<string, unknown>): string {
  const seen = new WeakSet<object>()
  return JSON.stringify(value, (_key, v: unknown) => {
    if (typeof v === 'bigint') return Number(v)
    if (typeof v === 'object' && v !== null) {
      if (seen.has(v)) return '[Circular]'
      seen.add(v)
    }
    return v
  })
}

/**
 * The logger of `cardfile serve`: one JSON object per line, as pino writes them (`level` as a
 * name, `time` in epoch milliseconds, `service`, the context's fields, then `msg`), written
 * synchronously to standard output. Written here rather than through pino so that a server
 * starting up does not load a logging library to print a few lines.
 *
 * @example
 * const logger = createJsonLogger('info')
 * createCardfileServer({ backend, auth, logger })
 */
export function createJsonLogger(
  level: LogLevel,
  destination: LineDestination = stdoutLines,
): ServerLogger {
  const threshold = LOG_LEVELS.indexOf(level)
  const at =
    (name: 'debug' | 'info' | 'warn' | 'error') =>
    (msg: string, context?: Record<string, unknown>): void => {
      if (LOG_LEVELS.indexOf(name) < threshold) return
      const line = { level: name, time: Date.now(), service: 'cardfile', ...context, msg }
      destination.write(`${stringify(line)}\n`)
    }
  return { debug: at('debug'), info: at('info'), warn: at('warn'), error: at('error') }
}
