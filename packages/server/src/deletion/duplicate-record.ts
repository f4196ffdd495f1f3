import { CardfileError, ErrorCodes } from '@cardfile/core'
import type { DeletionRecord } from './deletion-log'

/**
 * The error of appending a record whose id the workspace's deletion log already holds, the
 * same on every engine. The log is append-only, so a second record under an id is refused
 * rather than merged or ignored.
 *
 * @example
 * if (isUniqueViolation(error)) throw duplicateRecord(record)
 */
export const duplicateRecord = (record: Pick<DeletionRecord, 'workspace' | 'id'>): CardfileError =>
  new CardfileError(
    ErrorCodes.InvalidValue,
    `the deletion log of workspace ${record.workspace} already has a record ${record.id}`,
  )
