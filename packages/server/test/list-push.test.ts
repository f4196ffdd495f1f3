import { afterEach, describe, expect, it } from 'vitest'
import { SchemaDoc } from '@cardfile/core'
import type { CardfileClient, Role } from '@cardfile/core'
import { signToken } from '../src/tokens'
import { SECRET, WS, startHarness } from './linking-harness'
import type { Harness } from './linking-harness'
import { gatedJob, listSubscriber } from './list-push-helpers'

import { makeToken, startServer } from './sync-helpers'
import type { ListSubscriber } from './list-push-helpers'

let h: Harness | undefined
const subscribers: ListSubscriber[] = []
afterEach(async () => {
  for (const s of subscribers.splice(0)) s.close()
  await h?.close()
  h = undefined
})

async function subscriber(role: Role, workspace = WS, userId = `${role}-1`) {
  const token = await signToken({ secret: SECRET, userId, workspace, role })
  const s = await listSubscriber(h!.server, workspace, token)
  subscribers.push(s)
  return s
}

async function setVip(client: CardfileClient, contactId: string, vip: boolean) {
  const contact = client.contact(contactId)
  await contact.whenSynced()
  contact.setVip(vip)
  await expect.poll(() => contact.status().pending).toBe(0)
  contact.release()
}

async function setStatus(
  client: CardfileClient,
  conversationId: string,
  status: 'pending' | 'resolved',
) {
  const schema = client.schema()
  await schema.whenSynced()
  const handle = client.conversation(conversationId)
  await handle.whenSynced()
  handle.conversation.setStatus(status, client.actor()!, schema.schema.view())
  await expect.poll(() => handle.status().pending).toBe(0)
  handle.release()
  schema.release()
}

