import { createServer } from 'node:http'
import type { AddressInfo } from 'node:net'
import { afterEach, describe, expect, it } from 'vitest'
import type { CardfileClient } from '@cardfile/core'
import type { BotHandoffPayload } from '../src/routing/bot-handoff'
import { idsOf, startHarness } from './linking-harness'
import type { Harness } from './linking-harness'
import { listedConversation, setVip, updateSettings } from './routing-helpers'

let h: Harness
const cleanups: (() => Promise<void> | void)[] = []
afterEach(async () => {
  await h.close()
  for (const cleanup of cleanups.splice(0).reverse()) await cleanup()
})

async function resolve(agent: CardfileClient, conversationId: string) {
  const schema = agent.schema()
  await schema.whenSynced()
  const handle = agent.conversation(conversationId)
  await handle.whenSynced()
  handle.conversation.setStatus('resolved', agent.actor()!, schema.schema.view())
  await expect
    .poll(async () => (await listedConversation(h, conversationId))?.status)
    .toBe('resolved')
  handle.release()
  schema.release()
}

describe('VIP routing', () => {
  it('sends new conversations of a VIP contact to the VIP team with the VIP boost', async () => {
    h = await startHarness()
    const admin = await h.client('admin')
    await updateSettings(admin, { vipTeam: 'vip-desk', vipPriorityBoost: 5 })
    const first = await h.inbound({ channel: 'whatsapp', platformUserId: '+14155550100' })
    expect(await listedConversation(h, first.conversationId)).toMatchObject({
      team: null,
      priority: 0,
    })

    const agent = await h.client('agent')
    await setVip(agent, first.contactId, true)
    // Marking VIP routes the open, unanswered conversation as a new VIP one would be.
    await expect
      .poll(() => listedConversation(h, first.conversationId))
      .toMatchObject({ team: 'vip-desk', priority: 5 })

    await resolve(agent, first.conversationId)
    const next = await h.inbound({ channel: 'whatsapp', platformUserId: '+14155550100' })
    expect(next.conversationId).not.toBe(first.conversationId)
    await expect
      .poll(() => listedConversation(h, next.conversationId))
      .toMatchObject({ team: 'vip-desk', priority: 5 })

    // Unmarking re-scores again.
    await setVip(agent, first.contactId, false)
    await expect
      .poll(async () => idsOf((await h.api('agent', 'GET', '/contacts?vip=true')).json))
      .toEqual([])
    await expect
      .poll(async () => (await listedConversation(h, next.conversationId))?.priority)
      .toBe(0)
  })

  it('adds the time a conversation waited when it is scored, weighted as configured', async () => {
    // One point per millisecond waited, so any wait at all shows.
    h = await startHarness({ scoring: { waitingWeightPerMinute: 60_000 } })
    const admin = await h.client('admin')
    await updateSettings(admin, { vipPriorityBoost: 5 })
    const started = await h.inbound({ channel: 'sms', platformUserId: '+14155550109' })
    const before = Date.now()
    const agent = await h.client('agent')
    await expect.poll(() => Date.now() - before).toBeGreaterThan(20)
    await setVip(agent, started.contactId, true)
    await expect
      .poll(async () => (await listedConversation(h, started.conversationId))?.priority ?? 0)
      .toBeGreaterThan(5 + 20)
  })

  it("orders a team's queue by priority, then oldest first, open conversations only", async () => {
    h = await startHarness()
    const admin = await h.client('admin')
    await updateSettings(admin, { vipPriorityBoost: 3 })
    const a = await h.inbound({ channel: 'sms', platformUserId: '+14155550101' })
    const b = await h.inbound({ channel: 'sms', platformUserId: '+14155550102' })
    const c = await h.inbound({ channel: 'sms', platformUserId: '+14155550103' })
    const d = await h.inbound({ channel: 'sms', platformUserId: '+14155550104' })
    const agent = await h.client('agent')
    await setVip(agent, c.contactId, true)
    await expect.poll(async () => (await listedConversation(h, c.conversationId))?.priority).toBe(3)
    await resolve(agent, d.conversationId)

    const queue = await h.api('agent', 'GET', '/queue?limit=2')
    expect(idsOf(queue.json)).toEqual([c.conversationId, a.conversationId])
    const rest = await h.api('agent', 'GET', `/queue?limit=2&cursor=${String(queue.json.next)}`)
    expect(idsOf(rest.json)).toEqual([b.conversationId])
    expect(rest.json.next).toBeNull()
  })

  it('ignores VIP for routing and refuses VIP writes while VIP is switched off', async () => {
    h = await startHarness()
    const admin = await h.client('admin')
    await updateSettings(admin, { vipTeam: 'vip-desk', vipPriorityBoost: 5 })
    const first = await h.inbound({ channel: 'email', platformUserId: 'vip@example.org' })
    const agent = await h.client('agent')
    await setVip(agent, first.contactId, true)
    await expect
      .poll(async () => (await listedConversation(h, first.conversationId))?.priority)
      .toBe(5)
    const vipGroup = await h.api('agent', 'GET', '/groups/vip')
    expect(idsOf(vipGroup.json)).toEqual([first.contactId])
    await resolve(agent, first.conversationId)

    await updateSettings(admin, { vipEnabled: false })
    const next = await h.inbound({ channel: 'email', platformUserId: 'vip@example.org' })
    await expect
      .poll(() => listedConversation(h, next.conversationId))
      .toMatchObject({ team: null, priority: 0 })
    // The agent's own copy of the schema must have heard that VIP is off before it refuses.
    const agentSchema = agent.schema()
    await agentSchema.whenSynced()
    await expect.poll(() => agentSchema.schema.settings().vipEnabled).toBe(false)
    const contact = agent.contact(first.contactId)
    await contact.whenSynced()
    expect(() => contact.setVip(false)).toThrow(expect.objectContaining({ code: 'vip-disabled' }))
    contact.release()
    expect((await h.api('agent', 'GET', '/groups/vip')).json).toMatchObject({
      items: [],
      enabled: false,
    })
  })

  it('lets a route hook replace the scoring and the team', async () => {
    h = await startHarness({
      route: ({ channel, vip }) => ({
        team: channel === 'email' ? 'mail-desk' : null,
        priority: vip ? 10 : 1,
      }),
    })
    const mail = await h.inbound({ channel: 'email', platformUserId: 'x@example.org' })
    const chat = await h.inbound({ channel: 'webchat', platformUserId: 'v-9' })
    await expect
      .poll(() => listedConversation(h, mail.conversationId))
      .toMatchObject({ team: 'mail-desk', priority: 1 })
    await expect
      .poll(() => listedConversation(h, chat.conversationId))
      .toMatchObject({ team: null, priority: 1 })
    const agent = await h.client('agent')
    await setVip(agent, mail.contactId, true)
    await expect
      .poll(async () => (await listedConversation(h, mail.conversationId))?.priority)
      .toBe(10)
    expect(idsOf((await h.api('agent', 'GET', '/queue?team=mail-desk')).json)).toEqual([
      mail.conversationId,
    ])
  })
})

