import { spawn, spawnSync } from 'node:child_process'
import type { ChildProcess } from 'node:child_process'
import { createHash } from 'node:crypto'
import {
  existsSync,
  mkdirSync,
  mkdtempSync,
  readFileSync,
  readdirSync,
  renameSync,
  rmSync,
  statSync,
} from 'node:fs'
import { tmpdir } from 'node:os'
import { join, relative } from 'node:path'
import { fileURLToPath } from 'node:url'
import { chromium } from 'playwright-core'
import type { Browser, BrowserContext, Page } from 'playwright-core'
import { afterAll, afterEach, expect } from 'vitest'

/**
 * Browser end-to-end harness: the real `cardfile serve --demo --static` (run from source with
 * tsx) on a free port with a fresh SQLite file, the example app built by Vite, and Debian's
 * Chromium driven by playwright-core. Everything started here is stopped after each test.
 */

export const ROOT = fileURLToPath(new URL('../../', import.meta.url))
const APP = join(ROOT, 'examples/agent-workspace')
// Outside the repository, so lint and format checks never walk a bundle.
const CACHE = join(tmpdir(), 'cardfile-e2e-app')
export const SCREENSHOTS = join(ROOT, 'tests/e2e/screenshots')
const CHROMIUM = process.env.CHROMIUM_PATH ?? '/usr/bin/chromium'

/** Generous: a build, a server start and two browsers take seconds on a slow machine. */
export const E2E_TIMEOUT = 120_000

const cleanups: (() => Promise<void> | void)[] = []
afterEach(async () => {
  while (cleanups.length > 0) await cleanups.pop()?.()
})

function filesUnder(dir: string): string[] {
  const out: string[] = []
  for (const entry of readdirSync(dir, { withFileTypes: true })) {
    if (entry.name === 'node_modules' || entry.name === 'dist') continue
    const path = join(dir, entry.name)
    if (entry.isDirectory()) out.push(...filesUnder(path))
    else out.push(path)
  }
  return out.sort()
}

/** A hash of everything the app's bundle is made from. */
function sourceHash(): string {
  const hash = createHash('sha256')
  const inputs = [
    ...filesUnder(join(APP, 'src')),
    join(APP, 'index.html'),
    join(APP, 'vite.config.ts'),
    join(APP, 'vite-service-worker.ts'),
    ...filesUnder(join(ROOT, 'packages/core/src')),
    ...filesUnder(join(ROOT, 'packages/react/src')),
  ]
  for (const file of inputs) {
    hash.update(relative(ROOT, file))
    hash.update(readFileSync(file))
  }
  return hash.digest('hex').slice(0, 16)
}

let built: string | null = null

/**
 * The built app: reused when a build of the same sources exists (test files share it), else
 * built into a fresh folder and moved into place, so parallel test files never see half a build.
 */
export function buildApp(): string {
  if (built !== null) return built
  const target = join(CACHE, sourceHash())
  if (!existsSync(join(target, 'index.html'))) {
    mkdirSync(CACHE, { recursive: true })
    const scratch = mkdtempSync(join(CACHE, 'build-'))
    const vite = join(ROOT, 'node_modules/vite/bin/vite.js')
    const result = spawnSync(
      process.execPath,
      [vite, 'build', '--outDir', scratch, '--emptyOutDir', '--logLevel', 'warn'],
      {
        cwd: APP,
        encoding: 'utf8',
        // Under vitest NODE_ENV is "test", which would make Vite build a development bundle.
        env: { ...process.env, NODE_ENV: 'production' },
      },
    )
    if (result.status !== 0) {
      throw new Error(`vite build failed:\n${result.stdout}\n${result.stderr}`)
    }
    try {
      renameSync(scratch, target)
    } catch {
      // Another test file finished the same build first: use theirs.
      rmSync(scratch, { recursive: true, force: true })
    }
    // Keep the cache small: only the newest few builds.
    const old = readdirSync(CACHE)
      .filter((name) => !name.startsWith('build-') && name !== relative(CACHE, target))
      .map((name) => join(CACHE, name))
      .sort((a, b) => statSync(b).mtimeMs - statSync(a).mtimeMs)
      .slice(3)
    for (const dir of old) rmSync(dir, { recursive: true, force: true })
  }
  built = target
  return target
}

