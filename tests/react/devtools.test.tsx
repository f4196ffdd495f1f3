// @vitest-environment jsdom
import { act, cleanup, render, screen, waitFor, within } from '@testing-library/react'
import { afterEach, describe, expect, it } from 'vitest'
import { CardfileProvider, useContact, useContactGroup } from '@cardfile/react'
import { CardfileDevtools } from '@cardfile/react/devtools'
import { connectClient, startServer } from '../client/harness'

afterEach(() => cleanup())

function Panel() {
  useContact('c1')
  useContactGroup('vip')
  return null
}

const row = (name: string): HTMLElement => {
  const found = document.querySelector<HTMLElement>(`[data-doc="${name}"]`)
  if (found === null) throw new Error(`no row for ${name}`)
  return found
}
const cell = (name: string, which: string): string =>
  row(name).querySelector(`[data-cell="${which}"]`)?.textContent ?? ''

describe('CardfileDevtools', () => {
  it('shows open documents, their load source, changes, refusals, presence and lists live', async () => {
    const { url } = await startServer()
    const agent = await connectClient(url, 'bo', 'agent')
    const other = await connectClient(url, 'cy', 'agent')
    const otherContact = other.contact('c1')
    render(
      <CardfileProvider client={agent}>
        <Panel />
        <CardfileDevtools />
      </CardfileProvider>,
    )
    const devtools = await screen.findByTestId('cardfile-devtools')
    await waitFor(() => expect(cell('demo/contact/c1', 'source')).toBe('server'))
    expect(cell('demo/schema', 'source')).toBe('server')
    expect(within(devtools).getByTestId('devtools-connection').textContent).toBe('synced')
    expect(within(devtools).getByTestId('devtools-transport').textContent).toBe('one socket')
    await waitFor(() => expect(cell('demo/contact/c1', 'presence')).toBe('cy'))
    await waitFor(() =>
      expect(within(devtools).getByTestId('devtools-lists').textContent).toContain('/groups/vip'),
    )

    // An edit made offline is pending; back online it is acknowledged.
    const contact = agent.contact('c1')
    act(() => agent.disconnect())
    act(() => contact.setVip(true))
    await waitFor(() => expect(cell('demo/contact/c1', 'pending')).toBe('1'))
    act(() => agent.connect())
    await waitFor(() => expect(cell('demo/contact/c1', 'pending')).toBe('0'))
    expect(cell('demo/contact/c1', 'acknowledged')).toBe('1')

    // A refused edit appears among the recent refusals with its code.
    act(() => {
      expect(() => contact.setValue('missing', 'x')).toThrow()
    })
    await waitFor(() =>
      expect(within(devtools).getByTestId('devtools-errors').textContent).toContain(
        'unknown-attribute',
      ),
    )
    contact.release()
    otherContact.release()
  })
})
