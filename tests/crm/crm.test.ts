import { readFileSync, readdirSync } from 'node:fs'
import { join } from 'node:path'
import { describe, expect, it } from 'vitest'
import {
  ADMIN,
  AGENT,
  FAST,
  WORKSPACE,
  connect,
  editAs,
  inbound,
  readContact,
  setStatus,
  setUpWorkspace,
  startCardfile,
  startCrm,
  tempDir,
} from './harness'

/**
 * The reference CRM connected to a workspace, and contact ana@example.com (with its
 * conversation) once the CRM validated it: where the write-back tests start.
 */
async function validatedContact(options: { agentsMayEditCrm: boolean }) {
  const crm = await startCrm()
  const cardfile = await startCardfile()
  await setUpWorkspace(cardfile, options)
  await connect(cardfile, crm)
  const { contactId, conversationId } = await inbound(cardfile, 'ana@example.com')
  await expect.poll(async () => (await readContact(cardfile, contactId)).validated).toBe(true)
  return { crm, cardfile, contactId, conversationId }
}

describe('CRM lookup against the reference CRM', () => {
  it('looks a contact up when its conversation starts and fills CRM-managed attributes', async () => {
    const crm = await startCrm()
    const cardfile = await startCardfile()
    await setUpWorkspace(cardfile)
    await connect(cardfile, crm)

    const { contactId } = await inbound(cardfile, 'ana@example.com')

    await expect.poll(async () => (await readContact(cardfile, contactId)).validated).toBe(true)
    const contact = await readContact(cardfile, contactId)
    expect(contact.custom.tier).toMatchObject({ value: 'gold', by: { role: 'crm' } })
    expect(contact.custom.account).toMatchObject({ value: 'AC-100', by: { role: 'crm' } })
    expect(contact.lookupAt).toEqual(expect.any(Number))
    const lookups = crm.received().filter((r) => r.path === '/cardfile/lookup')
    expect(lookups[0]?.body).toMatchObject({
      trigger: 'conversation-started',
      lookup: { email: 'ana@example.com' },
    })
    expect(lookups.every((r) => r.signatureOk && r.key !== null)).toBe(true)

    // The value history says the CRM wrote them.
    const history = await cardfile.api(
      `/api/${WORKSPACE}/contacts/${contactId}/history/values?attribute=tier`,
      { as: AGENT },
    )
    expect(history.status).toBe(200)
    const { items } = (await history.json()) as {
      items: { previous: unknown; value: unknown; by: { role: string } }[]
    }
    expect(items).toEqual([
      expect.objectContaining({
        previous: null,
        value: 'gold',
        by: expect.objectContaining({ role: 'crm' }),
      }),
    ])
  })

  it('looks up again when a lookup attribute gets a new value', async () => {
    const crm = await startCrm()
    const cardfile = await startCardfile()
    await setUpWorkspace(cardfile)
    await connect(cardfile, crm)
    const { contactId } = await inbound(cardfile, 'bob@example.com')
    await expect.poll(async () => (await readContact(cardfile, contactId)).validated).toBe(false)

    await editAs(cardfile, AGENT, contactId, 'customer', 'CU-1')

    await expect.poll(async () => (await readContact(cardfile, contactId)).validated).toBe(true)
    expect((await readContact(cardfile, contactId)).custom.tier?.value).toBe('gold')
    const last = crm
      .received()
      .filter((r) => r.path === '/cardfile/lookup')
      .at(-1)
    expect(last?.body).toMatchObject({
      trigger: 'lookup-attribute-changed',
      lookup: { email: 'bob@example.com', customer: 'CU-1' },
    })
  })

  it('runs a lookup when an agent asks for one', async () => {
    const crm = await startCrm()
    const cardfile = await startCardfile()
    await setUpWorkspace(cardfile)
    await connect(cardfile, crm)
    const { contactId } = await inbound(cardfile, 'ana@example.com')
    await cardfile.server.idle()

    const response = await cardfile.api(`/api/${WORKSPACE}/contacts/${contactId}/lookup`, {
      method: 'POST',
      as: AGENT,
    })
    expect(response.status).toBe(200)
    expect(await response.json()).toMatchObject({ outcome: 'found', applied: ['tier', 'account'] })
  })

  it('is refused by the CRM when Cardfile signs with another secret', async () => {
    const crm = await startCrm()
    const cardfile = await startCardfile()
    await setUpWorkspace(cardfile)
    await connect(cardfile, crm)
    crm.setSecret('ab'.repeat(32))

    const { contactId } = await inbound(cardfile, 'ana@example.com')
    await cardfile.server.idle()

    const status = await cardfile.api(`/api/${WORKSPACE}/contacts/${contactId}/crm`, { as: AGENT })
    expect(await status.json()).toMatchObject({
      lastLookup: { outcome: 'failed', reason: expect.stringContaining('401') },
    })
    expect(crm.received().every((r) => !r.signatureOk)).toBe(true)
    expect((await readContact(cardfile, contactId)).custom.tier).toBeUndefined()
  })

  it.each([
    ['bad JSON', '{"found": tru', 'not valid JSON'],
    ['an unknown alias', '{"found":true,"values":{"shoe_size":"44"}}', 'unknown alias "shoe_size"'],
    [
      'an invalid dropdown value',
      '{"found":true,"values":{"tier":"Platinum","account":"AC-9"}}',
      'invalid value for "tier"',
    ],
    ['a wrong shape', '{"found":"yes"}', 'malformed lookup answer'],
  ])(
    'refuses a lookup answer with %s and leaves the contact as it was',
    async (_, body, reason) => {
      const crm = await startCrm()
      const cardfile = await startCardfile()
      await setUpWorkspace(cardfile)
      await connect(cardfile, crm)
      crm.setBehaviour({ lookupBody: body })

      const { contactId } = await inbound(cardfile, 'ana@example.com')
      await cardfile.server.idle()

      const status = await cardfile.api(`/api/${WORKSPACE}/contacts/${contactId}/crm`, {
        as: AGENT,
      })
      expect(await status.json()).toMatchObject({
        lastLookup: { reason: expect.stringContaining(reason) },
      })
      const contact = await readContact(cardfile, contactId)
      expect(contact.custom.tier).toBeUndefined()
      expect(contact.custom.account).toBeUndefined()
      expect(contact.validated).toBeUndefined()
    },
  )

  it('gives up on a CRM slower than the timeout and says so', async () => {
    const crm = await startCrm()
    const cardfile = await startCardfile()
    await setUpWorkspace(cardfile)
    await connect(cardfile, crm)
    crm.setBehaviour({ delayMs: 1500 })

    const { contactId } = await inbound(cardfile, 'ana@example.com')
    await cardfile.server.idle()

    const status = await cardfile.api(`/api/${WORKSPACE}/contacts/${contactId}/crm`, { as: AGENT })
    expect(await status.json()).toMatchObject({
      lastLookup: { outcome: 'failed', reason: expect.stringContaining('did not answer') },
    })
  })
})

