import { request as httpRequest } from 'node:http'
import type { IncomingHttpHeaders } from 'node:http'
import { request as httpsRequest } from 'node:https'
import { CardfileError } from '@cardfile/core'
import { ForbiddenTargetError, checkOutboundTarget, guardedLookup } from './outbound-target'

/** Why an outbound POST got no answer to read. */
export type OutboundFailure = 'forbidden-target' | 'timeout' | 'network' | 'too-large'

/** An outbound POST that got no (readable) answer; `message` is safe to show an admin. */
export class OutboundCallError extends Error {
  override readonly name = 'OutboundCallError'
  constructor(
    readonly failure: OutboundFailure,
    message: string,
  ) {
    super(message)
  }
}

/** What an outbound POST sends and how far it trusts its target. */
export interface OutboundPost {
  readonly headers: Readonly<Record<string, string>>
  readonly body: string
  /** For the whole exchange: connection, request and the answer's body. */
  readonly timeoutMs: number
  /** Private addresses may be called (the operator's opt-out, or a target the operator set). */
  readonly allowPrivate: boolean
  /**
   * The answer's body is read up to this many bytes; more is `too-large`. 0: it is not read at
   * all and the connection is closed as soon as the status is known (`text` is empty), for a
   * caller that goes by the status alone and must not hold whatever a receiver sends.
   */
  readonly maxResponseBytes: number
  /** Names the URL in refusals ("A CRM URL"). */
  readonly what: string
  /** Names its host in refusals of the address it resolves to. Default: `<what>'s host`. */
  readonly whatHost?: string
}

/** An answer, of any status: 3xx ones too, as redirects are never followed. */
export interface OutboundAnswer {
  readonly status: number
  readonly headers: IncomingHttpHeaders
  readonly text: string
}

/**
 * POSTs to a URL an admin configured, through node:http so that the address connected to is
 * the address checked: an IP literal is checked here (Node does not look one up), a host name
 * by a `lookup` that refuses private addresses at every call (DNS rebinding). Redirects are
 * not followed: the caller gets the 3xx, as the place it points to was never checked. Rejects
 * with {@link OutboundCallError} when no answer could be read.
 *
 * @example
 * const answer = await outboundPost('https://crm.example.com/lookup', { headers, body, timeoutMs: 5000, allowPrivate: false, maxResponseBytes: 1 << 20, what: 'A CRM URL' })
 */
export function outboundPost(raw: string, post: OutboundPost): Promise<OutboundAnswer> {
  let url: URL
  try {
    url = checkOutboundTarget(raw, post.allowPrivate, post.what)
  } catch (error) {
    const message = error instanceof CardfileError ? error.message : `${post.what} is refused`
    return Promise.reject(new OutboundCallError('forbidden-target', message))
  }
  const send = url.protocol === 'https:' ? httpsRequest : httpRequest
  return new Promise<OutboundAnswer>((resolve, reject) => {
    let settled = false
    const finish = (outcome: () => void): void => {
      if (settled) return
      settled = true
      clearTimeout(timer)
      outcome()
    }
    const fail = (error: OutboundCallError): void =>
      finish(() => {
        req.destroy()
        reject(error)
      })
    const req = send(url, {
      method: 'POST',
      headers: { ...post.headers, 'content-length': Buffer.byteLength(post.body) },
      lookup: guardedLookup(post.allowPrivate, post.whatHost ?? `${post.what}'s host`),
    })
    const timer = setTimeout(
      () => fail(new OutboundCallError('timeout', `no answer within ${post.timeoutMs} ms`)),
      post.timeoutMs,
    )
    req.on('error', (error) => {
      fail(
        error instanceof ForbiddenTargetError
          ? new OutboundCallError('forbidden-target', error.message)
          : new OutboundCallError('network', error.message),
      )
    })
    req.on('response', (res) => {
      if (post.maxResponseBytes === 0) {
        finish(() => {
          res.destroy()
          resolve({ status: res.statusCode ?? 0, headers: res.headers, text: '' })
        })
        return
      }
      const chunks: Buffer[] = []
      let size = 0
      res.on('data', (chunk: Buffer) => {
        size += chunk.length
        if (size > post.maxResponseBytes) {
          fail(
            new OutboundCallError('too-large', `the answer is over ${post.maxResponseBytes} bytes`),
          )
        } else chunks.push(chunk)
      })
      res.on('error', () => fail(new OutboundCallError('network', 'closed mid-answer')))
      res.on('aborted', () => fail(new OutboundCallError('network', 'closed mid-answer')))
      res.on('end', () =>
        finish(() =>
          resolve({
            status: res.statusCode ?? 0,
            headers: res.headers,
            text: Buffer.concat(chunks).toString('utf8'),
          }),
        ),
      )
    })
    req.end(post.body)
  })
}
