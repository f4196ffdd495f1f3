import type { ChannelId, WorkspaceSettings } from '@cardfile/core'

/**
 * Why a conversation is being routed: it started, or the VIP standing of its contact changed
 * (the contact was marked or unmarked, or VIP was switched on or off for the workspace).
 */
export type RouteReason = 'new' | 'vip-changed'

/** What the `route` hook (and the default scoring) is told about a conversation. */
export interface RouteInput {
  readonly reason: RouteReason
  readonly workspace: string
  readonly conversationId: string
  readonly contactId: string
  readonly channel: ChannelId
  /** The contact is VIP and VIP is on for the workspace (false whenever VIP is off). */
  readonly vip: boolean
  readonly settings: WorkspaceSettings
  /** When the conversation started (ms since epoch). */
  readonly createdAt: number
  /** When it is routed. */
  readonly now: number
  /** The conversation's team and priority before this routing. */
  readonly current: { readonly team: string | null; readonly priority: number }
  /**
   * An agent has taken the conversation: an agent or admin has answered in it. The default
   * routing then leaves its team alone.
   */
  readonly taken: boolean
}

/** Where a conversation goes: `team` undefined leaves the team as it is. */
export interface RouteDecision {
  readonly team?: string | null
  readonly priority: number
}

/**
 * Replaces the default scoring: called for every new conversation and for the open
 * conversations of a contact whose VIP flag changed. A hook that throws leaves the
 * conversation as it was (and is logged).
 *
 * @example
 * const route: RouteHook = ({ vip, channel }) => ({
 *   team: vip ? 'gold-desk' : channel === 'email' ? 'mail' : null,
 *   priority: vip ? 10 : 0,
 * })
 */
export type RouteHook = (input: RouteInput) => RouteDecision | Promise<RouteDecision>

/** Weights of the default scoring. */
export interface ScoringOptions {
  /**
   * Score per minute the conversation had waited when it was scored (default 0: waiting then
   * orders the queue only through its oldest-first tie-break, and the score is the VIP boost
   * alone, as the inbound path writes it). With 0.01, an hour of waiting weighs 0.6.
   */
  readonly waitingWeightPerMinute?: number
}

/** One rule's share of a score, for explaining a queue position. */
export interface ScoreTerm {
  readonly rule: 'vip-boost' | 'waiting-time'
  readonly value: number
}

/**
 * The default score of a conversation: the sum of its rules. VIP boost is
 * `settings.vipPriorityBoost` for a VIP contact (nothing when VIP is off); waiting time is the
 * minutes waited when scored times the weight. The queue breaks equal scores oldest first, so
 * among equals the longest wait is served first as well.
 *
 * @example
 * scoreTerms({ vip: true, settings, createdAt: t0, now: t0 + 30 * 60_000 }, { waitingWeightPerMinute: 0.01 })
 * // [{ rule: 'vip-boost', value: 1 }, { rule: 'waiting-time', value: 0.3 }]
 */
export function scoreTerms(
  input: Pick<RouteInput, 'vip' | 'settings' | 'createdAt' | 'now'>,
  options: ScoringOptions = {},
): ScoreTerm[] {
  const weight = options.waitingWeightPerMinute ?? 0
  const minutes = Math.max(0, input.now - input.createdAt) / 60_000
  return [
    { rule: 'vip-boost', value: input.vip ? input.settings.vipPriorityBoost : 0 },
    // Rounded so a re-score a moment later does not churn a write for a 0.0001 change.
    { rule: 'waiting-time', value: Math.round(minutes * weight * 1000) / 1000 },
  ]
}

/**
 * The default routing. A conversation of a VIP contact goes to `settings.vipTeam` (when one is
 * set): when it starts, and when its contact becomes VIP (or VIP is switched on) while it waits
 * unanswered in the unassigned queue, as a new one would. When its contact stops being VIP (or
 * VIP is switched off), an unanswered conversation in the VIP team goes back to the unassigned
 * queue. A conversation an agent answered, or one an admin put in another team, keeps its team.
 * Every routing sets the score from {@link scoreTerms}.
 *
 * @example
 * defaultRoute({ reason: 'new', vip: true, settings, ... }) // { team: 'vip-desk', priority: 1 }
 */
export function defaultRoute(input: RouteInput, options: ScoringOptions = {}): RouteDecision {
  const priority = scoreTerms(input, options).reduce((sum, t) => sum + t.value, 0)
  const vipTeam = input.settings.vipTeam
  if (vipTeam === null || input.taken) return { priority }
  if (input.vip && (input.reason === 'new' || input.current.team === null)) {
    return { team: vipTeam, priority }
  }
  if (!input.vip && input.reason === 'vip-changed' && input.current.team === vipTeam) {
    return { team: null, priority }
  }
  return { priority }
}
