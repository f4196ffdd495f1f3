// @vitest-environment jsdom
import { act, cleanup, render, screen, waitFor } from '@testing-library/react'
import { afterEach, describe, expect, it } from 'vitest'
import { CardfileError, ErrorCodes } from '@cardfile/core'
import type { CardfileClient } from '@cardfile/core'
import { CardfileProvider, useCrmStatus } from '@cardfile/react'
import type { CrmStatusResult } from '@cardfile/react'
import { connectClient } from '../../../tests/client/harness'
import {
  ADMIN,
  AGENT,
  WORKSPACE,
  connect,
  editAs,
  inbound,
  setStatus,
  setUpWorkspace,
  startCardfile,
  startCrm,
} from '../../../tests/crm/harness'
import type { Cardfile } from '../../../tests/crm/harness'
import type { ReferenceCrm } from '../../../examples/crm-reference/reference-crm'

afterEach(() => cleanup())

let status: CrmStatusResult | null = null

function CrmBadge({ contactId }: { contactId: string }) {
  status = useCrmStatus(contactId)
  const { enabled, validated, lastLookupAt, pendingWriteBacks, connection, lookupResult } = status
  const result =
    lookupResult === null
      ? ''
      : lookupResult instanceof CardfileError
        ? lookupResult.code
        : lookupResult.outcome
  return (
    <>
      <p data-testid="connection">{connection}</p>
      <p data-testid="lookup-result">{result}</p>
      <CrmLine {...{ enabled, validated, lastLookupAt, pendingWriteBacks }} />
    </>
  )
}

function CrmLine({
  enabled,
  validated,
  lastLookupAt,
  pendingWriteBacks,
}: Pick<CrmStatusResult, 'enabled' | 'validated' | 'lastLookupAt' | 'pendingWriteBacks'>) {
  return (
    <p data-testid="crm">
      {`${enabled ? 'on' : 'off'} ${validated === null ? 'unknown' : validated ? 'validated' : 'not-validated'}`}
      {` ${lastLookupAt === null ? 'never' : 'looked-up'} pending:${pendingWriteBacks.join(',')}`}
    </p>
  )
}

const lookup = () => {
  if (status === null) throw new Error('not mounted')
  return status.lookup()
}

const mount = (client: CardfileClient, contactId: string) =>
  render(
    <CardfileProvider client={client}>
      <CrmBadge contactId={contactId} />
    </CardfileProvider>,
  )

interface AnaInWorkspace {
  crm: ReferenceCrm
  cardfile: Cardfile
  contactId: string
}

/** The reference CRM and a workspace with its CRM attributes and Ana's contact, not connected yet. */
async function workspaceWithAna(): Promise<AnaInWorkspace> {
  const crm = await startCrm()
  const cardfile = await startCardfile()
  await setUpWorkspace(cardfile)
  const { contactId } = await inbound(cardfile, 'ana@example.com')
  return { crm, cardfile, contactId }
}

/** Mounts the badge and waits until it reads the CRM connection as `state`, its line agreeing. */
async function mountUntilConnection(
  client: CardfileClient,
  contactId: string,
  state: 'on' | 'off',
) {
  const view = mount(client, contactId)
  await waitFor(() => expect(screen.getByTestId('connection').textContent).toBe(state))
  expect(screen.getByTestId('crm').textContent).toMatch(new RegExp(`^${state} `))
  return view
}

/** Ana's contact in a workspace connected to the reference CRM, open in an agent's badge. */
async function agentWatchingAna(): Promise<AnaInWorkspace> {
  const { crm, cardfile, contactId } = await workspaceWithAna()
  await connect(cardfile, crm)
  const client = await connectClient(cardfile.server.wsUrl, AGENT.userId, 'agent')
  mount(client, contactId)
  await waitFor(() => expect(screen.getByTestId('crm').textContent).toMatch(/^on /))
  return { crm, cardfile, contactId }
}

