import { sortByOrder } from './attribute-order'
import { readRules } from './attribute-rules'
import { isChannelId } from './channels'
import { attributeKey, channelVisibilityKey, optionKey } from './document-layout'
import type {
  AttributeDefinition,
  ChannelId,
  DropdownOption,
  Plan,
  WorkspaceSettings,
} from './types'
import { PLANS } from './types'
import { DEFAULT_MAX_LENGTH } from './validation'
import { isAttributeType } from './value-types'

/*
 * Reading definitions and settings from raw key/value reads. Shared by SchemaDoc (reading a
 * Y.Doc) and authorizeChanges (reading the post-change state through PolicyContext.read), so
 * that both see exactly the same definition. Reads are forgiving: a missing or malformed value
 * reads as its default; checking what was written is the job of validation and policy.
 */

/** Reads one key of a root map; undefined when absent. */
export type KeyReader = (key: string) => unknown

/** Settings of a workspace that has not written any. */
export const DEFAULT_SETTINGS: WorkspaceSettings = Object.freeze({
  vipEnabled: true,
  vipTeam: null,
  vipPriorityBoost: 1,
  matchingAttribute: null,
  agentsMayEditCrm: false,
  plan: 'advanced',
})

const str = (value: unknown, fallback: string): string =>
  typeof value === 'string' ? value : fallback
const bool = (value: unknown, fallback: boolean): boolean =>
  typeof value === 'boolean' ? value : fallback

/** Reads one definition; `optionIds` are the option ids found for it in the options map. */
export function readDefinition(
  id: string,
  attributes: KeyReader,
  options: KeyReader,
  optionIds: Iterable<string>,
): AttributeDefinition {
  const rawKind = attributes(attributeKey(id, 'kind'))
  const kind = rawKind === 'platform' || rawKind === 'standard' ? rawKind : 'custom'
  const rawType = attributes(attributeKey(id, 'type'))
  const type = isAttributeType(rawType) ? rawType : 'text'
  const rawChannels = attributes(attributeKey(id, 'channels'))
  const channels: ChannelId[] = Array.isArray(rawChannels) ? rawChannels.filter(isChannelId) : []
  const channelVisibility: Partial<Record<ChannelId, boolean>> = {}
  for (const channel of channels) {
    channelVisibility[channel] = bool(attributes(channelVisibilityKey(id, channel)), true)
  }
  const maxLength = attributes(attributeKey(id, 'maxLength'))
  const opts: DropdownOption[] = []
  for (const optionId of new Set(optionIds)) {
    opts.push(
      Object.freeze({
        id: optionId,
        label: str(options(optionKey(id, optionId, 'label')), ''),
        order: str(options(optionKey(id, optionId, 'order')), ''),
        retired: bool(options(optionKey(id, optionId, 'retired')), false),
      }),
    )
  }
  return Object.freeze({
    id,
    label: str(attributes(attributeKey(id, 'label')), ''),
    kind,
    type,
    alias: str(attributes(attributeKey(id, 'alias')), id),
    channels: Object.freeze(channels),
    visible: bool(attributes(attributeKey(id, 'visible')), true),
    channelVisibility: Object.freeze(channelVisibility),
    crmManaged: bool(attributes(attributeKey(id, 'crmManaged')), false),
    lookup: bool(attributes(attributeKey(id, 'lookup')), false),
    retired: bool(attributes(attributeKey(id, 'retired')), false),
    maxLength: typeof maxLength === 'number' ? maxLength : DEFAULT_MAX_LENGTH,
    order: str(attributes(attributeKey(id, 'order')), ''),
    options: Object.freeze(sortByOrder(opts)),
    rules: readRules(attributes(attributeKey(id, 'rules'))),
  })
}

/** Reads the settings map, defaults filling whatever is absent or malformed. */
export function readSettings(settings: KeyReader): WorkspaceSettings {
  const plan = settings('plan')
  const team = settings('vipTeam')
  const boost = settings('vipPriorityBoost')
  const matching = settings('matchingAttribute')
  return Object.freeze({
    vipEnabled: bool(settings('vipEnabled'), DEFAULT_SETTINGS.vipEnabled),
    vipTeam: typeof team === 'string' ? team : null,
    vipPriorityBoost:
      typeof boost === 'number' && Number.isFinite(boost)
        ? boost
        : DEFAULT_SETTINGS.vipPriorityBoost,
    matchingAttribute: typeof matching === 'string' ? matching : null,
    agentsMayEditCrm: bool(settings('agentsMayEditCrm'), DEFAULT_SETTINGS.agentsMayEditCrm),
    plan: (PLANS as readonly unknown[]).includes(plan) ? (plan as Plan) : DEFAULT_SETTINGS.plan,
  })
}
