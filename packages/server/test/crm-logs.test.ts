import { ContactDoc, SchemaDoc } from '@cardfile/core'
import type { Actor } from '@cardfile/core'
import { afterEach, describe, expect, it } from 'vitest'
import { createCardfileServer } from '@cardfile/server'
import { createMemoryBackend } from '@cardfile/server/memory'
import type { Backend } from '@cardfile/server'
import { CrmCallError } from '../src/crm/adapter'
import type { CrmAdapter } from '../src/crm/adapter'
import { startConversationV1 } from './sync-helpers'

const cleanups: (() => Promise<void> | void)[] = []
afterEach(async () => {
  for (const cleanup of cleanups.splice(0).reverse()) await cleanup()
})

const SECRET_VALUE = 'anna.secret@example.com'
const ADMIN: Actor = { userId: 'ana', role: 'admin' }

/** A logger that keeps every line it is given, as the server log would. */
function recordingLogger() {
  const lines: string[] = []
  const keep =
    (level: string) =>
    (message: string, context?: Record<string, unknown>): void => {
      lines.push(`${level} ${message} ${JSON.stringify(context ?? {})}`)
    }
  return {
    lines,
    logger: { debug: keep('debug'), info: keep('info'), warn: keep('warn'), error: keep('error') },
  }
}

describe('CRM logs hold no contact values', () => {
  it('logs a dead delivery by kind and status, never the CRM answer that echoed a value', async () => {
    const backend: Backend = createMemoryBackend()
    cleanups.push(() => backend.close())
    const { lines, logger } = recordingLogger()
    const adapter: CrmAdapter = {
      requiresUrls: false,
      async lookup() {
        return { found: false }
      },
      async deliver() {
        throw new CrmCallError(
          'status',
          `the CRM answered 422: {"email":"${SECRET_VALUE}"}`,
          false,
          422,
        )
      },
    }
    const server = await createCardfileServer({
      autoCreateWorkspaces: 'advanced',
      backend,
      auth: { secret: 's' },
      host: '127.0.0.1',
      crm: { adapter, retry: { maxAttempts: 1, baseDelayMs: 1, maxDelayMs: 1 } },
      logger,
    })
    cleanups.push(() => server.close())
    await server.host.transact('acme/schema', ADMIN, (doc) => {
      const schema = new SchemaDoc(doc)
      schema.updateSettings({ plan: 'enterprise' })
      schema.destroy()
    })
    await server.crm!.updateConfig('acme', { enabled: true })
    // A conversation starts: its notification is refused for good.
    await startConversationV1(server, 'acme', ADMIN)
    await server.idle()

    expect((await server.crm!.metrics('acme')).deliveries.dead).toBe(1)
    const [dead] = await server.crm!.deliveries('acme', { state: 'dead', limit: 1 })
    // Admins read the answer with the delivery...
    expect(dead?.lastError).toContain(SECRET_VALUE)
    // ...the log has the kind of failure and the status.
    expect(lines.some((line) => line.includes('CRM delivery is dead'))).toBe(true)
    expect(lines.some((line) => line.includes('"status":422'))).toBe(true)
    expect(lines.join('\n')).not.toContain(SECRET_VALUE)
  })

  it('logs a refused look-up without the value the CRM sent; admins still read the reason', async () => {
    const backend: Backend = createMemoryBackend()
    cleanups.push(() => backend.close())
    const { lines, logger } = recordingLogger()
    const adapter: CrmAdapter = {
      requiresUrls: false,
      async lookup() {
        return { found: true, values: { tier: SECRET_VALUE } }
      },
      async deliver() {},
    }
    const server = await createCardfileServer({
      autoCreateWorkspaces: 'advanced',
      backend,
      auth: { secret: 's' },
      host: '127.0.0.1',
      crm: { adapter },
      logger,
    })
    cleanups.push(() => server.close())
    await server.host.transact('acme/schema', ADMIN, (doc) => {
      const schema = new SchemaDoc(doc)
      schema.createAttribute({
        id: 'tier',
        label: 'Tier',
        type: 'dropdown',
        crmManaged: true,
        options: [
          { id: 'gold', label: 'Gold' },
          { id: 'silver', label: 'Silver' },
        ],
      })
      schema.destroy()
    })
    await server.host.transact('acme/contact/c1', ADMIN, (doc) => {
      const contact = new ContactDoc(doc, 'c1')
      contact.setProfile({ channel: 'email', platformUserId: 'c1', hint: 'c***', createdAt: 1 })
      contact.destroy()
    })
    await server.crm!.updateConfig('acme', { enabled: true })

    const outcome = await server.crm!.lookup('acme', 'c1', 'agent')
    expect(outcome.outcome).toBe('refused')
    expect(outcome.reason).toContain(SECRET_VALUE)
    expect(lines.some((line) => line.includes('"why":"invalid-value"'))).toBe(true)
    expect(lines.join('\n')).not.toContain(SECRET_VALUE)
  })
})
