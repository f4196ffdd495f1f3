// @vitest-environment jsdom
import { act, cleanup, render, waitFor } from '@testing-library/react'
import { afterEach, describe, expect, it } from 'vitest'
import { SchemaDoc, schemaDocName } from '@cardfile/core'
import type { CardfileClient } from '@cardfile/core'
import { CardfileProvider, useCrmDeliveries, useCrmSettings, useRelink } from '@cardfile/react'
import type { CrmDeliveriesResult, CrmSettingsResult, RelinkResult } from '@cardfile/react'
import { connectClient } from '../../../tests/client/harness'
import {
  ADMIN,
  AGENT,
  SYSTEM,
  WORKSPACE,
  inbound,
  setUpWorkspace,
  startCardfile,
  startCrm,
} from '../../../tests/crm/harness'
import type { Cardfile } from '../../../tests/crm/harness'
import type { ReferenceCrm } from '../../../examples/crm-reference/reference-crm'

afterEach(() => cleanup())

/** Lists are polled only this often while push is unavailable: every change here is pushed. */
const MINUTES = 5 * 60_000

interface Captured {
  settings: CrmSettingsResult | null
  deliveries: CrmDeliveriesResult | null
  relink: RelinkResult | null
}
const seen: Captured = { settings: null, deliveries: null, relink: null }

function Settings() {
  seen.settings = useCrmSettings()
  return null
}
function Deliveries() {
  seen.deliveries = useCrmDeliveries()
  return null
}
function Relink() {
  seen.relink = useRelink()
  return null
}

const mount = (client: CardfileClient, children: React.ReactNode) =>
  render(<CardfileProvider client={client}>{children}</CardfileProvider>)

/** An admin's client, its lists polled rarely so that only pushes refresh them, with `children` mounted. */
async function mountAsAdmin(cardfile: Cardfile, children: React.ReactNode): Promise<void> {
  const admin = await connectClient(cardfile.server.wsUrl, ADMIN.userId, 'admin', {
    listPollMs: MINUTES,
  })
  mount(admin, children)
}

/**
 * The reference CRM taking notifications but refusing each with 422 (not retried: a
 * notification goes to the dead letter at once), and an admin watching the deliveries.
 */
async function deliveriesToARefusingCrm(): Promise<{ crm: ReferenceCrm; cardfile: Cardfile }> {
  const crm = await startCrm()
  const cardfile = await startCardfile()
  await setUpWorkspace(cardfile)
  const configured = await cardfile.api(`/api/${WORKSPACE}/crm/config`, {
    method: 'PUT',
    body: { enabled: true, lookupUrl: crm.lookupUrl, notificationUrl: crm.notificationUrl },
  })
  crm.setSecret(((await configured.json()) as { secret: string }).secret)
  crm.setBehaviour({ failStatus: 422 })
  await mountAsAdmin(cardfile, <Deliveries />)
  return { crm, cardfile }
}

const settings = (): CrmSettingsResult => {
  if (seen.settings === null) throw new Error('not mounted')
  return seen.settings
}

describe('useCrmSettings', () => {
  it('configures the CRM, tests it, rotates the secret and switches it off', async () => {
    const crm = await startCrm()
    const cardfile = await startCardfile()
    await setUpWorkspace(cardfile)
    const admin = await connectClient(cardfile.server.wsUrl, ADMIN.userId, 'admin')
    mount(admin, <Settings />)
    await waitFor(() => expect(settings().settings?.configured).toBe(false))
    expect(settings().canManage).toBe(true)

    const first = await act(() =>
      settings().save({ enabled: true, lookupUrl: crm.lookupUrl, writeBackUrl: crm.writeBackUrl }),
    )
    expect(first.secret).toMatch(/^[0-9a-f]{64}$/)
    expect(first.settings).toMatchObject({ configured: true, enabled: true })
    await waitFor(() => expect(settings().settings?.lookupUrl).toBe(crm.lookupUrl))
    crm.setSecret(first.secret ?? '')
    expect(await act(() => settings().test())).toMatchObject({ ok: true, outcome: 'ok' })
    await waitFor(() => expect(settings().lastTest?.ok).toBe(true))

    const rotated = await act(() => settings().rotateSecret())
    expect(rotated.secret).not.toBe(first.secret)
    expect(settings().lastTest).toBeNull()
    expect(await act(() => settings().test())).toMatchObject({ outcome: 'rejected', status: 401 })
    crm.setSecret(rotated.secret ?? '')
    expect(await act(() => settings().test())).toMatchObject({ ok: true })
    expect(settings().settings?.secretHint).toBe(`…${(rotated.secret ?? '').slice(-4)}`)

    await act(() => settings().save({ enabled: false }))
    await waitFor(() => expect(settings().settings?.enabled).toBe(false))
    const stored = (await (await cardfile.api(`/api/${WORKSPACE}/crm/config`)).json()) as {
      enabled: boolean
    }
    expect(stored.enabled).toBe(false)
  })

  it('reads nothing for an agent and rejects its changes', async () => {
    const cardfile = await startCardfile()
    await setUpWorkspace(cardfile)
    const agent = await connectClient(cardfile.server.wsUrl, AGENT.userId, 'agent')
    mount(agent, <Settings />)
    await waitFor(() => expect(seen.settings).not.toBeNull())
    expect(settings().canManage).toBe(false)
    expect(settings().settings).toBeNull()
    const refused = await act(() =>
      settings()
        .save({ enabled: true })
        .catch((e: unknown) => e),
    )
    expect(refused).toMatchObject({ code: 'forbidden' })
  })
})