describe('live lists over the websocket', () => {
  it('pushes an invalidation of the queue and the contact lists when a conversation comes in', async () => {
    h = await startHarness()
    const agent = await subscriber('agent')
    expect(await agent.subscribe(1, { kind: 'queue', team: null })).toEqual({
      id: 1,
      state: 'active',
    })
    await agent.subscribe(2, { kind: 'contacts' })
    await agent.subscribe(3, { kind: 'queue', team: 'nobody-here' })
    const started = await h!.inbound({ channel: 'whatsapp', platformUserId: '+14155550100' })
    await agent.waitFor(1)
    await agent.waitFor(2)
    await agent.subscribe(4, { kind: 'conversations', contactId: started.contactId })
    expect(agent.invalidated()).not.toContain(3)

    // A second message in the same conversation changes no list: nothing is pushed for it.
    const before = agent.invalidated().length
    await h!.inbound({ channel: 'whatsapp', platformUserId: '+14155550100', text: 'again' })
    const another = await h!.inbound({ channel: 'whatsapp', platformUserId: '+14155550199' })
    await agent.waitFor(1, 2)
    expect(another.conversationId).not.toBe(started.conversationId)
    expect(agent.invalidated().slice(before)).not.toContain(4)
    // The queue's invalidation carries the conversation's row; the contacts' does not.
    const rows = agent.events.flatMap((e) => (e.kind === 'invalidate' ? [e] : []))
    expect(rows.find((e) => e.ids.includes(1))?.row).toMatchObject({
      id: started.conversationId,
      contactId: started.contactId,
      status: 'new',
    })
    expect(
      rows.filter((e) => e.ids.length === 1 && e.ids[0] === 2).every((e) => e.row === null),
    ).toBe(true)
  })

  it('pushes VIP marks and status changes in commit order', async () => {
    h = await startHarness()
    const started = await h!.inbound({ channel: 'whatsapp', platformUserId: '+14155550100' })
    const agent = await subscriber('agent')
    await agent.subscribe(1, { kind: 'vip' })
    await agent.subscribe(2, { kind: 'conversations', contactId: started.contactId })
    await agent.subscribe(3, { kind: 'contacts', vip: false })
    const writer = await h!.client('agent', 'agent-2')

    await setVip(writer, started.contactId, true)
    await setStatus(writer, started.conversationId, 'resolved')
    await setVip(writer, started.contactId, false)
    await agent.waitFor(1, 2)
    await agent.waitFor(2)
    // The VIP mark, then the status change, then the unmark: as they were committed.
    const order = agent.invalidated().filter((id) => id === 1 || id === 2)
    expect(order[0]).toBe(1)
    expect(order.at(-1)).toBe(1)
    const between = order.slice(1, -1)
    expect(between.length).toBeGreaterThan(0)
    expect(between.every((id) => id === 2)).toBe(true)
    // The contact left the non-VIP list and came back: both are changes of that list.
    expect(agent.invalidated().filter((id) => id === 3)).toHaveLength(2)
  })

  it("pushes a value's history and the VIP contacts' conversations when a contact changes", async () => {
    h = await startHarness()
    const marked = await h!.inbound({ channel: 'whatsapp', platformUserId: '+14155550100' })
    const other = await h!.inbound({ channel: 'sms', platformUserId: '+4915112345678' })
    const agent = await subscriber('agent')
    await agent.subscribe(1, {
      kind: 'value-history',
      contactId: marked.contactId,
      attributeId: 'vip',
    })
    await agent.subscribe(2, {
      kind: 'value-history',
      contactId: other.contactId,
      attributeId: 'vip',
    })
    await agent.subscribe(3, { kind: 'conversations', group: 'vip' })
    const writer = await h!.client('agent', 'agent-2')

    await setVip(writer, marked.contactId, true)
    await agent.waitFor(1)
    await agent.waitFor(3)
    expect(agent.invalidated()).not.toContain(2)
    const history = await h!.api(
      'agent',
      'GET',
      `/contacts/${marked.contactId}/history/values?attribute=vip`,
    )
    expect((history.json as { items: { value: unknown }[] }).items[0]?.value).toBe(true)

    // Deleting the contact ends its history's subscription, and only that one.
    expect((await h!.api('admin', 'DELETE', `/contacts/${marked.contactId}`)).status).toBe(200)
    await expect
      .poll(() =>
        agent.events.flatMap((e) =>
          e.kind === 'state' && e.notice.state === 'ended' ? [e.notice.id] : [],
        ),
      )
      .toEqual([1])
  })

  it('pushes links and unlinks to the linked contacts and history of the contacts', async () => {
    h = await startHarness()
    const a = await h!.inbound({ channel: 'whatsapp', platformUserId: '+14155550100' })
    const b = await h!.inbound({ channel: 'sms', platformUserId: '+4915112345678' })
    const agent = await subscriber('agent')
    await agent.subscribe(1, { kind: 'linked', contactId: a.contactId })
    await agent.subscribe(2, { kind: 'history', contactId: a.contactId })
    await agent.subscribe(3, { kind: 'links-log', contactId: b.contactId })

    const linked = await h!.api('agent', 'POST', `/contacts/${a.contactId}/links`, {
      contactId: b.contactId,
      kind: 'link',
    })
    expect(linked.status).toBe(200)
    await agent.waitFor(1)
    await agent.waitFor(2)
    await agent.waitFor(3)
    const reverted = await h!.api(
      'agent',
      'DELETE',
      `/contacts/${a.contactId}/links/${b.contactId}`,
    )
    expect(reverted.status).toBe(200)
    await agent.waitFor(1, 2)
  })

  it('ends the subscriptions of a deleted contact and tells admins the log changed', async () => {
    h = await startHarness()
    const a = await h!.inbound({ channel: 'whatsapp', platformUserId: '+14155550100' })
    const other = await h!.inbound({ channel: 'sms', platformUserId: '+4915112345678' })
    const admin = await subscriber('admin')
    const agent = await subscriber('agent')
    await admin.subscribe(1, { kind: 'deleted-contacts' })
    await agent.subscribe(1, { kind: 'linked', contactId: a.contactId })
    await agent.subscribe(2, { kind: 'conversations', contactId: a.contactId })
    await agent.subscribe(3, { kind: 'queue', team: null })
    await agent.subscribe(4, { kind: 'linked', contactId: other.contactId })

    expect((await h!.api('admin', 'DELETE', `/contacts/${a.contactId}`)).status).toBe(200)
    await admin.waitFor(1)
    await agent.waitFor(3)
    await agent.waitFor(4)
    const ended = agent.events.flatMap((e) =>
      e.kind === 'state' && e.notice.state === 'ended' ? [e.notice] : [],
    )
    expect(ended.map((n) => n.id).sort()).toEqual([1, 2])
    expect(ended.every((n) => n.code === 'deleted')).toBe(true)
    // Ended means ended: a later change of the group is not announced to them.
    await h!.inbound({ channel: 'whatsapp', platformUserId: '+14155550100' })
    await agent.waitFor(3, 2)
    expect(agent.invalidated().filter((id) => id === 1 || id === 2)).toEqual([])
  })
})

describe('live job progress', () => {
  it("pushes each step of a job's progress and its end to its subscribers, and to no one else", async () => {
    const gated = gatedJob(2, { holdEnd: true })
    const server = await startServer({ extensions: [gated.extension] })
    try {
      const job = await gated.context().enqueue({ kind: 'gated', workspace: 'demo', input: {} })
      const agent = await listSubscriber(
        server.server,
        'demo',
        await makeToken({ user: 'a', role: 'agent' }),
      )
      const other = await listSubscriber(
        server.server,
        'demo',
        await makeToken({ user: 'b', role: 'agent' }),
      )
      const outsider = await listSubscriber(
        server.server,
        'elsewhere',
        await makeToken({ user: 'c', role: 'agent', workspace: 'elsewhere' }),
      )
      subscribers.push(agent, other, outsider)
      await agent.subscribe(1, { kind: 'job', jobId: job.id })
      await other.subscribe(1, { kind: 'job', jobId: 'another-job' })
      await outsider.subscribe(1, { kind: 'job', jobId: job.id })
      await expect.poll(() => gated.waiting()).toBe(true)
      const seen = agent.invalidated().length
      for (let i = 1; i <= 3; i++) {
        gated.release()
        await agent.waitFor(1, seen + i)
      }
      expect(other.invalidated()).toEqual([])
      expect(outsider.invalidated()).toEqual([])
    } finally {
      await server.close()
    }
  })
})

