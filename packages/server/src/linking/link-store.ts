import { CardfileError, ErrorCodes } from '@cardfile/core'
import type { Role } from '@cardfile/core'
import type { ContactIndexRow, Page } from '../storage/index-row-types'

/** Who made a manual link or unlink. */
export interface LinkAuthor {
  readonly role: Role
  readonly userId: string
}

/**
 * The current manual record of a pair of contacts (a < b). `link` joins
 * their groups; `unlink` detaches `subject` from automatic linking with the other contact.
 */
export interface ContactLinkRecord {
  readonly workspace: string
  readonly a: string
  readonly b: string
  readonly kind: 'link' | 'unlink'
  readonly subject: string
  readonly by: LinkAuthor
  readonly at: number
}

/** One entry of the record of manual link changes. */
export interface ContactLinkLogEntry {
  readonly seq: number
  readonly workspace: string
  readonly a: string
  readonly b: string
  readonly action: 'link' | 'unlink' | 'revert'
  readonly subject: string
  readonly by: LinkAuthor
  readonly at: number
}

/** What one chunk of a re-link did. */
export interface RelinkChunk {
  /** Contacts read in this chunk. */
  readonly processed: number
  /** Contacts whose matching value changed. */
  readonly changed: number
  /** Id of the last contact read; pass it as `after` for the next chunk; null at the end. */
  readonly last: string | null
}

/** Backend of manual links and chunked recomputation of matching values. */
export interface LinkStorage {
  /** Writes the pair's current record (replacing any) and appends it to the log. */
  putLink(record: ContactLinkRecord): Promise<void>
  /** Deletes the pair's record, logging a revert; resolves the removed record or null. */
  removeLink(
    workspace: string,
    a: string,
    b: string,
    by: LinkAuthor,
    at: number,
  ): Promise<ContactLinkRecord | null>
  /** The current records that involve any of the contacts. */
  linksOf(workspace: string, contactIds: readonly string[]): Promise<ContactLinkRecord[]>
  /** The log of a contact's link changes, newest first. */
  linkLog(
    workspace: string,
    contactId: string,
    query: { readonly limit: number; readonly cursor?: string | null },
  ): Promise<Page<ContactLinkLogEntry>>
  /** Contact rows by id (unknown ids are left out). */
  contactsByIds(workspace: string, ids: readonly string[]): Promise<ContactIndexRow[]>
  /** How many contacts the workspace has. */
  countContacts(workspace: string): Promise<number>
  /**
   * Recomputes `matchValue` from `values` for up to `limit` contacts with id greater than
   * `after` (in id order), in one short transaction.
   */
  recomputeMatchValues(
    workspace: string,
    compute: (values: Readonly<Record<string, string>>) => string | null,
    after: string | null,
    limit: number,
  ): Promise<RelinkChunk>
}

/** Checks a re-link chunk size: a positive integer, so a chunk never reads the whole table. */
export function checkRelinkChunk(limit: number): number {
  if (!Number.isSafeInteger(limit) || limit < 1) {
    throw new CardfileError(ErrorCodes.BadRequest, 'limit must be a positive integer')
  }
  return limit
}
