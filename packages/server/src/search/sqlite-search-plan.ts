import type Database from 'better-sqlite3'
import type { ContactIndexRow, Page } from '../storage/index-store'
import { matchesNothing, rankByRelevance } from './contact-search-query'
import type { CheckedSearch, SearchCursor } from './contact-search-query'
import { MAX_KEY } from './search-text'
import { filterSql, searchPage } from './sql-search'
import type { SearchSqlRow } from './sql-search'
import {
  channelMarker,
  nameMarker,
  NO_NAME_MARKER,
  rangeMarkerQuery,
  sqliteSearchDialect,
  valueMarker,
  vipMarker,
} from './sqlite-search'

/**
 * How a search runs on SQLite without reading every match of a broad text or filter.
 *
 * Results come in segments, each in one order with a fixed relevance tier: with a text ranked
 * by relevance, the exact matches (tier 2), then the names starting with the text (tier 1),
 * then the other matches (tier 0), each newest first; sorted by name, the named contacts A to
 * Z (those starting with the text and the others found apart and merged), then the unnamed
 * ones by id; otherwise one segment. The full-text index holds each contact's words and marker
 * words of its filters and display name (see sqlite-search), so a segment's text, filters and
 * tier are one full-text query, counted up to `FEW` in the index alone. Then:
 *
 * - **Few matches**: they are read from the search rows (filters and sort keys beside the
 *   words), checked and sorted, a cost bounded by `FEW`. The names starting with the text
 *   (tier 1) are one range of the name index, counted and read there when few.
 * - **Many**: walking the order's index and checking each contact (filters, tier, words split
 *   at spaces as the index splits them) finds a page after a few hundred rows and stops.
 *   A channel and VIP flag with fewer than `PARTITION` contacts are walked or read by their
 *   own index. A walk that finds too few within `WALK_BUDGET` rows (matches many overall but
 *   rare in this stretch of the order) gives up and the segment reads every match. By name,
 *   where matches gather, the walk is short; up to `READ_BY_NAME` matches are read, more are
 *   looked for a first word of the names at a time (`byFirstWord`), and under a first word
 *   alike: its matches read when fewer, its walk or next words otherwise. Each look asks the
 *   index about the text again, which costs about as much as reading a few thousand matches
 *   when the text is a short prefix of many words.
 *
 * Every way returns the same rows in the same order: each applies the segment's conditions,
 * order and cursor to the rows themselves; the index only chooses which rows are looked at.
 * A filter's markers may let through rows its condition then rejects (a digest that collides,
 * a decimal within a range's integer part), never hide one; a name's markers, and the marker
 * of having none, say exactly what the name does.
 */

/** Candidates counted at most: fewer, and a segment reads and sorts them all. */
const FEW = 3_000
/** Rows of an order's index a segment walks before it reads its matches instead. */
const WALK_BUDGET = 6_000
/**
 * Contacts of a channel and VIP flag counted at most: fewer, and a list filtered by them reads
 * them all (by their own index) rather than walk an order that may pass them late.
 */
const PARTITION = 12_000

/**
 * Matches of a search by name (or of its names under a first word) read and sorted rather than
 * looked for a word of the names at a time. Not more: the matches of a short prefix gather
 * under some names (a word that goes with a first name or a city), and reading twenty thousand
 * of them to keep twenty cost more than the looks that find those names.
 */
const READ_BY_NAME = 3_000
/** First words of the names looked at before a search by name reads all its matches. */
const MAX_FIRST_WORDS = 400

/** The thresholds of the plan (tests set them to take every path on few contacts). */
export interface SqliteSearchTuning {
  /** Default `FEW` (3,000). */
  readonly few?: number
  /** Default `WALK_BUDGET` (6,000). */
  readonly walkBudget?: number
  /** Default `PARTITION` (12,000). */
  readonly partition?: number
  /** Default `MAX_FIRST_WORDS` (400). */
  readonly firstWords?: number
  /** Default `READ_BY_NAME` (3,000). */
  readonly readByName?: number
}

/** The order of a segment: newest created or updated first, named by name, unnamed by id. */
type Order = 'created' | 'updated' | 'named' | 'unnamed'

