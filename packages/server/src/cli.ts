#!/usr/bin/env node
import { existsSync, mkdirSync } from 'node:fs'
import { dirname, resolve } from 'node:path'
import { parseArgs } from 'node:util'
import type { ParseArgsConfig } from 'node:util'
import { CardfileError, ErrorCodes, PLANS, ROLES, isValidId } from '@cardfile/core'
import type { Plan, Role } from '@cardfile/core'
import { connectCrmAt, crmUrlsAt } from './crm/connect-at'
import { SECRET_PATTERN } from './crm/signing'
import { DEMO_USERS, seedDemoWorkspace } from './demo/seed'
import { httpApi } from './http/create-http-api'
import { withStaticFiles } from './http/static-files'
import { createJsonLogger, isLogLevel } from './logging/json-logger'
import { createCardfileServer } from './server'
import type { CardfileServer } from './server'
import { errorContext } from './sync/logger'
import type * as SqliteModule from './sqlite/index'
import type * as PostgresModule from './postgres/index'
import type * as RedisModule from './redis/index'
import type { RedisCoordination } from './redis/index'
import type { Backend, StorageLogger } from './backend'
import { signToken } from './tokens'
import { isPlan, readWorkspace, setWorkspacePlan } from './workspaces/workspace-plan'

/**
 * The `cardfile` command: `serve` runs a server on a SQLite file, `workspace` creates a
 * workspace or changes its plan, `token` mints a development token. Usage errors exit with
 * code 2, runtime failures with 1.
 */

const USAGE = `Usage:
  cardfile serve [--port 1234] [--host 0.0.0.0]
                 [--data ./cardfile.db [--sqlite-sync full|normal] | --postgres URL]
                 [--postgres-schema NAME] [--redis URL [--redis-prefix P]]
                 [--owner-lease-ms N] [--secret S]
                 [--cors-origin URL]... [--static ./dist]
                 [--demo [--reset-demo] [--crm-url URL [--crm-secret HEX]]]
                 [--create-workspaces PLAN] [--allow-private-outbound-targets]
  cardfile workspace create|set-plan|show --workspace W [--plan PLAN]
                 [--data ./cardfile.db | --postgres URL [--postgres-schema NAME]
                  [--redis URL [--redis-prefix P]]]
  cardfile token --workspace demo --role admin --user ana [--name Ana] [--secret S] [--expires 12h]

Options of serve:
  --port      TCP port (default 1234; 0 picks a free one)
  --host      interface to listen on (default 0.0.0.0; 127.0.0.1 with --demo)
  --data      SQLite file (default ./cardfile.db; created when missing; one server per file)
  --sqlite-sync  when an acknowledged change is safe (or env CARDFILE_SQLITE_SYNC): full
              (default) fsyncs every group commit, so it survives power loss as well as a
              killed process; normal leaves the fsync to SQLite's checkpoints, so it survives
              a killed process (kill -9) but the last commits may be lost if the machine
              loses power; saves the fsync's wait (about 0.2 to 1 ms per commit, more on slow
              disks)
  --postgres  PostgreSQL URL instead of a SQLite file (or env CARDFILE_POSTGRES_URL), e.g.
              postgres://cardfile:pw@db:5432/cardfile; tables are created on start
  --postgres-schema  the schema holding the tables (default public; or env
              CARDFILE_POSTGRES_SCHEMA)
  --redis     Redis URL (or env CARDFILE_REDIS_URL): with it, instances serving one
              PostgreSQL database work as one (documents owned by one instance at a time,
              changes forwarded, presence, rate limits, locks, cache invalidation shared);
              e.g. redis://cache:6379
  --redis-prefix  prefix of every Redis key (default cardfile; or env CARDFILE_REDIS_PREFIX),
              so several deployments can share one Redis
  --owner-lease-ms  how long a document waits for a crashed owner instance before another
              takes it over (default 10000; or env CARDFILE_OWNER_LEASE_MS)
  --secret    HS256 secret for tokens (or env CARDFILE_SECRET)
  --cors-origin  a browser origin allowed to use the API and websockets besides the server's
              own, e.g. https://inbox.example.com (repeat for more; * for any)
  --demo      development mode: dev token endpoint (for this machine only), demo workspace, a
              development secret when none is given, a ready-made token per demo user, and
              pages on any localhost port allowed as origins
  --reset-demo  with --demo: delete the database first and seed the demo afresh
  --new-generation  after restoring the database from a backup: clients drop their cached
              copies (which may hold newer data) instead of uploading them
  --static    a built web app folder to serve at / beside the API (with SPA fallback)
  --crm-url   with --demo: connect the demo workspace to the CRM whose lookup, write-back and
              notification URLs are <URL>/lookup, /write-back, /notification
              (examples/crm-reference prints its URL)
  --crm-secret  the workspace secret shared with that CRM (hex); without it, one is generated
              and printed once
  --create-workspaces  create a workspace never created before on this plan the first time a
              client or request uses it (single-tenant and trial setups); without it, a
              workspace exists only once \`cardfile workspace create\` (or POST
              /api/<ws>/workspace with a system token) made it, and anything else is refused
              with unknown-workspace
  --allow-private-outbound-targets  let the URLs admins give the server to call (webhooks,
              CRM endpoints) reach loopback, private and link-local addresses (or env
              CARDFILE_ALLOW_PRIVATE_OUTBOUND_TARGETS=true; the former names
              --allow-private-webhook-targets and CARDFILE_ALLOW_PRIVATE_WEBHOOK_TARGETS work
              too); for development and receivers on this machine only: without it such URLs
              are refused. The CRM of --crm-url is the operator's and is always allowed

Commands of workspace (plans: ${PLANS.join(', ')}):
  create      create workspace --workspace on --plan (fails when it exists)
  set-plan    change its plan; lowering one keeps all data and switches the features off
  show        print its plan
  They use the storage named as for serve (--data, --postgres). A SQLite file is used by one
  process at a time: while a server runs on it, use PUT /api/<ws>/plan instead. Against
  PostgreSQL give the servers' --redis too, so a running server applies the change and its
  clients see it at once.

Options of token:
  --workspace, --role (${ROLES.join(', ')}), --user, --name, --expires (default 12h)
  --secret    as for serve; without one, the development secret of \`serve --demo\`

serve writes its log to stdout as JSON lines (level from env CARDFILE_LOG_LEVEL, default info)
and what it prints for people (URLs, demo tokens) to stderr.
`

