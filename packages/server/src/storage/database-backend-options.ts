import type { StorageLogger } from '../backend'

/**
 * Options the SQLite and PostgreSQL backends take alike: when documents are compacted, where
 * attachment files are removed on erase, where problems are reported, and a new generation.
 */
export interface DatabaseBackendOptions {
  /** A document with more updates than this is compacted into its snapshot. Default 500. */
  readonly compactAfter?: number
  /** Delay before the background compactor runs for documents over the limit. Default 1000. */
  readonly compactDelayMs?: number
  /**
   * Quiet period after a document's last write before it is compacted, so that a document
   * that stops being edited is stored as its garbage-collected state. Default 10000.
   */
  readonly compactIdleMs?: number
  /** Root of attachment files (`<attachmentsDir>/<encoded doc name>/`), removed on erase. */
  readonly attachmentsDir?: string
  /** Where storage reports problems it handles itself. Default: the console. */
  readonly logger?: StorageLogger
  /**
   * Give the store a new generation id, as a database restored from a backup needs: clients
   * then drop their cached copies (which may hold data newer than the backup) instead of
   * uploading them.
   */
  readonly newGeneration?: boolean
}
