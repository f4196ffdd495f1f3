import { join } from 'node:path'
import { ContactDoc, SchemaDoc } from '@cardfile/core'
import type { ChannelId } from '@cardfile/core'
import type { CardfileServer } from '@cardfile/server'
import { IDEMPOTENCY_HEADER, SIGNATURE_HEADER, verifySignature } from '@cardfile/server'
import { createSqliteBackend } from '@cardfile/server/sqlite'
import { afterEach, describe, expect, it } from 'vitest'
import { httpApi } from '../src/http/create-http-api'
import { startCluster } from './cluster-harness'
import { tempDir } from './storage-helpers'
import { SYSTEM, expectPoll, makeToken, seedDemo, startServer } from './sync-helpers'
import { call, startReceiver } from './webhook-helpers'
import type { Received } from './webhook-helpers'

// Contacts linked automatically (a matching value equal to another contact's) and by a re-link
// are told to webhooks like manual links: once each, signed, whichever instance committed.

const cleanups: (() => Promise<void> | void)[] = []
afterEach(async () => {
  for (const cleanup of cleanups.splice(0).reverse()) await cleanup()
})

const admin = () => makeToken({ user: 'admin-1', role: 'admin', workspace: 'demo' })

/** Registers a webhook for links through `server`'s API; its secret. */
async function registerLinks(server: CardfileServer, url: string): Promise<string> {
  const answer = await call({ server }, 'POST', '/api/demo/webhooks', await admin(), {
    url,
    events: ['contact.linked'],
  })
  expect(answer.status).toBe(201)
  return answer.json.secret as string
}

/** Writes a contact with a channel identity and, as its channel would, a platform email. */
async function putContact(
  server: CardfileServer,
  id: string,
  channel: ChannelId,
  email: string | null,
): Promise<void> {
  const view = await server.host.read('demo/schema', (doc) => new SchemaDoc(doc).view())
  await server.host.transact(`demo/contact/${id}`, SYSTEM, (doc) => {
    const contact = new ContactDoc(doc, id)
    if (contact.read().profile === null) {
      contact.setProfile({ channel, platformUserId: id, hint: id, createdAt: Date.now() })
    }
    contact.setPlatformValue('email', email, SYSTEM, view)
  })
}

async function setNote(server: CardfileServer, id: string, note: string): Promise<void> {
  const view = await server.host.read('demo/schema', (doc) => new SchemaDoc(doc).view())
  await server.host.transact(`demo/contact/${id}`, SYSTEM, (doc) => {
    new ContactDoc(doc, id).setValue('note', note, SYSTEM, view)
  })
}

const editSchema = (server: CardfileServer, change: (schema: SchemaDoc) => void) =>
  server.host.transact('demo/schema', SYSTEM, (doc) => {
    const schema = new SchemaDoc(doc)
    change(schema)
    schema.destroy()
  })

/** What a delivery says about a link, after its signature was checked. */
function linkOf(r: Received, secret: string) {
  expect(verifySignature(r.raw, r.headers[SIGNATURE_HEADER] as string, secret)).toBe(true)
  expect(r.headers['x-cardfile-event']).toBe('contact.linked')
  return {
    subject: r.body.contact.id,
    ...(r.body.data as { other: string; kind: string; source: string }),
    actor: r.body.actor?.role ?? null,
  }
}

