import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { AuditLog } from '../../../lambdas/shared/audit.ts';
import { startStateTable } from '../../support/dynamo.ts';

let table: Awaited<ReturnType<typeof startStateTable>>;
beforeAll(async () => {
  table = await startStateTable();
});
afterAll(() => table.stop());

describe('AuditLog', () => {
  describe('append only', () => {
    it('never overwrites an entry, even one with the same time and id', async () => {
      const audit = new AuditLog(table.documents, table.tableName, 30);
      const now = Date.parse('2026-11-16T03:00:00.000Z');
      const entry = { runbook: 'rds-snapshots', outcome: 'performed', subject: 'db', reason: 'r' } as const;
      const uuid = vi.spyOn(crypto, 'randomUUID').mockReturnValue('00000000-0000-4000-8000-000000000000');
      try {
        await audit.record({ ...entry, action: 'first' }, now);
        await expect(audit.record({ ...entry, action: 'second' }, now)).rejects.toMatchObject({
          name: 'ConditionalCheckFailedException',
        });
      } finally {
        uuid.mockRestore();
      }
      expect((await audit.list('rds-snapshots')).map((e) => e.action)).toEqual(['first']);
    });
  });
});
