import pg from 'pg'
import type { PoolClient, QueryResultRow } from 'pg'
import { CardfileError, ErrorCodes } from '@cardfile/core'

/** Queries on one connection or one transaction. */
export interface PgSession {
  /** The rows a statement returns. */
  rows<T>(text: string, params?: readonly unknown[]): Promise<T[]>
  /** The first row a statement returns, or undefined. */
  one<T>(text: string, params?: readonly unknown[]): Promise<T | undefined>
  /** Runs a statement; resolves how many rows it changed. */
  run(text: string, params?: readonly unknown[]): Promise<number>
}

/** A pool of connections to one database and schema, as every PostgreSQL store uses it. */
export interface PgDatabase extends PgSession {
  /**
   * Runs `work` in one transaction on one connection: committed if it resolves, rolled back
   * if it throws. Serialization failures and deadlocks are retried a few times (the work must
   * be safe to run again, which it is when all its effects go through `tx`).
   */
  transaction<T>(
    work: (tx: PgSession) => Promise<T>,
    options?: { readonly isolation?: 'read committed' | 'repeatable read' | 'serializable' },
  ): Promise<T>
  /** A connection of its own (a long read, a session lock); release it when done. */
  connect(): Promise<PoolClient>
  /** Closes every connection. */
  close(): Promise<void>
}

/** How to reach the database. */
export interface PgConnectionOptions {
  /** `postgres://user:password@host:port/database`. */
  readonly url: string
  /**
   * The schema holding Cardfile's tables (created if missing). Default `public`. Several
   * Cardfile deployments (or test runs) can share one database in separate schemas.
   */
  readonly schema?: string
  /** Most connections in the pool. Default 10. */
  readonly maxConnections?: number
  /** A statement running longer than this is cancelled by the server, in ms. Default 15000. */
  readonly statementTimeoutMs?: number
  /** How long to wait for a connection (new or from the pool), in ms. Default 5000. */
  readonly connectTimeoutMs?: number
  /** Where connection errors that reach no caller are reported. */
  readonly onError?: (error: Error) => void
}

const RETRYABLE = new Set(['40001', '40P01'])

// BIGINT columns hold epoch milliseconds and sequence numbers, all far below 2^53: read them as
// numbers. Set on the pool, not globally, so the application's own use of `pg` is unaffected.
const types = {
  getTypeParser(oid: number, format?: 'text' | 'binary') {
    if (oid === pg.types.builtins.INT8 && format !== 'binary') return (v: string) => Number(v)
    return pg.types.getTypeParser(oid, format)
  },
}

/** Quotes an identifier (a schema name) for SQL text. */
export const quoteIdent = (name: string): string => `"${name.replaceAll('"', '""')}"`

const sessionOf = (client: pg.Pool | PoolClient): PgSession => ({
  async rows<T>(text: string, params?: readonly unknown[]) {
    const r = await client.query<QueryResultRow>(text, params as unknown[] | undefined)
    return r.rows as T[]
  },
  async one<T>(text: string, params?: readonly unknown[]) {
    const r = await client.query<QueryResultRow>(text, params as unknown[] | undefined)
    return r.rows[0] as T | undefined
  },
  async run(text: string, params?: readonly unknown[]) {
    const r = await client.query(text, params as unknown[] | undefined)
    return r.rowCount ?? 0
  },
})

/**
 * Opens a pool to the database and makes sure the schema exists. Connection failures reject
 * with a `CardfileError` (code `unavailable`) that names neither the host nor the password.
 */
export async function openPgDatabase(options: PgConnectionOptions): Promise<PgDatabase> {
  const schema = options.schema ?? 'public'
  const pool = new pg.Pool({
    connectionString: options.url,
    max: options.maxConnections ?? 10,
    connectionTimeoutMillis: options.connectTimeoutMs ?? 5000,
    statement_timeout: options.statementTimeoutMs ?? 15000,
    // Lets a query that the server never answers (a network partition) fail too.
    query_timeout: (options.statementTimeoutMs ?? 15000) + 5000,
    options: `-c search_path=${quoteIdent(schema)}`,
    types,
    application_name: 'cardfile',
  })
  // An idle connection that breaks (the server restarted) emits here; unhandled, it would
  // crash the process. The pool drops that client and opens a new one when next needed.
  pool.on('error', (error) => options.onError?.(error))

  // A checked-out connection that breaks between two statements (the server restarted) emits
  // `error` on itself, and the pool listens only to idle ones: unhandled, that would crash the
  // process. Every connection gets a listener of its own once; the statement that next uses it
  // fails and the caller gets `unavailable`.
  const guarded = new WeakSet<PoolClient>()
  const checkout = async (): Promise<PoolClient> => {
    const client = await wrap(pool.connect())
    if (!guarded.has(client)) {
      guarded.add(client)
      client.on('error', (error) => options.onError?.(error))
    }
    return client
  }

  const base = sessionOf(pool)
  const db: PgDatabase = {
    rows: (text, params) => wrap(base.rows(text, params)),
    one: (text, params) => wrap(base.one(text, params)),
    run: (text, params) => wrap(base.run(text, params)),

    async transaction(work, txOptions) {
      for (let attempt = 1; ; attempt += 1) {
        const client = await checkout()
        let broken = false
        try {
          const isolation = txOptions?.isolation ?? 'read committed'
          await client.query(`BEGIN ISOLATION LEVEL ${isolation.toUpperCase()}`)
          const result = await work(sessionOf(client))
          await client.query('COMMIT')
          return result
        } catch (error) {
          try {
            await client.query('ROLLBACK')
          } catch {
            broken = true
          }
          if (attempt < 4 && RETRYABLE.has(codeOf(error) ?? '')) continue
          throw asUnavailable(error)
        } finally {
          client.release(broken)
        }
      }
    },

    connect: checkout,

    async close() {
      await pool.end()
    },
  }

  try {
    await db.run(`CREATE SCHEMA IF NOT EXISTS ${quoteIdent(schema)}`)
  } catch (error) {
    // IF NOT EXISTS is not atomic: an instance starting at the same moment may create it first.
    if (codeOf(error) !== '23505' && codeOf(error) !== '42P06') {
      await pool.end()
      throw error
    }
  }
  return db
}

/** The SQLSTATE of a PostgreSQL error, if it is one. */
export const codeOf = (error: unknown): string | undefined =>
  typeof error === 'object' && error !== null && 'code' in error
    ? String((error as { code: unknown }).code)
    : undefined

const CONNECTION_CODES = new Set(['ECONNREFUSED', 'ECONNRESET', 'ETIMEDOUT', 'EPIPE'])

/**
 * A lost or refused connection, a server shutting down (class 08, 57P01) or a statement
 * cancelled by its timeout (57014) as a typed `unavailable` error whose message names no host;
 * any other error as it is.
 */
export function asUnavailable(error: unknown): unknown {
  if (error instanceof CardfileError) return error
  const code = codeOf(error) ?? ''
  const message = error instanceof Error ? error.message : String(error)
  if (
    CONNECTION_CODES.has(code) ||
    code.startsWith('08') ||
    code.startsWith('57') ||
    /timeout|terminated/i.test(message)
  ) {
    // The driver's message names the host; callers see only that the database is down.
    return new CardfileError(ErrorCodes.Unavailable, 'the database is unavailable; retry later')
  }
  return error
}

async function wrap<T>(promise: Promise<T>): Promise<T> {
  try {
    return await promise
  } catch (error) {
    throw asUnavailable(error)
  }
}
