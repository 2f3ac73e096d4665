import { describe, expect, it } from 'vitest';
import { blockKitProblem } from '../../../local/sink/slack-block-kit.ts';

const section = (text: string) => ({ type: 'section', text: { type: 'mrkdwn', text } });
const header = (text: string) => ({ type: 'header', text: { type: 'plain_text', text } });
const field = (text: string) => ({ type: 'mrkdwn', text });

describe('blockKitProblem', () => {
  describe('takes blocks within the limits', () => {
    it.each([
      ['a 3000-character section', [section('x'.repeat(3000))]],
      ['50 blocks', Array.from({ length: 50 }, () => ({ type: 'divider' }))],
      ['a 150-character header', [header('h'.repeat(150))]],
      [
        '10 fields of 2000 characters',
        [{ type: 'section', fields: Array.from({ length: 10 }, () => field('f'.repeat(2000))) }],
      ],
      ['10 context elements', [{ type: 'context', elements: Array.from({ length: 10 }, () => field('c')) }]],
      ['a 255-character block_id', [{ ...section('x'), block_id: 'b'.repeat(255) }]],
    ])('when it is %s', (_name, blocks) => {
      expect(blockKitProblem(blocks)).toBeUndefined();
    });
  });

  describe('refuses a broken limit', () => {
    it.each([
      ['a 3001-character section', [section('x'.repeat(3001))]],
      ['51 blocks', Array.from({ length: 51 }, () => ({ type: 'divider' }))],
      ['a 151-character header', [header('h'.repeat(151))]],
      ['a mrkdwn header', [{ type: 'header', text: { type: 'mrkdwn', text: 'h' } }]],
      ['11 fields', [{ type: 'section', fields: Array.from({ length: 11 }, () => field('f')) }]],
      ['a 2001-character field', [{ type: 'section', fields: [field('f'.repeat(2001))] }]],
      ['11 context elements', [{ type: 'context', elements: Array.from({ length: 11 }, () => field('c')) }]],
      ['a 256-character block_id', [{ ...section('x'), block_id: 'b'.repeat(256) }]],
      ['an unknown block type', [{ type: 'banner' }]],
      ['a text object of an unknown type', [{ type: 'section', text: { type: 'html', text: 'x' } }]],
      ['an empty text', [section('')]],
      ['blocks that are not an array', { type: 'section' }],
    ])('when it is %s', (_name, blocks) => {
      expect(blockKitProblem(blocks)).toEqual(expect.any(String));
    });
  });
});
