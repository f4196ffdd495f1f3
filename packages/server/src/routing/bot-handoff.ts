import type { ChannelId } from '@cardfile/core'
import { errorContext } from '../sync/logger'

/** What a bot hand-off receives when a conversation starts. */
export interface BotHandoffPayload {
  readonly event: 'conversation.started'
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
 * Where hand-offs go: a webhook URL (POSTed as JSON) or a function. Either way a failure or a
 * timeout is logged and never stops the conversation from starting.
 *
 * @example
 * createCardfileServer({ ..., botHandoff: { url: 'https://bot.example.com/cardfile', timeoutMs: 3000 } })
 * createCardfileServer({ ..., botHandoff: { hook: (p) => (p.vip ? startVipFlow(p) : undefined) } })
 */
export type BotHandoffOptions =
  | {
      readonly url: string
      /** Extra request headers (a shared secret for the bot to check). */
      readonly headers?: Readonly<Record<string, string>>
      /** Default 5000. */
      readonly timeoutMs?: number
    }
  | {
      readonly hook: (payload: BotHandoffPayload) => void | Promise<void>
      /** Default 5000. */
      readonly timeoutMs?: number
    }

/** Where hand-off failures are reported. */
export interface HandoffLogger {
  warn(message: string, context?: Record<string, unknown>): void
}

const timeout = (ms: number): Promise<never> =>
  new Promise((_, reject) => {
    const timer = setTimeout(() => reject(new Error(`timed out after ${ms} ms`)), ms)
    timer.unref()
  })

/**
 * Delivers one hand-off; resolves true when the bot accepted it (a 2xx answer or a hook that
 * returned), false after logging anything else. Never rejects.
 *
 * @example
 * await deliverBotHandoff({ url }, payload, logger)
 */
export async function deliverBotHandoff(
  options: BotHandoffOptions,
  payload: BotHandoffPayload,
  logger: HandoffLogger,
): Promise<boolean> {
  const timeoutMs = options.timeoutMs ?? 5000
  const context = { workspace: payload.workspace, conversation: payload.conversationId }
  try {
    if ('hook' in options) {
      await Promise.race([Promise.resolve().then(() => options.hook(payload)), timeout(timeoutMs)])
      return true
    }
    const response = await fetch(options.url, {
      method: 'POST',
      headers: { 'content-type': 'application/json', ...options.headers },
      body: JSON.stringify(payload),
      signal: AbortSignal.timeout(timeoutMs),
    })
    // Drain the body so the connection is released.
    await response.arrayBuffer().catch(() => undefined)
    if (!response.ok) {
      logger.warn('bot hand-off refused', { ...context, status: response.status })
      return false
    }
    return true
  } catch (error) {
    logger.warn('bot hand-off failed', { ...context, ...errorContext(error) })
    return false
  }
}