describe('useCrmDeliveries', () => {
  it('lists a delivery the CRM refused and follows its retry until the CRM accepted it', async () => {
    const { crm, cardfile } = await deliveriesToARefusingCrm()
    const { contactId } = await inbound(cardfile, 'ana@example.com')

    await waitFor(() => expect(seen.deliveries?.items).toHaveLength(1), { timeout: 10_000 })
    const dead = seen.deliveries?.items[0]
    expect(dead).toMatchObject({ contactId, kind: 'notification', state: 'dead' })
    expect(dead?.lastError).toContain('422')
    expect(dead).not.toHaveProperty('body')

    crm.setBehaviour({ failStatus: null })
    await act(() => seen.deliveries!.retry(dead!.id))
    expect(seen.deliveries?.items).toHaveLength(0)
    await waitFor(
      () => expect(seen.deliveries?.retries).toEqual([{ id: dead!.id, state: 'delivered' }]),
      { timeout: 10_000 },
    )
    expect(crm.notifications()).toHaveLength(1)
  })

  it('follows a retry the CRM refuses again back into the dead letter', async () => {
    const { cardfile } = await deliveriesToARefusingCrm()
    await inbound(cardfile, 'ana@example.com')
    await waitFor(() => expect(seen.deliveries?.items).toHaveLength(1), { timeout: 10_000 })
    const dead = seen.deliveries!.items[0]!

    await act(() => seen.deliveries!.retry(dead.id))
    expect(seen.deliveries?.items).toEqual([])
    await waitFor(
      () => expect(seen.deliveries?.retries).toEqual([{ id: dead.id, state: 'dead' }]),
      { timeout: 10_000 },
    )
    expect(seen.deliveries?.items.map((d) => d.id)).toEqual([dead.id])
    expect(seen.deliveries?.items[0]?.updatedAt).toBeGreaterThan(dead.updatedAt)
  })

  it("shows a delivery that fails and another admin's retry of it without polling", async () => {
    const { crm, cardfile } = await deliveriesToARefusingCrm()
    await waitFor(() => expect(seen.deliveries?.canManage).toBe(true))
    await waitFor(() => expect(seen.deliveries?.loading).toBe(false))
    expect(seen.deliveries?.items).toEqual([])

    // A delivery fails after the list was read: it shows.
    await inbound(cardfile, 'ana@example.com')
    await waitFor(() => expect(seen.deliveries?.items).toHaveLength(1), { timeout: 10_000 })
    const dead = seen.deliveries!.items[0]!

    // Another admin sends it again (here through the API): it leaves this admin's list.
    crm.setBehaviour({ failStatus: null })
    const retried = await cardfile.api(
      `/api/${WORKSPACE}/crm/deliveries/${encodeURIComponent(dead.id)}/retry`,
      { method: 'POST', as: { userId: 'another-admin', role: 'admin' } },
    )
    expect(retried.status).toBe(202)
    await waitFor(() => expect(seen.deliveries?.items).toEqual([]), { timeout: 10_000 })
    await waitFor(() => expect(crm.notifications()).toHaveLength(1), { timeout: 10_000 })
    expect(seen.deliveries?.retries).toEqual([])
  })
})

describe('useRelink', () => {
  it('follows a re-link started by hand, and the one a matching-attribute change queues, to done', async () => {
    const cardfile = await startCardfile()
    await setUpWorkspace(cardfile)
    await inbound(cardfile, 'ana@example.com')
    await inbound(cardfile, 'ben@example.com')
    await mountAsAdmin(cardfile, <Relink />)
    await waitFor(() => expect(seen.relink?.canStart).toBe(true))
    expect(seen.relink?.job).toBeNull()

    const started = await act(() => seen.relink!.start())
    expect(started.state).toMatch(/queued|running|done/)
    await waitFor(() => expect(seen.relink?.job).toMatchObject({ id: started.id, state: 'done' }))
    expect(seen.relink?.job?.processed).toBe(seen.relink?.job?.total)
    expect(seen.relink?.job?.total).toBeGreaterThanOrEqual(2)

    // Another admin (here the server itself) changes the matching attribute.
    await cardfile.server.host.transact(schemaDocName(WORKSPACE), SYSTEM, (doc) => {
      const schema = new SchemaDoc(doc)
      schema.updateSettings({ matchingAttribute: 'customer' })
      schema.destroy()
    })
    await waitFor(() =>
      expect(seen.relink?.job).toMatchObject({ attribute: 'customer', state: 'done' }),
    )
    expect(seen.relink?.job?.id).not.toBe(started.id)
    expect(seen.relink?.running).toBe(false)
  })
})
