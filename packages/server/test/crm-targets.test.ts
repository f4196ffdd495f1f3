import { join } from 'node:path'
import type { Role } from '@cardfile/core'
import type { CardfileServerOptions } from '@cardfile/server'
import { createSqliteBackend } from '@cardfile/server/sqlite'
import { afterEach, describe, expect, it } from 'vitest'
import { CRM_DELIVERY, deliveryLane } from '../src/crm/delivery-job'
import type { DeliveryInput } from '../src/crm/delivery-job'
import { isTrustedTarget } from '../src/http/outbound-target'
import { tempDir } from './storage-helpers'
import { editSchema, makeToken, seedDemo, startServer } from './sync-helpers'
import type { TestServer } from './sync-helpers'
import { call, startReceiver } from './webhook-helpers'

const cleanups: (() => Promise<void> | void)[] = []
afterEach(async () => {
  for (const cleanup of cleanups.splice(0).reverse()) await cleanup()
})

async function start(
  options: Partial<CardfileServerOptions> = {},
  on?: TestServer['backend'],
): Promise<TestServer> {
  let backend = on
  if (backend === undefined) {
    const { dir, cleanup } = tempDir('cardfile-crm-targets-')
    cleanups.push(cleanup)
    const fresh = createSqliteBackend({ path: join(dir, 'cardfile.db') })
    cleanups.push(() => fresh.close())
    backend = fresh
  }
  const running = await startServer({
    backend,
    port: 0,
    host: '127.0.0.1',
    background: { pollMs: 20, leaseMs: 2000 },
    crm: { timeoutMs: 2000, retry: { maxAttempts: 3, baseDelayMs: 20, maxDelayMs: 40 } },
    ...options,
  })
  cleanups.push(() => running.close())
  if (on !== undefined) return running
  await seedDemo(running.server)
  await editSchema(running.server, 'demo', (s) => s.updateSettings({ plan: 'enterprise' }))
  return running
}

const token = (role: Role) => makeToken({ user: `${role}-1`, role, workspace: 'demo' })

const configure = async (running: TestServer, urls: Record<string, string | boolean | null>) =>
  call(running, 'PUT', '/api/demo/crm/config', await token('admin'), urls)

const testConnection = async (running: TestServer) => {
  const answer = await call(running, 'POST', '/api/demo/crm/test', await token('admin'))
  expect(answer.status).toBe(200)
  return answer.json as { ok: boolean; outcome: string; status: number | null; reason: string }
}

/**
 * A server whose CRM URLs point at `url`, configured while private targets were allowed (as a
 * name that resolved elsewhere then would be), then restarted on the same storage without.
 */
async function configuredEarlier(url: string): Promise<TestServer> {
  const earlier = await start({ allowPrivateOutboundTargets: true })
  const answer = await configure(earlier, {
    enabled: true,
    lookupUrl: url,
    writeBackUrl: url,
    notificationUrl: url,
  })
  expect(answer.status).toBe(200)
  await earlier.close()
  return start({}, earlier.backend)
}

const FORBIDDEN = [
  'http://127.0.0.1:9/crm',
  'http://169.254.169.254/latest/meta-data/',
  'http://[::1]/crm',
  'http://2130706433/crm',
  'http://0x7f.0.0.1/crm',
  'http://[::ffff:127.0.0.1]/crm',
  'http://localhost:9/crm',
  'http://10.0.0.5/crm',
]

