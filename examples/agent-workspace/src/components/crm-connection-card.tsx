import { useEffect, useState } from 'react'
import type { FormEvent } from 'react'
import { useCrmSettings } from '@cardfile/react'
import type { CrmSettings } from '@cardfile/react'
import { adminMessage, describeConnectionTest } from '../admin-messages'
import { ago } from '../format'
import { Switch } from './switch'

type UrlField = 'lookupUrl' | 'writeBackUrl' | 'notificationUrl'

const URL_FIELDS: readonly { field: UrlField; label: string; hint: string }[] = [
  { field: 'lookupUrl', label: 'Lookup URL', hint: 'Required. Asked when a conversation starts.' },
  {
    field: 'writeBackUrl',
    label: 'Write-back URL',
    hint: "Optional. Receives agents' edits of CRM-managed values.",
  },
  {
    field: 'notificationUrl',
    label: 'Notification URL',
    hint: 'Optional. Told when conversations start and change status.',
  },
]

const formOf = (settings: CrmSettings | null): Record<UrlField, string> => ({
  lookupUrl: settings?.lookupUrl ?? '',
  writeBackUrl: settings?.writeBackUrl ?? '',
  notificationUrl: settings?.notificationUrl ?? '',
})

/**
 * The workspace's CRM connection: its URLs, on or off, a test, and the signing secret (shown
 * once when generated, then only its last characters).
 */
