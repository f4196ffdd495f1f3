import { rm } from 'node:fs/promises'
import { join } from 'node:path'

/**
 * Where a document's attachment files live: `<attachmentsDir>/<encoded doc name>/`. The name
 * is percent-encoded (slashes included, dots too) so a document name can never climb out of
 * the attachments directory or collide with another document's folder.
 *
 * @example
 * attachmentDir('/var/cardfile/files', 'demo/conversation/v1')
 * // '/var/cardfile/files/demo%2Fconversation%2Fv1'
 */
export const attachmentDir = (attachmentsDir: string, docName: string): string =>
  join(attachmentsDir, encodeURIComponent(docName).replaceAll('.', '%2E'))

/** Deletes the attachment folders of the given documents; missing folders are fine. */
export async function removeAttachments(
  attachmentsDir: string | undefined,
  docNames: Iterable<string>,
): Promise<void> {
  if (attachmentsDir === undefined) return
  await Promise.all(
    [...docNames].map((name) =>
      rm(attachmentDir(attachmentsDir, name), { recursive: true, force: true }),
    ),
  )
}
