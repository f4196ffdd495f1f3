import { useState } from 'react'
import type { FormEvent, ReactNode } from 'react'
import { ATTRIBUTE_TYPES, hasOptions } from '@cardfile/core'
import type { AttributeDefinition, AttributeType } from '@cardfile/core'
import { useAttributeAdmin } from '@cardfile/react'
import type { AttributeAdmin } from '@cardfile/react'
import { attempt } from '../attempt'
import { channelLabel } from '../format'
import { AttributeDetails } from './attribute-details'
import { RulesFields, TYPE_LABELS, draftRules, rulesDraft } from './attribute-rules'
import { CrmConnectionCard } from './crm-connection-card'
import { FailedDeliveries } from './failed-deliveries'
import { RelinkProgress } from './relink-progress'
import { SortableAttributes } from './sortable-attributes'
import { Switch } from './switch'
import type { AttributeEditorProps } from './attribute-editor-props'

function describe(def: AttributeDefinition): string {
  if (def.kind === 'standard') return 'Standard · VIP flag, set from the contact panel'
  if (def.kind === 'platform') {
    return `Channel attribute · ${def.channels.map(channelLabel).join(', ')}`
  }
  const live = def.options.filter((o) => !o.retired).length
  if (def.type === 'text') return `Custom · text · up to ${def.maxLength} characters`
  const type = TYPE_LABELS[def.type].toLowerCase()
  return hasOptions(def.type)
    ? `Custom · ${type} · ${live} option${live === 1 ? '' : 's'}`
    : `Custom · ${type}`
}

function AttributeRow({
  admin,
  def,
  handle,
  onProblem,
}: AttributeEditorProps & { handle: ReactNode }) {
  const [renaming, setRenaming] = useState(false)
  const [label, setLabel] = useState(def.label)
  const [open, setOpen] = useState(false)
  const detailsId = `attribute-details-${def.id}`

  const rename = (event: FormEvent): void => {
    event.preventDefault()
    const problem = attempt(() => admin.updateAttribute(def.id, { label: label.trim() }))
    onProblem(problem)
    if (problem === null) setRenaming(false)
  }

  return (
    <>
      <div className="attribute-row-inner">
        {handle}
        <div className="attribute-main">
          {renaming ? (
            <form className="inline-form" onSubmit={rename}>
              <input
                value={label}
                aria-label={`New label for ${def.label}`}
                onChange={(event) => setLabel(event.target.value)}
                autoFocus
              />
              <button type="submit" className="button small primary">
                Save
              </button>
              <button
                type="button"
                className="button small ghost"
                onClick={() => setRenaming(false)}
              >
                Cancel
              </button>
            </form>
          ) : (
            <div className="attribute-title">
              <strong>{def.label}</strong>
              {def.crmManaged && (
                <span className="tag crm" title="Managed by the CRM" data-testid="crm-managed-tag">
                  CRM
                </span>
              )}
              {def.lookup && (
                <span className="tag" title="Contacts are looked up by it" data-testid="lookup-tag">
                  lookup
                </span>
              )}
              <code className="alias muted small" title="Alias" data-testid="alias">
                {def.alias}
              </code>
            </div>
          )}
          <span className="muted small">{describe(def)}</span>
          {hasOptions(def.type) && def.kind === 'custom' && (
            <div className="options">
              {def.options
                .filter((o) => !o.retired)
                .map((o) => (
                  <span key={o.id} className="option-chip" data-testid="option-chip">
                    {o.label}
                  </span>
                ))}
            </div>
          )}
        </div>
        <div className="attribute-controls">
          {def.kind !== 'platform' ? (
            <Switch
              checked={def.visible}
              label={`Show ${def.label}`}
              onChange={(next) => onProblem(attempt(() => admin.setVisible(def.id, next)))}
            />
          ) : (
            <div className="channel-switches">
              {def.channels.map((channel) => (
                <label key={channel} className="channel-switch">
                  <Switch
                    checked={def.channelVisibility[channel] ?? false}
                    label={`Show ${def.label} on ${channelLabel(channel)}`}
                    onChange={(next) =>
                      onProblem(attempt(() => admin.setVisible(def.id, next, channel)))
                    }
                  />
                  <span className="small">{channelLabel(channel)}</span>
                </label>
              ))}
            </div>
          )}
          {!renaming && (
            <div className="row-actions">
              <button
                type="button"
                className="button small ghost"
                aria-expanded={open}
                aria-controls={detailsId}
                aria-label={`Details of ${def.label}`}
                onClick={() => setOpen(!open)}
                data-testid="attribute-details-toggle"
              >
                {open ? 'Close' : 'Details'}
              </button>
              {def.kind === 'custom' && (
                <>
                  <button
                    type="button"
                    className="button small ghost"
                    aria-label={`Rename ${def.label}`}
                    onClick={() => {
                      setLabel(def.label)
                      setRenaming(true)
                    }}
                  >
                    Rename
                  </button>
                  <button
                    type="button"
                    className="button small ghost"
                    aria-label={`Retire ${def.label}`}
                    onClick={() => onProblem(attempt(() => admin.retireAttribute(def.id)))}
                  >
                    Retire
                  </button>
                </>
              )}
            </div>
          )}
        </div>
      </div>
      {open && (
        <div id={detailsId}>
          <AttributeDetails admin={admin} def={def} onProblem={onProblem} />
        </div>
      )}
    </>
  )
}