/**
 * The secret `serve --demo` and `token` fall back to when no secret is given, so that tokens
 * minted by `cardfile token` work against a demo server. Never use it for real data.
 */
const DEV_SECRET = 'cardfile-development-secret-do-not-use-in-production'

/** The workspace `serve --demo` seeds. */
const DEMO_WORKSPACE = 'demo'

/** A usage error: printed with the usage text, exit code 2. */
class UsageError extends Error {}

/** A server that cannot start for a reason the operator can fix: one line, exit code 1. */
class StartError extends Error {}

type Values = Record<string, string | boolean | undefined>

function parse(argv: readonly string[], options: ParseArgsConfig['options']): Values {
  try {
    return parseArgs({ args: [...argv], options, strict: true, allowPositionals: false })
      .values as Values
  } catch (error) {
    throw new UsageError(error instanceof Error ? error.message : String(error))
  }
}

const text = (values: Values, key: string): string | undefined => {
  const value = values[key]
  return typeof value === 'string' ? value : undefined
}

function secretFrom(values: Values): string | undefined {
  const flag = text(values, 'secret')
  if (flag !== undefined && flag.length === 0) throw new UsageError('--secret is empty')
  const env = process.env.CARDFILE_SECRET
  return flag ?? (env === undefined || env === '' ? undefined : env)
}

function portFrom(values: Values): number {
  const raw = text(values, 'port') ?? '1234'
  const port = Number(raw)
  if (!/^\d+$/.test(raw) || port > 65_535) {
    throw new UsageError(`--port must be a number from 0 to 65535, not "${raw}"`)
  }
  return port
}

async function tokenCommand(argv: readonly string[]): Promise<number> {
  const values = parse(argv, {
    workspace: { type: 'string' },
    role: { type: 'string' },
    user: { type: 'string' },
    name: { type: 'string' },
    secret: { type: 'string' },
    expires: { type: 'string' },
  })
  const workspace = text(values, 'workspace')
  const role = text(values, 'role')
  const user = text(values, 'user')
  if (workspace === undefined || role === undefined || user === undefined) {
    throw new UsageError('token needs --workspace, --role and --user')
  }
  if (!isValidId(workspace)) throw new UsageError(`Invalid --workspace "${workspace}"`)
  if (!isValidId(user)) throw new UsageError(`Invalid --user "${user}"`)
  if (!(ROLES as readonly string[]).includes(role)) {
    throw new UsageError(`--role must be one of ${ROLES.join(', ')}, not "${role}"`)
  }
  let secret = secretFrom(values)
  if (secret === undefined) {
    console.error('cardfile: no --secret or CARDFILE_SECRET; using the development secret')
    secret = DEV_SECRET
  }
  const name = text(values, 'name')
  const expires = text(values, 'expires')
  let token: string
  try {
    token = await signToken({
      secret,
      userId: user,
      workspace,
      role: role as Role,
      ...(name === undefined ? {} : { name }),
      ...(expires === undefined ? {} : { expiresIn: expires }),
    })
  } catch (error) {
    throw new UsageError(error instanceof Error ? error.message : String(error))
  }
  process.stdout.write(`${token}\n`)
  return 0
}

const WORKSPACE_COMMANDS = ['create', 'set-plan', 'show'] as const