describe('live lists never tell a client what it may not read', () => {
  it('refuses lists the role may not read, and sends nothing for them', async () => {
    h = await startHarness()
    const agent = await subscriber('agent')
    expect(await agent.subscribe(1, { kind: 'deleted-contacts' })).toMatchObject({
      id: 1,
      state: 'refused',
      code: 'forbidden',
    })
    const bot = await subscriber('bot')
    expect(await bot.subscribe(1, { kind: 'queue', team: null })).toMatchObject({
      state: 'refused',
      code: 'forbidden',
    })
    const a = await h!.inbound({ channel: 'whatsapp', platformUserId: '+14155550100' })
    expect((await h!.api('admin', 'DELETE', `/contacts/${a.contactId}`)).status).toBe(200)
    const admin = await subscriber('admin')
    await admin.subscribe(1, { kind: 'deleted-contacts' })
    const b = await h!.inbound({ channel: 'whatsapp', platformUserId: '+14155550101' })
    expect((await h!.api('admin', 'DELETE', `/contacts/${b.contactId}`)).status).toBe(200)
    await admin.waitFor(1)
    expect(agent.invalidated()).toEqual([])
    expect(bot.invalidated()).toEqual([])
  })

  it('refuses the CRM status and export lists on a plan without the CRM or exports', async () => {
    h = await startHarness()
    const a = await h!.inbound({ channel: 'whatsapp', platformUserId: '+14155550100' })
    const admin = await subscriber('admin')
    const agent = await subscriber('agent')
    // The default plan has both: the lists are pushed.
    expect((await agent.subscribe(1, { kind: 'crm-status', contactId: a.contactId })).state).toBe(
      'active',
    )
    expect((await admin.subscribe(1, { kind: 'export', jobId: 'j1' })).state).toBe('active')
    await h!.server.host.transact('acme/schema', { userId: 'ops', role: 'system' }, (doc) => {
      const schema = new SchemaDoc(doc)
      try {
        schema.updateSettings({ plan: 'standard' })
      } finally {
        schema.destroy()
      }
    })
    expect(await agent.subscribe(2, { kind: 'crm-status', contactId: a.contactId })).toMatchObject({
      state: 'refused',
      code: 'plan-lacks-feature',
    })
    expect(await admin.subscribe(2, { kind: 'export', jobId: 'j1' })).toMatchObject({
      state: 'refused',
      code: 'plan-lacks-feature',
    })
    // The agent may not read exports whatever the plan.
    expect((await agent.subscribe(3, { kind: 'export', jobId: 'j1' })).code).toBe('forbidden')
  })

  it('sends nothing about another workspace', async () => {
    h = await startHarness()
    const outsider = await subscriber('agent', 'elsewhere')
    await outsider.subscribe(1, { kind: 'queue', team: null })
    await outsider.subscribe(2, { kind: 'contacts' })
    const insider = await subscriber('agent')
    await insider.subscribe(1, { kind: 'queue', team: null })
    await h!.inbound({ channel: 'whatsapp', platformUserId: '+14155550100' })
    await insider.waitFor(1)
    expect(outsider.invalidated()).toEqual([])
  })

  it('refuses malformed queries by id and closes a connection that sends garbage', async () => {
    h = await startHarness()
    const agent = await subscriber('agent')
    const refused = await agent.subscribe(7, { kind: 'linked', contactId: '../x' } as never)
    expect(refused).toMatchObject({ id: 7, state: 'refused', code: 'bad-request' })
    agent.raw.send(new Uint8Array([105, 3, 1, 2, 3]))
    await expect.poll(() => agent.raw.closeInfo?.code).toBe(4400)
  })

  it('leaves stock clients alone: they never receive list messages', async () => {
    h = await startHarness()
    const token = await signToken({ secret: SECRET, userId: 'stock', workspace: WS, role: 'agent' })
    const stock = await listSubscriber(h!.server, WS, token, { cardfile: false })
    subscribers.push(stock)
    const agent = await subscriber('agent')
    await agent.subscribe(1, { kind: 'queue', team: null })
    await h!.inbound({ channel: 'whatsapp', platformUserId: '+14155550100' })
    await agent.waitFor(1)
    expect(stock.raw.types.filter((t) => t >= 100)).toEqual([])
  })
})
