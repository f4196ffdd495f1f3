import { ContactDoc, SchemaDoc, contactDocName, schemaDocName } from '@cardfile/core'
import type { Plan, Role } from '@cardfile/core'
import { afterEach, describe, expect, it } from 'vitest'
import { httpApi } from '../src/http/create-http-api'
import { within } from '../src/http/within'
import { signToken } from '../src/tokens'
import { startCluster } from './cluster-harness'
import type { TestServer } from './sync-helpers'
import {
  SECRET,
  SYSTEM,
  connectRaw,
  connectSynced,
  editSchema,
  expectPoll,
  fieldValue,
  loadFromStorage,
  startServer,
} from './sync-helpers'

const cleanups: (() => Promise<void>)[] = []
afterEach(async () => {
  for (const cleanup of cleanups.splice(0).reverse()) await cleanup()
})

/** A server that creates workspaces only when told to (the default), with its HTTP API. */
async function start(): Promise<TestServer & { url: string }> {
  const t = await startServer({
    autoCreateWorkspaces: undefined,
    crm: {},
    host: '127.0.0.1',
    httpHandler: httpApi({ onError: () => undefined }),
  })
  cleanups.push(() => t.close())
  return { ...t, url: t.server.url }
}

const tokenFor = (role: Role, workspace = 'acme') =>
  signToken({ secret: SECRET, userId: `${role}-1`, workspace, role })

async function call(
  t: { url: string },
  method: string,
  path: string,
  role: Role,
  body?: unknown,
  workspace = 'acme',
): Promise<{ status: number; json: Record<string, unknown> }> {
  const res = await fetch(`${t.url}${path}`, {
    method,
    headers: {
      authorization: `Bearer ${await tokenFor(role, workspace)}`,
      ...(body === undefined ? {} : { 'content-type': 'application/json' }),
    },
    ...(body === undefined ? {} : { body: JSON.stringify(body) }),
  })
  return { status: res.status, json: (await res.json()) as Record<string, unknown> }
}

const codeOf = (json: Record<string, unknown>) =>
  (json.error as { code?: string } | undefined)?.code

const planIn = (doc: { getMap(name: string): { get(key: string): unknown } }) =>
  doc.getMap('settings').get('plan')

describe('workspaces that were never created', () => {
  it('refuses connections and requests with unknown-workspace and stores nothing', async () => {
    const t = await start()
    const client = await connectRaw(t.server, 'ghost/contact/c1', await tokenFor('admin', 'ghost'))
    expect(await client.closed).toEqual({ code: 4404, reason: 'unknown-workspace' })
    const inbound = await call(
      t,
      'POST',
      '/api/ghost/inbound',
      'system',
      { channel: 'email', platformUserId: 'a@example.com', message: { text: 'Hi' } },
      'ghost',
    )
    expect(inbound.status).toBe(404)
    expect(codeOf(inbound.json)).toBe('unknown-workspace')
    const list = await call(t, 'GET', '/api/ghost/contacts', 'admin', undefined, 'ghost')
    expect(list.status).toBe(404)
    expect(codeOf(list.json)).toBe('unknown-workspace')
    expect(await t.backend.documents.load(schemaDocName('ghost'))).toEqual([])
    expect(await t.backend.documents.load(contactDocName('ghost', 'c1'))).toEqual([])
    const page = await t.backend.index.listContacts('ghost', { limit: 10, cursor: null })
    expect(page.items).toEqual([])
  })
})