describe('automatic link webhooks', () => {
  it('tells of a contact linked by its matching value, unlinked when the value changes, and linked by a re-link, once each', async () => {
    const { dir, cleanup } = tempDir('cardfile-auto-links-')
    cleanups.push(cleanup)
    const backend = createSqliteBackend({ path: join(dir, 'cardfile.db') })
    cleanups.push(() => backend.close())
    const running = await startServer({
      backend,
      port: 0,
      host: '127.0.0.1',
      background: { pollMs: 20, leaseMs: 2000 },
      allowPrivateWebhookTargets: true,
    })
    cleanups.push(() => running.close())
    const { server } = running
    // c1: an email contact whose email is ana@example.com; the workspace links by email.
    await seedDemo(server)
    await server.idle()
    const receiver = await startReceiver(cleanups)
    const secret = await registerLinks(server, receiver.url)

    // A web chat visitor leaves the same address (another case): linked to c1.
    await putContact(server, 'w1', 'webchat', 'ANA@example.com')
    await server.idle()
    await expectPoll(() => receiver.received.length === 1)
    expect(linkOf(receiver.received[0]!, secret)).toEqual({
      subject: 'w1',
      other: 'c1',
      kind: 'link',
      source: 'match',
      actor: 'system',
    })
    // Another write of the same value links nothing new; an unrelated contact neither.
    await putContact(server, 'w1', 'webchat', 'ana@example.com')
    await putContact(server, 'w2', 'webchat', 'bo@example.com')
    await server.idle()
    expect(receiver.received).toHaveLength(1)

    // The visitor's address changes to bo's: unlinked from c1, linked to w2.
    await putContact(server, 'w1', 'webchat', 'bo@example.com')
    await server.idle()
    await expectPoll(() => receiver.received.length === 3)
    expect(receiver.received.slice(1).map((r) => linkOf(r, secret))).toEqual(
      expect.arrayContaining([
        { subject: 'w1', other: 'c1', kind: 'unlink', source: 'match', actor: 'system' },
        { subject: 'w1', other: 'w2', kind: 'link', source: 'match', actor: 'system' },
      ]),
    )

    // Linking by note instead: the re-link job links c1 and w1 (same note) and unlinks w1 and
    // w2 (no longer linked by their email).
    await setNote(server, 'c1', 'n1')
    await setNote(server, 'w1', 'n1')
    await server.idle()
    expect(receiver.received).toHaveLength(3)
    await editSchema(server, (schema) => schema.updateSettings({ matchingAttribute: 'note' }))
    await expectPoll(() => receiver.received.length === 5, 10_000)
    await server.idle()
    expect(receiver.received).toHaveLength(5)
    const relinked = receiver.received.slice(3).map((r) => linkOf(r, secret))
    expect(relinked).toEqual(
      expect.arrayContaining([
        { subject: 'c1', other: 'w1', kind: 'link', source: 'match', actor: null },
        { subject: 'w1', other: 'w2', kind: 'unlink', source: 'match', actor: null },
      ]),
    )
    // Every delivery has a key of its own: none was queued twice.
    expect(new Set(receiver.received.map((r) => r.headers[IDEMPOTENCY_HEADER])).size).toBe(5)
  })

  it('tells nothing of a pair an agent unlinked by hand, nor a second time of a pair linked by hand', async () => {
    const running = await startServer({
      port: 0,
      host: '127.0.0.1',
      background: { pollMs: 20, leaseMs: 2000 },
      allowPrivateWebhookTargets: true,
    })
    cleanups.push(() => running.close())
    const { server } = running
    await seedDemo(server)
    await putContact(server, 'w1', 'webchat', 'w1@example.com')
    await putContact(server, 'w2', 'webchat', 'w2@example.com')
    await server.idle()
    const receiver = await startReceiver(cleanups)
    const secret = await registerLinks(server, receiver.url)
    const agent = await makeToken({ user: 'agent-1', role: 'agent', workspace: 'demo' })
    // w1 is detached from c1 (unlinked by hand); w2 is linked to c1 by hand.
    for (const [other, kind] of [
      ['w1', 'unlink'],
      ['w2', 'link'],
    ] as const) {
      const answer = await call(running, 'POST', '/api/demo/contacts/c1/links', agent, {
        contactId: other,
        kind,
      })
      expect(answer.status).toBe(200)
    }
    await server.idle()
    await expectPoll(() => receiver.received.length === 2)
    expect(receiver.received.map((r) => linkOf(r, secret).source)).toEqual(['manual', 'manual'])
    // Both take c1's address: neither is told again as an automatic link.
    await putContact(server, 'w1', 'webchat', 'ana@example.com')
    await putContact(server, 'w2', 'webchat', 'ana@example.com')
    await server.idle()
    expect(receiver.received).toHaveLength(2)
  })
})

describe('automatic link webhooks with two instances', { timeout: 60_000 }, () => {
  it('tells of each pair linked once when its two contacts take one address at once on two instances, and of the links and unlinks of a re-link once', async () => {
    const cluster = await startCluster(2, {
      httpHandler: httpApi({ onError: () => undefined }),
      background: { leaseMs: 500, pollMs: 50 },
      allowPrivateWebhookTargets: true,
    })
    cleanups.push(() => cluster.close())
    const [a, b] = cluster.instances.map((i) => i.server) as [CardfileServer, CardfileServer]
    const idle = () => Promise.all([a.idle(), b.idle()])
    await editSchema(a, (schema) => {
      schema.createAttribute({ id: 'note', label: 'Note', type: 'text' })
      schema.updateSettings({ matchingAttribute: 'email' })
    })
    await idle()
    const receiver = await startReceiver(cleanups)
    const secret = await registerLinks(b, receiver.url)

    const pairs = 6
    for (let i = 0; i < pairs; i++) {
      // Both commits race: whichever commits second tells of the pair, and only it.
      await Promise.all([
        putContact(a, `e${i}`, 'email', `p${i}@example.org`),
        putContact(b, `w${i}`, 'webchat', `P${i}@example.org`),
      ])
    }
    await expectPoll(() => receiver.received.length >= pairs, 20_000)
    await idle()
    await idle()
    const links = receiver.received.map((r) => linkOf(r, secret))
    expect(links).toHaveLength(pairs)
    expect(new Set(links.map((l) => [l.subject, l.other].sort().join('+')))).toEqual(
      new Set(Array.from({ length: pairs }, (_, i) => `e${i}+w${i}`)),
    )
    expect(links.every((l) => l.kind === 'link' && l.source === 'match')).toBe(true)

    // Linking by note instead, on the other instance: the re-link (one job for the cluster)
    // unlinks every pair and links e0 with w1, the one pair with equal notes.
    await setNote(a, 'e0', 'same')
    await setNote(b, 'w1', 'same')
    await idle()
    expect(receiver.received).toHaveLength(pairs)
    await editSchema(b, (schema) => schema.updateSettings({ matchingAttribute: 'note' }))
    await expectPoll(() => receiver.received.length >= 2 * pairs + 1, 20_000)
    await idle()
    await idle()
    const relinked = receiver.received.slice(pairs).map((r) => linkOf(r, secret))
    expect(relinked).toHaveLength(pairs + 1)
    expect(
      new Set(relinked.map((l) => `${l.kind} ${[l.subject, l.other].sort().join('+')}`)),
    ).toEqual(
      new Set([...Array.from({ length: pairs }, (_, i) => `unlink e${i}+w${i}`), 'link e0+w1']),
    )
    expect(relinked.every((l) => l.source === 'match' && l.actor === null)).toBe(true)
  })
})
