import { createServer } from 'node:http'
import type { IncomingHttpHeaders } from 'node:http'
import type { AddressInfo } from 'node:net'
import { afterEach, describe, expect, it } from 'vitest'
import { verifySignature } from '../src/crm/signing'
import type { BotHandoffPayload } from '../src/routing/bot-handoff'
import { startHarness } from './linking-harness'
import type { Harness } from './linking-harness'

const SECRET = 'a1'.repeat(32)

let h: Harness
const cleanups: (() => Promise<void>)[] = []
afterEach(async () => {
  await h.close()
  for (const cleanup of cleanups.splice(0).reverse()) await cleanup()
})

interface Received {
  readonly headers: IncomingHttpHeaders
  readonly raw: string
  readonly payload: BotHandoffPayload
}

/** A bot on port 0 that answers with `status.code` and records each request. */
async function startBot() {
  const received: Received[] = []
  const status = { code: 503 }
  const server = createServer((req, res) => {
    const chunks: Buffer[] = []
    req.on('data', (c: Buffer) => chunks.push(c))
    req.on('end', () => {
      const raw = Buffer.concat(chunks).toString('utf8')
      received.push({ headers: req.headers, raw, payload: JSON.parse(raw) as BotHandoffPayload })
      res.writeHead(status.code).end()
    })
  })
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r))
  cleanups.push(() => new Promise<void>((r) => server.close(() => r())))
  return { url: `http://127.0.0.1:${(server.address() as AddressInfo).port}/bot`, received, status }
}

interface Delivery {
  id: string
  conversationId: string
  state: string
  attempts: number
  lastError: string | null
}

const handoffs = async (query = ''): Promise<Delivery[]> =>
  (await h.api('admin', 'GET', `/bot-handoffs${query}`)).json.items as Delivery[]

describe('bot hand-off outbox', () => {
  it('puts a VIP hand-off the bot keeps failing in the dead letter, and an admin retry delivers it under the same key', async () => {
    const bot = await startBot()
    h = await startHarness({
      botHandoff: { url: bot.url, secret: SECRET, timeoutMs: 2000, attempts: 3, baseDelayMs: 20 },
      logger: { warn: () => undefined, error: () => undefined },
    })
    // A VIP contact writes again: its new conversation's hand-off says so.
    const first = await h.inbound({ channel: 'sms', platformUserId: '+14155550501' })
    bot.status.code = 204
    await expect.poll(async () => (await handoffs('?state=delivered')).length).toBe(1)
    const agent = await h.client('agent')
    const contact = agent.contact(first.contactId)
    await contact.whenSynced()
    contact.setVip(true)
    contact.release()
    await expect
      .poll(async () => (await h.api('agent', 'GET', '/groups/vip')).json.items)
      .toHaveLength(1)
    const schema = agent.schema()
    await schema.whenSynced()
    const handle = agent.conversation(first.conversationId)
    await handle.whenSynced()
    handle.conversation.setStatus('resolved', agent.actor()!, schema.schema.view())
    handle.release()
    schema.release()
    await expect
      .poll(async () => (await h.api('agent', 'GET', '/queue')).json.items)
      .toHaveLength(0)

    bot.status.code = 503
    const before = bot.received.length
    const vip = await h.inbound({ channel: 'sms', platformUserId: '+14155550501' })
    expect(vip.conversationId).not.toBe(first.conversationId)
    await expect
      .poll(async () => (await handoffs('?state=dead')).map((d) => d.conversationId), {
        timeout: 5000,
      })
      .toEqual([vip.conversationId])
    const [dead] = await handoffs('?state=dead')
    expect(dead).toMatchObject({ attempts: 3, lastError: 'the bot answered 503' })
    const tries = bot.received.slice(before)
    expect(tries).toHaveLength(3)
    for (const t of tries) {
      expect(t.payload).toMatchObject({ conversationId: vip.conversationId, vip: true })
      expect(t.headers['idempotency-key']).toBe(dead!.id)
      expect(t.payload.idempotencyKey).toBe(dead!.id)
      expect(Number(t.headers['x-cardfile-timestamp'])).toBeGreaterThan(0)
      expect(verifySignature(t.raw, t.headers['x-cardfile-signature'] as string, SECRET)).toBe(true)
    }

    bot.status.code = 204
    const retried = await h.api('admin', 'POST', `/bot-handoffs/${dead!.id}/retry`)
    expect(retried).toEqual({ status: 202, json: { retried: dead!.id } })
    await expect
      .poll(async () => (await handoffs()).find((d) => d.id === dead!.id)?.state, {
        timeout: 5000,
      })
      .toBe('delivered')
    expect(bot.received.slice(before)).toHaveLength(4)
    expect(bot.received.at(-1)?.headers['idempotency-key']).toBe(dead!.id)
    expect(await handoffs('?state=dead')).toEqual([])
    // Delivered: nothing to retry.
    expect((await h.api('admin', 'POST', `/bot-handoffs/${dead!.id}/retry`)).status).toBe(404)
  })

  it('shows the dead letter to admins only, and refuses bad or foreign retries', async () => {
    const bot = await startBot()
    h = await startHarness({
      botHandoff: { url: bot.url, timeoutMs: 2000, attempts: 1 },
      logger: { warn: () => undefined, error: () => undefined },
    })
    await h.inbound({ channel: 'webchat', platformUserId: 'visitor-9' })
    await expect.poll(async () => (await handoffs('?state=dead')).length).toBe(1)
    const [dead] = await handoffs('?state=dead')

    for (const role of ['agent', 'bot', 'crm'] as const) {
      const list = await h.api(role, 'GET', '/bot-handoffs?state=dead')
      expect(list.status).toBe(403)
      expect(list.json).toMatchObject({ error: { code: 'forbidden' } })
      expect((await h.api(role, 'POST', `/bot-handoffs/${dead!.id}/retry`)).status).toBe(403)
    }
    expect((await h.api('admin', 'GET', '/bot-handoffs?state=lost')).status).toBe(400)
    expect((await h.api('admin', 'POST', '/bot-handoffs/no-such-job/retry')).status).toBe(404)
    expect((await h.api('admin', 'DELETE', `/bot-handoffs/${dead!.id}/retry`)).status).toBe(405)
    // A job of another kind is no hand-off to retry.
    const rescore = await h.backend.jobs.enqueue({ kind: 'other', workspace: 'acme', input: {} })
    expect((await h.api('admin', 'POST', `/bot-handoffs/${rescore.id}/retry`)).status).toBe(404)
    // Nothing was retried by the refused calls.
    expect(await handoffs('?state=dead')).toEqual([expect.objectContaining({ id: dead!.id })])
    expect(bot.received).toHaveLength(1)
  })
})
