// @vitest-environment jsdom
import { act, cleanup, render, screen, waitFor } from '@testing-library/react'
import { afterEach, describe, expect, it } from 'vitest'
import type { CardfileClient } from '@cardfile/core'
import { CardfileProvider, useCrmStatus } from '@cardfile/react'
import { connectClient } from '../../../tests/client/harness'
import {
  AGENT,
  connect,
  editAs,
  inbound,
  setStatus,
  setUpWorkspace,
  startCardfile,
  startCrm,
} from '../../../tests/crm/harness'

afterEach(() => cleanup())

function CrmBadge({ contactId }: { contactId: string }) {
  const { enabled, validated, lastLookupAt, pendingWriteBacks } = useCrmStatus(contactId)
  return (
    <p data-testid="crm">
      {`${enabled ? 'on' : 'off'} ${validated === null ? 'unknown' : validated ? 'validated' : 'not-validated'}`}
      {` ${lastLookupAt === null ? 'never' : 'looked-up'} pending:${pendingWriteBacks.join(',')}`}
    </p>
  )
}

const mount = (client: CardfileClient, contactId: string) =>
  render(
    <CardfileProvider client={client}>
      <CrmBadge contactId={contactId} />
    </CardfileProvider>,
  )

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
    const cardfile = await startCardfile()
    await setUpWorkspace(cardfile)
    const { contactId } = await inbound(cardfile, 'nobody@example.com')
    const client = await connectClient(cardfile.server.wsUrl, AGENT.userId, 'agent')

    mount(client, contactId)

    await waitFor(() =>
      expect(screen.getByTestId('crm').textContent).toBe('on unknown never pending:'),
    )
  })
})
