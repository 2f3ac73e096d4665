/**
 * The Block Kit limits Slack enforces on a message's `blocks`, as the sink checks them; breaking any one
 * is Slack's `invalid_blocks` (the message is refused, not cut: apify/crawlee-python#2155).
 *
 * Limits, from Slack's Block Kit reference:
 * - at most 50 blocks in a message (https://api.slack.com/reference/block-kit/blocks);
 * - `section`: `text` 1–3000 characters, `fields` at most 10 of at most 2000 each, `block_id` at most 255
 *   (https://docs.slack.dev/reference/block-kit/blocks/section-block);
 * - `header`: `plain_text` only, at most 150 characters (docs.slack.dev/reference/block-kit/blocks/header-block);
 * - `context`: at most 10 elements (docs.slack.dev/reference/block-kit/blocks/context-block);
 * - `actions`: at most 25 elements (https://api.slack.com/reference/block-kit/blocks);
 * - a text object is `{type: 'plain_text' | 'mrkdwn', text}` with non-empty text.
 *
 * @module
 */
import { isObject } from './wire.ts';

/** Most blocks Slack takes in one message. */
export const MAX_BLOCKS = 50;
/** Most characters in a `section`'s text. */
export const MAX_SECTION_TEXT = 3000;
/** Most characters in one `section` field. */
export const MAX_FIELD_TEXT = 2000;
/** Most characters in a `header`'s text. */
export const MAX_HEADER_TEXT = 150;

const BLOCK_TYPES = new Set([
  'actions',
  'context',
  'divider',
  'file',
  'header',
  'image',
  'input',
  'markdown',
  'rich_text',
  'section',
  'video',
]);

/** Why a text object breaks a limit, or undefined when it is fine. */
function textProblem(where: string, value: unknown, max: number, plainOnly = false): string | undefined {
  if (!isObject(value)) return `${where}: a text object is required`;
  const allowed = plainOnly
    ? value.type === 'plain_text'
    : value.type === 'plain_text' || value.type === 'mrkdwn';
  if (!allowed) return `${where}/type must be ${plainOnly ? 'plain_text' : 'plain_text or mrkdwn'}`;
  if (typeof value.text !== 'string' || value.text.length === 0) return `${where}/text must not be empty`;
  if (value.text.length > max) return `${where}/text: must be less than ${max + 1} characters`;
  return undefined;
}

function blockProblem(at: string, block: Record<string, unknown>): string | undefined {
  const { type } = block;
  if (typeof type !== 'string' || !BLOCK_TYPES.has(type)) return `${at}: unknown block type`;
  if (block.block_id !== undefined && (typeof block.block_id !== 'string' || block.block_id.length > 255)) {
    return `${at}/block_id: must be a string of at most 255 characters`;
  }
  switch (type) {
    case 'header':
      return textProblem(`${at}/text`, block.text, MAX_HEADER_TEXT, true);
    case 'section': {
      if (block.text === undefined && block.fields === undefined) return `${at}: text or fields is required`;
      if (block.text !== undefined) {
        const problem = textProblem(`${at}/text`, block.text, MAX_SECTION_TEXT);
        if (problem) return problem;
      }
      if (block.fields === undefined) return undefined;
      if (!Array.isArray(block.fields) || block.fields.length > 10) return `${at}/fields: at most 10 items`;
      for (const [i, field] of block.fields.entries()) {
        const problem = textProblem(`${at}/fields/${i}`, field, MAX_FIELD_TEXT);
        if (problem) return problem;
      }
      return undefined;
    }
    case 'context': {
      const { elements } = block;
      if (!Array.isArray(elements) || elements.length === 0 || elements.length > 10) {
        return `${at}/elements: 1 to 10 items`;
      }
      for (const [i, element] of elements.entries()) {
        if (isObject(element) && element.type === 'image') continue;
        const problem = textProblem(`${at}/elements/${i}`, element, MAX_SECTION_TEXT);
        if (problem) return problem;
      }
      return undefined;
    }
    case 'actions':
      return Array.isArray(block.elements) && block.elements.length > 0 && block.elements.length <= 25
        ? undefined
        : `${at}/elements: 1 to 25 items`;
    default:
      return undefined;
  }
}

/**
 * The first Block Kit limit `blocks` breaks (a JSON-pointer-like message, as Slack's
 * `response_metadata.messages`), or undefined when Slack would take them.
 *
 * @example blockKitProblem([{ type: 'section', text: { type: 'mrkdwn', text: 'x'.repeat(3001) } }])
 *   // 'blocks/0/text/text: must be less than 3001 characters'
 */
export function blockKitProblem(blocks: unknown): string | undefined {
  if (!Array.isArray(blocks)) return 'blocks: must be an array';
  if (blocks.length > MAX_BLOCKS) return `blocks: no more than ${MAX_BLOCKS} items allowed`;
  for (const [i, block] of blocks.entries()) {
    if (!isObject(block)) return `blocks/${i}: must be an object`;
    const problem = blockProblem(`blocks/${i}`, block);
    if (problem) return problem;
  }
  return undefined;
}