describe('CRM write-back against the reference CRM', () => {
  it('sends only the values agents changed when the conversation status changes', async () => {
    const { crm, cardfile, contactId, conversationId } = await validatedContact({
      agentsMayEditCrm: true,
    })

    await editAs(cardfile, AGENT, contactId, 'tier', 'silver')
    await expect
      .poll(async () => (await readContact(cardfile, contactId)).pending)
      .toEqual(['tier'])
    expect(crm.writeBacks()).toEqual([])

    await setStatus(cardfile, conversationId, 'pending')

    await expect.poll(() => crm.writeBacks().length).toBe(1)
    expect(crm.writeBacks()[0]).toMatchObject({ contactId, values: { tier: 'Silver' } })
    const request = crm.received().find((r) => r.path === '/cardfile/write-back')
    expect(request?.body).toMatchObject({
      values: { tier: 'Silver' },
      changedBy: { tier: { role: 'agent', userId: AGENT.userId } },
      conversation: { id: conversationId, status: { to: 'pending' } },
    })
    expect(Object.keys((request?.body as { values: object }).values)).toEqual(['tier'])
    await expect.poll(async () => (await readContact(cardfile, contactId)).pending).toEqual([])
    expect(crm.records()[0]?.values.tier).toBe('Silver')
  })

  it('keeps agents from editing CRM-managed attributes while the setting is off', async () => {
    const { crm, cardfile, contactId, conversationId } = await validatedContact({
      agentsMayEditCrm: false,
    })

    const { connectClient } = await import('../client/harness')
    const client = await connectClient(cardfile.server.wsUrl, AGENT.userId, 'agent')
    const handle = client.contact(contactId)
    // The contact and the schema that defines its attributes sync on their own connections.
    await Promise.all([handle.whenSynced(), handle.schemaHandle.whenSynced()])
    // The SDK refuses up front...
    expect(() => handle.setValue('tier', 'silver')).toThrow(/CRM-managed/)
    // ...and the server refuses a client that writes anyway.
    handle.doc.getMap('custom').set('tier', {
      value: 'silver',
      by: { role: 'agent', userId: AGENT.userId, at: Date.now() },
    })
    await expect.poll(() => handle.error()?.code).toBe('crm-managed-locked')
    await expect
      .poll(async () => (await readContact(cardfile, contactId)).custom.tier?.value)
      .toBe('gold')
    await setStatus(cardfile, conversationId, 'resolved')
    await cardfile.server.idle()
    expect((await readContact(cardfile, contactId)).pending ?? []).toEqual([])
    expect(crm.writeBacks()).toEqual([])
    handle.release()
  })

  it('delivers every write-back exactly once in effect and in order after the CRM was down', async () => {
    const { crm, cardfile, contactId, conversationId } = await validatedContact({
      agentsMayEditCrm: true,
    })

    crm.setBehaviour({ down: true })
    const accounts = ['AC-1', 'AC-2', 'AC-3', 'AC-4']
    const statuses = ['pending', 'new', 'pending', 'resolved'] as const
    for (const [i, account] of accounts.entries()) {
      await editAs(cardfile, AGENT, contactId, 'account', account)
      await expect
        .poll(async () => (await readContact(cardfile, contactId)).pending)
        .toEqual(['account'])
      await setStatus(cardfile, conversationId, statuses[i]!)
      await expect.poll(async () => (await readContact(cardfile, contactId)).pending).toEqual([])
    }
    await expect
      .poll(async () => {
        const response = await cardfile.api(`/api/${WORKSPACE}/crm/deliveries?state=pending`)
        return ((await response.json()) as { items: { lastError: string | null }[] }).items
      })
      .toSatisfy(
        (items: { lastError: string | null }[]) =>
          items.length === 4 && items.some((d) => d.lastError !== null),
      )

    // Back up, but the first two applies "fail" after committing: retries must not apply twice.
    crm.setBehaviour({ down: false, failAfterApply: 2 })

    await expect
      .poll(() => crm.writeBacks().map((w) => w.values.account), { timeout: 10_000 })
      .toEqual(accounts)
    const sequences = crm.writeBacks().map((w) => w.sequence)
    expect(sequences).toEqual([...sequences].sort((a, b) => a - b))
    expect(new Set(crm.writeBacks().map((w) => w.key)).size).toBe(4)
    // The CRM saw retries of the same keys (duplicates it answered without applying).
    const writeBackRequests = crm.received().filter((r) => r.path === '/cardfile/write-back')
    expect(writeBackRequests.length).toBeGreaterThan(4)
    expect(crm.records()[0]?.values.account).toBe('AC-4')
    await expect
      .poll(async () => {
        const response = await cardfile.api(`/api/${WORKSPACE}/crm/metrics`)
        return ((await response.json()) as { deliveries: Record<string, number> }).deliveries
      })
      .toEqual({ pending: 0, delivered: 4, dead: 0 })
  })

  it('loses no pending delivery when the server restarts mid-retry', async () => {
    const { crm, cardfile, contactId, conversationId } = await validatedContact({
      agentsMayEditCrm: true,
    })

    crm.setBehaviour({ failStatus: 503 })
    await editAs(cardfile, AGENT, contactId, 'account', 'AC-RESTART')
    await expect
      .poll(async () => (await readContact(cardfile, contactId)).pending)
      .toEqual(['account'])
    await setStatus(cardfile, conversationId, 'pending')
    await expect
      .poll(() => crm.received().filter((r) => r.path === '/cardfile/write-back').length)
      .toBeGreaterThanOrEqual(2)

    await cardfile.restart()
    crm.setBehaviour({ failStatus: null })

    await expect.poll(() => crm.writeBacks().map((w) => w.values.account)).toEqual(['AC-RESTART'])
  })

  it('puts a permanently refused delivery in the dead letter and sends it again on retry', async () => {
    const { crm, cardfile, contactId, conversationId } = await validatedContact({
      agentsMayEditCrm: true,
    })

    crm.setBehaviour({ failStatus: 422 })
    await editAs(cardfile, AGENT, contactId, 'account', 'AC-DEAD')
    await expect
      .poll(async () => (await readContact(cardfile, contactId)).pending)
      .toEqual(['account'])
    await setStatus(cardfile, conversationId, 'resolved')

    const dead = async () => {
      const response = await cardfile.api(`/api/${WORKSPACE}/crm/deliveries?state=dead`)
      return ((await response.json()) as { items: { id: string; lastError: string }[] }).items
    }
    await expect.poll(async () => (await dead()).length).toBe(1)
    const [delivery] = await dead()
    expect(delivery?.lastError).toContain('422')
    expect(crm.writeBacks()).toEqual([])

    crm.setBehaviour({ failStatus: null })
    const agentTry = await cardfile.api(`/api/${WORKSPACE}/crm/deliveries/${delivery!.id}/retry`, {
      method: 'POST',
      as: AGENT,
    })
    expect(agentTry.status).toBe(403)
    const retry = await cardfile.api(`/api/${WORKSPACE}/crm/deliveries/${delivery!.id}/retry`, {
      method: 'POST',
      as: ADMIN,
    })
    expect(retry.status).toBe(202)
    await expect.poll(() => crm.writeBacks().map((w) => w.key)).toEqual([delivery!.id])
  })
})