interface Segment {
  readonly tier: number
  readonly order: Order
  /** The segment's tier condition on a table alias holding search_keys and sort_name. */
  readonly tierSql: ((alias: string) => string) | null
  /** Continue after this position (the cursor's segment only). */
  readonly after: SearchCursor | null
  /** Only display names in this range (from, inclusive, to, exclusive) of the name index. */
  readonly nameRange?: readonly [string, string]
  /** No display name starting with the text (the full-text query leaves those out). */
  readonly notNamed?: boolean
  /** Only display names starting with the text (the full-text query asks for those). */
  readonly onlyNamed?: boolean
}

/** Parameters bound by name as they are added. */
class Params {
  readonly values: Record<string, unknown> = {}
  private n = 0
  add(value: unknown): string {
    this.n += 1
    this.values[`p${this.n}`] = value
    return `@p${this.n}`
  }
}

const ORDER_BY: Record<Order, (a: string) => string> = {
  created: (a) => `${a}.created_at DESC, ${a}.id DESC`,
  updated: (a) => `${a}.updated_at DESC, ${a}.id DESC`,
  named: (a) => `${a}.sort_name ASC, ${a}.id ASC`,
  unnamed: (a) => `${a}.id ASC`,
}

/** The index that walks each order. */
const WALK_INDEX: Record<Order, string> = {
  created: 'contacts_newest',
  updated: 'contacts_updated',
  named: 'contacts_name',
  unnamed: 'contacts_name',
}

/** The keyset condition of a position and what bounds a segment to its rows. */
function orderSql(order: Order, a: string, after: SearchCursor | null, p: Params): string[] {
  const where: string[] = []
  if (order === 'named') where.push(`${a}.sort_name IS NOT NULL`)
  if (order === 'unnamed') where.push(`${a}.sort_name IS NULL`)
  if (after === null) return where
  switch (order) {
    case 'created':
    case 'updated': {
      const column = `${a}.${order}_at`
      const k = p.add(after.k)
      where.push(`(${column} < ${k} OR (${column} = ${k} AND ${a}.id < ${p.add(after.i)}))`)
      break
    }
    case 'named': {
      const k = p.add(after.k)
      where.push(
        `(${a}.sort_name > ${k} OR (${a}.sort_name = ${k} AND ${a}.id > ${p.add(after.i)}))`,
      )
      break
    }
    case 'unnamed':
      where.push(`${a}.id > ${p.add(after.i)}`)
  }
  return where
}

/** The segments of a search, from the cursor's on. */
function segmentsOf(search: CheckedSearch): Segment[] {
  const after = search.after
  if (search.sort === 'name') {
    const named: Segment = { tier: 0, order: 'named', tierSql: null, after }
    const unnamed: Segment = { tier: 0, order: 'unnamed', tierSql: null, after: null }
    if (after === null) return [named, unnamed]
    return after.k === null ? [{ ...unnamed, after }] : [named, unnamed]
  }
  const order = search.sort === 'updated' ? 'updated' : 'created'
  const text = search.text
  if (!rankByRelevance(search) || text === null) return [{ tier: 0, order, tierSql: null, after }]
  // The tiers as relevanceTier computes them (see search-text): each condition excludes the
  // higher tiers, so every match falls in exactly one segment.
  const exact = text.key !== '' && text.key.length <= MAX_KEY ? ` ${text.key} ` : null
  const prefix = text.namePrefix !== '' ? text.namePrefix : null
  const isExact = (a: string): string =>
    `coalesce(instr(${a}.search_keys, '${quote(exact!)}') > 0, 0)`
  const isNamed = (a: string): string =>
    `coalesce(substr(${a}.sort_name, 1, ${[...prefix!].length}) = '${quote(prefix!)}', 0)`
  const all: Segment[] = []
  if (exact !== null) all.push({ tier: 2, order, tierSql: isExact, after: null })
  if (prefix !== null) {
    all.push({
      tier: 1,
      order,
      tierSql: (a) => (exact === null ? isNamed(a) : `NOT ${isExact(a)} AND ${isNamed(a)}`),
      after: null,
      onlyNamed: true,
    })
  }
  const rest = (a: string): string => {
    const not = [...(exact === null ? [] : [isExact(a)]), ...(prefix === null ? [] : [isNamed(a)])]
    return not.map((c) => `NOT ${c}`).join(' AND ')
  }
  all.push({
    tier: 0,
    order,
    tierSql: exact !== null || prefix !== null ? rest : null,
    after: null,
    notNamed: prefix !== null,
  })
  if (after === null) return all
  return all.filter((s) => s.tier <= after.r).map((s) => (s.tier === after.r ? { ...s, after } : s))
}

