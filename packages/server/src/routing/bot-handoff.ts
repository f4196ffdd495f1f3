import type { ChannelId } from '@cardfile/core'
import { IDEMPOTENCY_HEADER, SIGNATURE_HEADER, TIMESTAMP_HEADER } from '../crm/contract'
import { signBody } from '../crm/signing'

/** What a bot hand-off receives when a conversation starts. */
export interface BotHandoffPayload {
  readonly event: 'conversation.started'
  /**
   * The same for every attempt at this hand-off (also sent as the `Idempotency-Key` header): a
   * bot that already acted on it can answer 2xx and do nothing, as a retry after a timeout or a
   * restart of the server sends it again.
   */
  readonly idempotencyKey: string
  readonly workspace: string
  readonly conversationId: string
  readonly contactId: string
  readonly channel: ChannelId
  /** The contact is VIP and VIP is on for the workspace. */
  readonly vip: boolean
  /** The contact's attributes that have a value, by attribute id (dropdowns: option label too). */
  readonly attributes: Readonly<Record<string, BotHandoffAttribute>>
}

/** One attribute of the contact, as the bot sees it. */
export interface BotHandoffAttribute {
  readonly label: string
  readonly kind: 'platform' | 'custom'
  readonly alias: string | null
  /** The stored value (a dropdown's option id). */
  readonly value: string
  /** A dropdown option's label; otherwise the value. */
  readonly display: string
}

/**
 * Where hand-offs go: a webhook URL (POSTed as JSON) or a function. Each is a job in the durable
 * outbox, as CRM deliveries are: every attempt carries the same `Idempotency-Key` header (and a
 * timestamp, and a signature when a `secret` is set); a failure, a timeout or a 5xx (408 and 429
 * too) is logged and retried with backoff, `attempts` times in all, also after a restart; another
 * 4xx is final. A hand-off that gave up is a dead letter admins list and retry
 * (`GET /api/<ws>/bot-handoffs?state=dead`, `POST .../bot-handoffs/<id>/retry`). None of it holds
 * the conversation up. The URL is the operator's (a server option, never set through the API),
 * so it is trusted as given: a bot beside the server on this machine or a private network is
 * called without `allowPrivateOutboundTargets`, which is about URLs admins set.
 *
 * @example
 * createCardfileServer({ ..., botHandoff: { url: 'https://bot.example.com/cardfile', timeoutMs: 3000 } })
 * createCardfileServer({ ..., botHandoff: { hook: (p) => (p.vip ? startVipFlow(p) : undefined) } })
 */
export type BotHandoffOptions = (
  | {
      readonly url: string
      /** Extra request headers (a shared secret for the bot to check). */
      readonly headers?: Readonly<Record<string, string>>
      /**
       * A hex secret (at least 16 bytes) shared with the bot: every request then carries the
       * HMAC-SHA256 signature of its raw body in `x-cardfile-signature`, as CRM requests do.
       */
      readonly secret?: string
    }
  | {
      readonly hook: (payload: BotHandoffPayload) => void | Promise<void>
    }
) & {
  /** Per attempt; default 5000. */
  readonly timeoutMs?: number
  /**
   * Attempts in all before the hand-off goes to the dead letter (default 5), retried with
   * exponential backoff and jitter like CRM deliveries (about 1 s, 2 s, 4 s, 8 s, up to 5 min).
   */
  readonly attempts?: number
  /** Delay after the first failure, in ms, doubled after each further one (default 1000). */
  readonly baseDelayMs?: number
}

/** Why one attempt at a hand-off did not reach the bot. */
export class BotHandoffError extends Error {
  override readonly name = 'BotHandoffError'
  readonly code = 'bot-handoff-failed'
  constructor(
    message: string,
    /** False when sending it again cannot help (the bot refused it with a 4xx). */
    readonly retryable: boolean,
    /** The bot's HTTP status, when it answered. */
    readonly status: number | null = null,
  ) {
    super(message)
  }
}

const timeout = (ms: number): Promise<never> =>
  new Promise((_, reject) => {
    const timer = setTimeout(() => reject(new Error(`timed out after ${ms} ms`)), ms)
    timer.unref()
  })

/**
 * Makes one attempt at a hand-off: resolves once the bot accepted it (a 2xx answer, or a hook
 * that returned), rejects with {@link BotHandoffError} otherwise.
 *
 * @example
 * await sendBotHandoff({ url }, payload)
 */
export async function sendBotHandoff(
  options: BotHandoffOptions,
  payload: BotHandoffPayload,
): Promise<void> {
  const timeoutMs = options.timeoutMs ?? 5000
  if ('hook' in options) {
    try {
      await Promise.race([Promise.resolve().then(() => options.hook(payload)), timeout(timeoutMs)])
    } catch (error) {
      throw new BotHandoffError(error instanceof Error ? error.message : String(error), true)
    }
    return
  }
  let response: Response
  const body = JSON.stringify(payload)
  try {
    response = await fetch(options.url, {
      method: 'POST',
      headers: {
        'content-type': 'application/json',
        ...options.headers,
        [IDEMPOTENCY_HEADER]: payload.idempotencyKey,
        [TIMESTAMP_HEADER]: String(Date.now()),
        ...(options.secret === undefined
          ? {}
          : { [SIGNATURE_HEADER]: signBody(body, options.secret) }),
      },
      body,
      signal: AbortSignal.timeout(timeoutMs),
    })
    // Drain the body so the connection is released.
    await response.arrayBuffer().catch(() => undefined)
  } catch (error) {
    throw new BotHandoffError(error instanceof Error ? error.message : String(error), true)
  }
  if (!response.ok) {
    const { status } = response
    const retryable = status >= 500 || status === 408 || status === 429
    throw new BotHandoffError(`the bot answered ${status}`, retryable, status)
  }
}
