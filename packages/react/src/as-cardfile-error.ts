import { CardfileError, ErrorCodes } from '@cardfile/core'

const messageOf = (error: unknown): string =>
  error instanceof Error ? error.message : String(error)

/**
 * The error a hook keeps and rethrows for any failure: a CardfileError as it is, anything else
 * (a network failure, a bug) as an `internal` one with its message (`describe` says which), so
 * callers handle one type.
 */
export const asCardfileError = (
  error: unknown,
  describe: (error: unknown) => string = messageOf,
): CardfileError =>
  error instanceof CardfileError ? error : new CardfileError(ErrorCodes.Internal, describe(error))
