import { describe, expect, it } from 'vitest'
import {
  WORKSPACE,
  connect,
  inbound,
  readContact,
  setStatus,
  setUpWorkspace,
  startCardfile,
  startCrm,
} from './harness'
import type { Cardfile } from './harness'

const NOTIFICATION = '/cardfile/notification'

interface DeliveryRow {
  readonly id: string
  readonly kind: string
  readonly state: string
  readonly attempts: number
  readonly lastError: string | null
}

const deliveries = async (cardfile: Cardfile, state?: string): Promise<DeliveryRow[]> => {
  const query = state === undefined ? '' : `?state=${state}`
  const response = await cardfile.api(`/api/${WORKSPACE}/crm/deliveries${query}`)
  return ((await response.json()) as { items: DeliveryRow[] }).items
}

describe('CRM notifications against the reference CRM', () => {
  it('sends a signed notification when a conversation starts and when its status changes', async () => {
    const crm = await startCrm()
    const cardfile = await startCardfile()
    await setUpWorkspace(cardfile)
    await connect(cardfile, crm, { notifications: true })
    const before = Date.now()

    const { contactId, conversationId } = await inbound(cardfile, 'ana@example.com')
    await expect.poll(() => crm.notifications().length).toBe(1)
    expect(crm.notifications()[0]).toMatchObject({
      type: 'notification',
      workspace: WORKSPACE,
      event: 'conversation-started',
      contact: { id: contactId },
      conversation: { id: conversationId, status: { from: null, to: 'new' } },
    })
    await expect.poll(async () => (await readContact(cardfile, contactId)).validated).toBe(true)

    await setStatus(cardfile, conversationId, 'pending')
    await expect.poll(() => crm.notifications().length).toBe(2)
    const [started, changed] = crm.notifications() as { sequence: number; at: number }[]
    expect(changed).toMatchObject({
      event: 'conversation-status-changed',
      conversation: { id: conversationId, status: { from: 'new', to: 'pending' } },
    })
    expect(changed!.sequence).toBeGreaterThan(started!.sequence)

    const requests = crm.received().filter((r) => r.path === NOTIFICATION)
    expect(requests).toHaveLength(2)
    for (const request of requests) {
      expect(request.signatureOk).toBe(true)
      expect(request.key).toMatch(/^[0-9a-f-]{36}$/)
      expect(Number(request.timestamp)).toBeGreaterThanOrEqual(before)
    }
    expect(new Set(requests.map((r) => r.key)).size).toBe(2)
    await expect
      .poll(async () => (await deliveries(cardfile, 'delivered')).map((d) => d.kind))
      .toEqual(['notification', 'notification'])
  })

  it('sends no notification while no notification URL is set', async () => {
    const crm = await startCrm()
    const cardfile = await startCardfile()
    await setUpWorkspace(cardfile)
    await connect(cardfile, crm)

    const { contactId, conversationId } = await inbound(cardfile, 'ana@example.com')
    await expect.poll(async () => (await readContact(cardfile, contactId)).validated).toBe(true)
    await setStatus(cardfile, conversationId, 'resolved')
    await cardfile.server.idle()

    expect(await deliveries(cardfile)).toEqual([])
    expect(crm.received().filter((r) => r.path === NOTIFICATION)).toEqual([])
  })

  it('applies a notification once when the CRM applied it but its answer failed', async () => {
    const crm = await startCrm()
    const cardfile = await startCardfile()
    await setUpWorkspace(cardfile)
    await connect(cardfile, crm, { notifications: true })
    // The CRM stores the first attempt, then answers 500: the outbox sends it again with the
    // same idempotency key, which the CRM recognises and does not apply a second time.
    crm.setBehaviour({ failAfterApply: 1 })

    const { conversationId } = await inbound(cardfile, 'ana@example.com')

    await expect
      .poll(async () => (await deliveries(cardfile, 'delivered')).map((d) => d.attempts))
      .toEqual([2])
    const requests = crm.received().filter((r) => r.path === NOTIFICATION)
    expect(requests).toHaveLength(2)
    expect(requests[0]?.key).toBe(requests[1]?.key)
    expect(requests.every((r) => r.signatureOk)).toBe(true)
    expect(crm.notifications()).toHaveLength(1)
    expect(crm.notifications()[0]).toMatchObject({ conversation: { id: conversationId } })
  })

  it.each([
    ['answers 503', { failStatus: 503 }, '503'],
    ['is down', { down: true }, 'could not be reached'],
  ] as const)(
    'retries a notification from the outbox while the CRM %s, then delivers it once',
    async (_, behaviour, error) => {
      const crm = await startCrm()
      const cardfile = await startCardfile()
      await setUpWorkspace(cardfile)
      await connect(cardfile, crm, { notifications: true })
      crm.setBehaviour(behaviour)

      const { conversationId } = await inbound(cardfile, 'ana@example.com')

      await expect
        .poll(async () => {
          const [pending] = await deliveries(cardfile, 'pending')
          return pending === undefined
            ? null
            : { attempts: pending.attempts, last: pending.lastError }
        })
        .toMatchObject({ attempts: expect.any(Number), last: expect.stringContaining(error) })
      await expect
        .poll(async () => (await deliveries(cardfile, 'pending'))[0]?.attempts ?? 0)
        .toBeGreaterThanOrEqual(2)
      expect(crm.notifications()).toEqual([])

      crm.setBehaviour({ failStatus: null, down: false })

      await expect.poll(() => crm.notifications().length).toBe(1)
      expect(crm.notifications()[0]).toMatchObject({
        event: 'conversation-started',
        conversation: { id: conversationId },
      })
      await expect.poll(async () => (await deliveries(cardfile, 'delivered')).length).toBe(1)
      expect(await deliveries(cardfile, 'pending')).toEqual([])
      const keys = crm
        .received()
        .filter((r) => r.path === NOTIFICATION)
        .map((r) => r.key)
      // Every attempt that reached the CRM carried the delivery's one key.
      expect(new Set(keys).size).toBe(1)
      expect(crm.notifications()).toHaveLength(1)
    },
  )
})
