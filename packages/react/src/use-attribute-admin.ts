import { useCallback, useMemo } from 'react'
import {
  CardfileError,
  DEFAULT_SETTINGS,
  ErrorCodes,
  capabilities,
  checkCrmManagedMark,
} from '@cardfile/core'
import type {
  AttributeDefinition,
  CardfileClient,
  ChannelId,
  DropdownOption,
  MoveTarget,
  PlanCapabilities,
  SchemaDoc,
  WorkspaceSettings,
} from '@cardfile/core'
import { schemaAccess } from './access'
import { useCardfileClient } from './context'
import { loadStateOf } from './load-state'
import type { LoadState } from './load-state'
import { useDocumentSelector } from './use-document-selector'
import { withSchema } from './with-handle'

type CreateInput = Parameters<SchemaDoc['createAttribute']>[0]
type AttributePatch = Parameters<SchemaDoc['updateAttribute']>[1]

/** What {@link useAttributeAdmin} returns. Every function throws a CardfileError when refused. */
export interface AttributeAdmin extends LoadState {
  /** The signed-in user is an admin; for anyone else every function throws `forbidden`. */
  readonly canAdmin: boolean
  /** Every definition, retired ones included, in order. */
  readonly attributes: readonly AttributeDefinition[]
  readonly settings: WorkspaceSettings
  /** What the workspace's plan allows (to hide VIP or CRM settings it lacks). */
  readonly capabilities: PlanCapabilities
  /**
   * The signed-in admin may mark attributes CRM-managed (the plan has the CRM); otherwise
   * creating or updating one with `crmManaged: true` throws `plan-lacks-feature`.
   */
  readonly canMarkCrmManaged: boolean
  createAttribute(input: CreateInput): AttributeDefinition
  updateAttribute(id: string, patch: AttributePatch): void
  retireAttribute(id: string, retired?: boolean): void
  /** Switches an attribute on or off (platform attributes: on one channel). */
  setVisible(id: string, visible: boolean, channel?: ChannelId): void
  /** Flips an attribute's visibility (platform attributes: on one channel). */
  toggle(id: string, channel?: ChannelId): void
  moveAttribute(id: string, target: MoveTarget): void
  /** Puts the attributes in this order (drag and drop result); others keep their place after. */
  reorder(ids: readonly string[]): void
  addOption(
    attributeId: string,
    input: { readonly id?: string; readonly label: string },
  ): DropdownOption
  renameOption(attributeId: string, optionId: string, label: string): void
  moveOption(attributeId: string, optionId: string, target: MoveTarget): void
  retireOption(attributeId: string, optionId: string, retired?: boolean): void
  /** Matching attribute, VIP (on/off, team, boost), agent edits of CRM-managed attributes. */
  updateSettings(patch: Partial<Omit<WorkspaceSettings, 'plan'>>): void
}

/** Throws what the server would refuse a CRM-managed mark with, before anything is written. */
function checkMark(client: CardfileClient, schema: SchemaDoc, id: string | null): void {
  const actor = client.actor()
  if (actor === null) return
  if (id !== null && schema.definition(id)?.crmManaged === true) return
  const check = checkCrmManagedMark(actor, schema.view())
  if (!check.ok) throw new CardfileError(check.code, check.message, `attributes:${id ?? 'new'}`)
}

const asAdmin = <R>(client: CardfileClient, fn: (schema: SchemaDoc) => R): R => {
  const actor = client.actor()
  if (actor === null || actor.role !== 'admin') {
    throw new CardfileError(ErrorCodes.Forbidden, 'Only admins may change attributes and settings')
  }
  return withSchema(client, (handle) => handle.transact(() => fn(handle.schema)))
}

/**
 * Everything an admin settings page needs: attributes with retired ones, settings, and
 * functions to create, edit, retire, switch, move and reorder attributes and manage dropdown
 * options. `canAdmin` is false for non-admins, and then the functions throw `forbidden`.
 *
 * @example
 * function AttributeSettings() {
 *   const admin = useAttributeAdmin()
 *   if (!admin.canAdmin) return <p>Ask an admin</p>
 *   return (
 *     <SortableList
 *       items={admin.attributes.filter((a) => !a.retired)}
 *       onSort={(ids) => admin.reorder(ids)}
 *       onToggle={(a) => admin.toggle(a.id)}
 *     />
 *   )
 * }
 */
export function useAttributeAdmin(): AttributeAdmin {
  const client = useCardfileClient()
  const snapshot = useDocumentSelector(schemaAccess(client.workspace), (handle) => {
    const settings = handle?.schema.settings() ?? null
    return {
      ...loadStateOf(handle),
      canAdmin: client.actor()?.role === 'admin',
      attributes: handle?.schema.definitions() ?? [],
      settings,
    }
  })
  const run = useCallback(<R>(fn: (schema: SchemaDoc) => R): R => asAdmin(client, fn), [client])
  const functions = useMemo(
    () => ({
      createAttribute: (input: CreateInput) =>
        run((s) => {
          if (input.crmManaged === true) checkMark(client, s, null)
          return s.createAttribute(input)
        }),
      updateAttribute: (id: string, patch: AttributePatch) =>
        run((s) => {
          if (patch.crmManaged === true) checkMark(client, s, id)
          s.updateAttribute(id, patch)
        }),
      retireAttribute: (id: string, retired = true) => run((s) => s.retireAttribute(id, retired)),
      setVisible: (id: string, visible: boolean, channel?: ChannelId) =>
        run((s) => s.setVisible(id, visible, channel)),
      toggle: (id: string, channel?: ChannelId) =>
        run((s) => {
          const def = s.definition(id)
          if (def === undefined) {
            throw new CardfileError(ErrorCodes.UnknownAttribute, `No attribute "${id}"`)
          }
          const current =
            def.kind === 'platform' && channel !== undefined
              ? (def.channelVisibility[channel] ?? false)
              : def.visible
          s.setVisible(id, !current, channel)
        }),
      moveAttribute: (id: string, target: MoveTarget) => run((s) => s.moveAttribute(id, target)),
      reorder: (ids: readonly string[]) => run((s) => s.reorder(ids)),
      addOption: (attributeId: string, input: { readonly id?: string; readonly label: string }) =>
        run((s) => s.addOption(attributeId, input)),
      renameOption: (attributeId: string, optionId: string, label: string) =>
        run((s) => s.renameOption(attributeId, optionId, label)),
      moveOption: (attributeId: string, optionId: string, target: MoveTarget) =>
        run((s) => s.moveOption(attributeId, optionId, target)),
      retireOption: (attributeId: string, optionId: string, retired = true) =>
        run((s) => s.retireOption(attributeId, optionId, retired)),
      updateSettings: (patch: Partial<Omit<WorkspaceSettings, 'plan'>>) =>
        run((s) => s.updateSettings(patch)),
    }),
    [run, client],
  )
  return useMemo(() => {
    const settings = snapshot.settings ?? DEFAULT_SETTINGS
    return {
      ...snapshot,
      settings,
      capabilities: capabilities(settings.plan),
      canMarkCrmManaged: snapshot.canAdmin && capabilities(settings.plan).crm,
      ...functions,
    }
  }, [snapshot, functions])
}
