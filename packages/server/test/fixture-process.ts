import { spawn } from 'node:child_process'
import type { ChildProcess } from 'node:child_process'

/** A fixture server from test/fixtures running in a process of its own. */
export interface FixtureProcess<Ready> {
  readonly child: ChildProcess
  /** The JSON line the fixture printed once it listened (its URLs). */
  readonly ready: Ready
  /** Resolves with the signal (or exit code, as a string) the process ended with. */
  readonly exited: Promise<string>
  /** SIGKILL, resolved once the process is gone. */
  kill(): Promise<void>
}

/**
 * Starts a TypeScript fixture (`node --conditions=source --import tsx <fixture> ...args`) and
 * resolves with the first JSON line it prints on stdout; rejects with its stderr if it exits
 * before. A SIGKILL of the process is pushed on `cleanups` before anything is awaited, so a
 * failing test leaves no server behind (run the list in reverse after each test: the process
 * goes before the folders it writes to).
 *
 * @example
 * const first = await startFixture<{ url: string }>(fixture, [path], cleanups)
 * first.child.kill('SIGKILL')
 */
export function startFixture<Ready>(
  fixture: string,
  args: readonly string[],
  cleanups: (() => void | Promise<void>)[],
  env: Record<string, string> = {},
): Promise<FixtureProcess<Ready>> {
  const child = spawn(
    process.execPath,
    ['--conditions=source', '--import', 'tsx', fixture, ...args],
    { stdio: ['ignore', 'pipe', 'pipe'], env: { ...process.env, ...env } },
  )
  const exited = new Promise<string>((resolve) =>
    child.once('exit', (code, signal) => resolve(signal ?? String(code))),
  )
  const kill = async (): Promise<void> => {
    if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL')
    await exited
  }
  cleanups.push(kill)
  let stderr = ''
  child.stderr!.on('data', (chunk: Buffer) => (stderr += chunk.toString()))
  return new Promise((resolve, reject) => {
    let out = ''
    child.stdout!.setEncoding('utf8')
    child.stdout!.on('data', (chunk: string) => {
      out += chunk
      const line = out.split('\n').find((l) => l.startsWith('{'))
      if (line !== undefined) resolve({ child, ready: JSON.parse(line) as Ready, exited, kill })
    })
    child.once('exit', (code, signal) =>
      reject(new Error(`fixture exited (${code ?? signal}) before it was ready: ${stderr}`)),
    )
  })
}
