import { describe, expect, it } from 'vitest'
import { AGENT, WORKSPACE, connect, setUpWorkspace, startCardfile, startCrm } from './harness'
import type { Cardfile } from './harness'

const test = async (cardfile: Cardfile, as = undefined as typeof AGENT | undefined) =>
  cardfile.api(`/api/${WORKSPACE}/crm/test`, { method: 'POST', ...(as ? { as } : {}) })

describe('testing the CRM connection', () => {
  it('answers ok when the CRM verifies the signed test lookup, and applies nothing', async () => {
    const crm = await startCrm()
    const cardfile = await startCardfile()
    await setUpWorkspace(cardfile)
    await connect(cardfile, crm)

    const response = await test(cardfile)
    expect(response.status).toBe(200)
    expect(await response.json()).toMatchObject({
      ok: true,
      outcome: 'ok',
      status: null,
      reason: null,
    })
    const sent = crm.received().filter((r) => r.path === '/cardfile/lookup')
    expect(sent).toHaveLength(1)
    expect(sent[0]).toMatchObject({
      signatureOk: true,
      body: { trigger: 'connection-test', contact: { id: 'connection-test' }, lookup: {} },
    })
    const metrics = (await (await cardfile.api(`/api/${WORKSPACE}/crm/metrics`)).json()) as {
      lookups: Record<string, number>
    }
    expect(Object.values(metrics.lookups).reduce((a, b) => a + b, 0)).toBe(0)
  })

  it('says the CRM rejected it (401) when the CRM holds another secret, and ok after rotating to it', async () => {
    const crm = await startCrm()
    const cardfile = await startCardfile()
    await setUpWorkspace(cardfile)
    await connect(cardfile, crm)
    crm.setSecret('ab'.repeat(32))

    expect(await (await test(cardfile)).json()).toMatchObject({
      ok: false,
      outcome: 'rejected',
      status: 401,
    })
    const rotated = await cardfile.api(`/api/${WORKSPACE}/crm/secret`, {
      body: { secret: 'ab'.repeat(32) },
    })
    expect(rotated.status).toBe(200)
    expect(await (await test(cardfile)).json()).toMatchObject({ ok: true, outcome: 'ok' })
  })

  it('says the CRM is unreachable when it is down, and tests a connection that is switched off', async () => {
    const crm = await startCrm()
    const cardfile = await startCardfile()
    await setUpWorkspace(cardfile)
    await connect(cardfile, crm)
    await cardfile.api(`/api/${WORKSPACE}/crm/config`, { method: 'PUT', body: { enabled: false } })

    crm.setBehaviour({ down: true })
    expect(await (await test(cardfile)).json()).toMatchObject({ ok: false, outcome: 'unreachable' })
    crm.setBehaviour({ down: false })
    expect(await (await test(cardfile)).json()).toMatchObject({ ok: true })
  })

  it('says an answer that is not a lookup answer is malformed', async () => {
    const crm = await startCrm()
    const cardfile = await startCardfile()
    await setUpWorkspace(cardfile)
    await connect(cardfile, crm)
    crm.setBehaviour({ lookupBody: '{"found":"yes"}' })

    const body = (await (await test(cardfile)).json()) as { outcome: string; reason: string }
    expect(body.outcome).toBe('malformed')
    expect(body.reason).toContain('found')
  })

  it('says nothing is configured before a lookup URL is set, and refuses agents', async () => {
    const cardfile = await startCardfile()
    await setUpWorkspace(cardfile)

    expect(await (await test(cardfile)).json()).toMatchObject({
      ok: false,
      outcome: 'not-configured',
    })
    const refused = await test(cardfile, AGENT)
    expect(refused.status).toBe(403)
    expect(await refused.json()).toMatchObject({ error: { code: 'forbidden' } })
  })
})
