/**
 * The Block Kit limits Slack enforces on a message, as the sink checks them: a broken limit is Slack's
 * `invalid_blocks` (a 3,001-character section is refused outright, not cut — apify/crawlee-python#2155).
 * Limits from Slack's Block Kit reference: at most 50 blocks per message; `header` text plain_text, at
 * most 150 characters; `section` text at most 3,000, at most 10 `fields` of at most 2,000 each; `context`
 * at most 10 elements; `block_id` at most 255; a text object needs `type` plain_text or mrkdwn and text.
 *
 * @module
 */

const MAX_BLOCKS = 50;
const KNOWN = new Set([
  'header',
  'section',
  'context',
  'divider',
  'actions',
  'image',
  'rich_text',
  'input',
  'file',
  'video',
  'markdown',
]);

type Text = { type?: unknown; text?: unknown };

function textProblem(where: string, t: Text | undefined, max: number, plainOnly = false): string | undefined {
  if (!t || typeof t !== 'object') return `${where}: a text object is required`;
  if (t.type !== 'plain_text' && (plainOnly || t.type !== 'mrkdwn')) {
    return `${where}.type must be ${plainOnly ? 'plain_text' : 'plain_text or mrkdwn'}`;
  }
  if (typeof t.text !== 'string' || t.text.length === 0) return `${where}.text must be a non-empty string`;
  if (t.text.length > max) return `${where}.text must be at most ${max} characters (got ${t.text.length})`;
  return undefined;
}

/** The first limit `blocks` breaks, or undefined when Slack would take them. */
export function blockKitProblem(blocks: unknown): string | undefined {
  if (!Array.isArray(blocks)) return 'blocks must be an array';
  if (blocks.length > MAX_BLOCKS) return `no more than ${MAX_BLOCKS} items allowed [json-pointer:/blocks]`;
  for (const [i, raw] of blocks.entries()) {
    const b = raw as {
      type?: unknown;
      text?: Text;
      fields?: unknown;
      elements?: unknown;
      block_id?: unknown;
    };
    const at = `blocks/${i}`;
    if (typeof b?.type !== 'string' || !KNOWN.has(b.type))
      return `${at}: unknown block type ${JSON.stringify(b?.type)}`;
    if (typeof b.block_id === 'string' && b.block_id.length > 255)
      return `${at}/block_id must be at most 255 characters`;
    if (b.type === 'header') {
      const p = textProblem(`${at}/text`, b.text, 150, true);
      if (p) return p;
    }
    if (b.type === 'section') {
      if (b.text === undefined && b.fields === undefined) return `${at}: a section needs text or fields`;
      if (b.text !== undefined) {
        const p = textProblem(`${at}/text`, b.text, 3000);
        if (p) return p;
      }
      if (b.fields !== undefined) {
        if (!Array.isArray(b.fields) || b.fields.length > 10) return `${at}/fields: at most 10 items`;
        for (const [j, f] of b.fields.entries()) {
          const p = textProblem(`${at}/fields/${j}`, f as Text, 2000);
          if (p) return p;
        }
      }
    }
    if (b.type === 'context') {
      if (!Array.isArray(b.elements) || b.elements.length === 0 || b.elements.length > 10) {
        return `${at}/elements: 1 to 10 items`;
      }
      for (const [j, e] of b.elements.entries()) {
        const el = e as Text;
        if (el?.type === 'image') continue;
        const p = textProblem(`${at}/elements/${j}`, el, 2000);
        if (p) return p;
      }
    }
  }
  return undefined;
}