async function workspaceCommand(argv: readonly string[]): Promise<number> {
  const [action, ...rest] = argv
  if (!(WORKSPACE_COMMANDS as readonly (string | undefined)[]).includes(action)) {
    throw new UsageError(
      `workspace needs one of ${WORKSPACE_COMMANDS.join(', ')}${action === undefined ? '' : `, not "${action}"`}`,
    )
  }
  const values = parse(rest, {
    workspace: { type: 'string' },
    plan: { type: 'string' },
    data: { type: 'string' },
    postgres: { type: 'string' },
    'postgres-schema': { type: 'string' },
    redis: { type: 'string' },
    'redis-prefix': { type: 'string' },
  })
  const workspace = text(values, 'workspace')
  if (workspace === undefined) throw new UsageError(`workspace ${action} needs --workspace`)
  if (!isValidId(workspace)) throw new UsageError(`Invalid --workspace "${workspace}"`)
  const plan = action === 'show' ? undefined : planFrom(text(values, 'plan'), `workspace ${action}`)
  if (action === 'show' && text(values, 'plan') !== undefined) {
    throw new UsageError('workspace show takes no --plan')
  }
  if (text(values, 'postgres') !== undefined && text(values, 'data') !== undefined) {
    throw new UsageError('--data names a SQLite file: use it or --postgres, not both')
  }
  const postgres = text(values, 'data') === undefined ? postgresFrom(values) : undefined
  const redis = redisFrom(values)
  if (redis !== undefined && postgres === undefined) {
    throw new UsageError('--redis joins servers that share a PostgreSQL database: give --postgres')
  }
  const data = text(values, 'data') ?? './cardfile.db'
  if (postgres === undefined && action !== 'create' && !existsSync(data)) {
    throw new StartError(`${data} does not exist: no workspace is stored there`)
  }
  const logLevel = process.env.CARDFILE_LOG_LEVEL || 'warn'
  if (!isLogLevel(logLevel)) throw new UsageError(`Unknown CARDFILE_LOG_LEVEL "${logLevel}"`)
  const logger = createJsonLogger(logLevel)
  let backend: Backend
  try {
    backend = await openBackend(
      {
        data,
        ...(postgres === undefined ? {} : { postgres }),
        reset: false,
        newGeneration: false,
      },
      logger,
    )
  } catch (error) {
    if (error instanceof CardfileError && error.code === ErrorCodes.DatabaseInUse) {
      throw new StartError(
        `${data} is in use by a running server: change the plan through it (PUT /api/${workspace}/plan with a system token)`,
      )
    }
    throw error
  }
  let coordination: RedisCoordination | undefined
  let server: CardfileServer | undefined
  try {
    if (redis !== undefined) coordination = await openRedis(redis, logger)
    // A server of its own, without extensions (no consumers or jobs) and on loopback only, so
    // the change is one host transaction: with Redis, it reaches the instance that owns the
    // workspace and, through it, every connected client.
    server = await createCardfileServer({
      backend,
      ...(coordination === undefined ? {} : { coordination }),
      auth: {
        authenticate: () =>
          Promise.reject(new CardfileError(ErrorCodes.Unauthorized, 'no clients')),
      },
      port: 0,
      host: '127.0.0.1',
      logger,
      extensions: [],
    })
    const line = await runWorkspaceAction(
      server,
      action as (typeof WORKSPACE_COMMANDS)[number],
      workspace,
      plan,
    )
    process.stdout.write(`${line}\n`)
    return 0
  } catch (error) {
    if (error instanceof CardfileError && error.code === ErrorCodes.UnknownWorkspace) {
      throw new StartError(`workspace "${workspace}" does not exist (cardfile workspace create)`)
    }
    if (error instanceof CardfileError && error.code === ErrorCodes.WorkspaceExists) {
      throw new StartError(`workspace "${workspace}" already exists (cardfile workspace set-plan)`)
    }
    throw error
  } finally {
    await server?.close()
    await backend.close()
    await coordination?.close()
  }
}

/** A plan flag (`--plan` unless named), required and checked. */
function planFrom(raw: string | undefined, command: string, flag = '--plan'): Plan {
  if (raw === undefined) throw new UsageError(`${command} needs ${flag} (${PLANS.join(', ')})`)
  if (!isPlan(raw)) {
    throw new UsageError(`${flag} must be one of ${PLANS.join(', ')}, not "${raw}"`)
  }
  return raw
}

/** Does one workspace command; resolves the line it prints. */
async function runWorkspaceAction(
  server: CardfileServer,
  action: (typeof WORKSPACE_COMMANDS)[number],
  workspace: string,
  plan: Plan | undefined,
): Promise<string> {
  switch (action) {
    case 'create':
      await server.host.createWorkspace(workspace, plan!)
      return `workspace "${workspace}" created on plan ${plan!}`
    case 'set-plan': {
      const { previous } = await setWorkspacePlan(server.host, workspace, plan!)
      return previous === plan
        ? `workspace "${workspace}" is already on plan ${plan}`
        : `workspace "${workspace}" moved from plan ${previous} to ${plan!}`
    }
    case 'show':
      return `workspace "${workspace}" is on plan ${(await readWorkspace(server.host, workspace)).plan}`
  }
}

