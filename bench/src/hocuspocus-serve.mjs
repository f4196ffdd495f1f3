/**
 * Hocuspocus 4.7 as its users run it in one process: `@hocuspocus/server` with
 * `@hocuspocus/extension-sqlite` and a JWT check, plain JavaScript on Node (no TypeScript
 * loader), so start and stop times compare with Cardfile's built CLI.
 *
 * node bench/src/hocuspocus-serve.mjs <sqlite file> <secret>
 * Prints one JSON line `{"msg":"listening","port":N}` to stdout once listening; SIGTERM stops
 * it the way Hocuspocus stops on signals (its default).
 */
import { SQLite } from '@hocuspocus/extension-sqlite'
import { Server } from '@hocuspocus/server'
import { jwtVerify } from 'jose'

const [database, secret] = process.argv.slice(2)
if (database === undefined || secret === undefined) {
  console.error('usage: hocuspocus-serve.mjs <sqlite file> <secret>')
  process.exit(2)
}
const key = new TextEncoder().encode(secret)
const server = new Server({
  address: '127.0.0.1',
  port: 0,
  quiet: true,
  extensions: [new SQLite({ database })],
  async onAuthenticate({ token }) {
    await jwtVerify(token, key)
  },
})
await server.listen()
process.stdout.write(`${JSON.stringify({ msg: 'listening', port: server.address.port })}\n`)
