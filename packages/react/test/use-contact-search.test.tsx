// @vitest-environment jsdom
import '../../../tests/client/harness' // same-realm TextEncoder for jose under jsdom
import { act, cleanup, fireEvent, render, screen, waitFor } from '@testing-library/react'
import { useState } from 'react'
import { afterEach, describe, expect, it } from 'vitest'
import type { CardfileClient } from '@cardfile/core'
import { CardfileProvider, useContactSearch, useDeleteContact } from '@cardfile/react'
import type { ContactSearch } from '@cardfile/react'
import { startHarness } from '../../server/test/linking-harness'
import type { Harness } from '../../server/test/linking-harness'

let h: Harness
afterEach(async () => {
  cleanup()
  await h.close()
})

function Search({ filters = {} }: { filters?: Omit<ContactSearch, 'text'> }) {
  const [text, setText] = useState('')
  const { items, loading, stale, hasMore, loadMore, error } = useContactSearch(
    { text, ...filters },
    { pageSize: 1, debounceMs: 150 },
  )
  return (
    <div>
      <input aria-label="search" value={text} onChange={(e) => setText(e.target.value)} />
      <p data-testid="results">
        {items.map((c) => c.values.email_name ?? c.values.x_display_name ?? c.id).join(',')}
      </p>
      <p data-testid="stale">{String(stale)}</p>
      <p data-testid="loading">{String(loading)}</p>
      <p data-testid="error">{error?.code ?? ''}</p>
      {hasMore && <button onClick={loadMore}>more</button>}
    </div>
  )
}

/** Results with a delete button each, as an admin's screen would have. */
function SearchAndDelete() {
  const { items } = useContactSearch('ann', { debounceMs: 0 })
  const { deleteContact } = useDeleteContact()
  return (
    <ul>
      {items.map((c) => (
        <li key={c.id} data-testid="hit">
          {c.values.email_name}
          <button onClick={() => void deleteContact(c.id)}>delete {c.values.email_name}</button>
        </li>
      ))}
    </ul>
  )
}

const mount = (client: CardfileClient, ui: React.ReactNode) =>
  render(<CardfileProvider client={client}>{ui}</CardfileProvider>)

const type = (text: string) =>
  act(() => {
    fireEvent.change(screen.getByLabelText('search'), { target: { value: text } })
  })

async function people() {
  await h.inbound({
    channel: 'email',
    platformUserId: 'ann.lee@example.org',
    metadata: { email: 'ann.lee@example.org', email_name: 'Ann Lee' },
  })
  await h.inbound({
    channel: 'email',
    platformUserId: 'annika@example.org',
    metadata: { email: 'annika@example.org', email_name: 'Annika Berg' },
  })
  await h.inbound({
    channel: 'x',
    platformUserId: '77',
    metadata: { x_user_id: '77', x_handle: '@bo', x_display_name: 'Bo Holm' },
  })
}

describe('useContactSearch', () => {
  it('finds contacts as the user types, keeps the last results while the next query loads, and pages', async () => {
    h = await startHarness()
    await people()
    mount(await h.client('agent'), <Search />)
    expect(screen.getByTestId('results').textContent).toBe('')
    expect(screen.getByTestId('loading').textContent).toBe('false')

    type('ann')
    await waitFor(() => expect(screen.getByTestId('results').textContent).toBe('Annika Berg'))
    expect(screen.getByTestId('stale').textContent).toBe('false')
    act(() => screen.getByText('more').click())
    await waitFor(() =>
      expect(screen.getByTestId('results').textContent).toBe('Annika Berg,Ann Lee'),
    )
    expect(screen.queryByText('more')).toBeNull()

    // A new query: the old results stay, marked stale, until its answer arrives.
    type('bo h')
    expect(screen.getByTestId('results').textContent).toBe('Annika Berg,Ann Lee')
    expect(screen.getByTestId('stale').textContent).toBe('true')
    expect(screen.getByTestId('loading').textContent).toBe('true')
    await waitFor(() => expect(screen.getByTestId('results').textContent).toBe('Bo Holm'))
    expect(screen.getByTestId('stale').textContent).toBe('false')
    expect(screen.getByTestId('loading').textContent).toBe('false')

    // Cleared: nothing is listed and nothing is asked.
    type('  ')
    expect(screen.getByTestId('results').textContent).toBe('')
    expect(screen.getByTestId('loading').textContent).toBe('false')
  })

  it('applies filters with the words and reports a refused filter as an error', async () => {
    h = await startHarness()
    await people()
    mount(await h.client('agent'), <Search filters={{ channel: 'x' }} />)
    // Filters alone search too.
    await waitFor(() => expect(screen.getByTestId('results').textContent).toBe('Bo Holm'))
    type('ann')
    await waitFor(() => expect(screen.getByTestId('results').textContent).toBe(''))
    expect(screen.getByTestId('stale').textContent).toBe('false')
    cleanup()

    const admin = await h.client('admin')
    const schema = admin.schema()
    await schema.whenSynced()
    act(() => schema.schema.updateSettings({ vipEnabled: false }))
    mount(await h.client('agent'), <Search filters={{ vip: true }} />)
    await waitFor(() => expect(screen.getByTestId('error').textContent).toBe('vip-disabled'))
  })

  it('drops a contact deleted through this client from the results without a new query', async () => {
    h = await startHarness()
    await people()
    mount(await h.client('admin'), <SearchAndDelete />)
    const hits = () => screen.queryAllByTestId('hit').map((e) => e.firstChild?.textContent)
    await waitFor(() => expect(hits()).toEqual(['Annika Berg', 'Ann Lee']))
    act(() => screen.getByText('delete Ann Lee').click())
    await waitFor(() => expect(hits()).toEqual(['Annika Berg']))
  })
})
