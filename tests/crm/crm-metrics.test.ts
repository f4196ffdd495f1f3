import { describe, expect, it } from 'vitest'
import {
  connect,
  inbound,
  readContact,
  setStatus,
  setUpWorkspace,
  startCardfile,
  startCrm,
} from './harness'
import type { Cardfile } from './harness'

/** `GET /metrics` as Prometheus scrapes it: no token. */
const scrape = async (cardfile: Cardfile): Promise<string> => {
  const response = await fetch(`${cardfile.server.url}/metrics`)
  expect(response.status).toBe(200)
  return response.text()
}

/** The value of one sample (`name{labels} value`) in the text exposition, or null. */
const sample = (text: string, series: string): number | null => {
  const line = text.split('\n').find((l) => l.startsWith(`${series} `))
  return line === undefined ? null : Number(line.slice(series.length + 1))
}

describe('CRM metrics at GET /metrics', () => {
  it('counts queued, sent and retried deliveries, lookups by outcome and delivery latency', async () => {
    const crm = await startCrm()
    const cardfile = await startCardfile()
    await setUpWorkspace(cardfile)
    await connect(cardfile, crm, { notifications: true })

    const found = await inbound(cardfile, 'ana@example.com')
    await expect
      .poll(async () => (await readContact(cardfile, found.contactId)).validated)
      .toBe(true)
    const unknown = await inbound(cardfile, 'nobody@example.com')
    await expect
      .poll(async () => (await readContact(cardfile, unknown.contactId)).validated)
      .toBe(false)
    // One failed attempt, then the CRM accepts: a retried delivery.
    await expect.poll(() => crm.notifications().length).toBe(2)
    crm.setBehaviour({ failStatus: 503 })
    await setStatus(cardfile, found.conversationId, 'pending')
    await expect
      .poll(async () =>
        sample(await scrape(cardfile), 'cardfile_crm_deliveries_total{event="retried"}'),
      )
      .toBeGreaterThanOrEqual(1)
    crm.setBehaviour({ failStatus: null })
    await expect.poll(() => crm.notifications().length).toBe(3)

    await expect
      .poll(async () =>
        sample(await scrape(cardfile), 'cardfile_crm_deliveries_total{event="sent"}'),
      )
      .toBe(3)
    const text = await scrape(cardfile)
    expect(text).toContain('# TYPE cardfile_crm_deliveries_total counter')
    expect(sample(text, 'cardfile_crm_deliveries_total{event="queued"}')).toBe(3)
    expect(sample(text, 'cardfile_crm_deliveries_total{event="dead"}')).toBeNull()
    expect(text).toContain('# TYPE cardfile_crm_lookups_total counter')
    expect(sample(text, 'cardfile_crm_lookups_total{outcome="found"}')).toBe(1)
    expect(sample(text, 'cardfile_crm_lookups_total{outcome="not-found"}')).toBe(1)
    expect(text).toContain('# TYPE cardfile_crm_delivery_latency_seconds histogram')
    expect(sample(text, 'cardfile_crm_delivery_latency_seconds_count')).toBe(3)
    expect(sample(text, 'cardfile_crm_delivery_latency_seconds_sum')).toBeGreaterThan(0)
  })

  it('counts a dead delivery and a failed lookup', async () => {
    const crm = await startCrm()
    const cardfile = await startCardfile()
    await setUpWorkspace(cardfile)
    await connect(cardfile, crm, { notifications: true })
    // 401 is permanent for deliveries; the lookup fails with it too.
    crm.setSecret('ab'.repeat(32))

    await inbound(cardfile, 'ana@example.com')

    await expect
      .poll(async () =>
        sample(await scrape(cardfile), 'cardfile_crm_deliveries_total{event="dead"}'),
      )
      .toBe(1)
    const text = await scrape(cardfile)
    expect(sample(text, 'cardfile_crm_lookups_total{outcome="failed"}')).toBe(1)
    expect(sample(text, 'cardfile_crm_deliveries_total{event="sent"}')).toBeNull()
    expect(sample(text, 'cardfile_crm_delivery_latency_seconds_count')).toBe(0)
  })
})
