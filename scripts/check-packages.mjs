// Checks what is published, not the sources: builds the packages, packs each with `npm pack`
// as a release would, then runs publint and arethetypeswrong on the tarballs.
import { execFileSync } from 'node:child_process'
import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'

const PACKAGES = ['core', 'react', 'server']
const run = (cmd, args, cwd) => execFileSync(cmd, args, { cwd, stdio: 'inherit' })

run('npx', ['turbo', 'run', 'build', ...PACKAGES.map((p) => `--filter=@cardfile/${p}`)])
const out = mkdtempSync(join(tmpdir(), 'cardfile-pack-'))
try {
  for (const pkg of PACKAGES) {
    const dir = join('packages', pkg)
    const packed = execFileSync('npm', ['pack', '--json', '--pack-destination', out], {
      cwd: dir,
      encoding: 'utf8',
    })
    const [{ filename, files }] = JSON.parse(packed)
    const names = new Set(files.map((f) => f.path))
    for (const required of ['README.md', 'LICENSE', 'package.json']) {
      if (!names.has(required)) throw new Error(`${filename} lacks ${required}`)
    }
    const tarball = join(out, filename)
    console.log(`\n${filename}: ${files.length} files`)
    run('npx', ['publint', 'run', tarball, '--strict'])
    // node16 profile: the packages support Node's ESM and CommonJS resolution and bundlers;
    // the "node10" (pre-exports) resolution of TypeScript's old `moduleResolution: node` cannot
    // see subpath exports such as @cardfile/react/devtools.
    run('npx', ['attw', tarball, '--profile', 'node16', '--no-emoji', '--format', 'table-flipped'])
  }
} finally {
  rmSync(out, { recursive: true, force: true })
}