async function serveCommand(argv: readonly string[]): Promise<number> {
  const values = parse(argv, {
    port: { type: 'string' },
    host: { type: 'string' },
    data: { type: 'string' },
    postgres: { type: 'string' },
    'postgres-schema': { type: 'string' },
    redis: { type: 'string' },
    'redis-prefix': { type: 'string' },
    'owner-lease-ms': { type: 'string' },
    secret: { type: 'string' },
    demo: { type: 'boolean' },
    'reset-demo': { type: 'boolean' },
    'new-generation': { type: 'boolean' },
    'cors-origin': { type: 'string', multiple: true },
    static: { type: 'string' },
    'crm-url': { type: 'string' },
    'crm-secret': { type: 'string' },
    'create-workspaces': { type: 'string' },
    'allow-private-outbound-targets': { type: 'boolean' },
    'allow-private-webhook-targets': { type: 'boolean' },
    'sqlite-sync': { type: 'string' },
  })
  const port = portFrom(values)
  const autoCreate = text(values, 'create-workspaces')
  const createWorkspaces =
    autoCreate === undefined ? undefined : planFrom(autoCreate, 'serve', '--create-workspaces')
  const demo = values.demo === true
  // The demo signs admin tokens for whoever asks: it listens on this machine unless told not to.
  const hostname = text(values, 'host') ?? (demo ? '127.0.0.1' : '0.0.0.0')
  if (text(values, 'postgres') !== undefined && text(values, 'data') !== undefined) {
    throw new UsageError('--data names a SQLite file: use it or --postgres, not both')
  }
  // An explicit --data wins over a database named only in the environment.
  const postgres = text(values, 'data') === undefined ? postgresFrom(values) : undefined
  const data = text(values, 'data') ?? './cardfile.db'
  const sqliteSync = sqliteSyncFrom(values, postgres !== undefined)
  const redis = redisFrom(values)
  const ownerLeaseMs = ownerLeaseFrom(values)
  const reset = values['reset-demo'] === true
  if (reset && !demo) throw new UsageError('--reset-demo resets the demo: use it with --demo')
  if (reset && postgres !== undefined) {
    throw new UsageError(
      '--reset-demo deletes a SQLite file; it does not empty a PostgreSQL database',
    )
  }
  const corsOrigins = originsFrom(values)
  let secret = secretFrom(values)
  if (secret === undefined) {
    if (!demo) throw new UsageError('serve needs a secret: --secret S or env CARDFILE_SECRET')
    secret = DEV_SECRET
  }
  const staticDir = text(values, 'static')
  if (staticDir !== undefined && !existsSync(resolve(staticDir, 'index.html'))) {
    throw new UsageError(`--static ${staticDir} has no index.html (build the app first)`)
  }
  const crm = crmFrom(values, demo)
  const allowPrivateOutboundTargets = allowPrivateTargetsFrom(values)
  return runServer({
    port,
    hostname,
    data,
    sqliteSync,
    ...(postgres ? { postgres } : {}),
    ...(redis === undefined ? {} : { redis }),
    ...(ownerLeaseMs === undefined ? {} : { ownerLeaseMs }),
    secret,
    demo,
    reset,
    newGeneration: values['new-generation'] === true,
    corsOrigins,
    staticDir,
    ...(crm ? { crm } : {}),
    ...(createWorkspaces === undefined ? {} : { createWorkspaces }),
    allowPrivateOutboundTargets,
  })
}

/**
 * `--sqlite-sync` (or CARDFILE_SQLITE_SYNC): how far an acknowledged change is safe on the
 * SQLite file. The flag wins over the environment; it means nothing on PostgreSQL, whose own
 * settings decide.
 */
function sqliteSyncFrom(values: Values, onPostgres: boolean): 'full' | 'normal' {
  const flag = text(values, 'sqlite-sync')
  if (flag !== undefined && onPostgres) {
    throw new UsageError('--sqlite-sync is about the SQLite file: PostgreSQL has its own settings')
  }
  const raw = flag ?? (onPostgres ? undefined : process.env.CARDFILE_SQLITE_SYNC || undefined)
  if (raw === undefined) return 'full'
  if (raw !== 'full' && raw !== 'normal') {
    throw new UsageError(`--sqlite-sync must be full or normal: "${raw}"`)
  }
  return raw
}

/**
 * `--allow-private-outbound-targets` (or CARDFILE_ALLOW_PRIVATE_OUTBOUND_TARGETS), or their
 * former webhook-only names, checked up front: any of them turns it on.
 */
