/**
 * Runs the reference CRM: `npx tsx examples/crm-reference/main.ts`.
 * Environment: CRM_PORT (default 4100), CRM_DATA (default ./crm-reference.json), CRM_SECRET
 * (hex, the secret Cardfile shows once when an admin rotates it).
 */
import { startReferenceCrm } from './reference-crm'

const secret = process.env.CRM_SECRET
if (secret === undefined || !/^(?:[0-9a-f]{2}){16,}$/.test(secret)) {
  console.error('Set CRM_SECRET to the workspace secret (hex) that Cardfile generated.')
  process.exit(1)
}
const crm = await startReferenceCrm({
  port: Number(process.env.CRM_PORT ?? 4100),
  dataFile: process.env.CRM_DATA ?? './crm-reference.json',
  secret,
  seed: [{ id: 'r1', match: { email: 'ana@example.com' }, values: { crm_tier: 'Gold' } }],
})
console.log(`Reference CRM on ${crm.url}`)
console.log(`  lookup URL:       ${crm.lookupUrl}`)
console.log(`  write-back URL:   ${crm.writeBackUrl}`)
console.log(`  notification URL: ${crm.notificationUrl}`)
console.log(
  '  misbehave: POST /admin/behaviour {"down":true} | {"delayMs":8000} | {"failStatus":503}',
)
const stop = (): void => {
  void crm.close().then(() => process.exit(0))
}
process.on('SIGINT', stop)
process.on('SIGTERM', stop)