describe('CRM configuration over HTTP', () => {
  it('never sends the secret back in full, and rotates it for admins only', async () => {
    const crm = await startCrm()
    const cardfile = await startCardfile()
    await setUpWorkspace(cardfile)
    const secret = await connect(cardfile, crm)

    const read = await cardfile.api(`/api/${WORKSPACE}/crm/config`)
    const text = await read.text()
    expect(text).not.toContain(secret)
    expect(JSON.parse(text)).toMatchObject({
      enabled: true,
      lookupUrl: crm.lookupUrl,
      secretHint: `…${secret.slice(-4)}`,
    })
    const agent = await cardfile.api(`/api/${WORKSPACE}/crm/config`, { as: AGENT })
    expect(agent.status).toBe(403)

    const rotated = await cardfile.api(`/api/${WORKSPACE}/crm/secret`, { method: 'POST' })
    const { secret: next } = (await rotated.json()) as { secret: string }
    expect(next).toMatch(/^[0-9a-f]{64}$/)
    expect(next).not.toBe(secret)

    const bad = await cardfile.api(`/api/${WORKSPACE}/crm/config`, {
      method: 'PUT',
      body: { lookupUrl: 'ftp://nope' },
    })
    expect(bad.status).toBe(400)
  })

  it('tells agents and admins whether the CRM is configured and on, without URLs or the secret', async () => {
    const crm = await startCrm()
    const cardfile = await startCardfile()
    await setUpWorkspace(cardfile)
    const { contactId } = await inbound(cardfile, 'ana@example.com')
    const statusAs = async (as: typeof AGENT) => {
      const response = await cardfile.api(`/api/${WORKSPACE}/contacts/${contactId}/crm`, { as })
      expect(response.status).toBe(200)
      return response.text()
    }

    for (const as of [AGENT, ADMIN]) {
      expect(JSON.parse(await statusAs(as))).toMatchObject({
        connection: { configured: false, enabled: false },
      })
    }

    const secret = await connect(cardfile, crm, { notifications: true })
    for (const as of [AGENT, ADMIN]) {
      const text = await statusAs(as)
      expect(JSON.parse(text)).toMatchObject({ connection: { configured: true, enabled: true } })
      // Nothing of where the CRM is nor of how Cardfile signs: not the URLs, not the secret
      // (nor its hint: the keys below are all there is).
      expect(text).not.toContain(crm.url)
      expect(text).not.toContain(new URL(crm.url).host)
      expect(text).not.toContain(secret)
      expect(Object.keys(JSON.parse(text) as object).sort()).toEqual([
        'connection',
        'lastLookup',
        'pending',
      ])
      expect(Object.keys((JSON.parse(text) as { connection: object }).connection).sort()).toEqual([
        'configured',
        'enabled',
      ])
    }

    const off = await cardfile.api(`/api/${WORKSPACE}/crm/config`, {
      method: 'PUT',
      body: { enabled: false },
    })
    expect(off.status).toBe(200)
    expect(JSON.parse(await statusAs(AGENT))).toMatchObject({
      connection: { configured: true, enabled: false },
    })
  })

  it('refuses the CRM routes on a plan without the CRM', async () => {
    const cardfile = await startCardfile()
    await setUpWorkspace(cardfile)
    await cardfile.server.host.transact(
      `${WORKSPACE}/schema`,
      { userId: 's', role: 'system' },
      (doc) => {
        doc.getMap('settings').set('plan', 'business')
      },
    )
    const response = await cardfile.api(`/api/${WORKSPACE}/crm/config`)
    expect(response.status).toBe(403)
    expect(await response.json()).toMatchObject({ error: { code: 'plan-lacks-feature' } })
    // Agents learn nothing of the connection either: the contact's status is refused the same.
    const status = await cardfile.api(`/api/${WORKSPACE}/contacts/c1/crm`, { as: AGENT })
    expect(status.status).toBe(403)
    expect(await status.json()).toMatchObject({ error: { code: 'plan-lacks-feature' } })
  })

  it('drops queued deliveries of an erased contact', async () => {
    const { crm, cardfile, contactId, conversationId } = await validatedContact({
      agentsMayEditCrm: true,
    })
    crm.setBehaviour({ down: true })
    await editAs(cardfile, AGENT, contactId, 'account', 'AC-GONE')
    await expect
      .poll(async () => (await readContact(cardfile, contactId)).pending)
      .toEqual(['account'])
    await setStatus(cardfile, conversationId, 'pending')
    await expect
      .poll(async () => (await cardfile.server.crm!.metrics(WORKSPACE)).deliveries.pending)
      .toBe(1)

    await cardfile.server.crm!.onContactErased({ workspace: WORKSPACE, contactId })

    expect((await cardfile.server.crm!.metrics(WORKSPACE)).deliveries.pending).toBe(0)
    crm.setBehaviour({ down: false })
    expect(await cardfile.server.crm!.status(WORKSPACE, contactId)).toEqual({
      lastLookup: null,
      pending: [],
      connection: { configured: true, enabled: true },
    })
  })
})

