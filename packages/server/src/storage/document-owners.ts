import { CardfileError, ErrorCodes } from '@cardfile/core'

/**
 * Which server instance decides for a document: authorizing, compensating and committing a
 * document's changes are only sound when one process does it at a time. Ownership is a lease
 * with an epoch (a fencing token) that grows whenever the document changes hands; an append
 * made under an epoch that is no longer current, or whose lease ran out, is refused by the
 * store itself, in the transaction of the append, so a paused ex-owner can never write.
 */
export interface DocumentOwners {
  /**
   * Takes the document for `owner` when nobody holds it, its lease ran out, or `owner` holds it
   * already (then the lease is renewed and the epoch kept). Resolves the epoch to write with, or
   * who holds it and until when.
   */
  claim(doc: string, owner: string, leaseMs: number): Promise<OwnerClaim>
  /** Extends the lease if `owner` still holds the document under `epoch`; false otherwise. */
  renew(doc: string, owner: string, epoch: number, leaseMs: number): Promise<boolean>
  /** Gives the document up (nothing when `owner` no longer holds it under `epoch`). */
  release(doc: string, owner: string, epoch: number): Promise<void>
  /** The current holder, or null when the document has none or its lease ran out. */
  current(doc: string): Promise<DocumentOwnership | null>
}

/** A document's holder. */
export interface DocumentOwnership {
  readonly owner: string
  readonly epoch: number
  /** When the lease runs out, in epoch milliseconds of the store's clock. */
  readonly leaseUntil: number
}

/** The answer to {@link DocumentOwners.claim}. */
export type OwnerClaim =
  | { readonly claimed: true; readonly epoch: number; readonly leaseUntil: number }
  | ({ readonly claimed: false } & DocumentOwnership)

/** The ownership an append is made under: refused unless it is still the current one. */
export interface DocumentFence {
  readonly owner: string
  readonly epoch: number
}

/** The error of an append under an ownership that is no longer current. */
export const fenced = (doc: string): CardfileError =>
  new CardfileError(
    ErrorCodes.Fenced,
    `${doc} is no longer owned under this epoch; the change was not stored`,
  )
