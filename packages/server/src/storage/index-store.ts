import type { ChannelId, ConversationStatus } from '@cardfile/core'
import type { ContactIndexRow, ConversationIndexRow, Page } from './index-row-types'
import type { ContactSearchQuery } from '../search/contact-search-query'

export type { ContactIndexRow, ConversationIndexRow, IndexRow, Page } from './index-row-types'

/** The contact groups lists can be filtered by. */
export type ContactGroup = 'vip'

/**
 * The index of contacts and conversations that lists and look-ups read: rows derived from the
 * documents and written with their updates (`DocumentStore.append`), so it never disagrees
 * with a committed document. Pages use opaque cursors that stay valid while rows change.
 */
export interface IndexStore {
  /** Looks up a contact by its channel identity. */
  findContact(
    workspace: string,
    channel: ChannelId,
    platformUserId: string,
  ): Promise<ContactIndexRow | null>
  /** The most recent conversation of a contact that is not resolved, or null. */
  findOpenConversation(workspace: string, contactId: string): Promise<ConversationIndexRow | null>
  /** Lists contacts, newest first; `vip: true` for the VIP group. */
  listContacts(
    workspace: string,
    query: {
      readonly vip?: boolean
      /**
       * Only contacts whose normalised matching value equals this one (the linked
       * contacts of a person across channels).
       */
      readonly matchValue?: string
      readonly limit: number
      readonly cursor?: string | null
    },
  ): Promise<Page<ContactIndexRow>>
  /**
   * Searches contacts by text (names, emails, phones, handles, any attribute value; every word
   * a prefix of a word of the contact) and filters, in the chosen order, a page at a time.
   * Refuses malformed input with `bad-request`; a text of punctuation only matches nothing.
   */
  searchContacts(workspace: string, query: ContactSearchQuery): Promise<Page<ContactIndexRow>>
  /** Lists conversations: of given contacts newest first, or a team's queue by priority. */
  listConversations(
    workspace: string,
    query: {
      readonly contactIds?: readonly string[]
      /**
       * Only conversations of the contacts in this group (`'vip'`: contacts flagged VIP; the
       * caller checks that VIP has effect in the workspace).
       */
      readonly contactGroup?: ContactGroup
      readonly team?: string | null
      readonly status?: readonly ConversationStatus[]
      readonly order: 'newest' | 'priority'
      readonly limit: number
      readonly cursor?: string | null
    },
  ): Promise<Page<ConversationIndexRow>>
}