describe('erasing a contact with a write-back queued', () => {
  /** Whether `text` occurs in any of the database's files (UTF-8 or UTF-16, as SQLite stores). */
  const inFiles = (dir: string, text: string): string[] =>
    readdirSync(dir)
      .filter((name) => name.startsWith('cardfile.db'))
      .filter((name) => {
        const bytes = readFileSync(join(dir, name))
        return (
          bytes.includes(Buffer.from(text, 'utf8')) || bytes.includes(Buffer.from(text, 'utf16le'))
        )
      })

  it('leaves the queued value in no database file once the deletion is answered', async () => {
    const crm = await startCrm()
    const dir = tempDir()
    const cardfile = await startCardfile(FAST, dir)
    await setUpWorkspace(cardfile, { agentsMayEditCrm: true })
    await connect(cardfile, crm)
    const { contactId, conversationId } = await inbound(cardfile, 'ana@example.com')
    await expect.poll(async () => (await readContact(cardfile, contactId)).validated).toBe(true)
    crm.setBehaviour({ down: true })
    const secret = 'AC-QUEUED-SECRET-4471'
    await editAs(cardfile, AGENT, contactId, 'account', secret)
    await setStatus(cardfile, conversationId, 'pending')
    await expect
      .poll(async () => (await cardfile.server.crm!.metrics(WORKSPACE)).deliveries.pending)
      .toBe(1)
    // The search can fail: the value is in the files before the deletion.
    expect(inFiles(dir, secret).length).toBeGreaterThan(0)

    const answer = await cardfile.api(`/api/${WORKSPACE}/contacts/${contactId}`, {
      method: 'DELETE',
    })
    expect(answer.status).toBe(200)
    // Read at once, as a kill -9 right after the answer would leave them.
    expect(inFiles(dir, secret)).toEqual([])
    expect(inFiles(dir, 'ana@example.com')).toEqual([])
  })
})
