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

const MAX_RESPONSE_BYTES = 1024 * 1024

const retryAfterMs = (header: string | null): number | undefined => {
  if (header === null) return undefined
  const seconds = Number(header)
  if (Number.isFinite(seconds) && seconds >= 0) return seconds * 1000
  const date = Date.parse(header)
  return Number.isNaN(date) ? undefined : Math.max(0, date - Date.now())
}

/**
 * POSTs `raw` to `url` with the signature, timestamp and idempotency headers and resolves the
 * response text of a 2xx answer. Throws a {@link CrmCallError} for anything else.
 */
async function post(url: string, raw: string, call: CrmCall): Promise<string> {
  let response: Response
  try {
    response = await fetch(url, {
      method: 'POST',
      headers: {
        'content-type': 'application/json',
        [SIGNATURE_HEADER]: signBody(raw, call.config.secret),
        [TIMESTAMP_HEADER]: String(Date.now()),
        [IDEMPOTENCY_HEADER]: call.idempotencyKey,
        'user-agent': 'cardfile-crm/1',
      },
      body: raw,
      signal: AbortSignal.timeout(call.timeoutMs),
      redirect: 'error',
    })
  } catch (error) {
    const name = error instanceof Error ? error.name : ''
    if (name === 'TimeoutError' || name === 'AbortError') {
      throw new CrmCallError('timeout', `the CRM did not answer within ${call.timeoutMs} ms`, true)
    }
    const cause = error instanceof Error && error.cause instanceof Error ? error.cause.message : ''
    throw new CrmCallError(
      'network',
      `the CRM could not be reached${cause ? `: ${cause}` : ''}`,
      true,
    )
  }
  let text: string
  try {
    text = await response.text()
  } catch (error) {
    const name = error instanceof Error ? error.name : ''
    if (name === 'TimeoutError' || name === 'AbortError') {
      throw new CrmCallError('timeout', `the CRM did not answer within ${call.timeoutMs} ms`, true)
    }
    throw new CrmCallError('network', 'the CRM closed the connection mid-answer', true)
  }
  if (!response.ok) {
    const retryable = isRetryableStatus(response.status)
    throw new CrmCallError(
      'status',
      `the CRM answered ${response.status}${text ? `: ${text.slice(0, 200)}` : ''}`,
      retryable,
      response.status,
      retryAfterMs(response.headers.get('retry-after')),
    )
  }
  if (text.length > MAX_RESPONSE_BYTES) {
    throw new CrmCallError('bad-response', 'the CRM answer is over 1 MB', false)
  }
  return text
}

/**
 * The default adapter: JSON over HTTPS POST to the workspace's lookup, write-back and
 * notification URLs, signed with the workspace secret (see docs/crm-api.md).
 *
 * @example
 * await createCardfileServer({ storage, auth, crm: { adapter: httpCrmAdapter() } })
 */
export function httpCrmAdapter(): CrmAdapter {
  return {
    requiresUrls: true,
    async lookup(call, request) {
      const url = call.config.lookupUrl
      if (url === null) throw new CrmCallError('not-configured', 'no lookup URL is set', false)
      const text = await post(url, JSON.stringify(request), call)
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
      await post(url, raw, call)
    },
  }
}

/** A fresh idempotency key for a call that is not a queued delivery (lookups). */
export const newCallKey = (): string => randomUUID()