/**
 * A text as an SQL literal. The texts quoted are folded tokens (letters, digits and spaces),
 * inlined so a segment's tier condition can be written once per table alias.
 */
const quote = (text: string): string => text.replaceAll("'", "''")

/** A contact search of a SQLite store, with its statements prepared once. */
export type SqliteSearch = (workspace: string, search: CheckedSearch) => Page<ContactIndexRow>

/**
 * The contact search of a SQLite connection (its search functions registered).
 *
 * @example
 * const search = createSqliteSearch(db)
 * const page = search('demo', checkSearch({ text: 'ann', limit: 20 }))
 */
export function createSqliteSearch(
  db: Database.Database,
  tuning: SqliteSearchTuning = {},
): SqliteSearch {
  const few = tuning.few ?? FEW
  const walkBudget = tuning.walkBudget ?? WALK_BUDGET
  const partitionCap = tuning.partition ?? PARTITION
  const maxFirstWords = tuning.firstWords ?? MAX_FIRST_WORDS
  const readByName = tuning.readByName ?? READ_BY_NAME
  const counts = {
    words: db.prepare<[string, number], { n: number }>(
      `SELECT count(*) AS n FROM (SELECT 1 FROM contact_search WHERE contact_search MATCH ? LIMIT ?)`,
    ),
    keys: db.prepare<[string, number], { n: number }>(
      `SELECT count(*) AS n FROM (SELECT 1 FROM contact_search_keys
         WHERE contact_search_keys MATCH ? LIMIT ?)`,
    ),
  }
  /** The index holding the contacts of a channel, of a VIP flag, or of both. */
  const partitions = {
    both: 'contacts_channel_vip',
    vip: 'contacts_vip',
    channel: 'contacts_identity',
  }
  /** Display names in a range, counted up to a cap. */
  const namesIn = db.prepare<[string, string, string, number], { n: number }>(
    `SELECT count(*) AS n FROM (SELECT 1 FROM contacts INDEXED BY contacts_name
       WHERE workspace = ? AND sort_name >= ? AND sort_name < ? LIMIT ?)`,
  )
  /** The first display name at or after a text: the next first word of the name order. */
  const nameFrom = db.prepare<[string, string], { n: string | null }>(
    `SELECT min(sort_name) AS n FROM contacts INDEXED BY contacts_name
     WHERE workspace = ? AND sort_name >= ?`,
  )
  const rowsById = db.prepare<[string, string], SearchSqlRow>(
    `SELECT c.workspace, c.id, c.channel, c.platform_user_id, c.hint, c.vip, c.match_value,
       c.values_json, c.created_at, c.updated_at, c.sort_name, 0 AS tier
     FROM contacts c WHERE c.workspace = ? AND c.id IN (SELECT value FROM json_each(?))`,
  )

  return (workspace, search) => {
    if (matchesNothing(search)) return { items: [], next: null }
    const text = search.text
    const vip = search.vip === undefined ? undefined : search.vip ? 1 : 0
    const channel = search.channel
    // The full-text query of the text and of the filters' markers (see sqlite-search), and of
    // the display names starting with the text, which some segments leave out.
    const phrase = (w: string, prefix: boolean): string =>
      `"${w.replaceAll('"', '""')}"${prefix ? '*' : ''}`
    const matchAll = [
      ...(text === null ? [] : [sqliteSearchDialect.matchQuery(text.tokens)]),
      ...(channel === undefined ? [] : [phrase(channelMarker(channel), false)]),
      ...(vip === undefined ? [] : [phrase(vipMarker(vip === 1), false)]),
      ...search.attributes.flatMap((f) => {
        if (f.op === 'eq') return [phrase(valueMarker(f.attributeId, f.value), false)]
        if (f.op !== 'range' || !f.numeric || f.min === undefined) return []
        const range = rangeMarkerQuery(f.attributeId, f.min, f.max)
        return range === null ? [] : [range]
      }),
    ]
      .map((part) => `(${part})`)
      .join(' AND ')
    const named =
      text === null || text.namePrefix === ''
        ? null
        : text.namePrefix
            .split(' ')
            .map((w, i, all) => phrase(nameMarker(i, w), i === all.length - 1))
            .join(' ')
    const ftsQueryOf = (seg: Segment): string | null => {
      if (matchAll === '') return null
      let query = `(${matchAll})`
      if (seg.onlyNamed === true && named !== null) query = `${query} AND (${named})`
      if (seg.order === 'named') query = `(${query}) NOT ${phrase(NO_NAME_MARKER, false)}`
      if (seg.order === 'unnamed') query = `${query} AND ${phrase(NO_NAME_MARKER, false)}`
      if (seg.notNamed === true && named !== null) query = `(${query}) NOT (${named})`
      return query
    }
    /** The counts this search made, by query: the number, and the cap it was counted to. */
    const ftsCounts = new Map<string, { n: number; cap: number }>()
    /** The matches of a full-text query, counted up to `cap` (a count reads their doclists). */
    const countUpTo = (query: string, cap: number): number => {
      const known = ftsCounts.get(query)
      if (known !== undefined && (known.n < known.cap || known.cap >= cap)) {
        return Math.min(known.n, cap)
      }
      const n = counts.words.get(query, cap)!.n
      ftsCounts.set(query, { n, cap })
      return n
    }
    const fewMatches = (query: string): boolean => countUpTo(query, few) < few

    /**
     * Whether a contact's words (space-separated) match the text as the full-text index does:
     * every token but the last is one of them and the last begins one. In SQL rather than a
     * JavaScript function: a walk checks thousands of rows, and the call into JavaScript cost
     * more than the rest of a row's check. Markers never match: they start with a middle dot,
     * which no token holds.
     */
    const wordsSql = (words: string, p: Params): string =>
      text!.tokens
        .map((t, i, all) =>
          i === all.length - 1
            ? `instr(' ' || ${words}, ${p.add(` ${t}`)}) > 0`
            : `instr(' ' || ${words} || ' ', ${p.add(` ${t} `)}) > 0`,
        )
        .join(' AND ')

    /** The filters, the tier and the words of a segment on a table alias. */
    const conditions = (
      seg: Segment,
      a: string,
      p: Params,
      opts: { words: 'row' | 'contact' | null; filters: boolean },
    ): string[] => {
      const where: string[] = []
      if (opts.filters) {
        if (search.channel !== undefined) where.push(`${a}.channel = ${p.add(search.channel)}`)
        if (search.vip !== undefined) where.push(`${a}.vip = ${p.add(search.vip ? 1 : 0)}`)
      }
      if (seg.tierSql !== null) where.push(seg.tierSql(a))
      for (const f of search.attributes) {
        where.push(filterSql(f, sqliteSearchDialect, (v) => p.add(v)))
      }
      if (opts.words === 'row' && text !== null) where.push(wordsSql(`${a}.words`, p))
      if (opts.words === 'contact' && text !== null) {
        // One look at the contact's search row for every token.
        where.push(`coalesce((SELECT ${wordsSql('w.words', p)} FROM contact_search_rows w
          WHERE w.workspace = ${a}.workspace AND w.id = ${a}.id), 0)`)
      }
      return where
    }

    /** The index of the channel and VIP filters, and whether it holds few contacts. */
    let partition: { index: string; few: boolean } | null | undefined
    const partitionOf = (): { index: string; few: boolean } | null => {
      if (partition !== undefined) return partition
      if (channel === undefined && vip === undefined) return (partition = null)
      const index =
        vip === undefined
          ? partitions.channel
          : channel === undefined
            ? partitions.vip
            : partitions.both
      // Counted by their markers: the full-text index reads a doclist, not index pages.
      const marks = [
        ...(channel === undefined ? [] : [phrase(channelMarker(channel), false)]),
        ...(vip === undefined ? [] : [phrase(vipMarker(vip === 1), false)]),
      ].join(' AND ')
      const n = counts.words.get(marks, partitionCap)!.n
      return (partition = { index, few: n < partitionCap })
    }

    /** Reads every candidate of a driver that passes, sorted, and keeps the first `need`. */
    const read = (
      seg: Segment,
      driver: 'words' | 'keys' | 'partition' | 'names' | 'plain',
      need: number,
      fts: string | null = null,
    ): string[] => {
      const p = new Params()
      const join = 'JOIN contacts c ON c.workspace = s.workspace AND c.id = s.id'
      const needsContact = search.attributes.length > 0
      let from: string
      let where: string[]
      let a: string
      switch (driver) {
        case 'words':
        case 'keys': {
          const table = driver === 'words' ? 'contact_search' : 'contact_search_keys'
          const match = driver === 'words' ? fts! : `"${text!.key}"`
          from = `${table} f JOIN contact_search_rows s ON s.rowid = f.rowid ${needsContact ? join : ''}`
          a = 's'
          where = [
            `f.${table} MATCH ${p.add(match)}`,
            `s.workspace = ${p.add(workspace)}`,
            ...conditions(seg, 's', p, {
              words: driver === 'keys' ? 'row' : null,
              filters: true,
            }),
          ]
          break
        }
        case 'partition':
        case 'names':
        case 'plain':
          from =
            driver === 'partition'
              ? `contacts c INDEXED BY ${partitionOf()!.index}`
              : driver === 'names'
                ? 'contacts c INDEXED BY contacts_name'
                : 'contacts c'
          a = 'c'
          where = [
            `c.workspace = ${p.add(workspace)}`,
            ...conditions(seg, 'c', p, { words: 'contact', filters: true }),
          ]
      }
      if (seg.nameRange !== undefined) {
        where.push(`${a}.sort_name >= ${p.add(seg.nameRange[0])}`)
        where.push(`${a}.sort_name < ${p.add(seg.nameRange[1])}`)
      }
      where.push(...orderSql(seg.order, a, seg.after, p))
      const sql = `SELECT ${a}.id AS id FROM ${from} WHERE ${where.join(' AND ')}
        ORDER BY ${ORDER_BY[seg.order](a)} LIMIT ${p.add(need)}`
      return db
        .prepare<[Record<string, unknown>], { id: string }>(sql)
        .all(p.values)
        .map((r) => r.id)
    }

    /**
     * Walks the segment's order along an index, checking each contact; null when the budget
     * ran out before the page was full.
     */
    const walk = (seg: Segment, need: number, budget: number): string[] | null => {
      const p = new Params()
      const where = [`c.workspace = ${p.add(workspace)}`]
      let index: string
      let filters = true
      if (seg.order === 'created' && search.vip !== undefined) {
        // The VIPs (of a channel) have an index of their own in this order: the walk reads
        // only contacts that pass those filters.
        index = search.channel !== undefined ? 'contacts_channel_vip' : 'contacts_vip'
        if (search.channel !== undefined) where.push(`c.channel = ${p.add(search.channel)}`)
        where.push(`c.vip = ${p.add(search.vip ? 1 : 0)}`)
        filters = false
      } else {
        index = WALK_INDEX[seg.order]
      }
      if (seg.nameRange !== undefined) {
        where.push(`c.sort_name >= ${p.add(seg.nameRange[0])}`)
        where.push(`c.sort_name < ${p.add(seg.nameRange[1])}`)
      }
      where.push(...orderSql(seg.order, 'c', seg.after, p))
      const check = conditions(seg, 'c', p, { words: 'contact', filters })
      const sql = `SELECT c.id AS id, ${check.length === 0 ? '1' : `(${check.join(' AND ')})`} AS ok
        FROM contacts c INDEXED BY ${index} WHERE ${where.join(' AND ')}
        ORDER BY ${ORDER_BY[seg.order]('c')}`
      const found: string[] = []
      let seen = 0
      for (const row of db
        .prepare<[Record<string, unknown>], { id: string; ok: number }>(sql)
        .iterate(p.values)) {
        if (row.ok) {
          found.push(row.id)
          if (found.length >= need) return found
        }
        seen += 1
        if (seen >= budget) return null
      }
      return found
    }

    /**
     * By name, the matches of a full-text query a first word of the names at a time: the
     * index says at once whether the names starting with a word have any (filters that pass
     * few names of a long stretch of the order cost one look each, not a walk through it),
     * and those that have are walked, or looked at a next word at a time in turn. Null past
     * `MAX_FIRST_WORDS` looks.
     */
    const byFirstWord = (seg: Segment, need: number, fts: string): string[] | null => {
      let looks = 0
      // The names this segment leaves out (those starting with the text, a tier of their own).
      const excluded =
        seg.notNamed === true && text !== null && text.namePrefix !== '' ? text.namePrefix : null
      const start =
        seg.after === null || typeof seg.after.k !== 'string' ? [] : seg.after.k.split(' ')
      // The names of `words` and after (the words of the names, then each next word).
      const under = (words: readonly string[], left: number): string[] | null => {
        const found: string[] = []
        const head = words.join(' ')
        const marks = words.map((w, i) => phrase(nameMarker(i, w), false))
        const query = (more: readonly string[]): string =>
          [`(${fts})`, ...marks, ...more].join(' AND ')
        if (words.length > 0 && nameFrom.get(workspace, head)!.n === head) {
          // The name that is these words alone sorts first (nothing sorts between it and
          // it followed by a space); the name index says at once whether there is one.
          const alone: Segment = { ...seg, nameRange: [head, `${head} `] }
          found.push(...read(alone, 'words', left, query([])))
          if (found.length >= left) return found
        }
        const depth = words.length
        // From the cursor's name when these words lead to it (earlier names come before it).
        const onPath = words.every((w, i) => start[i] === w)
        const resume = onPath ? (start[depth] ?? '') : ''
        let from = depth === 0 ? resume : `${head} ${resume}`
        for (;;) {
          const next = nameFrom.get(workspace, from)!.n
          if (next === null || (depth > 0 && !next.startsWith(`${head} `))) return found
          const word = next.split(' ')[depth]!
          const child = [...words, word]
          const name = child.join(' ')
          // No name holds a "!": every name starting with these words sorts before it.
          const end = `${name}!`
          if (excluded !== null && name.startsWith(excluded)) {
            // Every name under these words starts with the text: none is this segment's, and
            // the next that may be sorts after all the names starting with it.
            from = `${excluded}\u{10FFFF}`
            continue
          }
          looks += 1
          if (looks > maxFirstWords) return null
          const sub = query([phrase(nameMarker(depth, word), false)])
          // Counted (to 1 at least: whether there is any decides whether these names are
          // looked at), at about the cost of telling whether there is any: the index reads the
          // doclists either way when the matches lie late in them or are none.
          const n = countUpTo(sub, Math.max(1, readByName))
          if (n > 0) {
            const rest = left - found.length
            const bucket: Segment = { ...seg, nameRange: [name, end] }
            // Up to `READ_BY_NAME` matches under these words are read and sorted at once: a
            // walk may pass many names before them, and each look at a next word costs about
            // as much as reading a few thousand matches (the text's doclist is read again).
            const got =
              (n < readByName ? read(bucket, 'words', rest, sub) : null) ??
              walk(bucket, rest, Math.ceil(walkBudget / 20)) ??
              (depth < 3 ? under(child, rest) : null) ??
              read(bucket, 'words', rest, sub)
            found.push(...got)
            if (found.length >= left) return found
          }
          from = end
        }
      }
      return under([], need)
    }

    const runSegment = (seg: Segment, need: number): string[] => {
      if (seg.tier === 2) {
        if (counts.keys.get(`"${text!.key}"`, few)!.n < few) return read(seg, 'keys', need)
        return walk(seg, need, walkBudget) ?? read(seg, 'keys', need)
      }
      if (seg.onlyNamed === true && seg.order !== 'named' && text !== null) {
        // The names starting with the text are one range of the name index: when it holds few,
        // they are read from it (their words checked on the rows), without asking the
        // full-text index about the text at all, which costs more for a word just begun.
        const range: [string, string] = [text.namePrefix, `${text.namePrefix}\u{10FFFF}`]
        if (namesIn.get(workspace, range[0], range[1], few)!.n < few) {
          return read({ ...seg, nameRange: range }, 'names', need)
        }
      }
      const fts = ftsQueryOf(seg)
      if (fts !== null && fewMatches(fts)) {
        // None: the index's matches hold every row of the segment (markers never hide one).
        return countUpTo(fts, few) === 0 ? [] : read(seg, 'words', need, fts)
      }
      const part = partitionOf()
      if (part?.few === true) {
        // Newest first, the VIPs (of a channel) are an index range in order: walk it all if
        // need be. In another order, a short walk, then read them and sort.
        if (seg.order === 'created' && vip !== undefined) return walk(seg, need, Infinity)!
        return walk(seg, need, Math.ceil(walkBudget / 6)) ?? read(seg, 'partition', need)
      }
      if (seg.order === 'named' && fts !== null) {
        // Matches by name often gather (a filter that goes with some names), so the walk is
        // short before the first words are looked at one by one.
        const walked = walk(seg, need, Math.ceil(walkBudget / 12))
        if (walked !== null) return walked
        // Up to `READ_BY_NAME` matches, reading and sorting them all costs less than looking.
        if (countUpTo(fts, readByName) < readByName) return read(seg, 'words', need, fts)
        // Within a first word the names exist, and whether they start with the text the
        // segment's own condition checks: the index is asked about the text and filters only.
        const found = byFirstWord(seg, need, matchAll)
        if (found !== null) return found
        return read(seg, 'words', need, fts)
      }
      const walked = walk(seg, need, walkBudget)
      if (walked !== null) return walked
      // Matches are few among many contacts: reading them all costs less than walking on.
      if (fts !== null) return read(seg, 'words', need, fts)
      return read(seg, part === null ? 'plain' : 'partition', need)
    }

    const rowsOf = (ids: readonly string[]): Map<string, SearchSqlRow> =>
      new Map(rowsById.all(workspace, JSON.stringify(ids)).map((r) => [r.id, r]))

    /**
     * Named contacts matching a text, by name: those whose name starts with the text are one
     * range of the name index, the others are spread over it. Each part is found on its own
     * (the first lies late in the order when the text begins a late name, which a walk from
     * the start would pass thousands of contacts to reach), then they are merged by name.
     */
    const byName = (seg: Segment, prefix: string, need: number): string[] => {
      const starts = (a: string): string =>
        `coalesce(substr(${a}.sort_name, 1, ${[...prefix].length}) = '${quote(prefix)}', 0)`
      const first = runSegment(
        { ...seg, tierSql: starts, nameRange: [prefix, `${prefix}\u{10FFFF}`], onlyNamed: true },
        need,
      )
      const rest = runSegment({ ...seg, tierSql: (a) => `NOT ${starts(a)}`, notNamed: true }, need)
      const byId = rowsOf([...first, ...rest])
      const key = (id: string): [Buffer, Buffer] => [
        Buffer.from(byId.get(id)?.sort_name ?? '', 'utf8'),
        Buffer.from(id, 'utf8'),
      ]
      return [...first, ...rest]
        .map((id) => ({ id, k: key(id) }))
        .sort((x, y) => Buffer.compare(x.k[0], y.k[0]) || Buffer.compare(x.k[1], y.k[1]))
        .slice(0, need)
        .map((x) => x.id)
    }

    const need = search.limit + 1
    const found: { id: string; tier: number }[] = []
    for (const seg of segmentsOf(search)) {
      const ids =
        seg.order === 'named' && text !== null && text.namePrefix !== ''
          ? byName(seg, text.namePrefix, need - found.length)
          : runSegment(seg, need - found.length)
      for (const id of ids) found.push({ id, tier: seg.tier })
      if (found.length >= need) break
    }
    const byId = rowsOf(found.map((f) => f.id))
    const rows = found.flatMap((f) => {
      const row = byId.get(f.id)
      return row === undefined ? [] : [{ ...row, tier: f.tier }]
    })
    return searchPage(search, rows)
  }
}
