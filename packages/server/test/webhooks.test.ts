import { join } from 'node:path'
import { ContactDoc, SchemaDoc } from '@cardfile/core'
import type { Actor, Role } from '@cardfile/core'
import {
  IDEMPOTENCY_HEADER,
  SIGNATURE_HEADER,
  TIMESTAMP_HEADER,
  verifySignature,
} from '@cardfile/server'
import { createSqliteBackend } from '@cardfile/server/sqlite'
import { afterEach, describe, expect, it } from 'vitest'
import { WEBHOOK_DELIVERY } from '../src/webhooks/webhook-delivery'
import { webhookConsumer } from '../src/webhooks/webhook-consumer'
import type { DomainEvent } from '../src/events/domain-event'
import { tempDir } from './storage-helpers'
import { editSchema, expectPoll, makeToken, seedDemo, startServer } from './sync-helpers'
import type { TestServer } from './sync-helpers'
import { call, startReceiver as startReceiverOn } from './webhook-helpers'

const cleanups: (() => Promise<void> | void)[] = []
afterEach(async () => {
  for (const cleanup of cleanups.splice(0).reverse()) await cleanup()
})

const startReceiver = () => startReceiverOn(cleanups)

async function start(): Promise<TestServer> {
  const { dir, cleanup } = tempDir('cardfile-webhooks-')
  cleanups.push(cleanup)
  const backend = createSqliteBackend({ path: join(dir, 'cardfile.db') })
  cleanups.push(() => backend.close())
  const running = await startServer({
    backend,
    port: 0,
    host: '127.0.0.1',
    background: { pollMs: 20, leaseMs: 2000 },
    webhooks: { retry: { maxAttempts: 3, baseDelayMs: 20, maxDelayMs: 40 }, random: () => 0 },
    // The receivers listen on 127.0.0.1.
    allowPrivateWebhookTargets: true,
  })
  cleanups.push(() => running.close())
  await seedDemo(running.server)
  await editSchema(running.server, 'demo', (s) => s.updateSettings({ vipEnabled: true }))
  return running
}

const token = (role: Role, user = `${role}-1`) => makeToken({ user, role, workspace: 'demo' })

async function register(running: TestServer, url: string, events: string[]) {
  const answer = await call(running, 'POST', '/api/demo/webhooks', await token('admin'), {
    url,
    events,
  })
  expect(answer.status).toBe(201)
  return answer.json as { webhook: { id: string; secretHint: string }; secret: string }
}

const writeNote = async (running: TestServer, note: string) => {
  const answer = await call(
    running,
    'PATCH',
    '/api/demo/contacts/c1/values',
    await token('agent'),
    {
      note,
    },
  )
  expect(answer.status).toBe(200)
}