describe('POST /api/<ws>/workspace and PUT /api/<ws>/plan', () => {
  it('creates a workspace on a plan for system tokens only, once', async () => {
    const t = await start()
    for (const role of ['admin', 'agent', 'bot', 'crm'] as const) {
      const refused = await call(t, 'POST', '/api/acme/workspace', role, { plan: 'business' })
      expect(refused.status).toBe(403)
      expect(codeOf(refused.json)).toBe('forbidden')
    }
    expect(await t.backend.documents.load(schemaDocName('acme'))).toEqual([])
    for (const body of [{ plan: 'gold' }, { plan: 'business', extra: 1 }, {}]) {
      const bad = await call(t, 'POST', '/api/acme/workspace', 'system', body)
      expect(bad.status).toBe(400)
      expect(codeOf(bad.json)).toBe('bad-request')
    }
    const created = await call(t, 'POST', '/api/acme/workspace', 'system', { plan: 'business' })
    expect(created).toEqual({ status: 201, json: { workspace: 'acme', plan: 'business' } })
    const again = await call(t, 'POST', '/api/acme/workspace', 'system', { plan: 'standard' })
    expect(again.status).toBe(409)
    expect(codeOf(again.json)).toBe('workspace-exists')
    expect(await call(t, 'GET', '/api/acme/workspace', 'system')).toEqual({
      status: 200,
      json: { workspace: 'acme', plan: 'business' },
    })
    // Stored with the channel catalogue and every default setting, on its plan.
    const stored = await loadFromStorage(t.backend, schemaDocName('acme'))
    const schema = new SchemaDoc(stored)
    expect(schema.settings().plan).toBe('business')
    expect(schema.definition('email')?.kind).toBe('platform')
    schema.destroy()
    const ok = await connectSynced(t.server, 'acme/schema', await tokenFor('agent'))
    expect(planIn(ok.doc)).toBe('business')
    ok.close()
  })

  it('changes the plan live for connected clients, durably, and refuses others', async () => {
    const t = await start()
    await t.server.host.createWorkspace('acme', 'enterprise')
    const client = await connectSynced(t.server, 'acme/schema', await tokenFor('admin'))
    expect(planIn(client.doc)).toBe('enterprise')
    for (const role of ['admin', 'agent', 'bot', 'crm'] as const) {
      const refused = await call(t, 'PUT', '/api/acme/plan', role, { plan: 'standard' })
      expect(refused.status).toBe(403)
    }
    const bad = await call(t, 'PUT', '/api/acme/plan', 'system', { plan: 'platinum' })
    expect(bad.status).toBe(400)
    expect(codeOf(bad.json)).toBe('bad-request')
    const unknown = await call(t, 'PUT', '/api/ghost/plan', 'system', { plan: 'standard' }, 'ghost')
    expect(unknown.status).toBe(404)
    expect(codeOf(unknown.json)).toBe('unknown-workspace')
    expect(planIn(client.doc)).toBe('enterprise')

    const lowered = await call(t, 'PUT', '/api/acme/plan', 'system', { plan: 'business' })
    expect(lowered).toEqual({
      status: 200,
      json: { workspace: 'acme', plan: 'business', previous: 'enterprise' },
    })
    await expectPoll(() => planIn(client.doc) === 'business')
    expect(planIn(await loadFromStorage(t.backend, schemaDocName('acme')))).toBe('business')
    expect(client.closeInfo).toBeNull()
    client.close()
  })

  it('lowering a plan keeps every value and switches VIP, CRM and exports off until raised', async () => {
    const t = await start()
    await t.server.host.createWorkspace('acme', 'enterprise')
    await editSchema(t.server, 'acme', (s) =>
      s.createAttribute({ id: 'tier', label: 'Tier', type: 'text', crmManaged: true }),
    )
    const view = await t.server.host.read(schemaDocName('acme'), (doc) =>
      within(new SchemaDoc(doc), (s) => s.view()),
    )
    await t.server.host.transact(contactDocName('acme', 'c1'), SYSTEM, (doc) =>
      within(new ContactDoc(doc, 'c1'), (contact) => {
        contact.setProfile({
          channel: 'email',
          platformUserId: 'ana@example.com',
          hint: 'an***@example.com',
          createdAt: 1_700_000_000_000,
        })
        contact.setValue('tier', 'gold', SYSTEM, view)
        contact.setVip(true, SYSTEM, view)
      }),
    )
    const setPlan = (plan: Plan) => call(t, 'PUT', '/api/acme/plan', 'system', { plan })
    const features = async () => ({
      exports: (await call(t, 'POST', '/api/acme/exports', 'admin', { type: 'contact-attributes' }))
        .status,
      crm: (await call(t, 'GET', '/api/acme/crm/config', 'admin')).status,
    })
    expect(await features()).toEqual({ exports: 202, crm: 200 })

    expect((await setPlan('business')).status).toBe(200)
    expect(await features()).toEqual({ exports: 403, crm: 403 })
    const agent = await connectSynced(t.server, 'acme/contact/c1', await tokenFor('agent'))
    agent.doc.getMap('flags').set('vip', fieldValue(false, { role: 'agent', userId: 'agent-1' }))
    await expectPoll(() => agent.refusals.length === 1)
    expect(agent.refusals[0]).toMatchObject({ key: 'vip', code: 'plan-lacks-feature' })
    // Nothing was lost: the VIP flag and the CRM value are kept, only unused.
    const kept = await loadFromStorage(t.backend, contactDocName('acme', 'c1'))
    expect((kept.getMap('flags').get('vip') as { value: boolean }).value).toBe(true)
    expect((kept.getMap('custom').get('tier') as { value: string }).value).toBe('gold')

    expect((await setPlan('enterprise')).status).toBe(200)
    expect(await features()).toEqual({ exports: 202, crm: 200 })
    agent.doc.getMap('flags').set('vip', fieldValue(false, { role: 'agent', userId: 'agent-1' }))
    await expectPoll(
      () => (agent.doc.getMap('flags').get('vip') as { value: boolean }).value === false,
    )
    await expectPoll(() => agent.saved())
    expect(agent.refusals).toHaveLength(1)
    agent.close()
  })
})

