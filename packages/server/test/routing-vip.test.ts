import { afterEach, describe, expect, it } from 'vitest'
import type { CardfileClient } from '@cardfile/core'
import { idsOf, startHarness } from './linking-harness'
import type { Harness } from './linking-harness'
import { listedConversation, setVip, updateSettings } from './routing-helpers'

let h: Harness
afterEach(async () => {
  await h.close()
})

/** An agent answers in the conversation: from then on it is the agent's, not the queue's. */
async function answer(agent: CardfileClient, conversationId: string) {
  const schema = agent.schema()
  await schema.whenSynced()
  const handle = agent.conversation(conversationId)
  await handle.whenSynced()
  const actor = agent.actor()!
  const at = Date.now()
  handle.conversation.addMessage(
    {
      id: `answer-${conversationId}`,
      direction: 'outbound',
      author: { role: actor.role, userId: actor.userId, at },
      text: 'On it',
      at,
      attachments: [],
    },
    actor,
    schema.schema.view(),
  )
  // A reply moves the conversation to pending; seeing that on the server means both arrived.
  handle.conversation.setStatus('pending', actor, schema.schema.view())
  await expect
    .poll(async () => (await listedConversation(h, conversationId))?.status)
    .toBe('pending')
  handle.release()
  schema.release()
}

/** The VIP group and the VIP filter of the contact list, side by side. */
async function vipViews() {
  const group = (await h.api('agent', 'GET', '/groups/vip')).json
  const filtered = (await h.api('agent', 'GET', '/contacts?vip=true')).json
  return {
    group: { ids: idsOf(group), vipEnabled: group.vipEnabled },
    filtered: { ids: idsOf(filtered), vipEnabled: filtered.vipEnabled },
  }
}