describe('webhooks', () => {
  it('signs a delivery of an attribute change with the secret shown once, with the idempotency key and timestamp', async () => {
    const running = await start()
    const receiver = await startReceiver()
    const { webhook, secret } = await register(running, receiver.url, [
      'contact.attributes-changed',
    ])
    expect(secret).toMatch(/^[0-9a-f]{64}$/)
    const listed = await call(running, 'GET', '/api/demo/webhooks', await token('admin'))
    expect(JSON.stringify(listed.json)).not.toContain(secret)
    expect(listed.json.items).toEqual([
      expect.objectContaining({ id: webhook.id, secretHint: `…${secret.slice(-4)}` }),
    ])

    await writeNote(running, 'hello')
    await expectPoll(() => receiver.received.length === 1)
    const [delivery] = receiver.received
    expect(
      verifySignature(delivery!.raw, delivery!.headers[SIGNATURE_HEADER] as string, secret),
    ).toBe(true)
    expect(
      verifySignature(
        delivery!.raw,
        delivery!.headers[SIGNATURE_HEADER] as string,
        'ab'.repeat(32),
      ),
    ).toBe(false)
    expect(delivery!.headers[IDEMPOTENCY_HEADER]).toBe(delivery!.body.id)
    expect(Number(delivery!.headers[TIMESTAMP_HEADER])).toBeGreaterThan(Date.now() - 60_000)
    expect(delivery!.headers['x-cardfile-event']).toBe('contact.attributes-changed')
    expect(delivery!.body).toMatchObject({
      type: 'contact.attributes-changed',
      actor: { role: 'agent', userId: 'agent-1' },
      contact: { id: 'c1', hint: 'an***@example.com' },
      data: {
        values: [
          {
            id: 'note',
            alias: expect.any(String),
            kind: 'custom',
            value: 'hello',
            by: expect.objectContaining({ role: 'agent' }),
          },
        ],
      },
    })
  })

  it('retries a failed delivery with the same body and key, so the receiver applies it once', async () => {
    const running = await start()
    const receiver = await startReceiver()
    await register(running, receiver.url, ['contact.attributes-changed'])
    let failures = 2
    receiver.state.answer = () => (failures-- > 0 ? 500 : 200)
    await writeNote(running, 'retry me')
    await expectPoll(() => receiver.received.length === 3)
    const keys = new Set(receiver.received.map((r) => r.headers[IDEMPOTENCY_HEADER]))
    const bodies = new Set(receiver.received.map((r) => r.raw))
    expect(keys.size).toBe(1)
    expect(bodies.size).toBe(1)
    expect([...receiver.effects.values()]).toEqual([1])
    await running.server.idle()
    const delivered = await call(
      running,
      'GET',
      '/api/demo/webhooks/deliveries?state=delivered',
      await token('admin'),
    )
    expect(delivered.json.items).toEqual([
      expect.objectContaining({ state: 'delivered', attempts: 3 }),
    ])
  })

  it('leaves a delivery that keeps failing dead, visible to admins, and sends it again on retry', async () => {
    const running = await start()
    const receiver = await startReceiver()
    await register(running, receiver.url, ['contact.attributes-changed'])
    receiver.state.answer = () => 503
    await writeNote(running, 'doomed')
    const admin = await token('admin')
    let dead: { id: string; attempts: number; lastError: string; state: string }[] = []
    await expectPoll(() => receiver.received.length >= 3)
    for (let i = 0; i < 200 && dead.length === 0; i += 1) {
      const listed = await call(running, 'GET', '/api/demo/webhooks/deliveries?state=dead', admin)
      dead = listed.json.items as typeof dead
      if (dead.length === 0) await new Promise((resolve) => setTimeout(resolve, 20))
    }
    expect(dead).toEqual([
      expect.objectContaining({
        state: 'dead',
        attempts: 3,
        lastError: 'the receiver answered 503',
      }),
    ])
    expect(receiver.received).toHaveLength(3)
    // Agents do not see the dead letter.
    expect(
      (await call(running, 'GET', '/api/demo/webhooks/deliveries', await token('agent'))).status,
    ).toBe(403)

    receiver.state.answer = () => 200
    const retried = await call(
      running,
      'POST',
      `/api/demo/webhooks/deliveries/${dead[0]!.id}/retry`,
      admin,
    )
    expect(retried.status).toBe(202)
    await expectPoll(() => receiver.received.length === 4)
    expect(new Set(receiver.received.map((r) => r.headers[IDEMPOTENCY_HEADER])).size).toBe(1)
    expect(
      (await call(running, 'POST', `/api/demo/webhooks/deliveries/${dead[0]!.id}/retry`, admin))
        .status,
    ).toBe(404)
  })

  it('stops at once on a permanent refusal (400) instead of retrying', async () => {
    const running = await start()
    const receiver = await startReceiver()
    await register(running, receiver.url, ['contact.attributes-changed'])
    receiver.state.answer = () => 400
    await writeNote(running, 'refused')
    const admin = await token('admin')
    await expectPoll(() => receiver.received.length === 1)
    let dead: unknown[] = []
    for (let i = 0; i < 200 && dead.length === 0; i += 1) {
      dead = (await call(running, 'GET', '/api/demo/webhooks/deliveries?state=dead', admin)).json
        .items as unknown[]
      if (dead.length === 0) await new Promise((resolve) => setTimeout(resolve, 20))
    }
    expect(dead).toHaveLength(1)
    expect(receiver.received).toHaveLength(1)
  })

  it('tells of a contact created, VIP changed and linked, only to the webhooks that subscribed', async () => {
    const running = await start()
    const all = await startReceiver()
    const vipOnly = await startReceiver()
    await register(running, all.url, ['contact.created', 'contact.vip-changed', 'contact.linked'])
    await register(running, vipOnly.url, ['contact.vip-changed'])
    const system = await makeToken({ user: 'ingest', role: 'system', workspace: 'demo' })
    const inbound = await call(running, 'POST', '/api/demo/inbound', system, {
      channel: 'x',
      platformUserId: '42',
      metadata: { x_handle: '@anna' },
      message: { id: 'm1', text: 'Hi' },
    })
    expect(inbound.status).toBe(200)
    const created = inbound.json.contactId as string
    await expectPoll(() => all.received.some((r) => r.body.type === 'contact.created'))
    expect(all.received.find((r) => r.body.type === 'contact.created')!.body.contact).toMatchObject(
      { id: created, channel: 'x' },
    )

    const view = await running.server.host.read('demo/schema', (doc) => new SchemaDoc(doc).view())
    const admin: Actor = { userId: 'admin-1', role: 'admin' }
    await running.server.host.transact('demo/contact/c1', admin, (doc) =>
      new ContactDoc(doc, 'c1').setVip(true, admin, view),
    )
    await expectPoll(
      () =>
        vipOnly.received.length === 1 &&
        all.received.some((r) => r.body.type === 'contact.vip-changed'),
    )
    expect(vipOnly.received[0]!.body).toMatchObject({
      type: 'contact.vip-changed',
      data: { vip: true },
    })

    const link = await call(running, 'POST', '/api/demo/contacts/c1/links', await token('agent'), {
      contactId: created,
      kind: 'link',
    })
    expect(link.status).toBe(200)
    await expectPoll(() => all.received.some((r) => r.body.type === 'contact.linked'))
    expect(all.received.find((r) => r.body.type === 'contact.linked')!.body).toMatchObject({
      contact: { id: 'c1' },
      data: { other: created, kind: 'link' },
    })
    expect(vipOnly.received).toHaveLength(1)
  })

  it('tells of a manual link or unlink reverted by hand, signed, as a contact.linked of kind revert', async () => {
    const running = await start()
    const receiver = await startReceiver()
    const { secret } = await register(running, receiver.url, ['contact.linked'])
    const system = await makeToken({ user: 'ingest', role: 'system', workspace: 'demo' })
    const inbound = await call(running, 'POST', '/api/demo/inbound', system, {
      channel: 'x',
      platformUserId: '43',
      metadata: { x_handle: '@bo' },
      message: { id: 'm1', text: 'Hi' },
    })
    expect(inbound.status).toBe(200)
    const other = inbound.json.contactId as string
    const agent = await token('agent')
    const reverts = () => receiver.received.filter((r) => r.body.data.kind === 'revert')

    for (const kind of ['link', 'unlink'] as const) {
      const put = await call(running, 'POST', '/api/demo/contacts/c1/links', agent, {
        contactId: other,
        kind,
      })
      expect(put.status).toBe(200)
      await expectPoll(() => receiver.received.some((r) => r.body.data.kind === kind))
      const before = reverts().length
      const revert = await call(running, 'DELETE', `/api/demo/contacts/c1/links/${other}`, agent)
      expect(revert.status).toBe(200)
      await expectPoll(() => reverts().length === before + 1)
      const delivery = reverts().at(-1)!
      expect(
        verifySignature(delivery.raw, delivery.headers[SIGNATURE_HEADER] as string, secret),
      ).toBe(true)
      expect(delivery.headers['x-cardfile-event']).toBe('contact.linked')
      expect(delivery.headers[IDEMPOTENCY_HEADER]).toBe(delivery.body.id)
      expect(delivery.body).toMatchObject({
        type: 'contact.linked',
        actor: { role: 'agent', userId: 'agent-1' },
        contact: { id: 'c1' },
        data: { other, kind: 'revert', reverted: kind, source: 'manual' },
      })
    }
    // Nothing left to revert: refused, and no delivery.
    const again = await call(running, 'DELETE', `/api/demo/contacts/c1/links/${other}`, agent)
    expect(again.status).toBe(404)
    await running.server.idle()
    expect(reverts()).toHaveLength(2)
  })

  it("tells of a deletion with ids and the masked hint only, and drops the contact's deliveries that held its values", async () => {
    const running = await start()
    const receiver = await startReceiver()
    await register(running, receiver.url, ['contact.attributes-changed', 'contact.deleted'])
    receiver.state.answer = (r) => (r.body.type === 'contact.deleted' ? 200 : 503)
    await writeNote(running, 'secretnote')
    await expectPoll(() => receiver.received.length >= 1)
    const deleted = await call(running, 'DELETE', '/api/demo/contacts/c1', await token('admin'))
    expect(deleted.status).toBe(200)
    await expectPoll(() => receiver.received.some((r) => r.body.type === 'contact.deleted'))
    const gone = receiver.received.find((r) => r.body.type === 'contact.deleted')!
    expect(gone.body.contact).toEqual({ id: 'c1', hint: 'an***@example.com' })
    expect(gone.body.data).toEqual({})
    expect(gone.raw).not.toContain('ana@example.com')
    expect(gone.raw).not.toContain('secretnote')
    // Nothing left in the jobs table holds the contact's values.
    const jobs = await running.backend.jobs.list({ workspace: 'demo', kind: WEBHOOK_DELIVERY }, 100)
    expect(JSON.stringify(jobs)).not.toContain('secretnote')
    expect(jobs).toHaveLength(1)
  })

  it('refuses other roles and bad registrations; a rotated secret signs the next delivery; a deleted webhook hears nothing more', async () => {
    const running = await start()
    const receiver = await startReceiver()
    const agent = await token('agent')
    const admin = await token('admin')
    expect(
      (
        await call(running, 'POST', '/api/demo/webhooks', agent, {
          url: receiver.url,
          events: ['contact.created'],
        })
      ).status,
    ).toBe(403)
    expect((await call(running, 'GET', '/api/demo/webhooks', await token('bot'))).status).toBe(403)
    for (const bad of [
      { url: 'ftp://example.com', events: ['contact.created'] },
      { url: 'not a url', events: ['contact.created'] },
      { url: receiver.url, events: [] },
      { url: receiver.url, events: ['contact.exploded'] },
      { url: receiver.url, events: ['contact.created'], extra: true },
    ]) {
      const answer = await call(running, 'POST', '/api/demo/webhooks', admin, bad)
      expect(answer.status).toBe(400)
      expect((answer.json.error as { code: string }).code).toBe('bad-request')
    }
    const { webhook, secret } = await register(running, receiver.url, [
      'contact.attributes-changed',
    ])
    const rotated = await call(running, 'POST', `/api/demo/webhooks/${webhook.id}/secret`, admin)
    expect(rotated.status).toBe(200)
    const newSecret = rotated.json.secret as string
    expect(newSecret).not.toBe(secret)
    await writeNote(running, 'rotated')
    await expectPoll(() => receiver.received.length === 1)
    const signature = receiver.received[0]!.headers[SIGNATURE_HEADER] as string
    expect(verifySignature(receiver.received[0]!.raw, signature, newSecret)).toBe(true)
    expect(verifySignature(receiver.received[0]!.raw, signature, secret)).toBe(false)

    expect((await call(running, 'DELETE', `/api/demo/webhooks/${webhook.id}`, admin)).status).toBe(
      200,
    )
    expect((await call(running, 'DELETE', `/api/demo/webhooks/${webhook.id}`, admin)).status).toBe(
      404,
    )
    await writeNote(running, 'unheard')
    await running.server.idle()
    expect(receiver.received).toHaveLength(1)
  })

  it('queues nothing more when an event is handled again (a replay after a crash)', async () => {
    const running = await start()
    const receiver = await startReceiver()
    await register(running, receiver.url, ['contact.vip-changed'])
    const consumer = webhookConsumer({
      host: running.server.host,
      store: running.backend.webhooks,
      enqueue: (job) => running.backend.jobs.enqueue(job),
    })
    const event: DomainEvent = {
      seq: 1_000_000,
      type: 'contact.vip-changed',
      workspace: 'demo',
      subject: 'c1',
      actor: { userId: 'admin-1', role: 'admin' },
      data: { vip: true },
      at: Date.now(),
    }
    await consumer.handle(event)
    await consumer.handle(event)
    const jobs = await running.backend.jobs.list({ workspace: 'demo', kind: WEBHOOK_DELIVERY }, 10)
    expect(jobs).toHaveLength(1)
    await expectPoll(() => receiver.received.length === 1)
    await running.server.idle()
    expect(receiver.received).toHaveLength(1)
  })
})