function allowPrivateTargetsFrom(values: Values): boolean {
  let allowed =
    values['allow-private-outbound-targets'] === true ||
    values['allow-private-webhook-targets'] === true
  for (const name of [
    'CARDFILE_ALLOW_PRIVATE_OUTBOUND_TARGETS',
    'CARDFILE_ALLOW_PRIVATE_WEBHOOK_TARGETS',
  ]) {
    const env = process.env[name]
    if (env === 'true' || env === '1') allowed = true
    else if (env !== undefined && env !== '' && env !== 'false' && env !== '0') {
      throw new UsageError(`${name} must be true or false`)
    }
  }
  return allowed
}

/** `--postgres` and `--postgres-schema` (or their environment variables), checked up front. */
function postgresFrom(values: Values): ServeSettings['postgres'] {
  const env = (name: string): string | undefined =>
    process.env[name] === undefined || process.env[name] === '' ? undefined : process.env[name]
  const url = text(values, 'postgres') ?? env('CARDFILE_POSTGRES_URL')
  const schema = text(values, 'postgres-schema') ?? env('CARDFILE_POSTGRES_SCHEMA')
  if (url === undefined) {
    if (schema !== undefined) throw new UsageError('--postgres-schema needs --postgres')
    return undefined
  }
  let parsed: URL
  try {
    parsed = new URL(url)
  } catch {
    throw new UsageError('--postgres must be a URL such as postgres://user:pw@host:5432/db')
  }
  if (parsed.protocol !== 'postgres:' && parsed.protocol !== 'postgresql:') {
    throw new UsageError('--postgres must be a postgres:// URL')
  }
  if (schema !== undefined && !/^[a-z_][a-z0-9_]{0,62}$/.test(schema)) {
    throw new UsageError('--postgres-schema must be a lower-case SQL name (letters, digits, _)')
  }
  return { url, ...(schema === undefined ? {} : { schema }) }
}

/** `--owner-lease-ms` (or CARDFILE_OWNER_LEASE_MS), checked up front. */
function ownerLeaseFrom(values: Values): number | undefined {
  const env = process.env.CARDFILE_OWNER_LEASE_MS
  const raw = text(values, 'owner-lease-ms') ?? (env === undefined || env === '' ? undefined : env)
  if (raw === undefined) return undefined
  const ms = Number(raw)
  if (!Number.isInteger(ms) || ms < 300 || ms > 600_000) {
    throw new UsageError('--owner-lease-ms must be a whole number of milliseconds, 300 to 600000')
  }
  return ms
}

/** `--redis` (or CARDFILE_REDIS_URL), checked up front. */
function redisFrom(values: Values): ServeSettings['redis'] {
  const env = process.env.CARDFILE_REDIS_URL
  const url = text(values, 'redis') ?? (env === undefined || env === '' ? undefined : env)
  const envPrefix = process.env.CARDFILE_REDIS_PREFIX
  const prefix =
    text(values, 'redis-prefix') ??
    (envPrefix === undefined || envPrefix === '' ? undefined : envPrefix)
  if (url === undefined) {
    if (text(values, 'redis-prefix') !== undefined) {
      throw new UsageError('--redis-prefix needs --redis')
    }
    return undefined
  }
  if (prefix !== undefined && !/^[A-Za-z0-9_.:-]{1,64}$/.test(prefix)) {
    throw new UsageError('--redis-prefix must be 1 to 64 letters, digits or _ . : -')
  }
  let parsed: URL | null = null
  try {
    parsed = new URL(url)
  } catch {
    parsed = null
  }
  if (parsed === null || (parsed.protocol !== 'redis:' && parsed.protocol !== 'rediss:')) {
    throw new UsageError('--redis must be a redis:// URL such as redis://cache:6379')
  }
  return prefix === undefined ? { url } : { url, prefix }
}

/** The database as the start-up banner shows it: never the password. */
function describePostgres(settings: NonNullable<ServeSettings['postgres']>): string {
  const url = new URL(settings.url)
  return `PostgreSQL ${url.host}${url.pathname} (schema ${settings.schema ?? 'public'})`
}

/** `--cors-origin` values, each an origin as a browser sends it (or `*`). */
function originsFrom(values: Record<string, unknown>): string[] {
  const raw = values['cors-origin']
  const list = Array.isArray(raw) ? raw.filter((v): v is string => typeof v === 'string') : []
  for (const origin of list) {
    if (origin === '*') continue
    let url: URL | null = null
    try {
      url = new URL(origin)
    } catch {
      url = null
    }
    if (url === null || !/^https?:$/.test(url.protocol) || url.origin !== origin) {
      throw new UsageError(
        `--cors-origin must be an origin such as https://inbox.example.com (no path), not "${origin}"`,
      )
    }
  }
  return list
}

