import { contactDocName } from '@cardfile/core'
import { describe, expect, it } from 'vitest'
import { signToken } from '../src/tokens'
import {
  SECRET,
  WORKSPACE,
  api,
  createAttribute,
  ingest,
  startPrivacyServer,
  tokenFor,
} from './deletion-harness'
import type { PrivacyServer } from './deletion-harness'
import { connectSynced, expectPoll, fieldValue } from './sync-helpers'

interface Entry {
  readonly id: number
  readonly attributeId: string
  readonly previous: string | boolean | null
  readonly value: string | boolean | null
  readonly by: { readonly role: string; readonly userId: string }
  readonly at: number
}

const historyOf = async (
  running: PrivacyServer,
  contactId: string,
  query = '',
  token?: string,
): Promise<{ status: number; items: Entry[]; next: string | null; code?: string }> => {
  const answer = await api(
    running,
    'GET',
    `/api/${WORKSPACE}/contacts/${contactId}/history/values${query}`,
    token ?? (await tokenFor('agent')),
  )
  const error = answer.json.error as { code?: string } | undefined
  return {
    status: answer.status,
    items: (answer.json.items ?? []) as Entry[],
    next: (answer.json.next ?? null) as string | null,
    ...(error?.code === undefined ? {} : { code: error.code }),
  }
}

/** A contact with a dropdown `plan` and a text `note`, created by a channel message. */
async function setUp(running: PrivacyServer) {
  const plan = await createAttribute(running, {
    id: 'plan',
    label: 'Plan',
    type: 'dropdown',
    options: [
      { id: 'free', label: 'Free' },
      { id: 'pro', label: 'Pro' },
    ],
  })
  const note = await createAttribute(running, { id: 'note', label: 'Note', type: 'text' })
  const { contactId } = await ingest(running, {
    channel: 'email',
    platformUserId: 'ana@example.com',
    metadata: { email: 'ana@example.com' },
    message: { id: 'm1', text: 'Hello' },
  })
  return { plan, note, contactId }
}

const connect = async (
  running: PrivacyServer,
  contactId: string,
  role: 'agent' | 'bot' | 'admin',
) =>
  connectSynced(
    { wsUrl: running.server.wsUrl },
    contactDocName(WORKSPACE, contactId),
    await tokenFor(role),
  )

describe('the history of contact values', () => {
  it('keeps every change with who, when and the value before, whoever wrote it and however', async () => {
    const running = await startPrivacyServer()
    const { contactId } = await setUp(running)
    const started = Date.now()

    const agent = await connect(running, contactId, 'agent')
    agent.doc.getMap('custom').set('plan', fieldValue('free', { role: 'agent', userId: 'agent-1' }))
    await expectPoll(() => agent.saved())
    const bot = await connect(running, contactId, 'bot')
    bot.doc
      .getMap('custom')
      .set('note', fieldValue('wants a call', { role: 'bot', userId: 'bot-1' }))
    await expectPoll(() => bot.saved())
    // A refused change never happened, so it is not in the history.
    agent.doc.getMap('custom').set('plan', fieldValue('gold', { role: 'agent', userId: 'agent-1' }))
    await expectPoll(() => agent.refusals.length === 1)
    await expectPoll(() => agent.saved())
    agent.doc.getMap('flags').set('vip', fieldValue(true, { role: 'agent', userId: 'agent-1' }))
    await expectPoll(() => agent.saved())
    const admin = await connect(running, contactId, 'admin')
    admin.doc.getMap('custom').set('plan', fieldValue('pro', { role: 'admin', userId: 'admin-1' }))
    await expectPoll(() => admin.saved())
    admin.doc.getMap('custom').delete('note')
    await expectPoll(() => admin.saved())

    const all = await historyOf(running, contactId)
    expect(all.status).toBe(200)
    expect(
      all.items.map((e) => [e.attributeId, e.previous, e.value, `${e.by.role}:${e.by.userId}`]),
    ).toEqual([
      ['note', 'wants a call', null, 'admin:admin-1'],
      ['plan', 'free', 'pro', 'admin:admin-1'],
      ['vip', null, true, 'agent:agent-1'],
      ['note', null, 'wants a call', 'bot:bot-1'],
      ['plan', null, 'free', 'agent:agent-1'],
      // The channel message created the contact with its platform values, as the system.
      ['email', null, 'ana@example.com', 'system:system-1'],
    ])
    for (const entry of all.items.slice(0, 5)) {
      expect(entry.at).toBeGreaterThanOrEqual(started)
      expect(entry.at).toBeLessThanOrEqual(Date.now())
    }

    const plan = await historyOf(running, contactId, '?attribute=plan&limit=1')
    expect(plan.items.map((e) => e.value)).toEqual(['pro'])
    expect(plan.next).not.toBeNull()
    const older = await historyOf(
      running,
      contactId,
      `?attribute=plan&limit=1&cursor=${encodeURIComponent(plan.next!)}`,
    )
    expect(older.items.map((e) => e.value)).toEqual(['free'])
    expect(older.next).toBeNull()
    for (const client of [agent, bot, admin]) client.close()
  })

  it('is read by admins, agents and the system, and refuses the rest and bad queries', async () => {
    const running = await startPrivacyServer()
    const { contactId } = await setUp(running)
    for (const role of ['admin', 'agent', 'system'] as const) {
      expect((await historyOf(running, contactId, '', await tokenFor(role))).status).toBe(200)
    }
    for (const role of ['bot', 'crm'] as const) {
      const refused = await historyOf(running, contactId, '', await tokenFor(role))
      expect(refused).toMatchObject({ status: 403, code: 'forbidden' })
    }
    const elsewhere = await signToken({
      secret: SECRET,
      userId: 'eve',
      workspace: 'other',
      role: 'admin',
    })
    expect((await historyOf(running, contactId, '', elsewhere)).status).toBe(403)
    expect(await historyOf(running, 'no-such-contact')).toMatchObject({
      status: 404,
      code: 'not-found',
    })
    for (const query of ['?attribute=no%20such', '?limit=0', '?limit=500', '?cursor=abc', '?x=1']) {
      expect(await historyOf(running, contactId, query)).toMatchObject({
        status: 400,
        code: 'bad-request',
      })
    }
  })

  it('is erased with the contact: no history row remains', async () => {
    const running = await startPrivacyServer()
    const { contactId } = await setUp(running)
    const agent = await connect(running, contactId, 'agent')
    agent.doc
      .getMap('custom')
      .set('note', fieldValue('secret-note-7781', { role: 'agent', userId: 'agent-1' }))
    await expectPoll(() => agent.saved())
    expect((await historyOf(running, contactId)).items.length).toBeGreaterThan(1)

    const deleted = await api(
      running,
      'DELETE',
      `/api/${WORKSPACE}/contacts/${contactId}`,
      await tokenFor('admin'),
    )
    expect(deleted.status).toBe(200)
    const page = await running.backend.valueHistory.list(WORKSPACE, contactId, {
      attributeId: null,
      limit: 200,
      cursor: null,
    })
    expect(page.items).toEqual([])
    expect(await historyOf(running, contactId)).toMatchObject({ status: 410, code: 'deleted' })
    agent.close()
  })
})
