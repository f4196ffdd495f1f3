// @vitest-environment jsdom
import '../../../tests/client/harness' // same-realm TextEncoder for jose under jsdom
import { act, cleanup, render, screen, waitFor } from '@testing-library/react'
import { afterEach, describe, expect, it } from 'vitest'
import type { CardfileClient } from '@cardfile/core'
import {
  CardfileProvider,
  useContactGroup,
  useContactHistory,
  useLinkedContacts,
} from '@cardfile/react'
import { startHarness } from '../../server/test/linking-harness'
import type { Harness } from '../../server/test/linking-harness'

let h: Harness
afterEach(async () => {
  cleanup()
  await h.close()
})

function Linked({ contactId }: { contactId: string }) {
  const { items, hasMore, loadMore, size } = useLinkedContacts(contactId, {
    pageSize: 1,
    pollMs: 100,
  })
  return (
    <div>
      <p data-testid="linked">{items.map((c) => c.channel).join(',')}</p>
      <p data-testid="size">{size}</p>
      {hasMore && <button onClick={loadMore}>more</button>}
    </div>
  )
}

function History({ contactId }: { contactId: string }) {
  const { items, hasMore, loadMore } = useContactHistory(contactId, { pageSize: 2, pollMs: 100 })
  return (
    <div>
      <p data-testid="history">{items.map((c) => c.channel).join(',')}</p>
      {hasMore && <button onClick={loadMore}>older</button>}
    </div>
  )
}

function Vips() {
  const { items, enabled } = useContactGroup('vip', { pollMs: 100 })
  return <p data-testid="vip">{enabled ? items.map((c) => c.channel).join(',') : 'off'}</p>
}

const mount = (client: CardfileClient, ui: React.ReactNode) =>
  render(<CardfileProvider client={client}>{ui}</CardfileProvider>)

async function people() {
  const email = await h.inbound({
    channel: 'email',
    platformUserId: 'ana@example.org',
    metadata: { email: 'Ana@Example.org' },
  })
  const webchat = await h.inbound({
    channel: 'webchat',
    platformUserId: 'visitor-1',
    metadata: { email: ' ana@example.org' },
  })
  const sms = await h.inbound({
    channel: 'sms',
    platformUserId: '+14155550100',
    metadata: { phone_number: '+1 415 555 0100' },
  })
  return { email: email.contactId, webchat: webchat.contactId, sms: sms.contactId }
}

describe('useLinkedContacts', () => {
  it('follows the matching attribute live and pages through the group', async () => {
    h = await startHarness()
    const ids = await people()
    const admin = await h.client('admin')
    const agent = await h.client('agent')
    mount(agent, <Linked contactId={ids.email} />)
    await waitFor(() => expect(screen.getByTestId('size').textContent).toBe('1'))
    expect(screen.getByTestId('linked').textContent).toBe('')

    const schema = admin.schema()
    await schema.whenSynced()
    act(() => schema.schema.updateSettings({ matchingAttribute: 'email' }))
    await waitFor(() => expect(screen.getByTestId('linked').textContent).toBe('webchat'))

    // A manual link makes a group of three; one per page.
    await h.api('agent', 'POST', `/contacts/${ids.email}/links`, {
      contactId: ids.sms,
      kind: 'link',
    })
    await waitFor(() => expect(screen.getByTestId('size').textContent).toBe('3'))
    act(() => screen.getByText('more').click())
    await waitFor(() => expect(screen.getByTestId('linked').textContent).toBe('sms,webchat'))
    expect(screen.queryByText('more')).toBeNull()
  })
})

describe('useContactHistory', () => {
  it("lists the group's conversations newest first and shows new ones live", async () => {
    h = await startHarness()
    const ids = await people()
    await h.api('agent', 'POST', `/contacts/${ids.webchat}/links`, {
      contactId: ids.email,
      kind: 'link',
    })
    const agent = await h.client('agent')
    mount(agent, <History contactId={ids.email} />)
    await waitFor(() => expect(screen.getByTestId('history').textContent).toBe('webchat,email'))
    expect(screen.queryByText('older')).toBeNull()

    await h.api('agent', 'POST', `/contacts/${ids.email}/links`, {
      contactId: ids.sms,
      kind: 'link',
    })
    await waitFor(() => expect(screen.getByTestId('history').textContent).toBe('sms,webchat'))
    act(() => screen.getByText('older').click())
    await waitFor(() => expect(screen.getByTestId('history').textContent).toBe('sms,webchat,email'))
  })
})

describe('useContactGroup', () => {
  it('lists VIP contacts live and shows the group off while VIP is off', async () => {
    h = await startHarness()
    const ids = await people()
    const agent = await h.client('agent')
    mount(agent, <Vips />)
    await waitFor(() => expect(screen.getByTestId('vip').textContent).toBe(''))
    const contact = agent.contact(ids.sms)
    await contact.whenSynced()
    act(() => contact.setVip(true))
    await waitFor(() => expect(screen.getByTestId('vip').textContent).toBe('sms'))
    contact.release()

    const admin = await h.client('admin')
    const schema = admin.schema()
    await schema.whenSynced()
    act(() => schema.schema.updateSettings({ vipEnabled: false }))
    await waitFor(() => expect(screen.getByTestId('vip').textContent).toBe('off'))
  })
})
