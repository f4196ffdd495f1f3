import { CardfileError, ErrorCodes } from '@cardfile/core'
import type { ContactIndexRow } from '../storage/index-row-types'

/**
 * A consistent, read-only view of a workspace's contact index, read in chunks: contacts added
 * or changed after it opened do not appear in it. SQLite: a separate read-only connection
 * holding one read transaction, so every chunk comes from one WAL snapshot while writers carry
 * on. PostgreSQL: a dedicated connection holding one REPEATABLE READ transaction. Close it when
 * done: an open snapshot holds a connection, and on SQLite keeps the WAL from being
 * checkpointed (which erasure does).
 */
export interface ContactSnapshot {
  /** Contacts in the snapshot. */
  readonly total: number
  /**
   * The next contacts, oldest first (createdAt, then id), at most `max`; empty at the end.
   * Rejects a `max` that is not a positive integer as a bad request (and goes on as if it had
   * not been asked), and any read once the snapshot is closed.
   */
  next(max: number): Promise<readonly ContactIndexRow[]>
  /** Ends the read and frees what it holds (idempotent; never rejects). */
  close(): Promise<void>
}

/** Contact snapshots for exports, as a storage adapter provides them (jobs live in `jobs`). */
export interface ExportStore {
  /** Opens a snapshot of the contacts created in [from, to); a null bound is open. */
  openContactSnapshot(
    workspace: string,
    range: { readonly from: number | null; readonly to: number | null },
  ): Promise<ContactSnapshot>
}

/**
 * Checks the `max` of {@link ContactSnapshot.next}: a positive integer. Zero is refused rather
 * than answered with an empty chunk, which every caller reads as the end of the snapshot.
 *
 * @example
 * async next(max) { checkChunkSize(max); ... }
 */
export function checkChunkSize(max: number): number {
  if (!Number.isSafeInteger(max) || max < 1) {
    throw new CardfileError(ErrorCodes.BadRequest, 'a snapshot chunk must be a positive integer')
  }
  return max
}

/** The error of reading a snapshot that was closed (by its reader, an erasure or a failure). */
export const snapshotClosed = (): CardfileError =>
  new CardfileError(ErrorCodes.Internal, 'the contact snapshot is closed')
