import { spawn, spawnSync } from 'node:child_process'
import type { ChildProcessWithoutNullStreams } from 'node:child_process'
import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { dirname, join } from 'node:path'
import { fileURLToPath } from 'node:url'
import { afterEach, expect } from 'vitest'

// The `cardfile` command from source, as child processes, for the CLI tests.
const packageDir = join(dirname(fileURLToPath(import.meta.url)), '..')
const cli = join(packageDir, 'src', 'cli.ts')
// Run the CLI from source: tsx for TypeScript, the `source` condition for workspace packages.
const nodeArgs = ['--conditions', 'source', '--import', 'tsx', cli]

const cleanups: (() => void)[] = []
afterEach(() => {
  for (const cleanup of cleanups.splice(0).reverse()) cleanup()
})

/** Runs `cardfile <args>` to the end (without CARDFILE_SECRET unless `env` sets it). */
export function runCli(args: readonly string[], env: Record<string, string> = {}) {
  const { CARDFILE_SECRET: _ignored, ...inherited } = process.env
  return spawnSync(process.execPath, [...nodeArgs, ...args], {
    cwd: packageDir,
    env: { ...inherited, ...env },
    encoding: 'utf8',
    timeout: 15_000,
  })
}

/** A temporary folder, removed after the test. */
export function tempDir(): string {
  const dir = mkdtempSync(join(tmpdir(), 'cardfile-cli-'))
  cleanups.push(() => rmSync(dir, { recursive: true, force: true }))
  return dir
}

/** Starts `cardfile serve` and collects its output. */
export function serve(
  args: readonly string[],
  env: Record<string, string> = {},
): {
  child: ChildProcessWithoutNullStreams
  output: () => string
  exited: Promise<{ code: number | null; signal: NodeJS.Signals | null }>
} {
  const { CARDFILE_SECRET: _ignored, ...inherited } = process.env
  const child = spawn(process.execPath, [...nodeArgs, 'serve', ...args], {
    cwd: packageDir,
    env: { ...inherited, ...env },
  })
  let output = ''
  child.stdout.on('data', (chunk: Buffer) => (output += chunk.toString('utf8')))
  child.stderr.on('data', (chunk: Buffer) => (output += chunk.toString('utf8')))
  const exited = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((resolve) =>
    child.on('exit', (code, signal) => resolve({ code, signal })),
  )
  cleanups.push(() => {
    if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL')
  })
  return { child, output: () => output, exited }
}

/** The port a `cardfile serve` child prints once it listens (waits for the line). */
export async function portOf(output: () => string, timeout = 20_000): Promise<string> {
  const port = (): string | undefined =>
    /Cardfile serving on http:\/\/[^:]+:(\d+)/.exec(output())?.[1]
  await expect.poll(port, { timeout }).toBeDefined()
  return port() ?? ''
}
