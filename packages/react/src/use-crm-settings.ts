import { useCallback, useEffect, useMemo, useRef, useState } from 'react'
import type { CardfileError } from '@cardfile/core'
import { apiJson } from '@cardfile/core'
import { useCardfileClient } from './context'
import { useAdminWithFeature } from './admin-feature'
import { setCrmConnection } from './crm-connection'
import { asCardfileError } from './as-cardfile-error'

/** The workspace's CRM connection as admins read it: the secret only as its last characters. */
export interface CrmSettings {
  /** An admin has configured the connection once (a secret exists). */
  readonly configured: boolean
  /** Switched on: lookups and deliveries run. */
  readonly enabled: boolean
  readonly lookupUrl: string | null
  readonly writeBackUrl: string | null
  readonly notificationUrl: string | null
  /** `…` and the secret's last 4 characters, or null before the first configuration. */
  readonly secretHint: string | null
  /** When an admin last changed it, in ms since epoch. */
  readonly updatedAt: number | null
}

/** A change of the connection: what is left out stays as it is; null clears a URL. */
export interface CrmSettingsPatch {
  readonly enabled?: boolean
  readonly lookupUrl?: string | null
  readonly writeBackUrl?: string | null
  readonly notificationUrl?: string | null
}

/** What a test of the connection found (`POST /api/<ws>/crm/test`). */
export interface CrmConnectionTest {
  /** The CRM verified the signed test lookup and answered a well-formed lookup answer. */
  readonly ok: boolean
  /**
   * `not-configured`: no lookup URL is set; `unreachable`: no answer in time or no connection;
   * `rejected`: an error status (401: the CRM holds another secret); `malformed`: an answer
   * that is not a lookup answer.
   */
  readonly outcome: 'ok' | 'not-configured' | 'unreachable' | 'rejected' | 'malformed'
  /** The CRM's HTTP status when it refused, else null. */
  readonly status: number | null
  readonly reason: string | null
  readonly at: number
  readonly durationMs: number
}

/** What a change answers: the new settings, and the secret when one was generated. */
export interface CrmSettingsChange {
  readonly settings: CrmSettings
  /**
   * The full secret, only when the server generated it (the first configuration, a rotation
   * without a given secret): show it once, for the CRM's side; no read returns it again.
   */
  readonly secret: string | null
}

/** What {@link useCrmSettings} returns. Functions reject with the CardfileError that refused. */
export interface CrmSettingsResult {
  /** An admin on a plan with the CRM; for anyone else nothing is read and functions reject. */
  readonly canManage: boolean
  /** The connection, or null until read. */
  readonly settings: CrmSettings | null
  readonly loading: boolean
  /** Why the last read or change failed, or null. */
  readonly error: CardfileError | null
  /** Changes URLs or switches the connection on or off. */
  save(patch: CrmSettingsPatch): Promise<CrmSettingsChange>
  /** Generates a new secret (returned once), or sets the given hex secret. */
  rotateSecret(secret?: string): Promise<CrmSettingsChange>
  /** Sends the lookup URL a signed test lookup now (also while switched off). */
  test(): Promise<CrmConnectionTest>
  /** A test is in flight. */
  readonly testing: boolean
  /** What the last test through this hook found; cleared by a change of the connection. */
  readonly lastTest: CrmConnectionTest | null
  /** Reads the connection again. */
  reload(): Promise<void>
}

interface ConfigAnswer {
  readonly config: CrmSettings
  readonly secret?: string
}

/**
 * The workspace's CRM connection for an admin settings page: read it, change its URLs, switch
 * it on or off, rotate the secret and test it. A change also tells this client's
 * {@link useCrmStatus} lines whether the CRM is on.
 *
 * @example
 * function CrmCard() {
 *   const crm = useCrmSettings()
 *   if (!crm.canManage || crm.settings === null) return null
 *   return (
 *     <>
 *       <Switch checked={crm.settings.enabled} onChange={(on) => void crm.save({ enabled: on })} />
 *       <button onClick={() => void crm.test()}>Test connection</button>
 *       {crm.lastTest && (crm.lastTest.ok ? 'Connected' : crm.lastTest.reason)}
 *     </>
 *   )
 * }
 */
export function useCrmSettings(): CrmSettingsResult {
  const client = useCardfileClient()
  const canManage = useAdminWithFeature('crm')
  const base = `/api/${encodeURIComponent(client.workspace)}/crm`
  const [settings, setSettings] = useState<CrmSettings | null>(null)
  const [loading, setLoading] = useState(false)
  const [error, setError] = useState<CardfileError | null>(null)
  const [testing, setTesting] = useState(0)
  const [lastTest, setLastTest] = useState<CrmConnectionTest | null>(null)
  const mounted = useRef(true)
  useEffect(() => {
    mounted.current = true
    return () => {
      mounted.current = false
    }
  }, [])

  const apply = useCallback(
    (next: CrmSettings) => {
      setCrmConnection(client, next.configured && next.enabled ? 'on' : 'off')
      if (mounted.current) setSettings(next)
    },
    [client],
  )

  const reload = useCallback(async () => {
    setLoading(true)
    try {
      apply(await apiJson<CrmSettings>(client, `${base}/config`))
      if (mounted.current) setError(null)
    } catch (e) {
      if (mounted.current) setError(asCardfileError(e))
    } finally {
      if (mounted.current) setLoading(false)
    }
  }, [client, base, apply])

  useEffect(() => {
    if (canManage) void reload()
  }, [canManage, reload])

  const change = useCallback(
    async (path: string, method: string, body: unknown): Promise<CrmSettingsChange> => {
      try {
        const answer = await apiJson<ConfigAnswer>(client, `${base}/${path}`, {
          method,
          body: JSON.stringify(body),
        })
        apply(answer.config)
        if (mounted.current) {
          setError(null)
          setLastTest(null)
        }
        return { settings: answer.config, secret: answer.secret ?? null }
      } catch (e) {
        const failure = asCardfileError(e)
        if (mounted.current) setError(failure)
        throw failure
      }
    },
    [client, base, apply],
  )

  const save = useCallback((patch: CrmSettingsPatch) => change('config', 'PUT', patch), [change])
  const rotateSecret = useCallback(
    (secret?: string) => change('secret', 'POST', secret === undefined ? {} : { secret }),
    [change],
  )

  const test = useCallback(async (): Promise<CrmConnectionTest> => {
    setTesting((n) => n + 1)
    try {
      const result = await apiJson<CrmConnectionTest>(client, `${base}/test`, { method: 'POST' })
      if (mounted.current) setLastTest(result)
      return result
    } catch (e) {
      const failure = asCardfileError(e)
      if (mounted.current) setError(failure)
      throw failure
    } finally {
      if (mounted.current) setTesting((n) => n - 1)
    }
  }, [client, base])

  return useMemo(
    () => ({
      canManage,
      settings,
      loading,
      error,
      save,
      rotateSecret,
      test,
      testing: testing > 0,
      lastTest,
      reload,
    }),
    [canManage, settings, loading, error, save, rotateSecret, test, testing, lastTest, reload],
  )
}
