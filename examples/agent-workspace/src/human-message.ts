import { CardfileError, ErrorCodes } from '@cardfile/core'
import type { ErrorCode } from '@cardfile/core'
import { ApiError } from './api'

/**
 * Sentences for agents instead of what the browser or the server says. Validation refusals
 * keep the SDK's own message: it names the field and the limit ("at most 1000 characters"),
 * which is what the agent needs to fix the value.
 */

export const OFFLINE_MESSAGE =
  "Can't reach the server. Your changes are kept and will sync when it's back."

const BY_CODE: Partial<Record<ErrorCode, string>> = {
  [ErrorCodes.Forbidden]: "You don't have permission to do that.",
  [ErrorCodes.PlanLacksFeature]: "Your workspace's plan doesn't include this.",
  [ErrorCodes.VipDisabled]: 'VIP is switched off in this workspace.',
  [ErrorCodes.CrmManagedLocked]: 'This value comes from the CRM and can only be changed there.',
  [ErrorCodes.Unauthorized]: 'Your sign-in is no longer valid. Sign out and sign in again.',
  [ErrorCodes.TokenExpired]: 'Your session has expired. Sign out and sign in again.',
  [ErrorCodes.WrongWorkspace]: 'Your sign-in belongs to another workspace.',
  [ErrorCodes.Deleted]: 'This contact was deleted.',
  [ErrorCodes.UnknownWorkspace]:
    "This workspace doesn't exist yet. Ask whoever runs Cardfile to create it.",
  [ErrorCodes.Timeout]: 'The server took too long to answer. Please try again.',
  [ErrorCodes.RateLimited]: 'Too many requests at once. Please try again in a moment.',
  [ErrorCodes.PayloadTooLarge]: 'That is too large to send.',
  [ErrorCodes.MissingDependency]:
    'Some changes from this device were lost on the way. Reload the page to catch up.',
  [ErrorCodes.CacheDiscarded]:
    "This device's copy was out of date, so it was replaced with the server's.",
  [ErrorCodes.Internal]: 'Something went wrong on the server. Please try again.',
}

/**
 * The failed-fetch errors of Chromium ("Failed to fetch"), Firefox ("NetworkError when
 * attempting to fetch resource.") and Safari ("Load failed"): TypeErrors from `fetch`, or the
 * same text inside the `internal` error that the SDK's list hooks wrap them in.
 */
const FETCH_FAILED = /failed to fetch|networkerror|load failed/i

const isNetworkFailure = (error: unknown): boolean =>
  (error instanceof TypeError && /fetch|network|load failed/i.test(error.message)) ||
  (error instanceof CardfileError &&
    error.code === ErrorCodes.Internal &&
    FETCH_FAILED.test(error.message))

/**
 * A sentence an agent can act on, for any error the app meets.
 *
 * @example
 * humanMessage(new TypeError('Failed to fetch'))
 * // "Can't reach the server. Your changes are kept and will sync when it's back."
 */
export function humanMessage(error: unknown): string {
  if (isNetworkFailure(error)) return OFFLINE_MESSAGE
  // Offline, the sync client cannot fetch a token and reports it as a sign-in problem; the
  // cause the agent can act on is the network.
  if (
    error instanceof CardfileError &&
    error.code === ErrorCodes.Unauthorized &&
    !navigator.onLine
  ) {
    return OFFLINE_MESSAGE
  }
  const code = error instanceof CardfileError || error instanceof ApiError ? error.code : null
  const known = code === null ? undefined : BY_CODE[code as ErrorCode]
  if (known !== undefined) return known
  if (error instanceof ApiError && error.status >= 500) return BY_CODE[ErrorCodes.Internal] ?? ''
  if (error instanceof Error && error.message !== '') return sentence(error.message)
  return 'Something went wrong. Please try again.'
}

/** "value is too long" reads as "Value is too long." */
function sentence(text: string): string {
  const trimmed = text.trim()
  const capital = trimmed.charAt(0).toUpperCase() + trimmed.slice(1)
  return /[.!?]$/.test(capital) ? capital : `${capital}.`
}
