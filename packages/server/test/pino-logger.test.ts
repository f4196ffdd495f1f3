import { afterEach, describe, expect, it } from 'vitest'
import { httpApi } from '../src/http/create-http-api'
import { createJsonLogger } from '../src/logging/json-logger'
import { pinoServerLogger } from '../src/logging/pino-logger'
import { startServer } from './sync-helpers'

const cleanups: (() => Promise<void>)[] = []
afterEach(async () => {
  for (const cleanup of cleanups.splice(0).reverse()) await cleanup()
})

describe('a pino logger passed through pinoServerLogger', () => {
  it('writes one JSON object per line with level, time, msg and the context fields', async () => {
    const written: string[] = []
    const pino = createJsonLogger('debug', { write: (line: string) => written.push(line) })
    const started = await startServer({ logger: pinoServerLogger(pino), httpHandler: httpApi() })
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
    const logger = pinoServerLogger(
      createJsonLogger('warn', { write: (l: string) => written.push(l) }),
    )
    logger.info('not shown')
    logger.warn('shown', { code: 'forbidden' })
    expect(written.map((line) => JSON.parse(line) as unknown)).toEqual([
      expect.objectContaining({ level: 'warn', msg: 'shown', code: 'forbidden' }),
    ])
  })
})