/** `--crm-url` and `--crm-secret`, checked before anything starts. */
function crmFrom(values: Values, demo: boolean): ServeSettings['crm'] {
  const url = text(values, 'crm-url')
  const crmSecret = text(values, 'crm-secret')
  if (url === undefined) {
    if (crmSecret !== undefined) throw new UsageError('--crm-secret needs --crm-url')
    return undefined
  }
  if (!demo) {
    throw new UsageError('--crm-url connects the demo workspace: use it with --demo')
  }
  try {
    crmUrlsAt(url)
  } catch {
    throw new UsageError(`--crm-url must be an http(s) URL, not "${url}"`)
  }
  if (crmSecret !== undefined && !SECRET_PATTERN.test(crmSecret)) {
    throw new UsageError('--crm-secret must be hex, 32 to 256 characters')
  }
  return { url, ...(crmSecret === undefined ? {} : { secret: crmSecret }) }
}

interface ServeSettings {
  readonly port: number
  readonly hostname: string
  readonly data: string
  /** When a commit to the SQLite file counts as done (`--sqlite-sync`). */
  readonly sqliteSync?: 'full' | 'normal'
  /** A PostgreSQL database instead of the SQLite file `data`. */
  readonly postgres?: { readonly url: string; readonly schema?: string }
  /** Redis for coordination between instances (`--redis`, `--redis-prefix`). */
  readonly redis?: { readonly url: string; readonly prefix?: string }
  /** How long a crashed owner's documents wait to be taken over (`--owner-lease-ms`). */
  readonly ownerLeaseMs?: number
  readonly secret: string
  readonly demo: boolean
  /** Delete the database before opening it (`--reset-demo`). */
  readonly reset: boolean
  /** Give the database a new generation (`--new-generation`, after a restore). */
  readonly newGeneration: boolean
  /** Origins allowed besides the server's own (`--cors-origin`). */
  readonly corsOrigins: readonly string[]
  /** A built web app to serve beside the API. */
  readonly staticDir?: string
  /** The CRM the demo workspace is connected to (`--crm-url`, `--crm-secret`). */
  readonly crm?: { readonly url: string; readonly secret?: string }
  /** The plan of workspaces created on first use (`--create-workspaces`). */
  readonly createWorkspaces?: Plan
  /** Webhooks and CRM URLs may reach private addresses (`--allow-private-outbound-targets`). */
  readonly allowPrivateOutboundTargets: boolean
}

/** What {@link openBackend} reads of the settings. */
type StorageSettings = Pick<
  ServeSettings,
  'data' | 'sqliteSync' | 'postgres' | 'reset' | 'newGeneration'
>

/** What the SQLite subpath entry exports. */
type SqliteEntry = typeof SqliteModule

/**
 * The embedded SQLite backend, loaded when the server starts: better-sqlite3 is an optional
 * peer of the package (a native module a server on another backend need not compile).
 */
async function loadSqlite(): Promise<SqliteEntry> {
  try {
    return await import('./sqlite/index')
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code
    if (code === 'ERR_MODULE_NOT_FOUND' || code === 'MODULE_NOT_FOUND') {
      throw new StartError(
        'the embedded SQLite storage needs better-sqlite3: npm install better-sqlite3',
      )
    }
    throw error
  }
}

/** Opens the backend the settings name: the SQLite file, or the PostgreSQL database. */
async function openBackend(settings: StorageSettings, logger: StorageLogger): Promise<Backend> {
  if (settings.postgres !== undefined) {
    const { createPostgresBackend } = await loadPostgres()
    try {
      return await createPostgresBackend({
        url: settings.postgres.url,
        ...(settings.postgres.schema === undefined ? {} : { schema: settings.postgres.schema }),
        newGeneration: settings.newGeneration,
        logger,
      })
    } catch (error) {
      if (error instanceof CardfileError && error.code === ErrorCodes.Unavailable) {
        throw new StartError(`cannot reach ${describePostgres(settings.postgres)}`)
      }
      throw error
    }
  }
  mkdirSync(dirname(resolve(settings.data)), { recursive: true })
  const { createSqliteBackend } = await loadSqlite()
  return createSqliteBackend({
    path: settings.data,
    ...(settings.sqliteSync === undefined ? {} : { synchronous: settings.sqliteSync }),
    reset: settings.reset,
    newGeneration: settings.newGeneration,
    logger,
  })
}

/** Redis coordination, loaded only when asked for (`ioredis` is an optional peer). */
async function openRedis(
  { url, prefix }: NonNullable<ServeSettings['redis']>,
  logger: StorageLogger,
): Promise<RedisCoordination> {
  let entry: typeof RedisModule
  try {
    entry = await import('./redis/index')
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code
    if (code === 'ERR_MODULE_NOT_FOUND' || code === 'MODULE_NOT_FOUND') {
      throw new StartError(
        'coordination through Redis needs the ioredis client: npm install ioredis',
      )
    }
    throw error
  }
  // Reported once per outage, not once per reconnection attempt.
  let down = false
  try {
    return await entry.createRedisCoordination({
      url,
      ...(prefix === undefined ? {} : { prefix }),
      onError: (error) => {
        if (down) return
        down = true
        logger.error('Redis unreachable', errorContext(error))
        setTimeout(() => (down = false), 30_000).unref()
      },
    })
  } catch (error) {
    if (error instanceof CardfileError && error.code === ErrorCodes.Unavailable) {
      throw new StartError(`cannot reach Redis ${new URL(url).host}`)
    }
    throw error
  }
}

