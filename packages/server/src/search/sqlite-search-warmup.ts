import type Database from 'better-sqlite3'

/**
 * Reading ahead the parts of a SQLite file that contact searches read most: the full-text
 * index's blocks of the words (a short prefix reads a large part of them), the name index and
 * the search rows' key index; not the whole-value keys' index (an exact match reads a page or
 * two of it), so that a page cache of 256 MB holds the rest for a million contacts. After a
 * restart the operating system's page cache may not hold them, and the first searches would
 * read them from the disk a page at a time. Read in order they cost about 250 MB of sequential
 * reads for a million contacts, once; a slice at a time, so that a caller may spread them.
 */

/** One part of the file read ahead: reads the slice after `after`, returns where it ended. */
interface Part<K> {
  readonly start: K
  /** Rows or entries of one slice (a slice of each part is about the same bytes). */
  readonly slice: number
  read(after: K, slice: number): K | null
}

/** A full-text index's blocks (about 4 kB each), in id order. */
function blocks(db: Database.Database, table: string, slice: number): Part<number> {
  // The last byte of each block: length() alone would not read a block that overflows its page.
  const read = db.prepare<[number, number], { last: number | null }>(
    `SELECT max(id) AS last, count(substr(block, -1)) AS n
     FROM (SELECT id, block FROM ${table} WHERE id > ? ORDER BY id LIMIT ?)`,
  )
  return { start: -Infinity, slice, read: (after, n) => read.get(after, n)!.last }
}

/** An index whose keys are (workspace, key), `slice` entries at a time in its order. */
function indexEntries(
  db: Database.Database,
  table: string,
  index: string,
  key: string,
  slice: number,
): Part<readonly [string, string, string]> {
  // The entry `slice` places on, reached by reading every entry before it. Entries without a
  // key (contacts without a name) are not read: their place in the order cannot be resumed
  // from, and no search by name reads them.
  const read = db.prepare<[string, string, string, number], { w: string; k: string; i: string }>(
    `SELECT workspace AS w, ${key} AS k, id AS i FROM ${table} INDEXED BY ${index}
     WHERE (workspace, ${key}, id) > (?, ?, ?) AND ${key} IS NOT NULL
     ORDER BY workspace, ${key}, id LIMIT 1 OFFSET ?`,
  )
  return {
    start: ['', '', ''],
    slice,
    read: (after, n) => {
      const row = read.get(after[0], after[1], after[2], n)
      return row === undefined ? null : [row.w, row.k, row.i]
    },
  }
}

/**
 * A read-ahead of the search indexes of a connection, one slice per call of the function it
 * returns, which answers false once everything was read (a file without the tables, one from
 * before search existed, has nothing to read).
 *
 * @example
 * const step = sqliteSearchWarmup(db)
 * const tick = () => { if (step()) setImmediate(tick) }
 * tick()
 */
export function sqliteSearchWarmup(db: Database.Database, slice = 500): () => boolean {
  const stepper = <K>(part: Part<K>): (() => boolean) => {
    let at: K | null = part.start
    return () => {
      if (at !== null) at = part.read(at, part.slice)
      return at !== null
    }
  }
  let parts: (() => boolean)[]
  try {
    // Index entries are about a fortieth of a block: as many more make a slice.
    parts = [
      stepper(blocks(db, 'contact_search_data', slice)),
      stepper(indexEntries(db, 'contacts', 'contacts_name', 'sort_name', slice * 40)),
      // The words of each contact a walk looks up by its id.
      stepper(
        indexEntries(
          db,
          'contact_search_rows',
          'sqlite_autoindex_contact_search_rows_1',
          'id',
          slice * 40,
        ),
      ),
    ]
  } catch {
    // Statements that do not prepare: a file without search (tests of old migrations).
    parts = []
  }
  return () => {
    while (parts.length > 0) {
      if (parts[0]!()) return true
      parts.shift()
    }
    return false
  }
}

/**
 * Reads the search indexes of a connection ahead, all of them now (the SQLite backend does at
 * open); the number of slices read.
 *
 * @example
 * warmSqliteSearch(db) // before the first search
 */
export function warmSqliteSearch(db: Database.Database): number {
  const step = sqliteSearchWarmup(db)
  let slices = 0
  while (step()) slices += 1
  return slices
}
