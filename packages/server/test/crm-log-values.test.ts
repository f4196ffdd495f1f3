import { createServer } from 'node:http'
import type { Server } from 'node:http'
import type { AddressInfo } from 'node:net'
import { CardfileError, ErrorCodes } from '@cardfile/core'
import { afterEach, describe, expect, it, vi } from 'vitest'
import { createMemoryBackend } from '@cardfile/server/memory'
import type { Backend } from '@cardfile/server'
import {
  connectSynced,
  editSchema,
  expectPoll,
  fieldValue,
  makeToken,
  seedDemo,
  startConversationV1,
  startServer,
} from './sync-helpers'

/** A value that must never reach a log line: stands for an email, a name, a customer id. */
const VALUE = 'zq-leak-7f3a@private.example'
const AGENT = { role: 'agent' as const, userId: 'mallory' }

const cleanups: (() => Promise<void> | void)[] = []
afterEach(async () => {
  for (const cleanup of cleanups.splice(0).reverse()) await cleanup()
  vi.restoreAllMocks()
})

/** Every line the server logs, through its logger and through the console. */
function captureLogs() {
  const lines: string[] = []
  const keep =
    (level: string) =>
    (message: string, context?: Record<string, unknown>): void => {
      lines.push(`${level} ${message} ${JSON.stringify(context ?? {})}`)
    }
  for (const level of ['log', 'info', 'warn', 'error', 'debug'] as const) {
    vi.spyOn(console, level).mockImplementation((...args: unknown[]) => {
      lines.push(
        `console.${level} ${args.map((a) => (a instanceof Error ? a.stack : JSON.stringify(a))).join(' ')}`,
      )
    })
  }
  return {
    lines,
    logger: { debug: keep('debug'), info: keep('info'), warn: keep('warn'), error: keep('error') },
  }
}

/** A CRM over real HTTP whose every answer quotes the value: it echoes what it was sent. */
async function startEchoingCrm(): Promise<{ url: string; lookupBody: { text: string } }> {
  const lookupBody = { text: '' }
  const server: Server = createServer((req, res) => {
    req.resume()
    req.on('end', () => {
      if (req.url === '/lookup' && lookupBody.text !== '') {
        res.writeHead(200, { 'content-type': 'application/json' }).end(lookupBody.text)
        return
      }
      // Write-backs, notifications, and lookups while no body is set: refused, echoing a value.
      res.writeHead(422, { 'content-type': 'application/json' })
      res.end(JSON.stringify({ error: `no record for ${VALUE}` }))
    })
  })
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve))
  cleanups.push(() => new Promise<void>((resolve) => server.close(() => resolve())))
  return { url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`, lookupBody }
}

describe('server logs hold no contact values', () => {
  it('logs refused values, CRM answers and failed hooks by code, never by the value', async () => {
    const { lines, logger } = captureLogs()
    const crmHttp = await startEchoingCrm()
    const memory: Backend = createMemoryBackend()
    cleanups.push(() => memory.close())
    // Pending edits cannot be stored: the CRM integration fails on that commit with an error
    // whose message quotes the value, as core's validation messages do.
    const backend: Backend = {
      ...memory,
      crm: {
        ...memory.crm!,
        putPending: async () => {
          throw new CardfileError(ErrorCodes.InvalidValue, `"${VALUE}" cannot be kept`)
        },
      },
    }
    const { server, close } = await startServer({
      backend,
      logger,
      crm: { timeoutMs: 2000, retry: { maxAttempts: 2, baseDelayMs: 5, maxDelayMs: 10 } },
      // The CRM answers on this machine.
      allowPrivateOutboundTargets: true,
      // An app's routing hook that refuses with a message quoting the contact.
      route: () => {
        throw new CardfileError(ErrorCodes.InvalidValue, `no team for ${VALUE}`)
      },
    })
    cleanups.push(close)
    await seedDemo(server)
    await editSchema(server, 'demo', (s) => {
      s.createAttribute({
        id: 'level',
        label: 'Level',
        type: 'dropdown',
        alias: 'level',
        crmManaged: true,
        options: [
          { id: 'gold', label: 'Gold' },
          { id: 'silver', label: 'Silver' },
        ],
      })
      s.updateAttribute('email', { lookup: true, alias: 'email' })
      s.updateSettings({ plan: 'enterprise', agentsMayEditCrm: true })
    })
    await server.crm!.updateConfig('demo', {
      enabled: true,
      lookupUrl: `${crmHttp.url}/lookup`,
      writeBackUrl: `${crmHttp.url}/write-back`,
      notificationUrl: `${crmHttp.url}/notification`,
    })

    // 1. A hostile client writes a value that is not an option; core's refusal quotes it.
    const client = await connectSynced(
      server,
      'demo/contact/c1',
      await makeToken({ user: AGENT.userId, role: 'agent' }),
    )
    cleanups.push(() => client.ws.close())
    client.doc.getMap('custom').set('plan', fieldValue(VALUE, AGENT))
    client.doc.getMap('custom').set('note', fieldValue(`${VALUE} is far too long`, AGENT))
    await expectPoll(() => client.refusals.length >= 2)
    expect(client.refusals.map((r) => r.message).join(' ')).toContain(VALUE)

    // 2. The CRM answers lookups with the value: not an option, bad JSON, an error status.
    for (const text of [
      JSON.stringify({ found: true, values: { level: VALUE } }),
      JSON.stringify({ found: true, values: { [VALUE]: 'x' } }),
      `not json ${VALUE}`,
      '',
    ]) {
      crmHttp.lookupBody.text = text
      const outcome = await server.crm!.lookup('demo', 'c1', 'agent')
      expect(outcome.outcome).toMatch(/refused|failed/)
      if (text !== '' && !text.startsWith('not json')) expect(outcome.reason).toContain(VALUE)
    }

    // 3. An agent's edit of a CRM-managed attribute: storing it fails with a quoting error.
    client.doc.getMap('custom').set('level', fieldValue('gold', AGENT))

    // 4. A conversation starts: the route hook throws; the notification is refused with an
    //    answer quoting the value and goes to the dead letter.
    await startConversationV1(server, 'demo')

    await expect.poll(() => lines.some((l) => l.includes('CRM delivery is dead'))).toBe(true)
    await expect.poll(() => lines.some((l) => l.includes('route hook failed'))).toBe(true)
    await expect
      .poll(() =>
        lines.some((l) => l.includes('event handler failed') && l.includes('"consumer":"crm"')),
      )
      .toBe(true)
    await server.idle()

    // The failures were logged, by code...
    const log = lines.join('\n')
    expect(log).toContain('"code":"invalid-value"')
    expect(log).toContain('"status":422')
    // ...and not one line holds the value.
    expect(lines.filter((l) => l.includes(VALUE))).toEqual([])
  })
})
