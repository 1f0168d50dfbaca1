import type { Static } from 'typebox';
import type { AttachmentRow } from '../../db/schema.js';
import type { SignedLink } from './attachments.links.js';
import type { Attachment, AttachmentDetail } from './attachments.schemas.js';

export type AttachmentView = Static<typeof Attachment>;
export type AttachmentDetailView = Static<typeof AttachmentDetail>;

export const downloadPath = (id: number) => `/api/attachments/${id}/download/`;

export function attachmentView(a: AttachmentRow): AttachmentView {
  return {
    id: a.id,
    message: a.message_id,
    file_type: a.file_type,
    mime_type: a.mime_type,
    file_name: a.file_name,
    size: a.size,
    download_url: downloadPath(a.id),
    created_at: a.created_at,
  };
}

/** With the absolute URL and the caller's signed link, for the attachment routes (they know the request's origin and caller). */
export function attachmentDetail(a: AttachmentRow, origin: string, link: SignedLink): AttachmentDetailView {
  return { ...attachmentView(a), file: `${origin}${downloadPath(a.id)}`, ...link };
}