function CreateAttribute({ admin }: { admin: AttributeAdmin }) {
  const [label, setLabel] = useState('')
  const [type, setType] = useState<AttributeType>('text')
  const [options, setOptions] = useState('')
  const [rules, setRules] = useState(rulesDraft)
  const [problem, setProblem] = useState<string | null>(null)

  const submit = (event: FormEvent): void => {
    event.preventDefault()
    const optionLabels = options
      .split('\n')
      .map((o) => o.trim())
      .filter((o) => o !== '')
    // Option ids are chosen here so that a default can name options by label.
    const optionInputs = optionLabels.map((l, i) => ({ id: `o${i + 1}`, label: l }))
    const result = attempt(() => {
      admin.createAttribute({
        label: label.trim(),
        type,
        ...(hasOptions(type) ? { options: optionInputs } : {}),
        rules: draftRules(rules, type, optionInputs),
      })
    })
    setProblem(result)
    if (result === null) {
      setLabel('')
      setOptions('')
      setRules(rulesDraft())
    }
  }

  return (
    <form className="card create-form" onSubmit={submit} aria-label="New attribute">
      <h3>New attribute</h3>
      <label className="form-row">
        <span>Label</span>
        <input
          value={label}
          onChange={(event) => setLabel(event.target.value)}
          placeholder="e.g. Account manager"
          data-testid="new-attribute-label"
        />
      </label>
      <label className="form-row">
        <span>Type</span>
        <select
          value={type}
          onChange={(event) =>
            setType(ATTRIBUTE_TYPES.find((t) => t === event.target.value) ?? 'text')
          }
          data-testid="new-attribute-type"
        >
          {ATTRIBUTE_TYPES.map((t) => (
            <option key={t} value={t}>
              {TYPE_LABELS[t]}
            </option>
          ))}
        </select>
      </label>
      {hasOptions(type) && (
        <label className="form-row">
          <span>Options (one per line)</span>
          <textarea
            rows={4}
            value={options}
            onChange={(event) => setOptions(event.target.value)}
            placeholder={'Gold\nSilver\nBronze'}
            data-testid="new-attribute-options"
          />
        </label>
      )}
      <RulesFields type={type} draft={rules} onChange={setRules} />
      {problem !== null && (
        <p className="field-error" role="alert">
          {problem}
        </p>
      )}
      <button type="submit" className="button primary" data-testid="create-attribute">
        Create attribute
      </button>
    </form>
  )
}

