import { CardfileError, ErrorCodes } from '../errors'
import { CloseCodes } from '../protocol'
import type { RefusalNotice } from '../protocol'

/** The typed error a refusal notice becomes. */
export const refusalError = (notice: RefusalNotice): CardfileError =>
  new CardfileError(notice.code, notice.message, notice.field || undefined)

/** The typed error a permanent close code becomes; null for codes that are not errors. */
export function closeError(code: number, reason: string): CardfileError | null {
  switch (code) {
    case CloseCodes.BadRequest.code:
      return new CardfileError(ErrorCodes.BadRequest, reason || 'The server refused the request')
    case CloseCodes.Unauthorized.code:
      return reason === 'token-expired'
        ? new CardfileError(ErrorCodes.TokenExpired, 'The access token expired')
        : new CardfileError(ErrorCodes.Unauthorized, reason || 'The access token was refused')
    case CloseCodes.Forbidden.code:
      return new CardfileError(ErrorCodes.Forbidden, reason || 'Not allowed to open this document')
    case CloseCodes.Deleted.code:
      return new CardfileError(ErrorCodes.Deleted, reason || 'The document was deleted')
    case CloseCodes.UnknownWorkspace.code:
      return new CardfileError(ErrorCodes.UnknownWorkspace, 'The workspace does not exist')
    case CloseCodes.StaleGeneration.code:
      return new CardfileError(
        ErrorCodes.CacheDiscarded,
        'The local copy belonged to another store and was dropped',
      )
    case CloseCodes.PayloadTooLarge.code:
      return new CardfileError(ErrorCodes.PayloadTooLarge, reason || 'A change was too large')
    case CloseCodes.RateLimited.code:
      return new CardfileError(ErrorCodes.RateLimited, reason || 'Too many changes, slow down')
    default:
      return code >= 4400 && code < 4500
        ? new CardfileError(ErrorCodes.Internal, reason || `Connection closed (${code})`)
        : null
  }
}