/** The PostgreSQL backend, loaded only when asked for (`pg` is an optional peer). */
async function loadPostgres(): Promise<typeof PostgresModule> {
  try {
    return await import('./postgres/index')
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code
    if (code === 'ERR_MODULE_NOT_FOUND' || code === 'MODULE_NOT_FOUND') {
      throw new StartError('the PostgreSQL backend needs the pg driver: npm install pg')
    }
    throw error
  }
}

/** Runs the server until SIGINT or SIGTERM; resolves with the exit code after a clean stop. */
async function runServer(settings: ServeSettings): Promise<number> {
  const { port, hostname, data, secret, demo, staticDir } = settings
  const logLevel = process.env.CARDFILE_LOG_LEVEL || 'info'
  if (!isLogLevel(logLevel)) throw new UsageError(`Unknown CARDFILE_LOG_LEVEL "${logLevel}"`)
  const logger = createJsonLogger(logLevel)
  const backend = await openBackend(settings, logger)
  let coordination: RedisCoordination | undefined
  if (settings.redis !== undefined) {
    try {
      coordination = await openRedis(settings.redis, logger)
    } catch (error) {
      await backend.close()
      throw error
    }
  }
  /** Closes what the server runs on: the backend, then the Redis connections. */
  const closeServices = async (): Promise<void> => {
    await backend.close()
    await coordination?.close()
  }
  const api = httpApi(demo ? { devTokens: { secret } } : {})
  let server: CardfileServer
  try {
    server = await createCardfileServer({
      backend,
      ...(coordination === undefined ? {} : { coordination }),
      ...(settings.ownerLeaseMs === undefined ? {} : { ownerLeaseMs: settings.ownerLeaseMs }),
      auth: { secret },
      port,
      host: hostname,
      origins: { origins: settings.corsOrigins, loopback: demo },
      logger,
      // The CRM integration is on; each workspace connects its CRM through the HTTP API
      // (admins, plans with the CRM). Nothing is called until a workspace configures one.
      // The CRM of --crm-url is the operator's own: trusted even on this machine (the
      // reference CRM listens on localhost), unlike a URL an admin types in.
      crm: settings.crm === undefined ? {} : { trustedUrls: [settings.crm.url] },
      allowPrivateOutboundTargets: settings.allowPrivateOutboundTargets,
      ...(settings.createWorkspaces === undefined
        ? {}
        : { autoCreateWorkspaces: settings.createWorkspaces }),
      httpHandler:
        staticDir === undefined ? api : withStaticFiles(api, { root: resolve(staticDir) }),
    })
  } catch (error) {
    await closeServices()
    if ((error as NodeJS.ErrnoException).code === 'EADDRINUSE') {
      throw new StartError(`port ${port} is in use on ${hostname}; choose another with --port`)
    }
    if ((error as NodeJS.ErrnoException).code === 'EACCES') {
      throw new StartError(
        `port ${port} needs privileges on ${hostname}; choose another with --port`,
      )
    }
    throw error
  }
  let closing = false

  const stopped = new Promise<number>((resolveStop) => {
    const stop = (signal: NodeJS.Signals): void => {
      if (closing) {
        logger.warn('signal again, exiting without waiting', { signal })
        process.exit(1)
      }
      closing = true
      logger.info('stopping: flushing pending commits', { signal })
      void (async () => {
        try {
          // The storage closes (its last checkpoint) while the close frames go out; the
          // clients' answers are not waited for, as the process ends next and the kernel
          // delivers what was handed to it. Redis once the server stopped, as before.
          await server.close({
            afterLastWrite: () => backend.close(),
            awaitCloseHandshakes: false,
          })
          await coordination?.close()
          logger.info('storage closed, exiting')
          resolveStop(0)
          // Every change is committed and acknowledged, and the log is written synchronously:
          // nothing is left worth waiting for, a stray handle or a timer included, nor the
          // clients' answers to the close frames queued behind this turn of the event loop.
          process.exit(0)
        } catch (error) {
          logger.error('error while stopping', errorContext(error))
          resolveStop(1)
        }
      })()
    }
    process.on('SIGINT', stop)
    process.on('SIGTERM', stop)
  })

  const shown = hostname === '0.0.0.0' || hostname === '::' ? 'localhost' : hostname
  const base = `http://${shown.includes(':') ? `[${shown}]` : shown}:${server.port}`
  const lines = [
    `Cardfile serving on ${base}`,
    `  websocket: ${base.replace(/^http/, 'ws')}/<workspace>/schema (token in ?token=)`,
    `  data:      ${settings.postgres ? describePostgres(settings.postgres) : resolve(data)}`,
    settings.createWorkspaces === undefined
      ? '  workspaces: those created with `cardfile workspace create` (others are refused)'
      : `  workspaces: created on first use, on plan ${settings.createWorkspaces}`,
    ...(settings.redis === undefined
      ? []
      : [
          `  shared:    Redis ${new URL(settings.redis.url).host} (documents owned by one instance at a time, presence, rate limits, locks, caches)`,
        ]),
  ]
  if (demo) {
    try {
      lines.push(...(await demoLines(server, secret, settings.crm)))
    } catch (error) {
      closing = true
      await server.close()
      await closeServices()
      throw error
    }
  }
  if (staticDir !== undefined) {
    // Last, so it is what the terminal shows after the long tokens.
    lines.push(
      '',
      `Agent workspace: open ${base}/ in a browser${demo ? ' and sign in as a demo user' : ''}`,
    )
  }
  // One write, so that whoever reads the output sees the URL and the tokens together; on stderr,
  // because stdout is the JSON log, and demo tokens must never end up in a log collector.
  process.stderr.write(`${lines.join('\n')}\n`)
  // The storage line says how far an acknowledged change is safe, for whoever reads the log.
  const storage =
    settings.postgres === undefined
      ? { storage: 'sqlite', sqliteSync: settings.sqliteSync ?? 'full' }
      : { storage: 'postgres' }
  logger.info('listening', { port: server.port, host: hostname, demo, ...storage })
  return stopped
}

