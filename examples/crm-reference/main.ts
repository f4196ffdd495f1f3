/**
 * Runs the reference CRM beside a Cardfile server:
 *
 *   node --import tsx examples/crm-reference/main.ts [--port 4100] [--secret <hex>] [--data F]
 *
 * Flags fall back to the environment (CRM_PORT, CRM_SECRET, CRM_DATA). Without a secret one is
 * generated; the output shows the `cardfile serve --demo` command that connects the demo to it.
 * Its records match the demo's customers by `customer_id`.
 */
import { randomBytes } from 'node:crypto'
import { parseArgs } from 'node:util'
import { startReferenceCrm } from './reference-crm'

const { values } = parseArgs({
  options: {
    port: { type: 'string', default: process.env.CRM_PORT ?? '4100' },
    host: { type: 'string', default: '127.0.0.1' },
    secret: { type: 'string', default: process.env.CRM_SECRET ?? '' },
    data: { type: 'string', default: process.env.CRM_DATA ?? './crm-reference.json' },
  },
})
const secret = values.secret === '' ? randomBytes(32).toString('hex') : values.secret
if (!/^(?:[0-9a-f]{2}){16,128}$/.test(secret)) {
  console.error('--secret (or CRM_SECRET) must be hex, 32 to 256 characters.')
  process.exit(2)
}
const port = Number(values.port)
if (!/^\d+$/.test(values.port) || port > 65_535) {
  console.error(`--port must be a number from 0 to 65535, not "${values.port}"`)
  process.exit(2)
}
const crm = await startReferenceCrm({
  port,
  host: values.host,
  dataFile: values.data,
  secret,
  seed: [
    { id: 'r1', match: { customer_id: 'C-1001' }, values: {} },
    { id: 'r2', match: { customer_id: 'C-2040' }, values: {} },
    { id: 'r3', match: { customer_id: 'C-3007' }, values: {} },
  ],
})
const behaviour = `curl -X POST ${crm.url}/admin/behaviour -d`
console.log(
  [
    `Reference CRM on ${crm.url}`,
    `  base URL:         ${crm.baseUrl}`,
    `  lookup URL:       ${crm.lookupUrl}`,
    `  write-back URL:   ${crm.writeBackUrl}`,
    `  notification URL: ${crm.notificationUrl}`,
    `  data:             ${values.data}`,
    '',
    `Connect the demo: cardfile serve --demo --crm-url ${crm.baseUrl} --crm-secret ${secret}`,
    `Slow:  ${behaviour} '{"delayMs":8000}'`,
    `Fail:  ${behaviour} '{"failStatus":503}'`,
    `Down:  ${behaviour} '{"down":true}'`,
    `Well:  ${behaviour} '{"delayMs":0,"failStatus":null,"down":false}'`,
    `What it received: curl ${crm.url}/admin/received`,
  ].join('\n'),
)
const stop = (): void => {
  void crm.close().then(() => process.exit(0))
}
process.on('SIGINT', stop)
process.on('SIGTERM', stop)
