import { pino } from 'pino'
import type { Logger } from 'pino'
import { afterEach, describe, expect, it } from 'vitest'
import { httpApi } from '../src/http/create-http-api'
import { createJsonLogger } from '../src/logging/json-logger'
import { pinoServerLogger } from '../src/logging/pino-logger'
import { startServer } from './sync-helpers'

/** A pino logger with the options a host app typically gives, writing into `written`. */
const pinoInto = (level: string, written: string[]): Logger =>
  pino(
    {
      level,
      base: { service: 'cardfile' },
      formatters: { level: (label) => ({ level: label }) },
    },
    { write: (line: string) => written.push(line) },
  )

const cleanups: (() => Promise<void>)[] = []
afterEach(async () => {
  for (const cleanup of cleanups.splice(0).reverse()) await cleanup()
})

describe('a pino logger passed through pinoServerLogger', () => {
  it('writes one JSON object per line with level, time, msg and the context fields', async () => {
    const written: string[] = []
    const logger = pinoServerLogger(pinoInto('debug', written))
    const started = await startServer({ logger, httpHandler: httpApi() })
    cleanups.push(() => started.close())
    const res = await fetch(`${started.server.url}/api/demo/contacts`, {
      headers: { 'x-request-id': 'lb-1234' },
    })
    expect(res.status).toBe(401)
    await expect
      .poll(() => written.map((line) => JSON.parse(line) as Record<string, unknown>))
      .toContainEqual(
        expect.objectContaining({
          level: 'info',
          msg: 'http request',
          requestId: 'lb-1234',
          status: 401,
          url: '/api/demo/contacts',
          service: 'cardfile',
          time: expect.any(Number),
        }),
      )
    for (const line of written) expect(line.endsWith('\n')).toBe(true)
  })

  it('leaves out lines below its level', async () => {
    const written: string[] = []
    const logger = pinoServerLogger(pinoInto('warn', written))
    logger.info('not shown')
    logger.warn('shown', { code: 'forbidden' })
    expect(written.map((line) => JSON.parse(line) as unknown)).toEqual([
      expect.objectContaining({ level: 'warn', msg: 'shown', code: 'forbidden' }),
    ])
  })
})

describe('the JSON logger of cardfile serve', () => {
  it('writes the lines a pino logger writes: level, time, service, context fields, msg', async () => {
    const ours: string[] = []
    const theirs: string[] = []
    createJsonLogger('info', { write: (line) => ours.push(line) }).warn('disk slow', {
      ms: 12,
      doc: 'demo/contact/c1',
    })
    pinoServerLogger(pinoInto('info', theirs)).warn('disk slow', { ms: 12, doc: 'demo/contact/c1' })
    const strip = (line: string): unknown => ({ ...(JSON.parse(line) as object), time: 0 })
    expect(ours.map(strip)).toEqual(theirs.map(strip))
    expect(Object.keys(JSON.parse(ours[0]!) as object)).toEqual(
      Object.keys(JSON.parse(theirs[0]!) as object),
    )
    expect(ours[0]!.endsWith('\n')).toBe(true)
  })

  it('leaves out lines below its level and writes a value it cannot encode as JSON anyway', () => {
    const written: string[] = []
    const logger = createJsonLogger('warn', { write: (line) => written.push(line) })
    logger.info('not shown')
    const cycle: Record<string, unknown> = { name: 'a' }
    cycle.self = cycle
    logger.error('odd context', { cycle, big: 10n })
    expect(written.map((line) => JSON.parse(line) as unknown)).toEqual([
      expect.objectContaining({
        level: 'error',
        msg: 'odd context',
        cycle: { name: 'a', self: '[Circular]' },
        big: 10,
      }),
    ])
  })
})
