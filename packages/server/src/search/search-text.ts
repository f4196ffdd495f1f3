import { CHANNELS, PLATFORM_ATTRIBUTES } from '@cardfile/core'
import type { ChannelId } from '@cardfile/core'

/**
 * How contact search reads text: one tokeniser in JavaScript for what is indexed and for what
 * is asked, so the memory, SQLite (FTS5) and PostgreSQL (tsvector) indexes hold the same words
 * and answer a query the same way. A token is a run of letters and digits, lower-cased, with
 * diacritics removed; everything else (quotes, `*`, `:`, `@`, `NEAR`'s parentheses) separates
 * tokens, so nothing a user types can reach an engine's query syntax.
 */

/** Longest search text accepted, in characters. */
export const MAX_SEARCH_TEXT = 200
/** Most tokens of a query used (each must match), so one request's cost stays bounded. */
export const MAX_QUERY_TOKENS = 8
/** Longest token kept; longer runs are cut (in the index and in queries alike). */
export const MAX_TOKEN = 64
/** Digits with phone punctuation only. */
const PHONE = /^[\d\s+().\-/]{6,40}$/

/** Most characters of one value that are indexed (long texts are searchable by their start). */
const MAX_VALUE_INDEXED = 2_000
/** Most distinct words indexed per contact. */
const MAX_WORDS = 1_000
/** Longest whole-value key (exact match) kept. */
export const MAX_KEY = 128

/** Lower case without diacritics (`José` → `jose`), the form every index holds. */
export const fold = (text: string): string =>
  text
    .normalize('NFKD')
    .replace(/\p{M}+/gu, '')
    .toLowerCase()

/** The tokens of a text, in order, repeated ones included. */
export const tokensOf = (text: string): string[] =>
  (fold(text).match(/[\p{L}\p{N}]+/gu) ?? []).map((t) =>
    t.length > MAX_TOKEN ? t.slice(0, MAX_TOKEN) : t,
  )

/**
 * The platform attributes that hold a contact's name, the channel's own first: a contact's
 * display name (for sorting and the name-prefix rank) is the first of them it has.
 */
const nameAttributesFor = (channel: ChannelId): readonly string[] => {
  const own = CHANNELS.find((c) => c.id === channel)?.platformAttributes ?? []
  const names = (ids: readonly { readonly id: string }[]): string[] =>
    ids.map((a) => a.id).filter((id) => id.endsWith('_name'))
  return [...new Set([...names(own), ...names(PLATFORM_ATTRIBUTES)])]
}

/** What the search index keeps of one contact, derived from its index row. */
export interface ContactSearchFields {
  /** Space-separated distinct tokens (the full-text index's input). */
  readonly words: string
  /**
   * Whole-value keys (each value's tokens run together, so `ann.lee@example.org` and
   * `+44 20 7946` have keys `annleeexampleorg` and `442079460958`), space-delimited with a
   * space at both ends: a query whose key is one of them is an exact match.
   */
  readonly keys: string
  /** The display name folded for sorting, or null when the contact has none. */
  readonly sortName: string | null
}

/**
 * Derives a contact's search fields from its channel identity and attribute values.
 *
 * @example
 * contactSearchFields({ channel: 'email', platformUserId: 'u1', values: { email: 'ann@example.org' } })
 * // { words: 'u1 ann example org', keys: ' u1 annexampleorg ', sortName: null }
 */
export function contactSearchFields(contact: {
  readonly channel: ChannelId
  readonly platformUserId: string
  readonly values: Readonly<Record<string, string>> | undefined
}): ContactSearchFields {
  const values = contact.values ?? {}
  const words = new Set<string>()
  const keys = new Set<string>()
  const add = (value: string): void => {
    const tokens = tokensOf(value.slice(0, MAX_VALUE_INDEXED))
    for (const t of tokens) if (words.size < MAX_WORDS) words.add(t)
    const key = tokens.join('')
    if (key.length === 0 || key.length > MAX_KEY) return
    keys.add(key)
    if (tokens.length < 2 || !PHONE.test(value)) return
    // A phone number's digits run together are a word too (`4420794` finds `+44 20 7946 …`),
    // and so are they without the first group (country or area code). Only phone numbers:
    // every other value would add a word of its own per contact, and prefix queries get
    // slower with every distinct word that shares their prefix.
    if (key.length <= MAX_TOKEN && words.size < MAX_WORDS) words.add(key)
    const local = tokens.slice(1).join('')
    if (tokens.length > 2 && local.length <= MAX_TOKEN && words.size < MAX_WORDS) words.add(local)
  }
  add(contact.platformUserId)
  for (const value of Object.values(values)) if (typeof value === 'string') add(value)
  let sortName: string | null = null
  for (const id of nameAttributesFor(contact.channel)) {
    const name = values[id]
    const folded = typeof name === 'string' ? foldName(name) : ''
    if (folded !== '') {
      sortName = folded
      break
    }
  }
  return {
    words: [...words].join(' '),
    keys: keys.size === 0 ? '' : ` ${[...keys].join(' ')} `,
    sortName,
  }
}

/** A name as it sorts and as a query's name prefix is compared: its tokens, space-separated. */
const foldName = (name: string): string => tokensOf(name.slice(0, 200)).join(' ').slice(0, 100)

/** A search text read into what each index needs. */
export interface ParsedSearchText {
  /**
   * Distinct tokens, at most {@link MAX_QUERY_TOKENS}: each must be a word of a match, except
   * the last, which must begin one (the word being typed). Whole words keep a query on common
   * words (`example`, `org`) an index seek instead of a merge of every word they begin.
   */
  readonly tokens: readonly string[]
  /** The tokens run together: a match with this whole-value key ranks first. */
  readonly key: string
  /** The tokens space-separated, as names sort: a display name starting with it ranks second. */
  readonly namePrefix: string
}

/**
 * Reads a search text. No tokens (only punctuation) means nothing can match.
 *
 * @example
 * parseSearchText('"Ann" NEAR(lee*)') // { tokens: ['ann', 'near', 'lee'], key: 'annnearlee', ... }
 * // matches contacts with the words "ann" and "near" and a word beginning with "lee"
 */
export function parseSearchText(text: string): ParsedSearchText {
  const all = tokensOf(text)
  const last = all.at(-1)
  const whole = [...new Set(all.slice(0, -1))].filter((t) => t !== last)
  return {
    tokens: last === undefined ? [] : [...whole.slice(0, MAX_QUERY_TOKENS - 1), last],
    key: all.join(''),
    namePrefix: foldName(text),
  }
}

/**
 * Relevance tier of a match: 2 when a whole value equals the query (an email, a phone, a
 * handle, a full name), 1 when the display name starts with it, else 0. A tier depends on the
 * contact and the query only, never on other contacts, so pages stay stable while others change.
 *
 * @example
 * relevanceTier(contactSearchFields(row), parseSearchText('ann@example.org')) // 2
 */
export function relevanceTier(fields: ContactSearchFields, query: ParsedSearchText): number {
  if (query.key !== '' && query.key.length <= MAX_KEY && fields.keys.includes(` ${query.key} `)) {
    return 2
  }
  if (query.namePrefix !== '' && fields.sortName?.startsWith(query.namePrefix) === true) return 1
  return 0
}

/** True when every query token but the last is one of the words and the last begins one. */
export function matchesTokens(words: string, tokens: readonly string[]): boolean {
  const list = words === '' ? [] : words.split(' ')
  return tokens.every((t, i) =>
    i === tokens.length - 1 ? list.some((w) => w.startsWith(t)) : list.includes(t),
  )
}
