/**
 * Validation of Events API v2 bodies, as PagerDuty's schema (PagerDuty/api-schema
 * `reference/events-v2/openapiv3.json`) and docs (PagerDuty/developer-docs `docs/events-API-v2`) state it.
 * Each check pushes a message naming the failing field, in the style of PagerDuty's 400 `errors`.
 *
 * @module
 */
import { isObject } from './wire.ts';

const SEVERITIES = ['critical', 'warning', 'error', 'info'];
const ACTIONS = ['trigger', 'acknowledge', 'resolve'];
const ISO_8601 = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}(:\d{2}(\.\d+)?)?(Z|[+-]\d{2}:?\d{2})?$/;
/** True when a value is not a string with something in it. */
export const blank = (v: unknown) => typeof v !== 'string' || v.trim().length === 0;

/** Checks an alert event (`/v2/enqueue`). */
export function validateAlert(body: Record<string, unknown>, errors: string[]): void {
  const action = body.event_action;
  if (blank(action)) errors.push("'event_action' is missing or blank");
  else if (!ACTIONS.includes(action as string)) {
    errors.push(
      "'event_action' is invalid (must be one of the following: 'trigger', 'acknowledge' or 'resolve')",
    );
  }
  const dedup = body.dedup_key;
  if (dedup !== undefined && typeof dedup !== 'string') errors.push("'dedup_key' must be a string");
  else if (typeof dedup === 'string' && (dedup.length === 0 || dedup.length > 255)) {
    errors.push("Length of 'dedup_key' is incorrect (should be 1 to 255 characters)");
  } else if (dedup === undefined && (action === 'acknowledge' || action === 'resolve')) {
    errors.push("'dedup_key' is missing or blank");
  }
  for (const field of ['client', 'client_url'] as const) {
    if (body[field] !== undefined && typeof body[field] !== 'string')
      errors.push(`'${field}' must be a string`);
  }
  if (action !== 'trigger') return;
  const payload = body.payload;
  if (!isObject(payload)) {
    errors.push("'payload' is missing or blank");
    return;
  }
  validateSummary(payload, errors);
  if (blank(payload.source)) errors.push("'payload.source' is missing or blank");
  if (!SEVERITIES.includes(String(payload.severity))) {
    errors.push(
      "'payload.severity' is invalid (must be one of the following: 'critical', 'warning', 'error' or 'info')",
    );
  }
  validateOptional(payload, errors);
  for (const field of ['component', 'group', 'class'] as const) {
    if (payload[field] !== undefined && typeof payload[field] !== 'string') {
      errors.push(`'payload.${field}' must be a string`);
    }
  }
}

function validateSummary(payload: Record<string, unknown>, errors: string[]): void {
  if (blank(payload.summary)) errors.push("'payload.summary' is missing or blank");
  else if ((payload.summary as string).length > 1024) {
    errors.push("Length of 'payload.summary' is incorrect (should be 1 to 1024 characters)");
  }
}

function validateOptional(payload: Record<string, unknown>, errors: string[]): void {
  const { timestamp, custom_details: details } = payload;
  if (timestamp !== undefined && (typeof timestamp !== 'string' || !ISO_8601.test(timestamp))) {
    errors.push("'payload.timestamp' is invalid (must be an ISO 8601 date-time)");
  }
  if (details !== undefined && !isObject(details)) errors.push("'payload.custom_details' must be an object");
}

/** Checks a change event (`/v2/change/enqueue`). */
export function validateChange(body: Record<string, unknown>, errors: string[]): void {
  const payload = body.payload;
  if (!isObject(payload)) {
    errors.push("'payload' is missing or blank");
    return;
  }
  validateSummary(payload, errors);
  if (payload.source !== undefined && typeof payload.source !== 'string') {
    errors.push("'payload.source' must be a string");
  }
  validateOptional(payload, errors);
}

/** links[{href, text?}] and images[{src, href?, alt?}], as the schema's Links and Images. */
export function validateContext(body: Record<string, unknown>, errors: string[]): void {
  const check = (name: 'links' | 'images', required: string, optional: string[]) => {
    const list = body[name];
    if (list === undefined) return;
    if (!Array.isArray(list)) {
      errors.push(`'${name}' must be an array`);
      return;
    }
    for (const [i, item] of list.entries()) {
      if (!isObject(item) || blank(item[required]))
        errors.push(`'${name}[${i}].${required}' is missing or blank`);
      else
        for (const field of optional) {
          if (item[field] !== undefined && typeof item[field] !== 'string') {
            errors.push(`'${name}[${i}].${field}' must be a string`);
          }
        }
    }
  };
  check('links', 'href', ['text']);
  check('images', 'src', ['href', 'alt']);
}
