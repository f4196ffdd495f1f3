import { request } from 'node:http'
import { afterEach, describe, expect, it } from 'vitest'
import { WebSocket } from 'ws'
import { WebsocketProvider } from 'y-websocket'
import * as Y from 'yjs'
import { createAuthenticator } from '../src/auth/authenticate'
import { httpApi } from '../src/http/create-http-api'
import { loggableUrl, scrubSecrets } from '../src/logging/redact'
import type { ServerLogger } from '../src/sync/logger'
import { SECRET, connectRaw, makeToken, startServer } from './sync-helpers'
import type { TestServer } from './sync-helpers'

/** Every line the server logged, at every level, as the text a log shipper would see. */
interface Captured {
  readonly logger: ServerLogger
  readonly lines: { level: string; message: string; context: Record<string, unknown> }[]
  text(): string
}

function capture(): Captured {
  const lines: Captured['lines'] = []
  const at =
    (level: string) =>
    (message: string, context?: Record<string, unknown>): void => {
      lines.push({ level, message, context: context ?? {} })
    }
  return {
    logger: { debug: at('debug'), info: at('info'), warn: at('warn'), error: at('error') },
    lines,
    text: () => lines.map((line) => JSON.stringify(line)).join('\n'),
  }
}

/** An opaque token that a custom hook refuses by quoting it in a plain Error. */
const OPAQUE = 'opaque-credential-7f3a9c1e5b'

const cleanups: (() => Promise<void> | void)[] = []
afterEach(async () => {
  for (const cleanup of cleanups.splice(0).reverse()) await cleanup()
})

async function start(log: Captured): Promise<TestServer> {
  const verify = createAuthenticator({ secret: SECRET })
  const started = await startServer({
    logger: log.logger,
    auth: {
      authenticate: async (token, docName) => {
        // A careless hook: its error quotes the token it was given.
        if (token === OPAQUE) throw new Error(`no session for ${token}`)
        return verify(token, docName)
      },
    },
    httpHandler: httpApi(),
  })
  cleanups.push(() => started.close())
  return started
}

function get(
  port: number,
  path: string,
  headers: Record<string, string> = {},
): Promise<{ status: number; headers: Record<string, string | string[] | undefined> }> {
  return new Promise((resolve, reject) => {
    const req = request({ host: '127.0.0.1', port, path, headers }, (res) => {
      res.resume()
      res.on('end', () => resolve({ status: res.statusCode ?? 0, headers: res.headers }))
    })
    req.on('error', reject)
    req.end()
  })
}

describe('tokens in logs', () => {
  it('never logs a token, at any level, whatever the client sends', async () => {
    const log = capture()
    const { server } = await start(log)
    const valid = await makeToken({ user: 'ana', role: 'admin' })
    const expired = await makeToken({ user: 'ana', role: 'admin' }, { expiresIn: -60 })
    const forged = await makeToken({ user: 'ana', role: 'admin' }, { secret: 'not-the-secret' })
    const tokens = [valid, expired, forged, OPAQUE]

    // Refused tokens, a malformed document name, a bad frame on an admitted socket.
    const refused = await Promise.all([
      connectRaw(server, 'demo/schema', expired),
      connectRaw(server, 'demo/schema', forged),
      connectRaw(server, 'demo/schema', OPAQUE),
      connectRaw(server, 'demo/schema', valid, { path: 'not%20a%20doc' }),
      connectRaw(server, 'demo/schema', 'eyJ.malformed.jwt'),
    ])
    const closes = await Promise.all(refused.map((client) => client.closed))
    expect(closes.map((c) => c.code)).toEqual([4401, 4401, 4401, 4400, 4401])
    const admitted = await connectRaw(server, 'demo/schema', valid)
    await expect.poll(() => admitted.synced).toBe(true)
    admitted.send(new Uint8Array([0, 9, 200, 200, 200]))
    expect((await admitted.closed).code).toBe(4400)

    // A stock provider, token in the URL as it must be.
    const provider = new WebsocketProvider(server.wsUrl, 'demo/schema', new Y.Doc(), {
      WebSocketPolyfill: WebSocket as unknown as typeof globalThis.WebSocket,
      params: { token: valid },
    })
    await expect.poll(() => provider.synced).toBe(true)
    provider.destroy()

    // HTTP: bearer tokens that fail, and a token in a query string.
    expect(
      (await get(server.port, '/api/demo/contacts', { authorization: `Bearer ${valid}` })).status,
    ).toBe(200)
    for (const token of [expired, forged, OPAQUE]) {
      const answer = await get(server.port, '/api/demo/contacts', {
        authorization: `Bearer ${token}`,
      })
      expect(answer.status).toBe(401)
    }
    await get(server.port, `/api/demo/contacts?token=${valid}`)
    await get(server.port, `/nowhere?token=${forged}&access_token=${OPAQUE}`)

    await expect
      .poll(() => log.lines.filter((l) => l.message === 'websocket closed').length)
      .toBe(7)
    const text = log.text()
    // The run logged plenty, debug included, so the absence below means something.
    expect(log.lines.some((l) => l.level === 'debug' && l.message === 'websocket opened')).toBe(
      true,
    )
    expect(text).toContain('malformed message')
    expect(text).toContain('authenticate failed unexpectedly')
    expect(text).toContain('token=[redacted]')
    for (const token of tokens) {
      expect(text).not.toContain(token)
      // Nor the signature alone, should a line have split the token.
      const signature = token.split('.')[2]
      if (signature !== undefined && signature.length > 8) expect(text).not.toContain(signature)
    }
  })

  it('scrubs query tokens, bearer credentials and JWT-shaped strings from free text', () => {
    const jwt = 'eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiJhbmEifQ.c2lnbmF0dXJl'
    expect(scrubSecrets(`GET /demo/schema?cardfile=1&token=${jwt}`)).toBe(
      'GET /demo/schema?cardfile=1&token=[redacted]',
    )
    expect(scrubSecrets('Authorization: Bearer abc.def-ghi')).toBe(
      'Authorization: Bearer [redacted]',
    )
    expect(scrubSecrets(`failed: ${jwt} was refused`)).toBe('failed: [redacted] was refused')
    expect(loggableUrl(`/demo/contact/c1?token=${jwt}&cardfile=1&q=ana@example.com`)).toBe(
      '/demo/contact/c1?token=[redacted]&cardfile=1&q=[redacted]',
    )
  })
})

