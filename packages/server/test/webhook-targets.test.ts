import { join } from 'node:path'
import type { Role } from '@cardfile/core'
import { createSqliteBackend } from '@cardfile/server/sqlite'
import { afterEach, describe, expect, it } from 'vitest'
import {
  checkOutboundTarget,
  checkResolvedTarget,
  isPrivateAddress,
} from '../src/http/outbound-target'
import { tempDir } from './storage-helpers'
import { editSchema, expectPoll, makeToken, seedDemo, startServer } from './sync-helpers'
import type { TestServer } from './sync-helpers'
import { call, startReceiver } from './webhook-helpers'

const cleanups: (() => Promise<void> | void)[] = []
afterEach(async () => {
  for (const cleanup of cleanups.splice(0).reverse()) await cleanup()
})

async function start(allowPrivateWebhookTargets?: boolean): Promise<TestServer> {
  const { dir, cleanup } = tempDir('cardfile-webhook-targets-')
  cleanups.push(cleanup)
  const backend = createSqliteBackend({ path: join(dir, 'cardfile.db') })
  cleanups.push(() => backend.close())
  const running = await startServer({
    backend,
    port: 0,
    host: '127.0.0.1',
    background: { pollMs: 20, leaseMs: 2000 },
    webhooks: { retry: { maxAttempts: 3, baseDelayMs: 20, maxDelayMs: 40 }, random: () => 0 },
    ...(allowPrivateWebhookTargets === undefined ? {} : { allowPrivateWebhookTargets }),
  })
  cleanups.push(() => running.close())
  await seedDemo(running.server)
  await editSchema(running.server, 'demo', (s) => s.updateSettings({ vipEnabled: true }))
  return running
}

const token = (role: Role) => makeToken({ user: `${role}-1`, role, workspace: 'demo' })

const register = async (running: TestServer, url: string) =>
  call(running, 'POST', '/api/demo/webhooks', await token('admin'), {
    url,
    events: ['contact.attributes-changed'],
  })

const writeNote = async (running: TestServer, note: string) => {
  const answer = await call(
    running,
    'PATCH',
    '/api/demo/contacts/c1/values',
    await token('agent'),
    { note },
  )
  expect(answer.status).toBe(200)
}

/** The dead letter, polled until it holds `count` deliveries. */
async function deadLetter(running: TestServer, count = 1) {
  const admin = await token('admin')
  let dead: { id: string; lastError: string; attempts: number }[] = []
  for (let i = 0; i < 400 && dead.length < count; i += 1) {
    dead = (await call(running, 'GET', '/api/demo/webhooks/deliveries?state=dead', admin)).json
      .items as typeof dead
    if (dead.length < count) await new Promise((resolve) => setTimeout(resolve, 20))
  }
  return dead
}

const FORBIDDEN = [
  // loopback, in every spelling the URL parser accepts
  'http://127.0.0.1/hook',
  'http://127.1.2.3:8080/hook',
  'http://2130706433/hook',
  'http://0x7f.0.0.1/hook',
  'http://0177.0.0.1/hook',
  'http://[::1]/hook',
  'http://[::ffff:127.0.0.1]/hook',
  'http://[::ffff:7f00:1]/hook',
  'http://localhost/hook',
  'http://LOCALHOST./hook',
  'http://api.localhost:9000/hook',
  // unspecified
  'http://0.0.0.0/hook',
  'http://0/hook',
  'http://[::]/hook',
  // link-local and the cloud metadata endpoint
  'http://169.254.169.254/latest/meta-data/',
  'http://[fe80::1]/hook',
  'http://[::ffff:169.254.169.254]/hook',
  // private
  'http://10.0.0.5/hook',
  'https://172.16.0.1/hook',
  'https://172.31.255.255/hook',
  'http://192.168.1.1/hook',
  'http://[::ffff:10.1.2.3]/hook',
  // unique-local IPv6
  'http://[fd00::1]/hook',
  'http://[fc12:3456::1]/hook',
  // NAT64 and 6to4 forms of loopback
  'http://[64:ff9b::7f00:1]/hook',
  'http://[2002:7f00:1::]/hook',
]