export interface DemoServer {
  /** `http://127.0.0.1:<port>`, where the app opens. */
  readonly url: string
  readonly port: number
  /** The SQLite file. */
  readonly data: string
  readonly output: () => string
  /** Stops the server (SIGTERM) and resolves once it exited; the database stays. */
  stop(): Promise<void>
}

/**
 * Starts `cardfile serve --demo --static <app>` with a fresh database on a free port, or on
 * `port` with the database file `data` when given; `allowPrivateOutboundTargets` lets admins
 * connect a CRM on this machine (the reference CRM of a test).
 */
export async function startDemoServer(
  options: { port?: number; data?: string; allowPrivateOutboundTargets?: boolean } = {},
): Promise<DemoServer> {
  const app = buildApp()
  const dir = mkdtempSync(join(tmpdir(), 'cardfile-e2e-'))
  const data = options.data ?? join(dir, 'cardfile.db')
  const child: ChildProcess = spawn(
    process.execPath,
    [
      '--conditions=source',
      '--import',
      'tsx',
      join(ROOT, 'packages/server/src/cli.ts'),
      'serve',
      '--demo',
      '--port',
      String(options.port ?? 0),
      '--host',
      '127.0.0.1',
      '--data',
      data,
      '--static',
      app,
      ...(options.allowPrivateOutboundTargets === true ? ['--allow-private-outbound-targets'] : []),
    ],
    { cwd: ROOT, stdio: ['ignore', 'pipe', 'pipe'] },
  )
  let output = ''
  child.stdout?.on('data', (chunk: Buffer) => (output += chunk.toString()))
  child.stderr?.on('data', (chunk: Buffer) => (output += chunk.toString()))
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()))
  const stop = async (): Promise<void> => {
    child.kill('SIGTERM')
    await exited
  }
  cleanups.push(async () => {
    await stop()
    rmSync(dir, { recursive: true, force: true })
  })
  await expect
    .poll(() => output, { timeout: 30_000, interval: 100 })
    .toMatch(/Agent workspace: open http:\/\/[^/]+\//)
  const match = /Cardfile serving on (http:\/\/[^\s]+)/.exec(output)
  if (match?.[1] === undefined) throw new Error(`No URL in the server output:\n${output}`)
  const url = match[1]
  return { url, port: Number(new URL(url).port), data, output: () => output, stop }
}

/**
 * Resets the demo database as an operator would: stops the server, deletes its database file
 * (with its WAL), and starts it again on the same address, where it creates and seeds a new one.
 */
export async function resetDemoServer(server: DemoServer): Promise<DemoServer> {
  await server.stop()
  for (const suffix of ['', '-wal', '-shm']) rmSync(server.data + suffix, { force: true })
  return startDemoServer({ port: server.port, data: server.data })
}

/** A message from a new person on a channel, as channel ingestion posts it; the conversation id. */
export async function ingest(
  server: DemoServer,
  channel: string,
  platformUserId: string,
  text: string,
): Promise<string> {
  const tokenRes = await fetch(`${server.url}/api/dev/token`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ workspace: 'demo', role: 'system', userId: 'channel-ingest' }),
  })
  const { token } = (await tokenRes.json()) as { token: string }
  const res = await fetch(`${server.url}/api/demo/inbound`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', authorization: `Bearer ${token}` },
    body: JSON.stringify({ channel, platformUserId, metadata: {}, message: { text } }),
  })
  if (!res.ok) throw new Error(`inbound answered ${res.status}: ${await res.text()}`)
  const body = (await res.json()) as { conversationId: string }
  return body.conversationId
}

/** `expect.poll` with room for the queue's polling interval and a browser's pace. */
export const poll = <T>(fn: () => T | Promise<T>, timeout = 15_000) =>
  expect.poll(fn, { timeout, interval: 100 })

