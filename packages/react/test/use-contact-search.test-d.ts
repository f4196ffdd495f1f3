import { describe, expectTypeOf, it } from 'vitest'
import type { CardfileError, IndexedContact } from '@cardfile/core'
import { useContactSearch } from '@cardfile/react'
import type { ContactSearchHit, ContactSearchResult } from '@cardfile/react'

describe('useContactSearch types', () => {
  it('takes words or a search with filters and returns hits with their values', () => {
    expectTypeOf(useContactSearch).toBeCallableWith('ann')
    expectTypeOf(useContactSearch).toBeCallableWith(
      {
        text: 'ann',
        channel: 'email',
        vip: true,
        sort: 'name',
        attributes: [
          { attributeId: 'plan', op: 'eq', value: 'gold' },
          { attributeId: 'seats', op: 'range', min: '1' },
        ],
      },
      { pageSize: 10, debounceMs: 0 },
    )
    expectTypeOf(useContactSearch).parameter(0).not.toEqualTypeOf<{ sort: 'random' }>()
    expectTypeOf<ReturnType<typeof useContactSearch>>().toEqualTypeOf<ContactSearchResult>()
    expectTypeOf<ContactSearchHit>().toMatchTypeOf<IndexedContact>()
    expectTypeOf<ContactSearchHit['values']>().toEqualTypeOf<Readonly<Record<string, string>>>()
    expectTypeOf<ContactSearchResult['error']>().toEqualTypeOf<CardfileError | null>()
    // @ts-expect-error an unknown filter operation
    useContactSearch({ attributes: [{ attributeId: 'a', op: 'between', value: 'x' }] })
  })
})
