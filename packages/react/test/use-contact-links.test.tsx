// @vitest-environment jsdom
import { inboundEach, renderWithClient, startLinkingHarness } from './linking-setup'
import type { Harness } from '../../server/test/linking-harness'
import { act, screen, waitFor } from '@testing-library/react'
import { describe, expect, it } from 'vitest'
import { CardfileError, ErrorCodes } from '@cardfile/core'
import type { CardfileClient } from '@cardfile/core'
import { useContactHistory, useContactLinks, useLinkedContacts } from '@cardfile/react'
import type { ContactLinksResult } from '@cardfile/react'

/** The hook's result, for the test to call. */
let links: ContactLinksResult | null = null

/** The links hook beside the lists it must refresh; polling off, so only the hook refreshes. */
function Panel({ contactId, log = true }: { contactId: string; log?: boolean }) {
  links = useContactLinks(contactId, { pollMs: 0, log })
  const linked = useLinkedContacts(contactId, { pollMs: 0 })
  const history = useContactHistory(contactId, { pollMs: 0 })
  return (
    <div>
      <p data-testid="linked">{linked.items.map((c) => c.channel).join(',')}</p>
      <p data-testid="history">{history.items.map((c) => c.channel).join(',')}</p>
      <p data-testid="log">{links.log.items.map((e) => `${e.action}:${e.by.userId}`).join(',')}</p>
      <p data-testid="error">{links.error?.code ?? ''}</p>
      <p data-testid="can-link">{String(links.canLink)}</p>
      <p data-testid="log-loading">{String(links.log.loading)}</p>
    </div>
  )
}

const hook = (): ContactLinksResult => {
  if (links === null) throw new Error('not mounted')
  return links
}

const mount = (client: CardfileClient, contactId: string, log = true) =>
  renderWithClient(client, <Panel contactId={contactId} log={log} />)

/** Ana by email and on webchat (the same email), and an SMS number with no values. */
const people = (h: Harness) =>
  inboundEach(h, {
    email: {
      channel: 'email',
      platformUserId: 'ana@example.org',
      metadata: { email: 'ana@example.org' },
    },
    webchat: {
      channel: 'webchat',
      platformUserId: 'visitor-1',
      metadata: { email: 'ana@example.org' },
    },
    sms: { channel: 'sms', platformUserId: '+14155550100' },
  })

describe('useContactLinks', () => {
  it('unlinks, links and reverts by hand, and the lists and the log follow at once', async () => {
    const h = await startLinkingHarness()
    const ids = await people(h)
    const admin = await h.client('admin')
    const schema = admin.schema()
    await schema.whenSynced()
    act(() => schema.schema.updateSettings({ matchingAttribute: 'email' }))
    // Polling is off below: mount once the server has linked them.
    await expect
      .poll(async () => (await h.api('agent', 'GET', `/contacts/${ids.email}/linked`)).json.size)
      .toBe(2)
    const agent = await h.client('agent', 'agent-7')
    mount(agent, ids.email)
    await waitFor(() => expect(screen.getByTestId('linked').textContent).toBe('webchat'))
    await waitFor(() => expect(screen.getByTestId('history').textContent).toBe('webchat,email'))
    expect(screen.getByTestId('can-link').textContent).toBe('true')

    // The webchat visitor was not Ana after all.
    const record = await act(() => hook().unlink(ids.webchat))
    expect(record).toMatchObject({ kind: 'unlink', subject: ids.webchat })
    await waitFor(() => expect(screen.getByTestId('linked').textContent).toBe(''))
    await waitFor(() => expect(screen.getByTestId('history').textContent).toBe('email'))
    await waitFor(() => expect(screen.getByTestId('log').textContent).toBe('unlink:agent-7'))

    // Her SMS number, linked by hand whatever its values.
    await act(() => hook().link(ids.sms))
    await waitFor(() => expect(screen.getByTestId('linked').textContent).toBe('sms'))
    await waitFor(() => expect(screen.getByTestId('history').textContent).toBe('sms,email'))

    // Reverting the unlink gives the pair back to the matching attribute.
    await act(() => hook().revert(ids.webchat))
    await waitFor(() => expect(screen.getByTestId('linked').textContent).toBe('sms,webchat'))
    await waitFor(() =>
      expect(screen.getByTestId('log').textContent).toBe(
        'revert:agent-7,link:agent-7,unlink:agent-7',
      ),
    )
  })

  it('rejects a refused change with its CardfileError and keeps it in error', async () => {
    const h = await startLinkingHarness()
    const ids = await people(h)
    const agent = await h.client('agent')
    mount(agent, ids.email)
    await waitFor(() => expect(screen.getByTestId('can-link').textContent).toBe('true'))

    const self = await act(() =>
      hook()
        .link(ids.email)
        .catch((e: unknown) => e),
    )
    expect(self).toBeInstanceOf(CardfileError)
    expect((self as CardfileError).code).toBe(ErrorCodes.BadRequest)
    await waitFor(() => expect(screen.getByTestId('error').textContent).toBe(ErrorCodes.BadRequest))

    const unknownPair = await act(() =>
      hook()
        .revert(ids.sms)
        .catch((e: unknown) => e),
    )
    expect((unknownPair as CardfileError).code).toBe(ErrorCodes.NotFound)
    await waitFor(() => expect(screen.getByTestId('error').textContent).toBe(ErrorCodes.NotFound))

    await act(() => hook().link(ids.sms))
    await waitFor(() => expect(screen.getByTestId('error').textContent).toBe(''))
  })

  it('says a bot may not link', async () => {
    const h = await startLinkingHarness()
    const ids = await people(h)
    const bot = await h.client('bot')
    mount(bot, ids.email)
    expect(screen.getByTestId('can-link').textContent).toBe('false')
  })

  it('links without loading the log when asked not to', async () => {
    const h = await startLinkingHarness()
    const ids = await people(h)
    const agent = await h.client('agent')
    mount(agent, ids.email, false)
    await act(() => hook().link(ids.sms))
    await waitFor(() => expect(screen.getByTestId('linked').textContent).toBe('sms'))
    expect(screen.getByTestId('log').textContent).toBe('')
    expect(screen.getByTestId('log-loading').textContent).toBe('false')
    expect(
      ((await h.api('agent', 'GET', `/contacts/${ids.email}/links/log`)).json.items as unknown[])
        .length,
    ).toBe(1)
  })
})
