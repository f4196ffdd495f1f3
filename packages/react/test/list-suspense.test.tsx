// @vitest-environment jsdom
import '../../../tests/client/harness' // same-realm TextEncoder for jose under jsdom
import { Component, Suspense } from 'react'
import type { ReactNode } from 'react'
import { cleanup, render, screen, waitFor } from '@testing-library/react'
import { afterEach, describe, expect, it } from 'vitest'
import { CardfileError } from '@cardfile/core'
import type { CardfileClient } from '@cardfile/core'
import { CardfileProvider, useContactHistory } from '@cardfile/react'
import { startHarness } from '../../server/test/linking-harness'
import type { Harness } from '../../server/test/linking-harness'

let h: Harness
afterEach(async () => {
  cleanup()
  await h.close()
})

class Boundary extends Component<{ children: ReactNode }, { error: unknown }> {
  override state = { error: null as unknown }
  static getDerivedStateFromError(error: unknown) {
    return { error }
  }
  override render() {
    const { error } = this.state
    if (error === null) return this.props.children
    return <p data-testid="boundary">{error instanceof CardfileError ? error.code : 'other'}</p>
  }
}

const mount = (client: CardfileClient, ui: ReactNode) =>
  render(
    <CardfileProvider client={client}>
      <Boundary>
        <Suspense fallback={<p data-testid="fallback">loading</p>}>{ui}</Suspense>
      </Boundary>
    </CardfileProvider>,
  )

let renders: boolean[] = []
function History({ contactId }: { contactId: string }) {
  const { items, loading } = useContactHistory(contactId, { suspense: true, pollMs: 0 })
  renders.push(loading)
  return <p data-testid="history">{items.map((c) => c.channel).join(',')}</p>
}

describe('list hooks with suspense: true', () => {
  it('suspend until the first page has loaded and never render it as loading', async () => {
    h = await startHarness()
    const { contactId } = await h.inbound({ channel: 'email', platformUserId: 'ana@example.org' })
    const agent = await h.client('agent')
    renders = []
    mount(agent, <History contactId={contactId} />)
    expect(screen.getByTestId('fallback')).toBeTruthy()
    await waitFor(() => expect(screen.getByTestId('history').textContent).toBe('email'))
    expect(renders[0]).toBe(false)
    // Tracked by an effect, which React may run after the page is on screen.
    await waitFor(() =>
      expect(agent.inspect().lists.map((l) => l.path)).toContain(`/contacts/${contactId}/history`),
    )
  })

  it('throw a failed first page to the nearest error boundary as a CardfileError', async () => {
    h = await startHarness()
    const agent = await h.client('agent')
    mount(agent, <History contactId="no-such-contact" />)
    await waitFor(() => expect(screen.getByTestId('boundary').textContent).toBe('not-found'))
  })
})
