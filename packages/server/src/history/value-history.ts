import type { Role } from '@cardfile/core'

/** A value as history keeps it: text (custom and platform attributes), a flag (VIP) or none. */
export type HistoryValue = string | boolean | null

/** The attribute id under which VIP flag changes are kept. */
export const VIP_HISTORY_ATTRIBUTE = 'vip'

/** Who changed a value: a user with their role, or the CRM, a bot or the system. */
export interface ValueAuthor {
  readonly role: Role
  /** The user's (or integration's) id as it signed the change. */
  readonly userId: string
}

/** One change of one value of a contact, as the server committed it. */
export interface ValueChange {
  readonly workspace: string
  readonly contactId: string
  /** A custom or platform attribute id, or `vip` for the VIP flag. */
  readonly attributeId: string
  /** The value before the change (null: there was none). */
  readonly previous: HistoryValue
  /** The value after it (null: cleared). */
  readonly value: HistoryValue
  readonly by: ValueAuthor
  /** When it was committed, in ms since the epoch. */
  readonly at: number
}

/** A stored change: {@link ValueChange} with its place in the history. */
export interface ValueHistoryEntry extends ValueChange {
  /** Grows with every change the backend stores: newer changes have higher ids. */
  readonly id: number
}

/** A page of history, newest first; `next` is the cursor of the following page (null: none). */
export interface ValueHistoryPage {
  readonly items: readonly ValueHistoryEntry[]
  readonly next: string | null
}

/** What to list: one attribute's changes or every change of the contact. */
export interface ValueHistoryQuery {
  /** Null: every attribute. */
  readonly attributeId: string | null
  /** 1 to 200. */
  readonly limit: number
  /** From a previous page's `next`; null for the newest. */
  readonly cursor: string | null
}

/**
 * The history of contacts' values. Changes are written by the document store inside the commit
 * that holds them (see `DocumentStore.append`), so a change is in the history exactly when it
 * is in the document; the history goes with the contact when it is erased.
 */
export interface ValueHistoryStore {
  /**
   * A contact's changes, newest first.
   *
   * @throws CardfileError `bad-request` for a malformed cursor or limit.
   */
  list(workspace: string, contactId: string, query: ValueHistoryQuery): Promise<ValueHistoryPage>
  /** Drops every change of a contact (its erasure). */
  eraseContact(workspace: string, contactId: string): Promise<void>
}
