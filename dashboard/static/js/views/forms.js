// Shared form logic: put a server error next to the field it names.

import { setFieldError } from '../dom.js';

/**
 * Clears every field's error, then, when message names one of the fields
 * (by its API name, like siteUrl or allowedOrigins), shows message under
 * it and focuses it. Returns whether a field was found.
 */
export function showFieldErrors(fields, message) {
  for (const f of Object.values(fields)) setFieldError(f, null);
  if (!message) return false;
  const lower = message.toLowerCase();
  const keys = Object.keys(fields).sort((a, b) => b.length - a.length);
  let hit = keys.find((k) => k !== 'name' && lower.includes(k.toLowerCase()));
  if (!hit && fields.name && /\bname\b/.test(lower)) hit = 'name';
  if (!hit) return false;
  setFieldError(fields[hit], message);
  fields[hit].control.focus();
  return true;
}
