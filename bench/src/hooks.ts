/**
 * `node --expose-gc --import tsx bench/src/hooks.ts`: the React hooks benchmark (see
 * bench/README.md, "Hooks"). The time from `useContact` mount to the first render showing a
 * contact's values, cached and fetched, and the renders of a 50-row panel while another client
 * edits one attribute, with selectors and naively.
 *
 * The benchmark runs the checkout's sources: without the `source` export condition the
 * @cardfile packages would resolve to their build output, which may be stale or missing. When
 * started without it (or without the tsconfig below), this file starts itself again with both
 * and waits for that run.
 */
import { spawn } from 'node:child_process'
import { fileURLToPath } from 'node:url'

const SOURCE_CONDITION = '--conditions=source'
/**
 * tsx applies a tsconfig's compiler options only to the files that tsconfig includes; the root
 * one includes none, so the JSX of @cardfile/react's sources would compile to `React.createElement`
 * without `React` in scope. This one includes them, with the automatic JSX runtime.
 */
const TSCONFIG = fileURLToPath(new URL('../tsconfig.hooks.json', import.meta.url))

// React's development build checks and warns on every render; an app ships the production one.
process.env.NODE_ENV ??= 'production'

function rerunWithSources(): void {
  const child = spawn(
    process.execPath,
    ['--expose-gc', SOURCE_CONDITION, '--import', 'tsx', fileURLToPath(import.meta.url)],
    { stdio: 'inherit', env: { ...process.env, TSX_TSCONFIG_PATH: TSCONFIG } },
  )
  child.on('exit', (code, signal) => {
    process.exitCode = code ?? (signal === null ? 1 : 128)
  })
}

async function main(): Promise<void> {
  if (!process.execArgv.includes(SOURCE_CONDITION) || process.env.TSX_TSCONFIG_PATH !== TSCONFIG) {
    rerunWithSources()
    return
  }
  // The DOM must exist before react-dom loads, so everything that imports it loads after.
  const { installDom } = await import('./dom-environment')
  const closeDom = installDom()
  const { runHooksBench } = await import('./hooks-run')
  try {
    await runHooksBench()
  } finally {
    closeDom()
  }
}

main().catch((error: unknown) => {
  console.error(error)
  process.exitCode = 1
})
