import { CardfileError, ErrorCodes, isChannelId, isValidId } from '@cardfile/core'
import type { ChannelId } from '@cardfile/core'
import { checkLimit } from '../storage/cursor'
import { MAX_SEARCH_TEXT, parseSearchText } from './search-text'
import type { ParsedSearchText } from './search-text'

/** Orders of search results. */
export const CONTACT_SEARCH_SORTS = ['relevance', 'created', 'updated', 'name'] as const

/**
 * `relevance`: exact value matches, then display-name prefix matches, then other matches, each
 * newest first (without a text: as `created`); `created` / `updated`: newest first; `name`:
 * by display name A to Z, contacts without one last.
 */
export type ContactSearchSort = (typeof CONTACT_SEARCH_SORTS)[number]

/**
 * A condition on one attribute value: `eq` equals the string exactly (a dropdown's option id),
 * `contains` holds it ignoring case, `range` lies within inclusive bounds, compared as numbers
 * when every bound given is a number (values that are not numbers then never match), else as
 * strings (ISO dates compare correctly).
 */
export type AttributeFilter =
  | { readonly attributeId: string; readonly op: 'eq'; readonly value: string }
  | { readonly attributeId: string; readonly op: 'contains'; readonly value: string }
  | {
      readonly attributeId: string
      readonly op: 'range'
      readonly min?: string
      readonly max?: string
    }

/** A contact search: a text and filters (all optional, all must hold), an order, a page. */
export interface ContactSearchQuery {
  /** Words to find in names, emails, phones, handles and any attribute value (prefixes count). */
  readonly text?: string
  readonly channel?: ChannelId
  readonly vip?: boolean
  readonly attributes?: readonly AttributeFilter[]
  /** Default: `relevance`. */
  readonly sort?: ContactSearchSort
  readonly limit: number
  readonly cursor?: string | null
}

/** Most attribute filters of one search. */
export const MAX_ATTRIBUTE_FILTERS = 10
/** Longest value of an attribute filter. */
export const MAX_FILTER_VALUE = 200

/** A decimal number, as range filters read one (the same pattern on every engine). */
export const NUMBER_PATTERN = /^-?[0-9]{1,30}(\.[0-9]{1,30})?$/

/** The number a value stands for in a numeric range filter, or null. */
export const numberOf = (value: string | undefined): number | null =>
  value !== undefined && NUMBER_PATTERN.test(value) ? Number(value) : null

/** A checked search, in the form every engine's query builder reads. */
export interface CheckedSearch {
  /** null: no text condition; tokens empty: a text that can match nothing. */
  readonly text: ParsedSearchText | null
  readonly channel: ChannelId | undefined
  readonly vip: boolean | undefined
  readonly attributes: readonly CheckedFilter[]
  readonly sort: ContactSearchSort
  readonly limit: number
  readonly after: SearchCursor | null
}

/** An attribute filter with its range read: `numeric` when every bound is a number. */
export type CheckedFilter =
  | Extract<AttributeFilter, { op: 'eq' | 'contains' }>
  | {
      readonly attributeId: string
      readonly op: 'range'
      readonly min: string | undefined
      readonly max: string | undefined
      readonly numeric: boolean
    }

/** Position after a result: its sort key and id (and relevance tier when sorting by it). */
export interface SearchCursor {
  readonly s: ContactSearchSort
  /** Relevance tier (relevance sort only). */
  readonly r: number
  /** createdAt, updatedAt or the display name (null: none) of the last result. */
  readonly k: number | string | null
  readonly i: string
}

const bad = (message: string): CardfileError => new CardfileError(ErrorCodes.BadRequest, message)

/** Encodes a search cursor as an opaque base64url string. */
export const encodeSearchCursor = (cursor: SearchCursor): string =>
  Buffer.from(JSON.stringify({ o: 'search', ...cursor }), 'utf8').toString('base64url')