describe('VIP switched off and on', () => {
  it('drops the boost and the VIP team of open conversations when VIP is switched off, and restores them when it is back on', async () => {
    h = await startHarness()
    const admin = await h.client('admin')
    await updateSettings(admin, { vipTeam: 'vip-desk', vipPriorityBoost: 5 })
    const waiting = await h.inbound({ channel: 'sms', platformUserId: '+14155550201' })
    const answered = await h.inbound({ channel: 'sms', platformUserId: '+14155550202' })
    const plain = await h.inbound({ channel: 'sms', platformUserId: '+14155550203' })
    const agent = await h.client('agent')
    await answer(agent, answered.conversationId)
    await setVip(agent, waiting.contactId, true)
    await setVip(agent, answered.contactId, true)
    await expect
      .poll(() => listedConversation(h, waiting.conversationId))
      .toMatchObject({ team: 'vip-desk', priority: 5 })
    // Answered by an agent: boosted, but it stays where the agent works on it.
    await expect
      .poll(() => listedConversation(h, answered.conversationId))
      .toMatchObject({ team: null, priority: 5 })
    const vipIds = [answered.contactId, waiting.contactId].sort()
    const on = await vipViews()
    expect(on.group.ids.sort()).toEqual(vipIds)
    expect(on.filtered.ids.sort()).toEqual(vipIds)
    expect(on).toMatchObject({ group: { vipEnabled: true }, filtered: { vipEnabled: true } })
    expect(idsOf((await h.api('agent', 'GET', '/queue')).json)).toEqual([
      answered.conversationId,
      plain.conversationId,
    ])

    await updateSettings(admin, { vipEnabled: false })
    await expect
      .poll(() => listedConversation(h, waiting.conversationId))
      .toMatchObject({ team: null, priority: 0 })
    await expect
      .poll(async () => (await listedConversation(h, answered.conversationId))?.priority)
      .toBe(0)
    // The queue re-sorted: equal scores, oldest first.
    expect(idsOf((await h.api('agent', 'GET', '/queue')).json)).toEqual([
      waiting.conversationId,
      answered.conversationId,
      plain.conversationId,
    ])
    // The group and the filter agree: VIP is off, nobody is in it.
    expect(await vipViews()).toEqual({
      group: { ids: [], vipEnabled: false },
      filtered: { ids: [], vipEnabled: false },
    })
    const all = (await h.api('agent', 'GET', '/contacts')).json
    expect(all.vipEnabled).toBe(false)
    expect((all.items as { vip: boolean }[]).every((c) => !c.vip)).toBe(true)
    expect(idsOf((await h.api('agent', 'GET', '/contacts?vip=false')).json)).toHaveLength(3)
    const jobs = (await h.api('admin', 'GET', '/jobs?kind=vip-rescore')).json.items
    expect(jobs).toEqual([
      expect.objectContaining({ active: false, state: 'done', contacts: 2, conversations: 2 }),
    ])

    await updateSettings(admin, { vipEnabled: true })
    await expect
      .poll(() => listedConversation(h, waiting.conversationId))
      .toMatchObject({ team: 'vip-desk', priority: 5 })
    await expect
      .poll(async () => (await listedConversation(h, answered.conversationId))?.priority)
      .toBe(5)
    const back = await vipViews()
    expect(back.group.ids.sort()).toEqual(vipIds)
    expect(back.filtered.ids.sort()).toEqual(vipIds)
  })

  it('treats a plan without VIP like VIP switched off, and a plan with it like VIP back on', async () => {
    h = await startHarness()
    const admin = await h.client('admin')
    await updateSettings(admin, { vipPriorityBoost: 4 })
    const started = await h.inbound({ channel: 'email', platformUserId: 'gold@example.org' })
    const agent = await h.client('agent')
    await setVip(agent, started.contactId, true)
    await expect
      .poll(async () => (await listedConversation(h, started.conversationId))?.priority)
      .toBe(4)

    const system = await h.client('system', 'operator')
    await updateSettings(system, { plan: 'business' })
    await expect
      .poll(async () => (await listedConversation(h, started.conversationId))?.priority)
      .toBe(0)
    expect((await vipViews()).filtered).toEqual({ ids: [], vipEnabled: false })

    await updateSettings(system, { plan: 'enterprise' })
    await expect
      .poll(async () => (await listedConversation(h, started.conversationId))?.priority)
      .toBe(4)
    expect((await vipViews()).group.ids).toEqual([started.contactId])
  })

  it('refuses an agent that tries to switch VIP off, and re-scores nothing', async () => {
    h = await startHarness()
    const admin = await h.client('admin')
    await updateSettings(admin, { vipPriorityBoost: 2 })
    const started = await h.inbound({ channel: 'webchat', platformUserId: 'visitor-7' })
    const agent = await h.client('agent')
    await setVip(agent, started.contactId, true)
    await expect
      .poll(async () => (await listedConversation(h, started.conversationId))?.priority)
      .toBe(2)

    // A hostile replica writes the setting straight into its copy of the schema: the server
    // refuses the change and compensates it, so the agent's copy says VIP is on again.
    const schema = agent.schema()
    await schema.whenSynced()
    schema.schema.updateSettings({ vipEnabled: false })
    expect(schema.schema.settings().vipEnabled).toBe(false)
    await expect.poll(() => schema.schema.settings().vipEnabled).toBe(true)
    schema.release()
    // A bot may not mark contacts VIP either.
    const bot = await h.client('bot', 'auto-responder')
    const contact = bot.contact(started.contactId)
    await contact.whenSynced()
    expect(() => contact.setVip(false)).toThrow(expect.objectContaining({ code: 'forbidden' }))
    contact.release()

    const admins = admin.schema()
    await admins.whenSynced()
    expect(admins.schema.settings().vipEnabled).toBe(true)
    admins.release()
    expect((await h.api('admin', 'GET', '/jobs?kind=vip-rescore')).json.items).toEqual([])
    expect(await listedConversation(h, started.conversationId)).toMatchObject({ priority: 2 })
    expect((await vipViews()).group).toEqual({ ids: [started.contactId], vipEnabled: true })
  })
})