describe('CRM-managed attributes and the plan', () => {
  it('refuses a hostile admin marking an attribute CRM-managed on a plan without the CRM', async () => {
    const t = await start()
    await t.server.host.createWorkspace('acme', 'business')
    await editSchema(t.server, 'acme', (s) =>
      s.createAttribute({ id: 'note', label: 'Note', type: 'text' }),
    )
    const admin = await connectSynced(t.server, 'acme/schema', await tokenFor('admin'))
    admin.doc.getMap('attributes').set('note:crmManaged', true)
    await expectPoll(() => admin.refusals.length === 1)
    expect(admin.refusals[0]).toMatchObject({
      key: 'note:crmManaged',
      code: 'plan-lacks-feature',
    })
    await expectPoll(() => admin.doc.getMap('attributes').get('note:crmManaged') === false)
    const stored = await loadFromStorage(t.backend, schemaDocName('acme'))
    expect(stored.getMap('attributes').get('note:crmManaged')).toBe(false)

    // Raised to a plan with the CRM, the same admin may.
    await t.server.host.transact(schemaDocName('acme'), SYSTEM, (doc) =>
      doc.getMap('settings').set('plan', 'enterprise'),
    )
    await expectPoll(() => planIn(admin.doc) === 'enterprise')
    admin.doc.getMap('attributes').set('note:crmManaged', true)
    await expectPoll(() => admin.saved())
    expect(admin.refusals).toHaveLength(1)
    expect(
      (await loadFromStorage(t.backend, schemaDocName('acme')))
        .getMap('attributes')
        .get('note:crmManaged'),
    ).toBe(true)
    admin.close()
  })

  it('lets admins edit CRM-managed values while agents stay locked out by the setting', async () => {
    const t = await start()
    await t.server.host.createWorkspace('acme', 'enterprise')
    await editSchema(t.server, 'acme', (s) => {
      s.createAttribute({ id: 'tier', label: 'Tier', type: 'text', crmManaged: true })
      s.updateSettings({ agentsMayEditCrm: false })
    })
    await t.server.host.transact(contactDocName('acme', 'c1'), SYSTEM, (doc) =>
      within(new ContactDoc(doc, 'c1'), (contact) =>
        contact.setProfile({
          channel: 'email',
          platformUserId: 'ana@example.com',
          hint: 'an***@example.com',
          createdAt: 1_700_000_000_000,
        }),
      ),
    )
    const admin = await connectSynced(t.server, 'acme/contact/c1', await tokenFor('admin'))
    const agent = await connectSynced(t.server, 'acme/contact/c1', await tokenFor('agent'))
    admin.doc.getMap('custom').set('tier', fieldValue('gold', { role: 'admin', userId: 'admin-1' }))
    await expectPoll(() => admin.saved())
    expect(admin.refusals).toEqual([])
    agent.doc.getMap('custom').set('tier', fieldValue('tin', { role: 'agent', userId: 'agent-1' }))
    await expectPoll(() => agent.refusals.length === 1)
    expect(agent.refusals[0]).toMatchObject({ key: 'tier', code: 'crm-managed-locked' })
    const stored = await loadFromStorage(t.backend, contactDocName('acme', 'c1'))
    expect((stored.getMap('custom').get('tier') as { value: string }).value).toBe('gold')
    admin.close()
    agent.close()
  })
})

describe('plans across instances', () => {
  it('creates on one instance and changes the plan there, live for a client of another', async () => {
    const cluster = await startCluster(2, {
      autoCreateWorkspaces: undefined,
      host: '127.0.0.1',
      httpHandler: httpApi({ onError: () => undefined }),
    })
    cleanups.push(() => cluster.close())
    const [a, b] = cluster.instances as [
      (typeof cluster.instances)[number],
      (typeof cluster.instances)[number],
    ]
    const onB = { url: b.server.url }
    const ghost = await connectRaw(a.server, 'acme/schema', await tokenFor('admin'))
    expect(await ghost.closed).toEqual({ code: 4404, reason: 'unknown-workspace' })

    const created = await call(onB, 'POST', '/api/acme/workspace', 'system', { plan: 'enterprise' })
    expect(created.status).toBe(201)
    const client = await connectSynced(a.server, 'acme/schema', await tokenFor('admin'))
    expect(planIn(client.doc)).toBe('enterprise')
    const lowered = await call(onB, 'PUT', '/api/acme/plan', 'system', { plan: 'standard' })
    expect(lowered.json).toEqual({ workspace: 'acme', plan: 'standard', previous: 'enterprise' })
    await expectPoll(() => planIn(client.doc) === 'standard', 10_000)
    expect(planIn(await loadFromStorage(a.backend, schemaDocName('acme')))).toBe('standard')
    client.close()
  })
})