/**
 * Seeds the demo workspace and describes it, with a ready-made token per demo user; connects it
 * to a CRM when `--crm-url` was given.
 */
async function demoLines(
  server: CardfileServer,
  secret: string,
  crm: ServeSettings['crm'],
): Promise<string[]> {
  const seed = await seedDemoWorkspace(server.host, { workspace: DEMO_WORKSPACE })
  const lines = [
    seed.seeded
      ? `  demo:      workspace "${DEMO_WORKSPACE}" seeded with ${seed.contactIds.length} contacts`
      : `  demo:      workspace "${DEMO_WORKSPACE}" already seeded`,
  ]
  if (crm !== undefined && server.crm !== null) {
    // After the seed, so the seeded conversations do not each call the CRM at start-up.
    const connected = await connectCrmAt(server.crm, DEMO_WORKSPACE, crm.url, crm.secret)
    const shown = connected.config.secretHint ?? ''
    lines.push(
      `  CRM:       ${crm.url} (lookup, write-back, notification; secret ${shown})`,
      ...(connected.secret === undefined
        ? []
        : [`  CRM secret, shown once (give it to the CRM): ${connected.secret}`]),
    )
  }
  lines.push(
    '  development mode: POST /api/dev/token signs tokens for clients on this machine only',
    '',
    'Demo tokens, valid 12h, for API calls and clients of your own (Authorization: Bearer <token>,',
    "or a stock y-websocket client's ?token=); the app signs in without them. `cardfile token` mints more:",
  )
  const users = [
    ...DEMO_USERS,
    { userId: 'channel-ingest', name: 'Channel ingestion', role: 'system' as const },
  ]
  for (const user of users) {
    const token = await signToken({ secret, workspace: DEMO_WORKSPACE, ...user })
    lines.push(`  ${user.userId} (${user.role}): ${token}`)
  }
  return lines
}

/** Runs the command line; resolves with the exit code (the server's runs until a signal). */
async function main(argv: readonly string[]): Promise<number> {
  const [command, ...rest] = argv
  try {
    switch (command) {
      case 'serve':
        return await serveCommand(rest)
      case 'token':
        return await tokenCommand(rest)
      case 'workspace':
        return await workspaceCommand(rest)
      case undefined:
      case 'help':
      case '--help':
      case '-h':
        process.stdout.write(USAGE)
        return command === undefined ? 2 : 0
      default:
        throw new UsageError(`Unknown command "${command}"`)
    }
  } catch (error) {
    if (error instanceof UsageError) {
      console.error(`cardfile: ${error.message}\n\n${USAGE}`)
      return 2
    }
    if (error instanceof StartError) {
      console.error(`cardfile: ${error.message}`)
      return 1
    }
    if (error instanceof CardfileError && error.code === ErrorCodes.DatabaseInUse) {
      console.error(`cardfile: ${error.message}; stop it, or choose another file with --data`)
      return 1
    }
    console.error('cardfile:', error)
    return 1
  }
}

main(process.argv.slice(2)).then(
  (code) => {
    process.exitCode = code
  },
  (error: unknown) => {
    console.error('cardfile:', error)
    process.exitCode = 1
  },
)