describe('marking a contact VIP while its conversation is open', () => {
  it('routes a waiting conversation as a new VIP one, and unmarking sends it back', async () => {
    h = await startHarness()
    const admin = await h.client('admin')
    await updateSettings(admin, { vipTeam: 'vip-desk', vipPriorityBoost: 3 })
    const started = await h.inbound({ channel: 'whatsapp', platformUserId: '+14155550301' })
    expect(await listedConversation(h, started.conversationId)).toMatchObject({
      team: null,
      priority: 0,
    })
    const agent = await h.client('agent')

    await setVip(agent, started.contactId, true)
    await expect
      .poll(() => listedConversation(h, started.conversationId))
      .toMatchObject({ team: 'vip-desk', priority: 3 })
    expect(idsOf((await h.api('agent', 'GET', '/queue?team=vip-desk')).json)).toEqual([
      started.conversationId,
    ])

    await setVip(agent, started.contactId, false)
    await expect
      .poll(() => listedConversation(h, started.conversationId))
      .toMatchObject({ team: null, priority: 0 })
    expect(idsOf((await h.api('agent', 'GET', '/queue?team=vip-desk')).json)).toEqual([])
  })

  it('boosts but never moves a conversation an agent has already answered', async () => {
    h = await startHarness()
    const admin = await h.client('admin')
    await updateSettings(admin, { vipTeam: 'vip-desk', vipPriorityBoost: 3 })
    const started = await h.inbound({ channel: 'whatsapp', platformUserId: '+14155550302' })
    const agent = await h.client('agent')
    await answer(agent, started.conversationId)

    await setVip(agent, started.contactId, true)
    await expect
      .poll(() => listedConversation(h, started.conversationId))
      .toMatchObject({ team: null, priority: 3 })
    await setVip(agent, started.contactId, false)
    await expect
      .poll(() => listedConversation(h, started.conversationId))
      .toMatchObject({ team: null, priority: 0 })
  })

  it('leaves a conversation an admin put in another team in that team', async () => {
    h = await startHarness()
    const admin = await h.client('admin')
    await updateSettings(admin, { vipTeam: 'vip-desk', vipPriorityBoost: 3 })
    const started = await h.inbound({ channel: 'email', platformUserId: 'pat@example.org' })
    const schema = admin.schema()
    await schema.whenSynced()
    const handle = admin.conversation(started.conversationId)
    await handle.whenSynced()
    handle.conversation.setTeam('billing', admin.actor()!, schema.schema.view())
    await expect
      .poll(async () => (await listedConversation(h, started.conversationId))?.team)
      .toBe('billing')
    handle.release()
    schema.release()

    const agent = await h.client('agent')
    await setVip(agent, started.contactId, true)
    await expect
      .poll(() => listedConversation(h, started.conversationId))
      .toMatchObject({ team: 'billing', priority: 3 })
  })
})

describe('conversations and queues by contact group', () => {
  it('filters conversations and queues by the VIP group, for agents and admins only, and only while VIP is on', async () => {
    h = await startHarness()
    const admin = await h.client('admin')
    await updateSettings(admin, { vipTeam: 'vip-desk', vipPriorityBoost: 2 })
    const gold = await h.inbound({ channel: 'sms', platformUserId: '+14155550401' })
    const plain = await h.inbound({ channel: 'sms', platformUserId: '+14155550402' })
    const answered = await h.inbound({ channel: 'email', platformUserId: 'vip@example.org' })
    const agent = await h.client('agent')
    await answer(agent, answered.conversationId)
    await setVip(agent, gold.contactId, true)
    await setVip(agent, answered.contactId, true)
    await expect
      .poll(async () => (await listedConversation(h, gold.conversationId))?.priority)
      .toBe(2)
    await expect
      .poll(async () => (await listedConversation(h, answered.conversationId))?.priority)
      .toBe(2)

    const list = await h.api('agent', 'GET', '/conversations?group=vip')
    expect(idsOf(list.json).sort()).toEqual([gold.conversationId, answered.conversationId].sort())
    expect(idsOf((await h.api('admin', 'GET', '/queue?group=vip&team=vip-desk')).json)).toEqual([
      gold.conversationId,
    ])
    // The unassigned queue, VIP contacts only: the answered conversation stayed there.
    expect(idsOf((await h.api('agent', 'GET', '/queue?group=vip')).json)).toEqual([
      answered.conversationId,
    ])
    expect(idsOf((await h.api('agent', 'GET', '/queue')).json)).toEqual([
      answered.conversationId,
      plain.conversationId,
    ])

    const bot = await h.api('bot', 'GET', '/conversations?group=vip')
    expect(bot.status).toBe(403)
    expect(bot.json).toMatchObject({ error: { code: 'forbidden' } })
    expect((await h.api('crm', 'GET', '/queue?group=vip')).status).toBe(403)
    const unknown = await h.api('agent', 'GET', '/conversations?group=everyone')
    expect(unknown.status).toBe(400)
    expect(unknown.json).toMatchObject({ error: { code: 'bad-request' } })

    await updateSettings(admin, { vipEnabled: false })
    await expect
      .poll(async () => (await listedConversation(h, gold.conversationId))?.priority)
      .toBe(0)
    expect((await h.api('agent', 'GET', '/conversations?group=vip')).json).toEqual({
      items: [],
      next: null,
      vipEnabled: false,
    })
    expect((await h.api('agent', 'GET', '/queue?group=vip')).json).toEqual({
      items: [],
      next: null,
      vipEnabled: false,
    })

    await updateSettings(admin, { vipEnabled: true })
    await expect
      .poll(async () => idsOf((await h.api('agent', 'GET', '/queue?group=vip&team=vip-desk')).json))
      .toEqual([gold.conversationId])
  })
})
