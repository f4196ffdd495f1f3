import type { ContactIndexRow } from '../storage/index-row-types'

/**
 * A consistent, read-only view of a workspace's contact index, read in chunks. SQLite: a
 * separate read-only connection holding one read transaction, so every chunk comes from one WAL
 * snapshot while writers carry on. Close it when done: an open snapshot keeps the WAL from being
 * checkpointed (and erasure checkpoints).
 */
export interface ContactSnapshot {
  /** Contacts in the snapshot. */
  readonly total: number
  /** The next contacts, oldest first, at most `max`; empty at the end. */
  next(max: number): readonly ContactIndexRow[]
  /** Ends the read (idempotent). */
  close(): void
}

/** Contact snapshots for exports, as a storage adapter provides them (jobs live in `jobs`). */
export interface ExportStore {
  /** Contacts created in [from, to); a null bound is open. */
  openContactSnapshot(
    workspace: string,
    range: { readonly from: number | null; readonly to: number | null },
  ): ContactSnapshot
}
