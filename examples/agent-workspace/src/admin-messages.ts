import { CardfileError, ErrorCodes } from '@cardfile/core'
import type { CrmConnectionTest } from '@cardfile/react'
import { humanMessage } from './human-message'

/** The admin's names for the CRM connection's fields, as the server names them. */
const CRM_FIELDS: Readonly<Record<string, string>> = {
  lookupUrl: 'The lookup URL',
  writeBackUrl: 'The write-back URL',
  notificationUrl: 'The notification URL',
}

/**
 * A sentence an admin can act on for a refused settings change: what is wrong and what to do.
 * Falls back to {@link humanMessage} for everything that is not particular to settings.
 *
 * @example
 * adminMessage(new CardfileError('duplicate-alias', 'another attribute has the alias "tier"'))
 * // 'Another attribute already uses the alias "tier". Choose another: the CRM tells …'
 */
export function adminMessage(error: unknown): string {
  if (!(error instanceof CardfileError)) return humanMessage(error)
  const quoted = /"([^"]*)"/.exec(error.message)?.[1]
  switch (error.code) {
    case ErrorCodes.DuplicateAlias:
      return `Another attribute already uses the alias "${quoted ?? ''}". Choose another: the CRM tells attributes apart by their alias.`
    case ErrorCodes.DuplicateLabel:
      return `Another attribute is already called "${quoted ?? ''}". Choose another label.`
    case ErrorCodes.DuplicateOptionLabel:
      return `This list already has an option called "${quoted ?? ''}". Choose another label.`
    case ErrorCodes.TooFewOptions:
      return 'A dropdown needs at least two options. Add another option before retiring this one.'
    case ErrorCodes.PlatformNotCrmManaged:
      return 'Channel attributes are filled in by their channel, so the CRM cannot manage them.'
    case ErrorCodes.PlanLacksFeature:
      return "Your workspace's plan doesn't include the CRM integration."
    case ErrorCodes.InvalidDefinition:
      if (/alias/.test(error.message)) {
        return 'An alias is 1 to 64 letters, digits, dots, dashes or underscores, without spaces.'
      }
      return humanMessage(error)
    case ErrorCodes.InvalidValue: {
      if (/before enabling/.test(error.message)) {
        return 'Set a lookup URL before switching the CRM on.'
      }
      if (/secret/.test(error.message)) {
        return 'A secret is 32 to 256 hexadecimal characters (0 to 9 and a to f).'
      }
      const field = Object.keys(CRM_FIELDS).find((name) => error.message.startsWith(name))
      if (field !== undefined) {
        return `${CRM_FIELDS[field]} must be a web address starting with http:// or https://.`
      }
      return humanMessage(error)
    }
    case ErrorCodes.ForbiddenTarget: {
      const field =
        error.field ?? Object.keys(CRM_FIELDS).find((name) => error.message.includes(name))
      const which = (field === undefined ? undefined : CRM_FIELDS[field]) ?? 'This address'
      return `${which} points at the server's own network (this machine, a private or link-local address), which Cardfile does not call. Give the CRM's public address, or ask whoever runs the server to allow private addresses.`
    }
    case ErrorCodes.NotFound:
      if (/dead delivery/.test(error.message)) {
        return 'This delivery is no longer waiting for a retry: it was sent again already.'
      }
      return humanMessage(error)
    default:
      return humanMessage(error)
  }
}

/**
 * What a test of the CRM connection found, as one or two sentences: the outcome and what to
 * do about it.
 *
 * @example
 * describeConnectionTest({ ok: false, outcome: 'rejected', status: 401, ... })
 * // 'The CRM refused the signature (401). …'
 */
export function describeConnectionTest(test: CrmConnectionTest): string {
  switch (test.outcome) {
    case 'ok':
      return `Connected. The CRM verified the signed test look-up and answered in ${test.durationMs} ms.`
    case 'not-configured':
      return 'Nothing to test yet. Enter a lookup URL and save it first.'
    case 'unreachable':
      return `The CRM could not be reached (${test.reason ?? 'no answer'}). Check the lookup URL and that the CRM is running.`
    case 'rejected':
      return test.status === 401
        ? 'The CRM refused the signature (401). Give the CRM the current secret, or rotate the secret and copy the new one to the CRM.'
        : `The CRM answered with an error (${test.status ?? 'no status'}). Check the lookup URL, and the CRM's own logs.`
    case 'malformed':
      return `The CRM answered, but not with a look-up answer (${test.reason ?? 'unreadable'}). Its lookup URL must answer { "found": true | false }.`
  }
}
