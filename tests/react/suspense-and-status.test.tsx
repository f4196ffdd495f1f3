// @vitest-environment jsdom
import { Component, Suspense } from 'react'
import type { ReactNode } from 'react'
import { act, cleanup, render, screen, waitFor } from '@testing-library/react'
import { afterEach, describe, expect, it } from 'vitest'
import { CardfileError } from '@cardfile/core'
import type { CardfileClient, ConnectionEvent } from '@cardfile/core'
import {
  CardfileProvider,
  useAttributesSuspense,
  useConnectionStatus,
  useContactSuspense,
  useLostConnectionListener,
} from '@cardfile/react'
import { connectClient, startServer, token } from '../client/harness'

afterEach(() => cleanup())

/** The smallest error boundary: shows the code of a CardfileError it caught. */
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

const app = (client: CardfileClient, children: ReactNode) => (
  <CardfileProvider client={client}>
    <Boundary>
      <Suspense fallback={<p data-testid="fallback">loading</p>}>{children}</Suspense>
    </Boundary>
  </CardfileProvider>
)

function ContactName({ id }: { id: string }) {
  const { data, found } = useContactSuspense(id, { select: (c) => c.fields.map((f) => f.label) })
  return <p data-testid="contact">{`${String(found)}:${data.join(',')}`}</p>
}

function Labels() {
  const { attributes, source } = useAttributesSuspense()
  return <p data-testid="labels">{`${source}:${attributes.map((a) => a.label).join(',')}`}</p>
}

async function seed(url: string): Promise<void> {
  const admin = await connectClient(url, 'ana', 'admin')
  const schema = admin.schema()
  await schema.whenSynced()
  schema.schema.createAttribute({ id: 'team', label: 'Team', type: 'text' })
  const contact = admin.contact('c1')
  contact.setValue('team', 'Billing')
  await expect.poll(() => schema.status().saved && contact.status().saved).toBe(true)
  contact.release()
  schema.release()
}

describe('Suspense hooks', () => {
  it('shows the fallback until the contact has loaded, then renders it with data at once', async () => {
    const { url } = await startServer()
    await seed(url)
    const agent = await connectClient(url, 'bo', 'agent')
    render(app(agent, <ContactName id="c1" />))
    expect(screen.getByTestId('fallback')).toBeTruthy()
    await waitFor(() => expect(screen.getByTestId('contact').textContent).toMatch(/^true:.*Team/))
  })

  it('renders found false for a contact the server does not have', async () => {
    const { url } = await startServer()
    const agent = await connectClient(url, 'bo', 'agent')
    render(app(agent, <ContactName id="nobody" />))
    await waitFor(() => expect(screen.getByTestId('contact').textContent).toMatch(/^false:/))
  })

  it('suspends useAttributesSuspense until the schema has loaded', async () => {
    const { url } = await startServer()
    await seed(url)
    const agent = await connectClient(url, 'bo', 'agent')
    render(app(agent, <Labels />))
    expect(screen.getByTestId('fallback')).toBeTruthy()
    await waitFor(() =>
      expect(screen.getByTestId('labels').textContent).toMatch(/^(local|server):.*Team/),
    )
  })

  it('throws a refused token to the nearest error boundary as a CardfileError', async () => {
    const { url } = await startServer()
    const agent = await connectClient(url, 'bo', 'agent', {
      getToken: () => Promise.reject(new Error('signed out')),
    })
    render(app(agent, <ContactName id="c1" />))
    await waitFor(() => expect(screen.getByTestId('boundary').textContent).toBe('unauthorized'))
  })
})

describe('connection hooks', () => {
  function StatusLine() {
    return <p data-testid="status">{useConnectionStatus()}</p>
  }

  it('shows idle with nothing open, synced once a document is open, then offline', async () => {
    const { url } = await startServer()
    const agent = await connectClient(url, 'bo', 'agent')
    const view = render(app(agent, <StatusLine />))
    expect(screen.getByTestId('status').textContent).toBe('idle')
    view.rerender(
      app(
        agent,
        <>
          <StatusLine />
          <ContactName id="c1" />
        </>,
      ),
    )
    await waitFor(() => expect(screen.getByTestId('status').textContent).toBe('synced'))
    act(() => agent.disconnect())
    expect(screen.getByTestId('status').textContent).toBe('offline')
  })

  it('shows needs-token and calls the lost-connection listener when the token is refused', async () => {
    const { url } = await startServer()
    const expired = await token('bo', 'agent', { expiresInSeconds: -10 })
    const agent = await connectClient(url, 'bo', 'agent', { token: expired })
    const events: ConnectionEvent[] = []
    function Listener() {
      useLostConnectionListener((event) => events.push(event))
      return null
    }
    render(
      app(
        agent,
        <>
          <StatusLine />
          <Listener />
        </>,
      ),
    )
    const contact = agent.contact('c1')
    await waitFor(() => expect(screen.getByTestId('status').textContent).toBe('needs-token'))
    expect(events).toEqual(['needs-token'])
    contact.release()
  })
})
