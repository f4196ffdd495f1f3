import type { IndexedContact, IndexedConversation } from '@cardfile/core'

/** A row of the server-side contact index, derived from a contact document after each commit. */
export interface ContactIndexRow extends IndexedContact {
  readonly kind: 'contact'
  readonly workspace: string
  /**
   * The contact's attribute values by attribute id, custom and platform (a dropdown's value is
   * its option id). Lets re-linking and exports work from the index alone.
   */
  readonly values: Readonly<Record<string, string>>
}

/** A row of the server-side conversation index, derived from a conversation document. */
export interface ConversationIndexRow extends IndexedConversation {
  readonly kind: 'conversation'
  readonly workspace: string
}

export type IndexRow = ContactIndexRow | ConversationIndexRow

/** A page of results with an opaque cursor for the next page (null at the end). */
export interface Page<T> {
  readonly items: readonly T[]
  readonly next: string | null
}