/** A bot's webhook endpoint on port 0 that records what it receives. */
async function startWebhook(answer: number | (() => number) = 200) {
  const received: BotHandoffPayload[] = []
  const server = createServer((req, res) => {
    const chunks: Buffer[] = []
    req.on('data', (c: Buffer) => chunks.push(c))
    req.on('end', () => {
      received.push(JSON.parse(Buffer.concat(chunks).toString('utf8')) as BotHandoffPayload)
      res.writeHead(typeof answer === 'number' ? answer : answer()).end()
    })
  })
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r))
  cleanups.push(() => new Promise<void>((r) => server.close(() => r())))
  return { url: `http://127.0.0.1:${(server.address() as AddressInfo).port}/hook`, received }
}

describe('bot hand-off', () => {
  it("posts the contact's attributes and VIP status when a conversation starts", async () => {
    const webhook = await startWebhook()
    h = await startHarness({ botHandoff: { url: webhook.url, timeoutMs: 2000 } })
    const admin = await h.client('admin')
    await updateSettings(admin, { vipTeam: 'vip-desk' })
    const first = await h.inbound({
      channel: 'email',
      platformUserId: 'ana@example.org',
      metadata: { email: 'ana@example.org', email_name: 'Ana' },
    })
    await expect.poll(() => webhook.received.length).toBe(1)
    expect(webhook.received[0]).toMatchObject({
      event: 'conversation.started',
      conversationId: first.conversationId,
      contactId: first.contactId,
      channel: 'email',
      vip: false,
      attributes: { email: { value: 'ana@example.org', kind: 'platform' } },
    })

    const agent = await h.client('agent')
    await setVip(agent, first.contactId, true)
    await expect
      .poll(async () => (await listedConversation(h, first.conversationId))?.priority)
      .toBe(1)
    await resolve(agent, first.conversationId)
    const next = await h.inbound({ channel: 'email', platformUserId: 'ana@example.org' })
    await expect.poll(() => webhook.received.length).toBe(2)
    expect(webhook.received[1]).toMatchObject({ conversationId: next.conversationId, vip: true })
  })

  it('starts conversations normally when the webhook fails, refuses or hangs', async () => {
    const refusing = await startWebhook(500)
    const hanging = createServer(() => undefined) // accepts, never answers
    await new Promise<void>((r) => hanging.listen(0, '127.0.0.1', r))
    cleanups.push(() => {
      hanging.closeAllConnections()
      return new Promise<void>((r) => hanging.close(() => r()))
    })
    const cases = [
      { url: refusing.url, warning: 'bot hand-off refused' },
      {
        url: `http://127.0.0.1:${(hanging.address() as AddressInfo).port}/`,
        warning: 'bot hand-off failed',
      },
      { url: 'http://127.0.0.1:1/', warning: 'bot hand-off failed' }, // nothing listens there
    ]
    for (const { url, warning } of cases) {
      const warnings: string[] = []
      h = await startHarness({
        botHandoff: { url, timeoutMs: 200 },
        logger: { warn: (message) => warnings.push(message) },
      })
      const started = await h.inbound({ channel: 'webchat', platformUserId: 'v-1' })
      await expect.poll(() => warnings).toContain(warning)
      // The conversation started and is served like any other.
      expect(await listedConversation(h, started.conversationId)).toMatchObject({ status: 'new' })
      expect((await h.inbound({ channel: 'webchat', platformUserId: 'v-1' })).conversationId).toBe(
        started.conversationId,
      )
      await h.close()
      h = await startHarness()
    }
    expect(refusing.received).toHaveLength(1)
  })

  it('retries a hand-off the bot failed under the same key, and gives up on a 4xx', async () => {
    const answers = [503, 204]
    const flaky = await startWebhook(() => answers.shift() ?? 204)
    h = await startHarness({ botHandoff: { url: flaky.url, timeoutMs: 2000 } })
    const started = await h.inbound({ channel: 'webchat', platformUserId: 'v-2' })
    // The first retry waits a second.
    await expect.poll(() => flaky.received.length, { timeout: 5000 }).toBe(2)
    const [first, second] = flaky.received
    expect(first?.conversationId).toBe(started.conversationId)
    expect(second?.idempotencyKey).toBe(first?.idempotencyKey)
    const job = async () =>
      ((await h.api('agent', 'GET', '/jobs?kind=bot-handoff')).json.items as { state: string }[])[0]
    await expect.poll(job).toMatchObject({ state: 'done', attempts: 2, result: { sent: true } })
    await h.close()

    const refusing = await startWebhook(422)
    h = await startHarness({
      botHandoff: { url: refusing.url, timeoutMs: 2000 },
      logger: { warn: () => undefined, error: () => undefined },
    })
    await h.inbound({ channel: 'webchat', platformUserId: 'v-3' })
    await expect.poll(job).toMatchObject({ state: 'failed', attempts: 1 })
    expect(refusing.received).toHaveLength(1)
  })

  it('accepts a hook function instead of a URL', async () => {
    const seen: BotHandoffPayload[] = []
    h = await startHarness({
      botHandoff: {
        hook: (payload) => {
          seen.push(payload)
        },
      },
    })
    const started = await h.inbound({ channel: 'x', platformUserId: '77' })
    await expect.poll(() => seen.map((p) => p.conversationId)).toEqual([started.conversationId])
  })

  it('lets a bot write custom attributes (the auto-responder) but never platform ones', async () => {
    h = await startHarness()
    const admin = await h.client('admin')
    const schema = admin.schema()
    await schema.whenSynced()
    schema.schema.createAttribute({ id: 'intent', label: 'Intent', type: 'text' })
    const started = await h.inbound({
      channel: 'email',
      platformUserId: 'ana@example.org',
      metadata: { email: 'ana@example.org' },
    })
    const bot = await h.client('bot', 'auto-responder')
    const contact = bot.contact(started.contactId)
    await contact.whenSynced()
    await expect
      .poll(() => contact.schemaHandle.schema.definition('intent') !== undefined)
      .toBe(true)
    contact.setValue('intent', 'refund')
    expect(() =>
      contact.contact.setPlatformValue(
        'email',
        'other@example.org',
        bot.actor()!,
        contact.schemaHandle.schema.view(),
      ),
    ).toThrow(expect.objectContaining({ code: 'forbidden' }))
    // The custom value reached the server under the bot's name; the platform value is unchanged.
    const agent = await h.client('agent')
    const seen = agent.contact(started.contactId)
    await seen.whenSynced()
    await expect.poll(() => seen.read().custom.intent?.by.userId).toBe('auto-responder')
    expect(seen.read().platform.email?.value).toBe('ana@example.org')
    seen.release()
    contact.release()
  })
})
