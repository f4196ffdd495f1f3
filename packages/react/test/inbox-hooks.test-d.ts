import { describe, expectTypeOf, it } from 'vitest'
import type {
  CardfileError,
  ConversationStatus,
  IndexedContact,
  IndexedConversation,
  Message,
} from '@cardfile/core'
import { useContacts, useConversation, useConversations, useQueue } from '@cardfile/react'

describe('inbox hook types', () => {
  it('useQueue takes a team or null and lists conversations', () => {
    const queue = useQueue('billing', { pageSize: 25 })
    expectTypeOf(queue.items).toEqualTypeOf<readonly IndexedConversation[]>()
    expectTypeOf(queue.push).toEqualTypeOf<
      'active' | 'lost' | 'unsupported' | 'refused' | 'ended' | 'none'
    >()
    expectTypeOf(useQueue(null).loadMore).toEqualTypeOf<() => void>()
    // @ts-expect-error a team is a string or null
    useQueue(3)
  })

  it('useConversations filters by known statuses only', () => {
    const list = useConversations({ status: ['new', 'pending'], team: null })
    expectTypeOf(list.items).toEqualTypeOf<readonly IndexedConversation[]>()
    // @ts-expect-error not a status
    useConversations({ status: ['closed'] })
  })

  it('useContacts lists contacts', () => {
    expectTypeOf(useContacts({ vip: true }).items).toEqualTypeOf<readonly IndexedContact[]>()
  })

  it('useConversation reads messages and returns refusals from its writes', () => {
    const c = useConversation('v1')
    expectTypeOf(c.messages).toEqualTypeOf<readonly Message[]>()
    expectTypeOf(c.status).toEqualTypeOf<ConversationStatus | null>()
    expectTypeOf(c.reply).returns.toEqualTypeOf<CardfileError | null>()
    expectTypeOf(c.setStatus).parameter(0).toEqualTypeOf<ConversationStatus>()
  })
})
