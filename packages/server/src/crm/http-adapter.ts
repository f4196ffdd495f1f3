import { randomUUID } from 'node:crypto'
import { CrmCallError } from './adapter'
import type { CrmAdapter, CrmCall } from './adapter'
import {
  IDEMPOTENCY_HEADER,
  SIGNATURE_HEADER,
  TIMESTAMP_HEADER,
  isRetryableStatus,
} from './contract'
import { signBody } from './signing'
import { OutboundCallError, outboundPost } from '../http/outbound-post'
import type { OutboundAnswer } from '../http/outbound-post'
import { isTrustedTarget } from '../http/outbound-target'

const MAX_RESPONSE_BYTES = 1024 * 1024

const retryAfterMs = (header: string | string[] | undefined): number | undefined => {
  if (typeof header !== 'string') return undefined
  const seconds = Number(header)
  if (Number.isFinite(seconds) && seconds >= 0) return seconds * 1000
  const date = Date.parse(header)
  return Number.isNaN(date) ? undefined : Math.max(0, date - Date.now())
}

/** How far the HTTP adapter trusts the URLs it is given. */
export interface HttpCrmAdapterOptions {
  /**
   * Lets calls reach loopback, private and link-local addresses (the server's
   * `allowPrivateOutboundTargets`). Default false: such a call fails unsent.
   */
  readonly allowPrivateTargets?: boolean
  /**
   * Base URLs the operator configured (`serve --demo --crm-url`): URLs under them are called
   * even when private, as the operator chose them, not an admin.
   */
  readonly trustedUrls?: readonly string[]
}

/**
 * POSTs `raw` to `url` with the signature, timestamp and idempotency headers and resolves the
 * response text of a 2xx answer. Throws a {@link CrmCallError} for anything else: a target
 * refused as private is final (`forbidden-target`), as waiting will not make it public.
 */
async function post(
  url: string,
  raw: string,
  call: CrmCall,
  options: HttpCrmAdapterOptions,
): Promise<string> {
  let allowPrivate = options.allowPrivateTargets === true
  if (!allowPrivate && options.trustedUrls !== undefined) {
    try {
      allowPrivate = isTrustedTarget(new URL(url), options.trustedUrls)
    } catch {
      allowPrivate = false
    }
  }
  let response: OutboundAnswer
  try {
    response = await outboundPost(url, {
      headers: {
        'content-type': 'application/json',
        [SIGNATURE_HEADER]: signBody(raw, call.config.secret),
        [TIMESTAMP_HEADER]: String(Date.now()),
        [IDEMPOTENCY_HEADER]: call.idempotencyKey,
        'user-agent': 'cardfile-crm/1',
      },
      body: raw,
      timeoutMs: call.timeoutMs,
      allowPrivate,
      maxResponseBytes: MAX_RESPONSE_BYTES,
      what: 'A CRM URL',
    })
  } catch (error) {
    if (!(error instanceof OutboundCallError)) throw error
    switch (error.failure) {
      case 'timeout':
        throw new CrmCallError(
          'timeout',
          `the CRM did not answer within ${call.timeoutMs} ms`,
          true,
        )
      case 'forbidden-target':
        throw new CrmCallError('forbidden-target', error.message, false)
      case 'too-large':
        throw new CrmCallError('bad-response', 'the CRM answer is over 1 MB', false)
      case 'network':
        throw new CrmCallError(
          'network',
          error.message === 'closed mid-answer'
            ? 'the CRM closed the connection mid-answer'
            : `the CRM could not be reached: ${error.message}`,
          true,
        )
    }
  }
  const { status, text } = response
  if (status >= 300 && status < 400) {
    throw new CrmCallError(
      'status',
      `the CRM answered ${status}; redirects are not followed`,
      false,
      status,
    )
  }
  if (status < 200 || status >= 300) {
    throw new CrmCallError(
      'status',
      `the CRM answered ${status}${text ? `: ${text.slice(0, 200)}` : ''}`,
      isRetryableStatus(status),
      status,
      retryAfterMs(response.headers['retry-after']),
    )
  }
  return text
}

/**
 * The default adapter: JSON over HTTPS POST to the workspace's lookup, write-back and
 * notification URLs, signed with the workspace secret (see docs/crm-api.md). A URL whose host
 * is, or resolves to, a loopback, private or link-local address fails unsent
 * (`forbidden-target`) unless `options` allow it; redirects are not followed.
 *
 * @example
 * await createCardfileServer({ storage, auth, crm: { adapter: httpCrmAdapter() } })
 */
export function httpCrmAdapter(options: HttpCrmAdapterOptions = {}): CrmAdapter {
  return {
    requiresUrls: true,
    async lookup(call, request) {
      const url = call.config.lookupUrl
      if (url === null) throw new CrmCallError('not-configured', 'no lookup URL is set', false)
      const text = await post(url, JSON.stringify(request), call, options)
      try {
        return JSON.parse(text) as unknown
      } catch {
        throw new CrmCallError('bad-json', 'the CRM lookup answer is not valid JSON', false)
      }
    },
    async deliver(call, body, raw) {
      const url =
        body.type === 'write-back' ? call.config.writeBackUrl : call.config.notificationUrl
      if (url === null) {
        throw new CrmCallError('not-configured', `no ${body.type} URL is set`, false)
      }
      await post(url, raw, call, options)
    },
  }
}

/** A fresh idempotency key for a call that is not a queued delivery (lookups). */
export const newCallKey = (): string => randomUUID()
