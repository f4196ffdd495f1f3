import { afterEach, describe, expect, it } from 'vitest'
import type { CardfileClient } from '@cardfile/core'
import { signToken } from '../src/tokens'
import { SECRET, idsOf, startHarness } from './linking-harness'
import type { Harness } from './linking-harness'

let h: Harness
afterEach(async () => {
  await h.close()
})

/** An admin's client with the schema open and synced. */
async function adminSchema(client: CardfileClient) {
  const schema = client.schema()
  await schema.whenSynced()
  return schema
}

async function linkedIds(contactId: string): Promise<string[]> {
  const { status, json } = await h.api('agent', 'GET', `/contacts/${contactId}/linked`)
  expect(status).toBe(200)
  return idsOf(json).sort()
}

/** Five contacts of one person (and one stranger) across channels, in the order they write. */
const PEOPLE = {
  email: {
    channel: 'email',
    platformUserId: 'ana@example.org',
    metadata: { email: '  Ana@Example.ORG ' },
  },
  webchat: {
    channel: 'webchat',
    platformUserId: 'visitor-1',
    metadata: { email: 'ana@example.org' },
  },
  whatsapp: {
    channel: 'whatsapp',
    platformUserId: '+442079460018',
    metadata: { phone_number: '+44 20 7946 0018' },
  },
  sms: {
    channel: 'sms',
    platformUserId: '00442079460018',
    metadata: { phone_number: '0044 (0)20 7946 0018' },
  },
  stranger: {
    channel: 'email',
    platformUserId: 'bob@example.org',
    metadata: { email: 'bob@example.org' },
  },
} satisfies Record<string, Parameters<Harness['inbound']>[0]>

/** Ingests each of PEOPLE in turn; resolves each one's contact id. */
async function seedPeople(): Promise<Record<keyof typeof PEOPLE, string>> {
  const ids: Partial<Record<keyof typeof PEOPLE, string>> = {}
  for (const [name, message] of Object.entries(PEOPLE)) {
    ids[name as keyof typeof PEOPLE] = (await h.inbound(message)).contactId
  }
  return ids as Record<keyof typeof PEOPLE, string>
}

/**
 * An admin makes email the matching attribute; resolves, with the admin's open schema, once
 * Ana's email and webchat contacts are linked.
 */
async function matchByEmail(ids: { email: string; webchat: string }) {
  const schema = await adminSchema(await h.client('admin'))
  schema.schema.updateSettings({ matchingAttribute: 'email' })
  await expect.poll(() => linkedIds(ids.email)).toEqual([ids.webchat])
  return schema
}

