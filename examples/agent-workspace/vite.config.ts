import { fileURLToPath } from 'node:url'
import react from '@vitejs/plugin-react'
import { defineConfig } from 'vite'
import { serviceWorker } from './vite-service-worker'

const source = (pkg: string): string =>
  fileURLToPath(new URL(`../../packages/${pkg}/src/index.ts`, import.meta.url))

/** Where `npm run dev` sends API calls and websockets (a `cardfile serve --demo` running beside). */
const devServer = process.env.CARDFILE_DEV_SERVER ?? 'http://localhost:1234'

/**
 * The app builds against the packages' sources, so `npm run build -w examples/agent-workspace`
 * needs no package build first and a change in a hook shows up at once in `npm run dev`.
 */
export default defineConfig({
  plugins: [react(), serviceWorker()],
  resolve: {
    alias: {
      '@cardfile/core': source('core'),
      '@cardfile/react': source('react'),
    },
    // One copy of Yjs, whichever package imports it.
    dedupe: ['yjs', 'react', 'react-dom'],
  },
  server: {
    proxy: {
      '/api': devServer,
    },
  },
  build: {
    outDir: 'dist',
    emptyOutDir: true,
    sourcemap: true,
  },
})
