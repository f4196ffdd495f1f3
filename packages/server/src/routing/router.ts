import {
  ContactDoc,
  ConversationDoc,
  SchemaDoc,
  contactDocName,
  conversationDocName,
  schemaDocName,
  vipActive,
} from '@cardfile/core'
import type { Actor, ContactData, SchemaView } from '@cardfile/core'
import type { DocumentHost } from '../document-host'
import { within } from '../http/within'
import type { IndexStore } from '../storage/index-store'
import { errorContext } from '../sync/logger'
import type { ServerLogger } from '../sync/logger'
import { defaultRoute } from './priority'
import type { RouteHook, RouteInput, RouteReason, ScoringOptions } from './priority'

/** The actor of the server's routing writes. */
export const ROUTING_ACTOR: Actor = { userId: 'cardfile-routing', role: 'system' }

const OPEN = ['new', 'pending'] as const

/** What routing reads of a contact: the workspace's schema, the contact, its VIP standing. */
export interface RoutingContext {
  readonly schema: SchemaView
  readonly contact: ContactData
  /** The contact is VIP and VIP is on for the workspace (and its plan). */
  readonly vip: boolean
}

export interface RouterOptions {
  readonly host: DocumentHost
  readonly index: Pick<IndexStore, 'listConversations'>
  /** Replaces the default scoring and VIP team assignment. */
  readonly route?: RouteHook
  /** Weights of the default scoring. */
  readonly scoring?: ScoringOptions
  readonly logger: Pick<ServerLogger, 'warn'>
}

/** Decides and writes conversations' team and priority. */
export interface Router {
  /** What routing reads of the contact. */
  context(workspace: string, contactId: string): Promise<RoutingContext>
  /**
   * Routes one conversation (team and priority, through the host like any change); resolves
   * false when it is resolved or gone. Idempotent: the same inputs write nothing the second time.
   */
  route(
    reason: RouteReason,
    workspace: string,
    conversationId: string,
    ctx: RoutingContext,
  ): Promise<boolean>
  /**
   * Re-routes the contact's open conversations (its VIP flag changed, or VIP was switched on or
   * off); resolves how many it visited.
   */
  rescore(workspace: string, contactId: string): Promise<number>
}

/**
 * The router: the app's `route` hook or the default scoring (VIP team and boost, waiting time),
 * applied to a conversation and written as the routing actor. A failing hook leaves the
 * conversation's routing as it was.
 *
 * @example
 * const router = createRouter({ host, index: backend.index, logger })
 * await router.route('new', 'demo', 'conv1', await router.context('demo', 'c1'))
 */
export function createRouter(options: RouterOptions): Router {
  const { host, logger } = options
  const decide = options.route ?? ((input: RouteInput) => defaultRoute(input, options.scoring))

  const context = async (workspace: string, contactId: string): Promise<RoutingContext> => {
    const schema = await host.read(schemaDocName(workspace), (doc) =>
      within(new SchemaDoc(doc), (s) => s.view()),
    )
    const contact = await host.read(contactDocName(workspace, contactId), (doc) =>
      within(new ContactDoc(doc, contactId), (c) => c.read()),
    )
    const { settings } = schema
    const vip = vipActive(settings) && contact.vip?.value === true
    return { schema, contact, vip }
  }

  const route: Router['route'] = async (reason, workspace, conversationId, ctx) => {
    const docName = conversationDocName(workspace, conversationId)
    const { meta, taken } = await host.read(docName, (doc) =>
      within(new ConversationDoc(doc, conversationId), (c) => ({
        meta: c.meta(),
        taken: c
          .messages()
          .some(
            (m) =>
              m.direction === 'outbound' &&
              (m.author.role === 'agent' || m.author.role === 'admin'),
          ),
      })),
    )
    if (meta === null || meta.status === 'resolved') return false
    const input: RouteInput = {
      reason,
      workspace,
      conversationId,
      contactId: meta.contactId,
      channel: meta.channel,
      vip: ctx.vip,
      settings: ctx.schema.settings,
      createdAt: meta.createdAt,
      now: Date.now(),
      current: { team: meta.team, priority: meta.priority },
      taken,
    }
    let decision
    try {
      decision = await decide(input)
    } catch (error) {
      logger.warn('route hook failed; the conversation keeps its routing', {
        conversation: docName,
        ...errorContext(error),
      })
      return true
    }
    const { team, priority } = decision
    const teamChanges = team !== undefined && team !== meta.team
    const priorityChanges = Number.isFinite(priority) && priority !== meta.priority
    if (!teamChanges && !priorityChanges) return true
    await host.transact(docName, ROUTING_ACTOR, (doc) =>
      within(new ConversationDoc(doc, conversationId), (c) => {
        if (teamChanges) c.setTeam(team, ROUTING_ACTOR, ctx.schema)
        if (priorityChanges) c.setPriority(priority, ROUTING_ACTOR, ctx.schema)
      }),
    )
    return true
  }

  const rescore = async (workspace: string, contactId: string): Promise<number> => {
    const ctx = await context(workspace, contactId)
    let visited = 0
    let cursor: string | null = null
    do {
      const page = await options.index.listConversations(workspace, {
        contactIds: [contactId],
        status: OPEN,
        order: 'newest',
        limit: 200,
        cursor,
      })
      for (const row of page.items) await route('vip-changed', workspace, row.id, ctx)
      visited += page.items.length
      cursor = page.next
    } while (cursor !== null)
    return visited
  }

  return { context, route, rescore }
}