describe('cross-channel linking', () => {
  it('matches an X user by platform id across brand accounts, with one contact and conversation', async () => {
    h = await startHarness()
    // The same X user writes to two of the brand's accounts: the platform id is the identity.
    const first = await h.inbound({
      channel: 'x',
      platformUserId: '1001',
      metadata: { x_handle: '@ana_support' },
      id: 'dm-on-brand-account-1',
    })
    const second = await h.inbound({
      channel: 'x',
      platformUserId: '1001',
      metadata: { x_handle: '@ana' },
      id: 'dm-on-brand-account-2',
    })
    const otherUser = await h.inbound({ channel: 'x', platformUserId: '1002', id: 'dm-3' })
    const instagram = await h.inbound({ channel: 'instagram', platformUserId: '1001' })
    expect(second.contactId).toBe(first.contactId)
    expect(second.createdContact).toBe(false)
    expect(second.conversationId).toBe(first.conversationId)
    expect(otherUser.contactId).not.toBe(first.contactId)
    // The same number on another platform is another platform's user.
    expect(instagram.contactId).not.toBe(first.contactId)
  })

  it('links nothing across channels until an admin chooses the matching attribute', async () => {
    h = await startHarness()
    const ids = await seedPeople()
    expect(await linkedIds(ids.email)).toEqual([])
    await matchByEmail(ids)
    expect(await linkedIds(ids.webchat)).toEqual([ids.email])
    expect(await linkedIds(ids.stranger)).toEqual([])
  })

  it('re-links the workspace in a background job when the matching attribute changes', async () => {
    h = await startHarness()
    const ids = await seedPeople()
    const schema = await matchByEmail(ids)

    // Phone numbers in two spellings link once the matching attribute is the phone number.
    schema.schema.updateSettings({ matchingAttribute: 'phone_number' })
    await expect.poll(() => linkedIds(ids.whatsapp)).toEqual([ids.sms])
    expect(await linkedIds(ids.email)).toEqual([])

    // An admin can run the job by hand and follow its progress.
    const started = await h.api('admin', 'POST', '/relink')
    expect(started.status).toBe(202)
    const job = started.json.job as { id: string; attribute: string }
    expect(job.attribute).toBe('phone_number')
    await expect
      .poll(async () => (await h.api('agent', 'GET', `/jobs/${job.id}`)).json.job)
      .toMatchObject({ state: 'done', total: 5, processed: 5, changed: 0 })
    expect((await h.api('agent', 'POST', '/relink')).status).toBe(403)
    // The jobs table answers lists by kind; it shows no kind without a view, nor other workspaces.
    const listed = await h.api('agent', 'GET', '/jobs?kind=relink&limit=5')
    expect((listed.json.items as { id: string }[]).map((j) => j.id)).toContain(job.id)
    expect((await h.api('agent', 'GET', '/jobs?kind=crm-delivery')).status).toBe(400)
    expect((await h.api('agent', 'GET', '/jobs?kind=relink&limit=1000')).status).toBe(400)
    expect((await h.api('agent', 'GET', '/jobs/not-a-job')).status).toBe(404)
    expect((await h.api('bot', 'GET', `/jobs/${job.id}`)).status).toBe(403)
    const elsewhere = await fetch(`${h.url}/api/other/jobs/${job.id}`, {
      headers: {
        authorization: `Bearer ${await signToken({ secret: SECRET, userId: 'a', workspace: 'other', role: 'admin' })}`,
      },
    })
    expect(elsewhere.status).toBe(404)

    // Clearing the setting unlinks everything linked by value.
    schema.schema.updateSettings({ matchingAttribute: null })
    await expect.poll(() => linkedIds(ids.whatsapp)).toEqual([])
  })

  it('re-links one contact when its value of the matching attribute changes', async () => {
    h = await startHarness()
    const ids = await seedPeople()
    const admin = await h.client('admin')
    const schema = await adminSchema(admin)
    schema.schema.createAttribute({ id: 'member_no', label: 'Member number', type: 'text' })
    schema.schema.updateSettings({ matchingAttribute: 'member_no' })

    const agent = await h.client('agent')
    const a = agent.contact(ids.email)
    const b = agent.contact(ids.whatsapp)
    await Promise.all([a.whenSynced(), b.whenSynced()])
    a.setValue('member_no', 'M-100')
    b.setValue('member_no', ' M-100 ')
    await expect.poll(() => linkedIds(ids.email)).toEqual([ids.whatsapp])
    b.setValue('member_no', 'M-200')
    await expect.poll(() => linkedIds(ids.email)).toEqual([])
    a.release()
    b.release()
  })

  it('lets an agent unlink and link by hand, reversibly, recording who did it', async () => {
    h = await startHarness()
    const ids = await seedPeople()
    await matchByEmail(ids)

    // Unlink: the webchat visitor was not Ana after all.
    const unlink = await h.api(
      'agent',
      'POST',
      `/contacts/${ids.email}/links`,
      { contactId: ids.webchat, kind: 'unlink' },
      'agent-7',
    )
    expect(unlink.status).toBe(200)
    expect(await linkedIds(ids.email)).toEqual([])
    expect(await linkedIds(ids.webchat)).toEqual([])

    // Link by hand across any values: Ana's WhatsApp number.
    const link = await h.api('admin', 'POST', `/contacts/${ids.whatsapp}/links`, {
      contactId: ids.email,
      kind: 'link',
    })
    expect(link.status).toBe(200)
    expect(await linkedIds(ids.email)).toEqual([ids.whatsapp])

    // Revert the unlink: back to automatic linking by email.
    const revert = await h.api('agent', 'DELETE', `/contacts/${ids.webchat}/links/${ids.email}`)
    expect(revert.status).toBe(200)
    expect(await linkedIds(ids.email)).toEqual([ids.webchat, ids.whatsapp].sort())
    expect(
      (await h.api('agent', 'DELETE', `/contacts/${ids.webchat}/links/${ids.email}`)).status,
    ).toBe(404)

    const log = await h.api('agent', 'GET', `/contacts/${ids.email}/links/log`)
    const entries = log.json.items as { action: string; by: { userId: string; role: string } }[]
    expect(entries.map((e) => e.action)).toEqual(['revert', 'link', 'unlink'])
    expect(entries.map((e) => e.by)).toEqual([
      { role: 'agent', userId: 'agent-1' },
      { role: 'admin', userId: 'admin-1' },
      { role: 'agent', userId: 'agent-7' },
    ])
  })

  it('pages the linked contacts and the link record one by one, in the same order as one page', async () => {
    h = await startHarness()
    const ids = await seedPeople()
    for (const other of [ids.webchat, ids.whatsapp, ids.sms]) {
      const link = await h.api('agent', 'POST', `/contacts/${ids.email}/links`, {
        contactId: other,
        kind: 'link',
      })
      expect(link.status).toBe(200)
    }
    const pageByPage = async (path: string, key: (item: Record<string, unknown>) => unknown) => {
      const seen: unknown[] = []
      let cursor: string | null = null
      do {
        const query: string = cursor === null ? '?limit=1' : `?limit=1&cursor=${cursor}`
        const page = await h.api('agent', 'GET', `${path}${query}`)
        expect(page.status).toBe(200)
        seen.push(...(page.json.items as Record<string, unknown>[]).map(key))
        cursor = page.json.next as string | null
      } while (cursor !== null && seen.length < 10)
      const whole = await h.api('agent', 'GET', path)
      expect(seen).toEqual((whole.json.items as Record<string, unknown>[]).map(key))
      return seen
    }
    const linked = await pageByPage(`/contacts/${ids.email}/linked`, (item) => item.id)
    expect([...linked].sort()).toEqual([ids.webchat, ids.whatsapp, ids.sms].sort())
    const log = await pageByPage(`/contacts/${ids.email}/links/log`, (item) => item.seq)
    expect(log).toHaveLength(3)
  })

  it('refuses linking to bots, to a contact itself and to unknown contacts', async () => {
    h = await startHarness()
    const ids = await seedPeople()
    const path = `/contacts/${ids.email}/links`
    expect((await h.api('bot', 'POST', path, { contactId: ids.sms, kind: 'link' })).status).toBe(
      403,
    )
    expect((await h.api('bot', 'GET', `/contacts/${ids.email}/linked`)).status).toBe(403)
    expect(
      (await h.api('agent', 'POST', path, { contactId: ids.email, kind: 'link' })).status,
    ).toBe(400)
    expect((await h.api('agent', 'POST', path, { contactId: 'nobody', kind: 'link' })).status).toBe(
      404,
    )
    expect((await h.api('agent', 'POST', path, { contactId: ids.sms, kind: 'merge' })).status).toBe(
      400,
    )
    expect((await h.api('agent', 'GET', '/contacts/nobody/linked')).status).toBe(404)
  })

  it('lists every conversation of the group newest first, page by page', async () => {
    h = await startHarness()
    const ids = await seedPeople()
    await matchByEmail(ids)
    await h.api('agent', 'POST', `/contacts/${ids.email}/links`, {
      contactId: ids.sms,
      kind: 'link',
    })

    const all = await h.api(
      'agent',
      'GET',
      `/conversations?contactId=${[ids.email, ids.webchat, ids.sms].join(',')}&order=newest`,
    )
    const expected = idsOf(all.json)
    expect(expected).toHaveLength(3)

    const first = await h.api('agent', 'GET', `/contacts/${ids.webchat}/history?limit=2`)
    expect(first.status).toBe(200)
    expect(first.json.next).not.toBeNull()
    const second = await h.api(
      'agent',
      'GET',
      `/contacts/${ids.webchat}/history?limit=2&cursor=${String(first.json.next)}`,
    )
    expect(second.json.next).toBeNull()
    expect([...idsOf(first.json), ...idsOf(second.json)]).toEqual(expected)
    const created = (first.json.items as { createdAt: number }[]).map((i) => i.createdAt)
    expect(created[0]).toBeGreaterThanOrEqual(created[1]!)
    // The stranger's and WhatsApp's conversations are not part of Ana's history.
    expect((first.json.contacts as string[]).sort()).toEqual(
      [ids.email, ids.webchat, ids.sms].sort(),
    )
  })
})
