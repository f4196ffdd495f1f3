import type { ContactIndexRow } from '../storage/index-row-types'

/** Where an export job stands. `removed`: its file held a contact that was deleted since. */
export type ExportJobStatus = 'running' | 'done' | 'failed' | 'cancelled' | 'removed'

/** The export types there are. */
export type ExportType = 'contact-attributes'

/** An export job as stored. The job holds no personal data; its file does. */
export interface ExportJob {
  readonly workspace: string
  readonly id: string
  readonly type: ExportType
  /** Contacts created at or after this time (ms since epoch), or null for no lower bound. */
  readonly from: number | null
  /** Contacts created before this time, or null for no upper bound. */
  readonly to: number | null
  readonly status: ExportJobStatus
  /** Rows written so far. */
  readonly rows: number
  /** Rows in the snapshot, once it is open. */
  readonly total: number | null
  /** The CSV file while it exists. */
  readonly file: string | null
  /** Why the job failed, was cancelled or removed. */
  readonly error: string | null
  /** User id of the admin who started it. */
  readonly requestedBy: string
  readonly createdAt: number
  readonly finishedAt: number | null
}

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
  close(): void
}

/** Export jobs and contact snapshots, as a storage adapter provides them. */
export interface ExportStore {
  /** Folder for export files when the server is given none (null: the caller picks one). */
  readonly defaultDir: string | null
  /** Inserts or replaces a job. */
  save(job: ExportJob): Promise<void>
  get(workspace: string, id: string): Promise<ExportJob | null>
  /** Jobs of a workspace, newest first. */
  list(workspace: string): Promise<ExportJob[]>
  /** Jobs still marked running (after a restart: interrupted ones). */
  running(): Promise<ExportJob[]>
  /** Contacts created in [from, to); a null bound is open. */
  openContactSnapshot(
    workspace: string,
    range: { readonly from: number | null; readonly to: number | null },
  ): ContactSnapshot
}