describe('useCrmStatus', () => {
  it('shows validated, the last lookup and pending write-backs live', async () => {
    const crm = await startCrm()
    const cardfile = await startCardfile()
    await setUpWorkspace(cardfile, { agentsMayEditCrm: true })
    await connect(cardfile, crm)
    const { contactId, conversationId } = await inbound(cardfile, 'ana@example.com')
    const client = await connectClient(cardfile.server.wsUrl, AGENT.userId, 'agent')

    mount(client, contactId)

    await waitFor(() =>
      expect(screen.getByTestId('crm').textContent).toBe('on validated looked-up pending:'),
    )
    await act(() => editAs(cardfile, AGENT, contactId, 'tier', 'silver'))
    await waitFor(() =>
      expect(screen.getByTestId('crm').textContent).toBe('on validated looked-up pending:tier'),
    )
    await act(() => setStatus(cardfile, conversationId, 'pending'))
    await waitFor(() =>
      expect(screen.getByTestId('crm').textContent).toBe('on validated looked-up pending:'),
    )
    expect(crm.writeBacks()).toHaveLength(1)
  })

  it('shows a contact never looked up as unknown', async () => {
    const crm = await startCrm()
    const cardfile = await startCardfile()
    await setUpWorkspace(cardfile)
    const { contactId } = await inbound(cardfile, 'nobody@example.com')
    // Connected once the contact's arrival was handled: no lookup ran for it.
    await cardfile.server.idle()
    await connect(cardfile, crm)
    const client = await connectClient(cardfile.server.wsUrl, AGENT.userId, 'agent')

    mount(client, contactId)

    await waitFor(() =>
      expect(screen.getByTestId('crm').textContent).toBe('on unknown never pending:'),
    )
  })

  it('says off to an agent while the workspace has no CRM connection, on once the reference CRM is configured, and off once it is switched off', async () => {
    const { crm, cardfile, contactId } = await workspaceWithAna()
    const agent = await connectClient(cardfile.server.wsUrl, AGENT.userId, 'agent')

    const first = await mountUntilConnection(agent, contactId, 'off')
    first.unmount()
    await connect(cardfile, crm)
    const second = await mountUntilConnection(agent, contactId, 'on')
    second.unmount()

    const off = await cardfile.api(`/api/${WORKSPACE}/crm/config`, {
      method: 'PUT',
      body: { enabled: false },
    })
    expect(off.status).toBe(200)
    await mountUntilConnection(agent, contactId, 'off')
  })

  it('says off to an admin while the workspace has no CRM connection, and on once connected', async () => {
    const { crm, cardfile, contactId } = await workspaceWithAna()
    const admin = await connectClient(cardfile.server.wsUrl, ADMIN.userId, 'admin')

    const first = await mountUntilConnection(admin, contactId, 'off')
    first.unmount()
    await connect(cardfile, crm)
    await mountUntilConnection(admin, contactId, 'on')
  })

  it('looks a contact up by hand and resolves what the look-up did', async () => {
    const { crm, contactId } = await agentWatchingAna()
    expect(screen.getByTestId('connection').textContent).toBe('on')
    const lookups = crm.received().filter((r) => r.path === '/cardfile/lookup').length

    const result = await act(() => lookup())
    expect(result).toMatchObject({ contactId, outcome: 'found', reason: null })
    expect(crm.received().filter((r) => r.path === '/cardfile/lookup')).toHaveLength(lookups + 1)
    await waitFor(() => expect(screen.getByTestId('lookup-result').textContent).toBe('found'))
    expect(screen.getByTestId('connection').textContent).toBe('on')
    await waitFor(() =>
      expect(screen.getByTestId('crm').textContent).toBe('on validated looked-up pending:'),
    )
  })

  it('rejects a look-up with plan-lacks-feature once the CRM was switched off, and then says off', async () => {
    const { cardfile } = await agentWatchingAna()
    // Switched off after the panel read the connection: only the look-up tells.
    const off = await cardfile.api(`/api/${WORKSPACE}/crm/config`, {
      method: 'PUT',
      body: { enabled: false },
    })
    expect(off.status).toBe(200)
    expect(screen.getByTestId('connection').textContent).toBe('on')

    const refused = await act(() => lookup().catch((error: unknown) => error))
    expect(refused).toBeInstanceOf(CardfileError)
    expect((refused as CardfileError).code).toBe(ErrorCodes.PlanLacksFeature)
    await waitFor(() =>
      expect(screen.getByTestId('lookup-result').textContent).toBe(ErrorCodes.PlanLacksFeature),
    )
    expect(screen.getByTestId('connection').textContent).toBe('off')
    expect(screen.getByTestId('crm').textContent).toMatch(/^off /)
  })
})
