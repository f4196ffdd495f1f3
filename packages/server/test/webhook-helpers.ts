import { createServer } from 'node:http'
import type { IncomingHttpHeaders, Server } from 'node:http'
import type { AddressInfo } from 'node:net'
import { IDEMPOTENCY_HEADER } from '@cardfile/server'
import type { TestServer } from './sync-helpers'

/** One request a receiver got. */
export interface Received {
  readonly headers: IncomingHttpHeaders
  readonly raw: string
  readonly body: {
    id: string
    type: string
    contact: Record<string, unknown>
    data: Record<string, unknown>
    actor: { role: string; userId: string } | null
  }
}

/**
 * A real HTTP receiver on 127.0.0.1, port 0. It applies each delivery once per idempotency
 * key (its "effect"), and answers with whatever `answer` says (after applying, so a 500 here is
 * a receiver that did the work and lost its answer) and the headers of `headers`.
 */
export async function startReceiver(cleanups: (() => Promise<void> | void)[]) {
  const received: Received[] = []
  const effects = new Map<string, number>()
  const state = {
    answer: (_r: Received): number => 200,
    headers: {} as Record<string, string>,
  }
  const server: Server = createServer((req, res) => {
    const chunks: Buffer[] = []
    req.on('data', (c: Buffer) => chunks.push(c))
    req.on('end', () => {
      const raw = Buffer.concat(chunks).toString('utf8')
      const r: Received = { headers: req.headers, raw, body: JSON.parse(raw) as Received['body'] }
      received.push(r)
      const key = String(req.headers[IDEMPOTENCY_HEADER])
      // The receiver's side of idempotency: a key it has seen is not applied again.
      if (!effects.has(key)) effects.set(key, 1)
      res.writeHead(state.answer(r), state.headers).end()
    })
  })
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve))
  cleanups.push(() => new Promise<void>((resolve) => server.close(() => resolve())))
  const port = (server.address() as AddressInfo).port
  const url = `http://127.0.0.1:${port}/hook`
  return { url, port, received, effects, state }
}

/** One API call with a bearer token; the answer's status and JSON. */
export async function call(
  running: Pick<TestServer, 'server'> | { readonly server: { readonly url: string } },
  method: string,
  path: string,
  tok: string,
  body?: unknown,
): Promise<{ status: number; json: Record<string, unknown> }> {
  const response = await fetch(`${running.server.url}${path}`, {
    method,
    headers: {
      authorization: `Bearer ${tok}`,
      ...(body === undefined ? {} : { 'content-type': 'application/json' }),
    },
    ...(body === undefined ? {} : { body: JSON.stringify(body) }),
  })
  const text = await response.text()
  return {
    status: response.status,
    json: (text === '' ? {} : JSON.parse(text)) as Record<string, unknown>,
  }
}