let browser: Browser | null = null

afterAll(async () => {
  await browser?.close()
  browser = null
})

async function theBrowser(): Promise<Browser> {
  browser ??= await chromium.launch({
    executablePath: CHROMIUM,
    args: [
      '--no-sandbox',
      '--disable-gpu',
      '--disable-quic',
      '--no-first-run',
      '--disable-background-networking',
      '--disable-component-update',
      '--disable-sync',
    ],
  })
  return browser
}

/** A fresh browser profile (its own storage and IndexedDB), as a separate person's browser. */
export async function newContext(): Promise<BrowserContext> {
  const context = await (
    await theBrowser()
  ).newContext({
    viewport: { width: 1440, height: 900 },
    acceptDownloads: true,
  })
  cleanups.push(() => context.close())
  return context
}

/** Opens the app in a new browser profile and signs in as a demo user. */
export async function signIn(server: DemoServer, userId: 'ana' | 'ben' | 'cleo'): Promise<Page> {
  const context = await newContext()
  const page = await context.newPage()
  page.on('pageerror', (error) => console.error(`[${userId}] page error:`, error.message))
  // Records what the Content-Security-Policy blocks, for cspViolations().
  await page.addInitScript(() => {
    const seen: string[] = []
    Object.assign(window, { __cspViolations: seen })
    document.addEventListener('securitypolicyviolation', (event) => {
      seen.push(`${event.effectiveDirective} ${event.blockedURI}`)
    })
  })
  await page.goto(server.url)
  await page.getByTestId(`sign-in-${userId}`).click()
  await page.getByTestId('signed-in-as').waitFor()
  return page
}

/** What the page's Content-Security-Policy blocked since it loaded (directive and URL). */
export async function cspViolations(page: Page): Promise<string[]> {
  return page.evaluate(
    () => (window as unknown as { __cspViolations?: string[] }).__cspViolations ?? [],
  )
}

/** The conversation ids in the order the inbox shows them (queue by queue). */
export async function queueOrder(page: Page): Promise<string[]> {
  return page
    .getByTestId('queue-item')
    .evaluateAll((items) => items.map((i) => i.getAttribute('data-conversation-id') ?? ''))
}

/** Opens a conversation by id and waits for its contact panel. */
export async function openConversation(page: Page, conversationId: string): Promise<void> {
  await page.locator(`[data-testid=queue-item][data-conversation-id="${conversationId}"]`).click()
  await page.getByTestId('contact-panel').waitFor()
}

/** The first conversation of the general (team-less) queue. */
export async function firstGeneralConversation(page: Page): Promise<string> {
  const item = page.locator('[data-testid=queue][data-team=""] [data-testid=queue-item]').first()
  await item.waitFor()
  return (await item.getAttribute('data-conversation-id')) ?? ''
}

/** Attribute ids of the contact panel, top to bottom. */
export async function panelOrder(page: Page): Promise<string[]> {
  return page
    .getByTestId('attribute-row')
    .evaluateAll((rows) => rows.map((r) => r.getAttribute('data-attribute-id') ?? ''))
}

/** A panel row by attribute id. */
export const row = (page: Page, attributeId: string) =>
  page.locator(`[data-testid=attribute-row][data-attribute-id="${attributeId}"]`)

/** Types a text value into a panel field and presses Enter. */
export async function editText(page: Page, attributeId: string, value: string): Promise<void> {
  await row(page, attributeId).getByTestId('field-value').click()
  const input = row(page, attributeId).getByTestId('field-input')
  await input.fill(value)
  await input.press('Enter')
}

/** Saves a screenshot for reviewers and says where it is. */
export async function screenshot(page: Page, name: string): Promise<void> {
  mkdirSync(SCREENSHOTS, { recursive: true })
  const path = join(SCREENSHOTS, `${name}.png`)
  await page.screenshot({ path })
  console.log(`screenshot: ${path}`)
}
