import { afterEach, describe, expect, it } from 'vitest'
import type { IndexedContact, ListQuery } from '@cardfile/core'
import { startHarness } from './linking-harness'
import type { Harness } from './linking-harness'

let h: Harness
afterEach(async () => {
  await h.close()
})

/**
 * The SDK's list store against a real server: lists change on screen by push alone (the
 * fallback poll is the default two minutes, far beyond these waits).
 */
describe("the SDK's list store, live", () => {
  it("shows another agent's VIP mark and the contact's deletion without polling", async () => {
    h = await startHarness()
    const started = await h.inbound({ channel: 'whatsapp', platformUserId: '+14155550100' })
    const viewer = await h.client('agent', 'viewer')
    const writer = await h.client('agent', 'writer')
    const lists = viewer.lists()
    const vip: ListQuery = { kind: 'vip' }
    const linked: ListQuery = { kind: 'linked', contactId: started.contactId }
    const stopVip = lists.observe(vip, 50, () => undefined)
    const stopLinked = lists.observe(linked, 50, () => undefined)
    await expect.poll(() => lists.state(vip, 50).push).toBe('active')
    await expect.poll(() => lists.state(vip, 50).fetchedAt).toBeGreaterThan(0)
    expect(lists.state(vip, 50).items).toEqual([])

    const contact = writer.contact(started.contactId)
    await contact.whenSynced()
    contact.setVip(true)
    contact.release()
    await expect
      .poll(() => lists.state<IndexedContact>(vip, 50).items.map((c) => c.id))
      .toEqual([started.contactId])

    expect((await h.api('admin', 'DELETE', `/contacts/${started.contactId}`)).status).toBe(200)
    await expect.poll(() => lists.state(linked, 50).push).toBe('ended')
    expect(lists.state(linked, 50).error?.code).toBe('deleted')
    await expect.poll(() => lists.state(vip, 50).items).toEqual([])
    stopVip()
    stopLinked()
  })

  it('shows a link made by another agent in the linked contacts of both', async () => {
    h = await startHarness()
    const a = await h.inbound({ channel: 'whatsapp', platformUserId: '+14155550100' })
    const b = await h.inbound({ channel: 'sms', platformUserId: '+4915112345678' })
    const viewer = await h.client('agent', 'viewer')
    const lists = viewer.lists()
    const linked: ListQuery = { kind: 'linked', contactId: a.contactId }
    const stop = lists.observe(linked, 50, () => undefined)
    await expect.poll(() => lists.state(linked, 50).push).toBe('active')
    await expect.poll(() => lists.state(linked, 50).fetchedAt).toBeGreaterThan(0)
    expect(lists.state(linked, 50).items).toEqual([])
    const answer = await h.api('agent', 'POST', `/contacts/${a.contactId}/links`, {
      contactId: b.contactId,
      kind: 'link',
    })
    expect(answer.status).toBe(200)
    await expect
      .poll(() => lists.state<IndexedContact>(linked, 50).items.map((c) => c.id))
      .toEqual([b.contactId])
    stop()
  })
})

describe('a list across a lost connection', () => {
  it('catches up on what changed while the connection was down, once it is back', async () => {
    h = await startHarness()
    const started = await h.inbound({ channel: 'sms', platformUserId: '+14155550100' })
    const viewer = await h.client('agent', 'viewer')
    const lists = viewer.lists()
    const queue: ListQuery = { kind: 'queue', team: null }
    const ids = () => lists.state<{ id: string }>(queue, 50).items.map((r) => r.id)
    const stop = lists.observe(queue, 50, () => undefined)
    await expect.poll(() => lists.state(queue, 50).push).toBe('active')
    await expect.poll(ids).toEqual([started.conversationId])

    viewer.disconnect()
    await expect.poll(() => lists.state(queue, 50).push).toBe('lost')
    const missed = await h.inbound({ channel: 'sms', platformUserId: '+14155550101' })
    viewer.connect()
    await expect.poll(() => lists.state(queue, 50).push).toBe('active')
    await expect.poll(ids).toEqual([started.conversationId, missed.conversationId])
    stop()
  })
})

describe('paging a live queue while its rows move', () => {
  it('shows every conversation once, in queue order, when rows move across the page being read', async () => {
    h = await startHarness()
    const ids: string[] = []
    for (let i = 0; i < 5; i++) {
      const started = await h.inbound({ channel: 'sms', platformUserId: `+1415555010${i}` })
      ids.push(started.conversationId)
    }
    const [c0, c1, c2, c3, c4] = ids as [string, string, string, string, string]
    const viewer = await h.client('agent', 'viewer')
    const lists = viewer.lists()
    const queue: ListQuery = { kind: 'queue', team: null }
    const rowIds = () => lists.state<{ id: string }>(queue, 2).items.map((r) => r.id)
    // Every state the list goes through shows each conversation at most once.
    const duplicates: string[][] = []
    const stop = lists.observe(queue, 2, () => {
      const shown = rowIds()
      if (new Set(shown).size !== shown.length) duplicates.push(shown)
    })
    await expect.poll(() => lists.state(queue, 2).push).toBe('active')
    await expect.poll(rowIds).toEqual([c0, c1])

    const priority = (id: string, value: number) =>
      h.server.host.transact(
        `acme/conversation/${id}`,
        { userId: 'router', role: 'system' },
        (doc) => doc.getMap('meta').set('priority', value),
      )
    // c4 jumps ahead of the page already read, c1 falls behind the cursor: a plain keyset walk
    // would skip c4 and show c1 twice.
    await priority(c4, 10)
    await priority(c1, -10)
    await expect
      .poll(() => {
        lists.loadMore(queue, 2)
        return rowIds()
      })
      .toEqual([c4, c0, c2, c3, c1])
    expect(lists.state(queue, 2).hasMore).toBe(false)
    expect(duplicates).toEqual([])
    stop()
  })
})
