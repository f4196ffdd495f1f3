import { spawn } from 'node:child_process'
import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { fileURLToPath } from 'node:url'
import { afterEach, describe, expect, it } from 'vitest'
import * as Y from 'yjs'
import { createSqliteBackend } from '../src/storage/sqlite-backend'

const fixture = fileURLToPath(new URL('./fixtures/storage-crash-writer.ts', import.meta.url))
const dirs: string[] = []

afterEach(() => {
  for (const dir of dirs.splice(0)) rmSync(dir, { recursive: true, force: true })
})

/** Runs the writer until it has acknowledged `atLeast` appends, then kills it with SIGKILL. */
function runAndKill(
  path: string,
  atLeast: number,
  mode: 'from-start' | 'on-thread' = 'from-start',
): Promise<{ acked: number[]; signal: string }> {
  return new Promise((resolve, reject) => {
    const child = spawn(
      process.execPath,
      ['--conditions=source', '--import', 'tsx', fixture, path, mode],
      { stdio: ['ignore', 'pipe', 'pipe'] },
    )
    const acked: number[] = []
    let partial = ''
    let stderr = ''
    child.stdout.setEncoding('utf8')
    child.stdout.on('data', (chunk: string) => {
      const lines = (partial + chunk).split('\n')
      partial = lines.pop() ?? ''
      for (const line of lines) acked.push(Number(line))
      if (acked.length >= atLeast && child.exitCode === null) child.kill('SIGKILL')
    })
    child.stderr.on('data', (chunk: Buffer) => {
      stderr += chunk.toString()
    })
    child.on('error', reject)
    child.on('exit', (code, signal) => {
      if (signal === null) reject(new Error(`writer exited with ${code}: ${stderr}`))
      else resolve({ acked, signal })
    })
  })
}

describe('SQLite storage under kill -9', () => {
  it.each([
    ['from its start (commits on the main connection)', 'from-start'],
    ['once its commits run on the commit thread', 'on-thread'],
  ] as const)(
    'keeps every acknowledged update when the process is killed mid-write %s',
    async (_label, mode) => {
      const dir = mkdtempSync(join(tmpdir(), 'cardfile-crash-'))
      dirs.push(dir)
      const path = join(dir, 'cardfile.db')

      const { acked, signal } = await runAndKill(path, 400, mode)
      expect(signal).toBe('SIGKILL')
      expect(acked.length).toBeGreaterThanOrEqual(400)

      const backend = createSqliteBackend({ path })
      const doc = new Y.Doc()
      for (const part of await backend.documents.load('crash/contact/c1')) Y.applyUpdate(doc, part)
      await backend.close()

      const map = doc.getMap<number>('m')
      const missing = acked.filter((n) => map.get(`k${n}`) !== n)
      expect(missing).toEqual([])
    },
  )
})
