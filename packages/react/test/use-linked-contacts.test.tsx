// @vitest-environment jsdom
import { inboundEach, renderWithClient, startLinkingHarness } from './linking-setup'
import type { Harness } from '../../server/test/linking-harness'
import { act, render, screen, waitFor } from '@testing-library/react'
import { StrictMode } from 'react'
import { describe, expect, it } from 'vitest'
import {
  CardfileProvider,
  useContact,
  useContactGroup,
  useContactHistory,
  useLinkedContacts,
} from '@cardfile/react'

function Linked({ contactId, pollMs = 100 }: { contactId: string; pollMs?: number }) {
  const { items, hasMore, loadMore, size } = useLinkedContacts(contactId, { pageSize: 1, pollMs })
  return (
    <div>
      <p data-testid="linked">{items.map((c) => c.channel).join(',')}</p>
      <p data-testid="size">{size}</p>
      {hasMore && <button onClick={loadMore}>more</button>}
    </div>
  )
}

function History({ contactId, pollMs = 100 }: { contactId: string; pollMs?: number }) {
  const { items, hasMore, loadMore } = useContactHistory(contactId, { pageSize: 2, pollMs })
  return (
    <div>
      <p data-testid="history">{items.map((c) => c.channel).join(',')}</p>
      <p data-testid="history-hints">{items.map((c) => c.hint ?? '?').join(',')}</p>
      {hasMore && <button onClick={loadMore}>older</button>}
    </div>
  )
}

function Vips() {
  const { items, enabled } = useContactGroup('vip', { pollMs: 100 })
  return <p data-testid="vip">{enabled ? items.map((c) => c.channel).join(',') : 'off'}</p>
}

/**
 * A panel that opens the contact itself (useContact) and lists beside it, with polling off: the
 * lists' effects run before the panel's, so the contact is not open yet when they subscribe.
 */
function Panel({ contactId }: { contactId: string }) {
  const { found } = useContact(contactId)
  return (
    <div>
      <p data-testid="found">{String(found)}</p>
      <Linked contactId={contactId} pollMs={0} />
      <History contactId={contactId} pollMs={0} />
    </div>
  )
}

/** Ana by email and on webchat (her email spelt two ways), and an SMS number. */
const people = (h: Harness) =>
  inboundEach(h, {
    email: {
      channel: 'email',
      platformUserId: 'ana@example.org',
      metadata: { email: 'Ana@Example.org' },
    },
    webchat: {
      channel: 'webchat',
      platformUserId: 'visitor-1',
      metadata: { email: ' ana@example.org' },
    },
    sms: {
      channel: 'sms',
      platformUserId: '+14155550100',
      metadata: { phone_number: '+1 415 555 0100' },
    },
  })

describe('useLinkedContacts', () => {
  it('follows the matching attribute live and pages through the group', async () => {
    const h = await startLinkingHarness()
    const ids = await people(h)
    const admin = await h.client('admin')
    const agent = await h.client('agent')
    renderWithClient(agent, <Linked contactId={ids.email} />)
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
    const h = await startLinkingHarness()
    const ids = await people(h)
    await h.api('agent', 'POST', `/contacts/${ids.webchat}/links`, {
      contactId: ids.email,
      kind: 'link',
    })
    const agent = await h.client('agent')
    renderWithClient(agent, <History contactId={ids.email} />)
    await waitFor(() => expect(screen.getByTestId('history').textContent).toBe('webchat,email'))
    // Each row carries its contact's masked handle, as the index has it.
    const hintOf = async (id: string) =>
      ((await h.api('agent', 'GET', `/contacts/${id}/linked`)).json.contact as { hint: string })
        .hint
    const hints = [await hintOf(ids.webchat), await hintOf(ids.email)]
    expect(hints[0]).not.toBe(hints[1])
    await waitFor(() =>
      expect(screen.getByTestId('history-hints').textContent).toBe(hints.join(',')),
    )
    expect(screen.queryByText('older')).toBeNull()

    await h.api('agent', 'POST', `/contacts/${ids.email}/links`, {
      contactId: ids.sms,
      kind: 'link',
    })
    await waitFor(() => expect(screen.getByTestId('history').textContent).toBe('sms,webchat'))
    act(() => screen.getByText('older').click())
    await waitFor(() => expect(screen.getByTestId('history').textContent).toBe('sms,webchat,email'))
    // The member that joined later gets its handle too.
    const smsHint = await hintOf(ids.sms)
    await waitFor(() =>
      expect(screen.getByTestId('history-hints').textContent).toBe([smsHint, ...hints].join(',')),
    )
  })
})

describe('useContactGroup', () => {
  it('lists VIP contacts live and shows the group off while VIP is off', async () => {
    const h = await startLinkingHarness()
    const ids = await people(h)
    const agent = await h.client('agent')
    renderWithClient(agent, <Vips />)
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

describe('live refresh of the contact lists', () => {
  it('follows a change of the contact opened by a parent after the lists mounted, without polling', async () => {
    const h = await startLinkingHarness()
    const ids = await people(h)
    const admin = await h.client('admin')
    const schema = admin.schema()
    await schema.whenSynced()
    act(() => {
      schema.schema.createAttribute({ id: 'member_no', label: 'Member number', type: 'text' })
      schema.schema.updateSettings({ matchingAttribute: 'member_no' })
    })
    const other = await h.client('agent', 'agent-2')
    const email = other.contact(ids.email)
    const webchat = other.contact(ids.webchat)
    await Promise.all([email.whenSynced(), webchat.whenSynced()])
    act(() => email.setValue('member_no', 'M-1'))

    const agent = await h.client('agent')
    renderWithClient(agent, <Panel contactId={ids.webchat} />)
    await waitFor(() => expect(screen.getByTestId('found').textContent).toBe('true'))
    await waitFor(() => expect(screen.getByTestId('size').textContent).toBe('1'))
    expect(screen.getByTestId('history').textContent).toBe('webchat')

    // Another agent gives the webchat visitor Ana's member number: the lists follow at once
    // (polling is off), though the panel opened the contact after they subscribed.
    act(() => webchat.setValue('member_no', 'M-1'))
    await waitFor(() => expect(screen.getByTestId('linked').textContent).toBe('email'))
    await waitFor(() => expect(screen.getByTestId('history').textContent).toBe('webchat,email'))
    email.release()
    webchat.release()
  })

  it('leaves no document open and no listener behind after a StrictMode mount and unmount', async () => {
    const h = await startLinkingHarness()
    const ids = await people(h)
    const agent = await h.client('agent')
    const held = agent.contact(ids.email)
    await held.whenSynced()
    const updateListeners = () => held.doc._observers.get('update')?.size ?? 0
    const before = updateListeners()

    const view = render(
      <StrictMode>
        <CardfileProvider client={agent}>
          <Panel contactId={ids.email} />
        </CardfileProvider>
      </StrictMode>,
    )
    await waitFor(() => expect(screen.getByTestId('size').textContent).toBe('1'))
    // The lists follow the server's push, not the document: they add no listener to it, and
    // they share one subscription each despite the double mount.
    expect(updateListeners()).toBe(before)
    expect(agent.inspect().lists.map((l) => l.subscribers)).toEqual([1, 1])
    view.unmount()
    expect(updateListeners()).toBe(before)
    held.release()
    await waitFor(() => expect(agent.openDocuments()).toEqual([]))
  })
})