describe('CRM targets', () => {
  it('refuses every private CRM URL in each field with forbidden-target (400) and stores nothing', async () => {
    const running = await start()
    for (const field of ['lookupUrl', 'writeBackUrl', 'notificationUrl']) {
      for (const url of FORBIDDEN) {
        const answer = await configure(running, { [field]: url })
        expect({ url, field, status: answer.status, error: answer.json.error }).toEqual({
          url,
          field,
          status: 400,
          error: expect.objectContaining({ code: 'forbidden-target', field }),
        })
      }
    }
    const stored = await call(running, 'GET', '/api/demo/crm/config', await token('admin'))
    expect(stored.json).toMatchObject({
      lookupUrl: null,
      writeBackUrl: null,
      notificationUrl: null,
    })
  })

  it('answers a connection test against a host that now resolves to loopback with the reason, sending nothing', async () => {
    for (const host of ['localhost', '[::ffff:127.0.0.1]']) {
      const receiver = await startReceiver(cleanups)
      const running = await configuredEarlier(`http://${host}:${receiver.port}/lookup`)
      const result = await testConnection(running)
      expect(result).toMatchObject({ ok: false, outcome: 'unreachable', status: null })
      expect(result.reason).toMatch(/loopback, private or link-local/)
      expect(receiver.received).toHaveLength(0)
    }
  })

  it('fails a lookup to such a host with the reason instead of calling it', async () => {
    const receiver = await startReceiver(cleanups)
    const running = await configuredEarlier(`http://localhost:${receiver.port}/lookup`)
    const answer = await call(running, 'POST', '/api/demo/contacts/c1/lookup', await token('agent'))
    expect(answer.status).toBe(200)
    expect(answer.json).toMatchObject({ outcome: 'failed' })
    expect(answer.json.reason).toMatch(/loopback, private or link-local/)
    expect(receiver.received).toHaveLength(0)
  })

  it('sends a delivery to such a host to the dead letter at once with the reason, unsent', async () => {
    const receiver = await startReceiver(cleanups)
    const running = await configuredEarlier(`http://localhost:${receiver.port}/notification`)
    const input: DeliveryInput = {
      contactId: 'c1',
      kind: 'notification',
      body: JSON.stringify({ type: 'notification', sequence: 1 }),
      attributeIds: [],
    }
    await running.backend.jobs.enqueue({
      kind: CRM_DELIVERY,
      workspace: 'demo',
      key: 'c1/1',
      lane: deliveryLane('demo', 'c1'),
      input,
    })
    const admin = await token('admin')
    let dead: { attempts: number; lastError: string }[] = []
    await expect
      .poll(async () => {
        dead = (await call(running, 'GET', '/api/demo/crm/deliveries?state=dead', admin)).json
          .items as typeof dead
        return dead.length
      })
      .toBe(1)
    // Refused once, not retried: the address will not become public by waiting.
    expect(dead[0]!.attempts).toBe(1)
    expect(dead[0]!.lastError).toMatch(/loopback, private or link-local/)
    expect(receiver.received).toHaveLength(0)
  })

  it('does not follow a redirect, even to an address it may reach: the test says the CRM answered 307', async () => {
    const running = await start({ allowPrivateOutboundTargets: true })
    const target = await startReceiver(cleanups)
    const redirecting = await startReceiver(cleanups)
    redirecting.state.answer = () => 307
    redirecting.state.headers = { location: target.url }
    expect((await configure(running, { lookupUrl: redirecting.url })).status).toBe(200)
    expect(await testConnection(running)).toMatchObject({
      ok: false,
      outcome: 'rejected',
      status: 307,
      reason: 'the CRM answered 307; redirects are not followed',
    })
    expect(redirecting.received).toHaveLength(1)
    expect(target.received).toHaveLength(0)
  })

  it('calls a CRM on this machine when the operator allowed private targets, under either name', async () => {
    for (const optOut of [
      { allowPrivateOutboundTargets: true },
      { allowPrivateWebhookTargets: true },
    ]) {
      const running = await start(optOut)
      const receiver = await startReceiver(cleanups)
      const url = `http://localhost:${receiver.port}/lookup`
      expect((await configure(running, { lookupUrl: url })).status).toBe(200)
      // The receiver answers no lookup answer: reached, and malformed.
      expect(await testConnection(running)).toMatchObject({ outcome: 'malformed' })
      expect(receiver.received).toHaveLength(1)
    }
  })

  it('trusts the CRM the operator configured, and no other address on this machine', async () => {
    const receiver = await startReceiver(cleanups)
    const base = `http://127.0.0.1:${receiver.port}/cardfile`
    const running = await start({
      crm: { timeoutMs: 2000, trustedUrls: [base] },
    })
    expect((await configure(running, { lookupUrl: `${base}/lookup` })).status).toBe(200)
    expect(await testConnection(running)).toMatchObject({ outcome: 'malformed' })
    expect(receiver.received).toHaveLength(1)
    for (const other of [
      `http://127.0.0.1:${receiver.port + 1}/cardfile/lookup`,
      `http://127.0.0.1:${receiver.port}/cardfilex/lookup`,
      `http://127.0.0.1:${receiver.port}/lookup`,
      `http://localhost:${receiver.port}/cardfile/lookup`,
    ]) {
      const answer = await configure(running, { lookupUrl: other })
      expect({ other, status: answer.status }).toEqual({ other, status: 400 })
    }
  })

  it('matches trusted base URLs by scheme, host, port and whole path segments', () => {
    const trusted = ['http://localhost:4100/cardfile/']
    expect(isTrustedTarget(new URL('http://localhost:4100/cardfile/lookup'), trusted)).toBe(true)
    expect(isTrustedTarget(new URL('http://localhost:4100/cardfile'), trusted)).toBe(true)
    for (const url of [
      'https://localhost:4100/cardfile/lookup',
      'http://localhost:41000/cardfile/lookup',
      'http://localhost:4100/cardfile-x/lookup',
      'http://localhost:4100@127.0.0.1:22/cardfile/lookup',
      'http://127.0.0.1:4100/cardfile/lookup',
    ]) {
      expect({ url, trusted: isTrustedTarget(new URL(url), trusted) }).toEqual({
        url,
        trusted: false,
      })
    }
  })
})
