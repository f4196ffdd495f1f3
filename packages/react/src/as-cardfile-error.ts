import { CardfileError, ErrorCodes } from '@cardfile/core'

/**
 * The error a hook keeps and rethrows for any failure: a CardfileError as it is, anything else
 * (a network failure, a bug) as an `internal` one with its message, so callers handle one type.
 */
export const asCardfileError = (error: unknown): CardfileError =>
  error instanceof CardfileError
    ? error
    : new CardfileError(ErrorCodes.Internal, error instanceof Error ? error.message : String(error))
