// @vitest-environment jsdom
import '../../../tests/client/harness' // same-realm TextEncoder for jose under jsdom
import { act, cleanup, render, screen, waitFor } from '@testing-library/react'
import { afterEach, describe, expect, it } from 'vitest'
import type { CardfileClient } from '@cardfile/core'
import {
  CardfileProvider,
  useContacts,
  useConversation,
  useConversations,
  useQueue,
} from '@cardfile/react'
import { startHarness } from '../../server/test/linking-harness'
import type { Harness } from '../../server/test/linking-harness'

let h: Harness
afterEach(async () => {
  cleanup()
  await h.close()
})

const mount = (client: CardfileClient, ui: React.ReactNode) =>
  render(<CardfileProvider client={client}>{ui}</CardfileProvider>)

function Queue() {
  const { items, push } = useQueue(null)
  return (
    <div>
      <p data-testid="queue">{items.map((c) => `${c.id}:${c.status}`).join(',')}</p>
      <p data-testid="push">{push}</p>
    </div>
  )
}

function Resolved() {
  const { items } = useConversations({ status: ['resolved'] })
  return <p data-testid="resolved">{items.map((c) => c.id).join(',')}</p>
}

function Vips() {
  const { items } = useContacts({ vip: true })
  return <p data-testid="vips">{items.map((c) => c.id).join(',')}</p>
}

let replyOutcome: unknown = 'none'
function Conversation({ id }: { id: string }) {
  const { messages, status, reply, setStatus } = useConversation(id)
  return (
    <div>
      <p data-testid="messages">{messages.map((m) => m.text).join('|')}</p>
      <p data-testid="status">{status ?? '-'}</p>
      <button onClick={() => (replyOutcome = reply('On it'))}>reply</button>
      <button onClick={() => setStatus('resolved')}>resolve</button>
    </div>
  )
}

describe('inbox hooks', () => {
  it("show another agent's inbound conversations, replies and status changes live, without polling", async () => {
    h = await startHarness()
    const first = await h.inbound({ channel: 'sms', platformUserId: '+14155550100', text: 'Hi' })
    const viewer = await h.client('agent', 'viewer')
    const other = await h.client('agent', 'other')
    mount(
      viewer,
      <>
        <Queue />
        <Resolved />
      </>,
    )
    await waitFor(() =>
      expect(screen.getByTestId('queue').textContent).toBe(`${first.conversationId}:new`),
    )
    await waitFor(() => expect(screen.getByTestId('push').textContent).toBe('active'))

    // A new inbound conversation appears in the queue (the fallback poll is two minutes).
    const second = await h.inbound({ channel: 'sms', platformUserId: '+14155550101' })
    await waitFor(() =>
      expect(screen.getByTestId('queue').textContent).toContain(`${second.conversationId}:new`),
    )

    // The other agent replies and resolves in its own window.
    const otherView = render(
      <CardfileProvider client={other}>
        <Conversation id={first.conversationId} />
      </CardfileProvider>,
    )
    const within = (id: string) => otherView.getByTestId(id)
    await waitFor(() => expect(within('messages').textContent).toBe('Hi'))
    act(() => otherView.getByText('reply').click())
    expect(replyOutcome).toBeNull()
    await waitFor(() => expect(within('messages').textContent).toBe('Hi|On it'))
    await waitFor(() =>
      expect(screen.getByTestId('queue').textContent).toContain(`${first.conversationId}:pending`),
    )
    act(() => otherView.getByText('resolve').click())
    await waitFor(() => expect(within('status').textContent).toBe('resolved'))
    await waitFor(() =>
      expect(screen.getByTestId('queue').textContent).toBe(`${second.conversationId}:new`),
    )
    await waitFor(() =>
      expect(screen.getByTestId('resolved').textContent).toBe(first.conversationId),
    )
  })

  it("shows another agent's VIP mark in a VIP contact list", async () => {
    h = await startHarness()
    const started = await h.inbound({ channel: 'sms', platformUserId: '+14155550100' })
    const viewer = await h.client('agent', 'viewer')
    const other = await h.client('agent', 'other')
    mount(viewer, <Vips />)
    await waitFor(() =>
      expect(viewer.lists().state({ kind: 'contacts', vip: true }, 50).push).toBe('active'),
    )
    expect(screen.getByTestId('vips').textContent).toBe('')
    const contact = other.contact(started.contactId)
    await contact.whenSynced()
    contact.setVip(true)
    contact.release()
    await waitFor(() => expect(screen.getByTestId('vips').textContent).toBe(started.contactId))
  })
})