function WorkspaceSettingsCard({ admin }: { admin: AttributeAdmin }) {
  const { settings, capabilities } = admin
  const [problem, setProblem] = useState<string | null>(null)
  const [team, setTeam] = useState(settings.vipTeam ?? '')
  const live = admin.attributes.filter((a) => !a.retired)
  const update = (patch: Parameters<AttributeAdmin['updateSettings']>[0]): void =>
    setProblem(attempt(() => admin.updateSettings(patch)))

  return (
    <div className="settings-side">
      <section className="card">
        <h3>Linking across channels</h3>
        <p className="muted small">
          Contacts whose values of this attribute match are linked, so their histories join. X and
          Instagram contacts always match by user id.
        </p>
        <label className="form-row">
          <span>Matching attribute</span>
          <select
            value={settings.matchingAttribute ?? ''}
            onChange={(event) =>
              update({ matchingAttribute: event.target.value === '' ? null : event.target.value })
            }
            data-testid="matching-attribute"
          >
            <option value="">None</option>
            {live
              .filter((a) => a.type === 'text')
              .map((a) => (
                <option key={a.id} value={a.id}>
                  {a.label}
                </option>
              ))}
          </select>
        </label>
        <RelinkProgress attributes={admin.attributes} />
      </section>
      <section className="card">
        <h3>VIP</h3>
        {!capabilities.vip ? (
          <p className="muted small">Your plan ({settings.plan}) does not include VIP.</p>
        ) : (
          <>
            <Switch
              checked={settings.vipEnabled}
              label="VIP contacts"
              showLabel
              onChange={(next) => update({ vipEnabled: next })}
            />
            <label className="form-row">
              <span>Route VIP conversations to team</span>
              <input
                value={team}
                placeholder="No team"
                onChange={(event) => setTeam(event.target.value)}
                onBlur={() => update({ vipTeam: team.trim() === '' ? null : team.trim() })}
              />
            </label>
            <label className="form-row">
              <span>Priority boost</span>
              <input
                type="number"
                min={0}
                max={100}
                value={settings.vipPriorityBoost}
                onChange={(event) => update({ vipPriorityBoost: Number(event.target.value) })}
              />
            </label>
          </>
        )}
      </section>
      <section className="card">
        <h3>CRM</h3>
        {!capabilities.crm ? (
          <p className="muted small">Your plan ({settings.plan}) does not include a CRM.</p>
        ) : (
          <Switch
            checked={settings.agentsMayEditCrm}
            label="Allow agents to add and edit CRM-managed attributes"
            showLabel
            onChange={(next) => update({ agentsMayEditCrm: next })}
          />
        )}
      </section>
      <CrmConnectionCard />
      {problem !== null && (
        <p className="notice error" role="alert">
          {problem}
        </p>
      )}
      <p className="muted small">Plan: {settings.plan}</p>
    </div>
  )
}

/**
 * Admin settings: attributes (create, switch, reorder, alias, CRM flags, options, retire and
 * restore), linking with the re-link's progress, VIP, the CRM connection and failed deliveries.
 */
export function SettingsPage() {
  const admin = useAttributeAdmin()
  const [problem, setProblem] = useState<string | null>(null)
  if (!admin.canAdmin) {
    return <p className="pad">Only admins can change contact attributes.</p>
  }
  if (admin.source === 'none') return <p className="muted pad">Loading settings…</p>
  const live = admin.attributes.filter((a) => !a.retired)
  const retired = admin.attributes.filter((a) => a.retired)
  return (
    <div className="settings">
      <div className="settings-main">
        <header className="page-header">
          <h1>Contact attributes</h1>
          <p className="muted">
            Agents see these in the contact panel in this order. Drag a row by its handle, or focus
            the handle and use Space and the arrow keys.
          </p>
        </header>
        {problem !== null && (
          <p className="notice error" role="alert">
            {problem}
          </p>
        )}
        <SortableAttributes
          attributes={live}
          onReorder={(ids) => setProblem(attempt(() => admin.reorder(ids)))}
          renderRow={(def, handle) => (
            <AttributeRow admin={admin} def={def} handle={handle} onProblem={setProblem} />
          )}
        />
        {retired.length > 0 && (
          <details className="retired">
            <summary>Retired attributes ({retired.length})</summary>
            <ul>
              {retired.map((def) => (
                <li key={def.id} data-testid="retired-attribute" data-attribute-id={def.id}>
                  {def.label}{' '}
                  <button
                    type="button"
                    className="button small ghost"
                    aria-label={`Restore ${def.label}`}
                    onClick={() => setProblem(attempt(() => admin.retireAttribute(def.id, false)))}
                  >
                    Restore
                  </button>
                </li>
              ))}
            </ul>
          </details>
        )}
        <FailedDeliveries />
      </div>
      <div className="settings-aside">
        <CreateAttribute admin={admin} />
        <WorkspaceSettingsCard admin={admin} />
      </div>
    </div>
  )
}