export function CrmConnectionCard() {
  const crm = useCrmSettings()
  const { settings } = crm
  const [form, setForm] = useState(() => formOf(settings))
  const [dirty, setDirty] = useState(false)
  const [problem, setProblem] = useState<string | null>(null)
  const [secret, setSecret] = useState<string | null>(null)
  const [confirmRotate, setConfirmRotate] = useState(false)
  const [ownSecret, setOwnSecret] = useState('')
  const [busy, setBusy] = useState(false)

  // What the server holds shows in the form until the admin starts typing.
  useEffect(() => {
    if (!dirty) setForm(formOf(settings))
  }, [settings, dirty])

  if (!crm.canManage) return null
  if (settings === null) {
    return (
      <section className="card" data-testid="crm-connection">
        <h3>CRM connection</h3>
        {crm.error === null ? (
          <p className="muted small">Loading…</p>
        ) : (
          <p className="notice error" role="alert">
            {adminMessage(crm.error)}
          </p>
        )}
      </section>
    )
  }

  const run = async (work: () => Promise<unknown>): Promise<void> => {
    setBusy(true)
    setProblem(null)
    try {
      await work()
    } catch (error) {
      setProblem(adminMessage(error))
    } finally {
      setBusy(false)
    }
  }

  const save = (event: FormEvent): void => {
    event.preventDefault()
    const patch = {
      lookupUrl: form.lookupUrl.trim() === '' ? null : form.lookupUrl.trim(),
      writeBackUrl: form.writeBackUrl.trim() === '' ? null : form.writeBackUrl.trim(),
      notificationUrl: form.notificationUrl.trim() === '' ? null : form.notificationUrl.trim(),
      // The first configuration switches the CRM on: that is what "Connect" means.
      ...(settings.configured ? {} : { enabled: true }),
    }
    void run(async () => {
      const change = await crm.save(patch)
      setDirty(false)
      if (change.secret !== null) setSecret(change.secret)
    })
  }

  const status = !settings.configured ? 'Not connected' : settings.enabled ? 'On' : 'Switched off'

  return (
    <section
      className="card crm-connection"
      data-testid="crm-connection"
      data-state={!settings.configured ? 'none' : settings.enabled ? 'on' : 'off'}
    >
      <h3>
        CRM connection <span className="muted small">· {status}</span>
      </h3>
      {settings.configured && (
        <Switch
          checked={settings.enabled}
          label="Use the CRM"
          showLabel
          disabled={busy}
          onChange={(next) => void run(() => crm.save({ enabled: next }))}
        />
      )}
      {settings.configured && !settings.enabled && (
        <p className="muted small">
          While it is off, no look-ups run and deliveries wait; nothing is lost.
        </p>
      )}
      <form onSubmit={save} aria-label="CRM connection">
        {URL_FIELDS.map(({ field, label, hint }) => (
          <label key={field} className="form-row">
            <span>{label}</span>
            <input
              type="url"
              value={form[field]}
              placeholder="https://crm.example.com/cardfile/…"
              title={hint}
              onChange={(event) => {
                setForm({ ...form, [field]: event.target.value })
                setDirty(true)
              }}
              data-testid={`crm-${field}`}
            />
            <small className="muted">{hint}</small>
          </label>
        ))}
        <div className="button-row">
          <button
            type="submit"
            className="button primary small"
            disabled={busy || (settings.configured && !dirty)}
            data-testid="crm-save"
          >
            {settings.configured ? 'Save' : 'Connect'}
          </button>
          <button
            type="button"
            className="button small"
            disabled={busy || crm.testing || !settings.configured}
            onClick={() => void run(() => crm.test())}
            data-testid="crm-test"
          >
            {crm.testing ? 'Testing…' : 'Test connection'}
          </button>
        </div>
      </form>
      {crm.lastTest !== null && (
        <p
          className={`notice ${crm.lastTest.ok ? 'info' : 'error'}`}
          role="status"
          data-testid="crm-test-result"
          data-outcome={crm.lastTest.outcome}
        >
          {describeConnectionTest(crm.lastTest)}
        </p>
      )}
      {problem !== null && (
        <p className="notice error" role="alert" data-testid="crm-problem">
          {problem}
        </p>
      )}
      {secret !== null && (
        <div className="notice info secret-notice" data-testid="crm-new-secret">
          <p>
            The new signing secret. Copy it to your CRM now: it is shown only this once, and the CRM
            refuses Cardfile&apos;s requests until it has it.
          </p>
          <code className="secret" data-testid="crm-secret">
            {secret}
          </code>
          <button type="button" className="button small" onClick={() => setSecret(null)}>
            I have copied it
          </button>
        </div>
      )}
      {settings.configured && (
        <div className="details-section">
          <p className="small">
            Signing secret <code data-testid="crm-secret-hint">{settings.secretHint}</code>
            {settings.updatedAt !== null && (
              <span className="muted"> · changed {ago(settings.updatedAt)}</span>
            )}
          </p>
          {confirmRotate ? (
            <div className="confirm">
              <p className="small">
                A new secret replaces the current one at once: the CRM refuses Cardfile&apos;s
                requests until you give it the new one.
              </p>
              <div className="button-row">
                <button
                  type="button"
                  className="button danger small"
                  disabled={busy}
                  onClick={() =>
                    void run(async () => {
                      const change = await crm.rotateSecret()
                      setConfirmRotate(false)
                      setSecret(change.secret)
                    })
                  }
                  data-testid="crm-rotate-confirm"
                >
                  Generate new secret
                </button>
                <button
                  type="button"
                  className="button ghost small"
                  onClick={() => setConfirmRotate(false)}
                >
                  Cancel
                </button>
              </div>
            </div>
          ) : (
            <button
              type="button"
              className="button small"
              onClick={() => setConfirmRotate(true)}
              data-testid="crm-rotate"
            >
              Rotate secret…
            </button>
          )}
          <details className="own-secret">
            <summary className="small">Use a secret the CRM already has</summary>
            <form
              className="inline-form"
              onSubmit={(event) => {
                event.preventDefault()
                void run(async () => {
                  await crm.rotateSecret(ownSecret.trim())
                  setOwnSecret('')
                })
              }}
            >
              <input
                value={ownSecret}
                placeholder="Hex, 32 to 256 characters"
                aria-label="Secret the CRM already has"
                autoComplete="off"
                onChange={(event) => setOwnSecret(event.target.value)}
              />
              <button type="submit" className="button small" disabled={ownSecret.trim() === ''}>
                Set
              </button>
            </form>
          </details>
        </div>
      )}
    </section>
  )
}
