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
