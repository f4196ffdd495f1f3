import { CHANNEL_IDS, ErrorCodes, SchemaDoc, capabilities, schemaDocName } from '@cardfile/core'
import type { ChannelId } from '@cardfile/core'
import { z } from 'zod'
import { apiRoutes } from '../http/api-routes'
import type { HttpRequestHandler } from '../http/http-context'
import { HttpError, sendJson } from '../http/http-error'
import { allowMethods, parseInput, requireRole } from '../http/route-auth'
import { within } from '../http/within'
import { CONTACT_SEARCH_SORTS, MAX_ATTRIBUTE_FILTERS } from './contact-search-query'
import type { AttributeFilter } from './contact-search-query'
import { MAX_SEARCH_TEXT } from './search-text'

const channels = CHANNEL_IDS as unknown as readonly [ChannelId, ...ChannelId[]]

/** The query of `GET /api/<ws>/contacts/search` other than the `attr.*` filters. */
const searchQuery = z
  .object({
    q: z.string().max(MAX_SEARCH_TEXT).optional(),
    channel: z.enum(channels).optional(),
    vip: z.enum(['true', 'false']).optional(),
    sort: z.enum(CONTACT_SEARCH_SORTS).optional(),
    limit: z.coerce.number().int().min(1).max(200).default(50),
    cursor: z.string().min(1).max(512).optional(),
  })
  .strict()

const ATTR = /^attr\.([A-Za-z0-9_-]{1,64})(?:\.(contains|min|max))?$/

/**
 * Splits the attribute filters (`attr.<id>=v` equals, `attr.<id>.contains=v`,
 * `attr.<id>.min=a` / `attr.<id>.max=b` a range) from the other parameters.
 */
function readAttributeFilters(params: URLSearchParams): {
  readonly filters: AttributeFilter[]
  readonly rest: Record<string, string>
} {
  const rest: Record<string, string> = {}
  const ranges = new Map<string, { min?: string; max?: string }>()
  const filters: AttributeFilter[] = []
  for (const [key, value] of params) {
    if (!key.startsWith('attr.')) {
      rest[key] = value
      continue
    }
    const m = ATTR.exec(key)
    if (m === null) {
      throw new HttpError(
        400,
        ErrorCodes.BadRequest,
        `Invalid query: ${key.slice(0, 80)} is not attr.<id>, attr.<id>.contains, .min or .max`,
      )
    }
    const [, attributeId, op] = m as unknown as [string, string, string | undefined]
    if (op === undefined) filters.push({ attributeId, op: 'eq', value })
    else if (op === 'contains') filters.push({ attributeId, op: 'contains', value })
    else {
      const range = ranges.get(attributeId) ?? {}
      range[op as 'min' | 'max'] = value
      ranges.set(attributeId, range)
    }
  }
  for (const [attributeId, range] of ranges) filters.push({ attributeId, op: 'range', ...range })
  if (filters.length > MAX_ATTRIBUTE_FILTERS) {
    throw new HttpError(
      400,
      ErrorCodes.BadRequest,
      `Invalid query: at most ${MAX_ATTRIBUTE_FILTERS} attribute filters`,
    )
  }
  return { filters, rest }
}

/**
 * `GET /api/<ws>/contacts/search`: contact search for agents and admins (the read rule of
 * `GET /contacts`). `q` finds names, emails, phones, handles and attribute values; `channel`,
 * `vip` (refused while VIP is off for the workspace or its plan) and `attr.<id>[.contains|.min|
 * .max]` filter; `sort` is relevance (default), created, updated or name; `cursor` and
 * `limit` page. Answers `{ items, next }`.
 *
 * @example
 * await createCardfileServer({ backend, auth, extensions: [searchExtension()] })
 */
export function searchRoutes(): HttpRequestHandler {
  return apiRoutes(async (req, res, { method, workspace, resource, rest, url }, ctx) => {
    // "search" is reserved: no contact route ever sees it as an id (ids are UUIDs from
    // ingestion), so every other method is refused here rather than reaching them.
    if (resource !== 'contacts' || rest.length !== 1 || rest[0] !== 'search') return false
    allowMethods(method, ['GET'], url.pathname)
    requireRole(await ctx.principal(req, workspace), ['admin', 'agent'], 'search contacts')
    const { filters, rest: params } = readAttributeFilters(url.searchParams)
    const q = parseInput(searchQuery, params, 'query')
    if (q.vip !== undefined) {
      const settings = await ctx.host.read(schemaDocName(workspace), (doc) =>
        within(new SchemaDoc(doc), (s) => s.settings()),
      )
      // The VIP group is not there to filter by while the plan or the admin turned VIP off.
      if (!capabilities(settings.plan).vip) {
        throw new HttpError(403, ErrorCodes.PlanLacksFeature, 'The plan has no VIP')
      }
      if (!settings.vipEnabled) {
        throw new HttpError(403, ErrorCodes.VipDisabled, 'VIP is switched off')
      }
    }
    const page = await ctx.backend.index.searchContacts(workspace, {
      ...(q.q === undefined ? {} : { text: q.q }),
      ...(q.channel === undefined ? {} : { channel: q.channel }),
      ...(q.vip === undefined ? {} : { vip: q.vip === 'true' }),
      ...(q.sort === undefined ? {} : { sort: q.sort }),
      attributes: filters,
      limit: q.limit,
      cursor: q.cursor ?? null,
    })
    sendJson(res, 200, { items: page.items, next: page.next })
    return true
  })
}