describe('webhook targets', () => {
  it.each(FORBIDDEN)('refuses to register %s with forbidden-target', async (url) => {
    await expect(
      (async () => checkResolvedTarget(checkOutboundTarget(url, false), false))(),
    ).rejects.toMatchObject({ code: 'forbidden-target' })
  })

  it('classifies addresses: private ranges refused, public ones and neighbours of the ranges let through', () => {
    for (const address of [
      '172.15.255.255',
      '172.32.0.1',
      '93.184.216.34',
      '8.8.8.8',
      '2606:4700::1111',
      '::ffff:93.184.216.34',
      '100.128.0.1',
      '11.0.0.1',
    ]) {
      expect(isPrivateAddress(address), address).toBe(false)
    }
    for (const address of ['100.64.0.1', '224.0.0.1', '255.255.255.255', 'ff02::1', 'not-an-ip']) {
      expect(isPrivateAddress(address), address).toBe(true)
    }
  })

  it('answers each forbidden registration with a 400 forbidden-target and stores nothing', async () => {
    const running = await start()
    for (const url of [
      'http://127.0.0.1:1/hook',
      'http://2130706433/hook',
      'http://0x7f.0.0.1/hook',
      'http://[::ffff:127.0.0.1]/hook',
      'http://169.254.169.254/latest/meta-data/',
      'http://10.0.0.1/hook',
      'http://172.16.5.4/hook',
      'http://192.168.0.10/hook',
      'http://[fd12::1]/hook',
      'http://[::1]/hook',
      'http://0.0.0.0/hook',
      'http://localhost:8080/hook',
      'https://user:secret@hooks.example.com/hook',
      'https://:secret@hooks.example.com/hook',
    ]) {
      const answer = await register(running, url)
      expect(answer.status, url).toBe(400)
      expect(answer.json.error, url).toEqual(expect.objectContaining({ code: 'forbidden-target' }))
    }
    // Not http(s) at all: refused as a bad request before any address is looked at.
    for (const url of ['file:///etc/passwd', 'gopher://127.0.0.1/', 'ftp://example.com/']) {
      expect((await register(running, url)).status, url).toBe(400)
    }
    expect(
      (await call(running, 'GET', '/api/demo/webhooks', await token('admin'))).json.items,
    ).toEqual([])
  })

  it('refuses credentials in the URL even when private targets are allowed', async () => {
    const running = await start(true)
    const answer = await register(running, 'http://user:pw@127.0.0.1:9/hook')
    expect(answer.status).toBe(400)
    expect(answer.json.error).toEqual(expect.objectContaining({ code: 'forbidden-target' }))
    expect((await register(running, 'http://127.0.0.1:9/hook')).status).toBe(201)
  })

  it('refuses at delivery a host name that resolves to loopback (DNS rebinding): dead with the reason, nothing sent', async () => {
    const running = await start()
    const receiver = await startReceiver(cleanups)
    // Stored as a registration made while the name resolved elsewhere would be.
    const now = Date.now()
    for (const [id, url] of [
      ['by-name', `http://localhost:${receiver.port}/hook`],
      ['by-literal', `http://[::ffff:127.0.0.1]:${receiver.port}/hook`],
    ] as const) {
      await running.backend.webhooks.create({
        id,
        workspace: 'demo',
        url,
        events: ['contact.attributes-changed'],
        secret: 'ab'.repeat(32),
        createdAt: now,
        updatedAt: now,
      })
    }
    await writeNote(running, 'rebound')
    const dead = await deadLetter(running, 2)
    expect(dead).toHaveLength(2)
    for (const delivery of dead) {
      // Refused once, not retried: the address will not become public by waiting.
      expect(delivery.attempts).toBe(1)
      expect(delivery.lastError).toMatch(/loopback, private or link-local/)
    }
    await running.server.idle()
    expect(receiver.received).toHaveLength(0)
  })

  it('does not follow a redirect, even to an address it may reach: the delivery is dead with the reason', async () => {
    const running = await start(true)
    const target = await startReceiver(cleanups)
    const redirecting = await startReceiver(cleanups)
    redirecting.state.answer = () => 307
    redirecting.state.headers = { location: target.url }
    expect((await register(running, redirecting.url)).status).toBe(201)
    await writeNote(running, 'moved')
    const dead = await deadLetter(running)
    expect(dead).toEqual([
      expect.objectContaining({
        attempts: 1,
        lastError: 'the receiver answered 307; redirects are not followed',
      }),
    ])
    expect(redirecting.received).toHaveLength(1)
    expect(target.received).toHaveLength(0)
  })

  it('delivers to a receiver on this machine when the operator allowed private targets', async () => {
    const running = await start(true)
    const receiver = await startReceiver(cleanups)
    expect((await register(running, `http://localhost:${receiver.port}/hook`)).status).toBe(201)
    await writeNote(running, 'allowed')
    await expectPoll(() => receiver.received.length === 1)
  })
})