function decodeSearchCursor(value: string, sort: ContactSearchSort): SearchCursor {
  let c: unknown
  try {
    c = JSON.parse(Buffer.from(value, 'base64url').toString('utf8'))
  } catch {
    throw bad('invalid pagination cursor')
  }
  if (typeof c !== 'object' || c === null) throw bad('invalid pagination cursor')
  const { o, s, r, k, i } = c as Record<string, unknown>
  if (o !== 'search' || typeof i !== 'string' || !Number.isInteger(r)) {
    throw bad('invalid pagination cursor')
  }
  // A cursor of another order would point nowhere meaningful: a bad request, not a restart.
  if (s !== sort) throw bad(`the cursor belongs to sort "${String(s)}", not "${sort}"`)
  const keyOk = sort === 'name' ? k === null || typeof k === 'string' : Number.isFinite(k)
  if (!keyOk) throw bad('invalid pagination cursor')
  return { s: sort, r: r as number, k: k as number | string | null, i }
}

function checkFilter(f: AttributeFilter): CheckedFilter {
  if (typeof f.attributeId !== 'string' || !isValidId(f.attributeId)) {
    throw bad(
      `invalid attribute id in a filter: ${JSON.stringify(String(f.attributeId)).slice(0, 80)}`,
    )
  }
  const checkValue = (v: unknown, what: string): void => {
    if (typeof v !== 'string' || v.length > MAX_FILTER_VALUE) {
      throw bad(
        `${what} of the filter on ${f.attributeId} must be a text of at most ${MAX_FILTER_VALUE} characters`,
      )
    }
  }
  switch (f.op) {
    case 'eq':
    case 'contains':
      checkValue(f.value, 'the value')
      if (f.op === 'contains' && f.value === '')
        throw bad(`contains on ${f.attributeId} needs a text`)
      return { attributeId: f.attributeId, op: f.op, value: f.value }
    case 'range': {
      if (f.min === undefined && f.max === undefined) {
        throw bad(`the range on ${f.attributeId} needs a minimum, a maximum or both`)
      }
      if (f.min !== undefined) checkValue(f.min, 'the minimum')
      if (f.max !== undefined) checkValue(f.max, 'the maximum')
      const numeric = [f.min, f.max].every((b) => b === undefined || numberOf(b) !== null)
      return { attributeId: f.attributeId, op: 'range', min: f.min, max: f.max, numeric }
    }
    default:
      throw bad(
        `unknown filter operation on ${String((f as { attributeId: unknown }).attributeId)}`,
      )
  }
}

/**
 * Checks a search the same way for every engine: bad input is a `bad-request` error, never a
 * malformed query sent to a database.
 *
 * @example
 * const search = checkSearch({ text: 'ann', vip: true, limit: 20 })
 */
export function checkSearch(query: ContactSearchQuery): CheckedSearch {
  const limit = checkLimit(query.limit)
  const sort = query.sort ?? 'relevance'
  if (!CONTACT_SEARCH_SORTS.includes(sort)) throw bad(`unknown sort "${String(sort)}"`)
  const rawText = query.text
  if (rawText !== undefined && typeof rawText !== 'string')
    throw bad('the search text must be a text')
  if (rawText !== undefined && rawText.length > MAX_SEARCH_TEXT) {
    throw bad(`the search text is longer than ${MAX_SEARCH_TEXT} characters`)
  }
  if (query.channel !== undefined && !isChannelId(query.channel)) {
    throw bad(`unknown channel "${String(query.channel)}"`)
  }
  const filters = query.attributes ?? []
  if (filters.length > MAX_ATTRIBUTE_FILTERS) {
    throw bad(`at most ${MAX_ATTRIBUTE_FILTERS} attribute filters`)
  }
  const text = rawText === undefined || rawText.trim() === '' ? null : parseSearchText(rawText)
  return {
    text,
    channel: query.channel,
    vip: query.vip,
    attributes: filters.map(checkFilter),
    sort,
    limit,
    after:
      query.cursor === undefined || query.cursor === null
        ? null
        : decodeSearchCursor(query.cursor, sort),
  }
}

/**
 * Whether a search can match nothing whatever the index holds (a text of punctuation only), so
 * engines answer an empty page without querying.
 */
export const matchesNothing = (search: CheckedSearch): boolean =>
  search.text !== null && search.text.tokens.length === 0

/**
 * The effective order: relevance without a text ranks nothing, so it is the created order
 * (the cursor still says `relevance`, tier 0).
 */
export const rankByRelevance = (search: CheckedSearch): boolean =>
  search.sort === 'relevance' && search.text !== null
