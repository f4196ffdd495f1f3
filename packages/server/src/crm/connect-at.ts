import { CardfileError, ErrorCodes } from '@cardfile/core'
import type { CrmConfigView, CrmService } from './crm-service'

/** A CRM's lookup, write-back and notification URLs, as one base URL names them. */
export interface CrmUrls {
  readonly lookupUrl: string
  readonly writeBackUrl: string
  readonly notificationUrl: string
}

/**
 * The three URLs under `base`: `<base>/lookup`, `<base>/write-back`, `<base>/notification`.
 * Throws an `invalid-value` CardfileError when `base` is not an http(s) URL.
 *
 * @example
 * crmUrlsAt('http://localhost:4100/cardfile').lookupUrl // 'http://localhost:4100/cardfile/lookup'
 */
export function crmUrlsAt(base: string): CrmUrls {
  let url: URL | null = null
  try {
    url = new URL(base)
  } catch {
    url = null
  }
  if (url === null || !/^https?:$/.test(url.protocol) || url.host === '') {
    throw new CardfileError(ErrorCodes.InvalidValue, 'the CRM URL must be an http(s) URL', 'crmUrl')
  }
  const root = base.replace(/\/+$/, '')
  return {
    lookupUrl: `${root}/lookup`,
    writeBackUrl: `${root}/write-back`,
    notificationUrl: `${root}/notification`,
  }
}

/**
 * Connects `workspace` to the CRM under `base` and switches it on, through the same service
 * calls as `PUT /api/<ws>/crm/config` and `POST /api/<ws>/crm/secret`. With a `secret` (hex) that
 * secret is set first, so no request is ever signed with another one; without, the first
 * configuration generates one and returns it this once (a later one keeps the stored secret).
 * The URLs are screened as an admin's are: a private `base` needs it among the service's
 * `trustedUrls` (as `serve --demo --crm-url` sets) or the server's opt-out.
 *
 * @example
 * const { secret } = await connectCrmAt(server.crm!, 'demo', 'http://localhost:4100/cardfile')
 */
export async function connectCrmAt(
  crm: CrmService,
  workspace: string,
  base: string,
  secret?: string,
): Promise<{ readonly config: CrmConfigView; readonly secret?: string }> {
  const urls = crmUrlsAt(base)
  if (secret !== undefined) await crm.rotateSecret(workspace, secret)
  return crm.updateConfig(workspace, { enabled: true, ...urls })
}