describe('request and connection ids', () => {
  it('echoes a sane x-request-id and puts it on every line logged for the request', async () => {
    const log = capture()
    const verify = createAuthenticator({ secret: SECRET })
    const started = await startServer({
      logger: log.logger,
      auth: { authenticate: verify },
      httpHandler: async (req, res, ctx) => {
        await new Promise((resolve) => setImmediate(resolve))
        ctx.logger?.info('inside the handler', { path: req.url })
        res.writeHead(204).end()
        return true
      },
    })
    cleanups.push(() => started.close())
    const answer = await get(started.server.port, '/x', { 'x-request-id': 'edge-4f2a.91' })
    expect(answer.headers['x-request-id']).toBe('edge-4f2a.91')
    expect(answer.headers['x-content-type-options']).toBe('nosniff')
    await expect.poll(() => log.lines.length).toBeGreaterThanOrEqual(2)
    const lines = log.lines.filter((l) => l.context.requestId === 'edge-4f2a.91')
    expect(lines.map((l) => l.message).sort()).toEqual(['http request', 'inside the handler'])
    expect(lines.find((l) => l.message === 'http request')?.context).toMatchObject({
      method: 'GET',
      status: 204,
    })
  })

  it('replaces a missing, overlong or unsafe x-request-id with a generated one', async () => {
    const log = capture()
    const { server } = await start(log)
    const ids = new Set<unknown>()
    for (const incoming of [undefined, 'x'.repeat(200), 'a b', '"quoted"', 'ünïcode']) {
      const answer = await get(
        server.port,
        '/healthz',
        incoming === undefined ? {} : { 'x-request-id': incoming },
      )
      const id = answer.headers['x-request-id']
      expect(id).toMatch(/^[0-9a-f-]{36}$/)
      ids.add(id)
    }
    expect(ids.size).toBe(5)
  })

  it('names a websocket connection by one id from open to close', async () => {
    const log = capture()
    const { server } = await start(log)
    const client = await connectRaw(
      server,
      'demo/schema',
      await makeToken({ user: 'a', role: 'admin' }),
    )
    await expect.poll(() => client.synced).toBe(true)
    client.send(new Uint8Array([0, 9, 200]))
    await client.closed
    await expect.poll(() => log.lines.some((l) => l.message === 'websocket closed')).toBe(true)
    const ids = log.lines
      .filter((l) =>
        [
          'websocket opened',
          'malformed message, closing the connection',
          'websocket closed',
        ].includes(l.message),
      )
      .map((l) => l.context.connectionId)
    expect(ids).toHaveLength(3)
    expect(new Set(ids).size).toBe(1)
    expect(ids[0]).toMatch(/^[0-9a-f]{6}-\w+$/)
  })
})
