import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DeliveryLedger, Pacer } from '../../../lambdas/alerts/deliveries.ts';
import { startStateTable } from '../../support/dynamo.ts';

let table: Awaited<ReturnType<typeof startStateTable>>;
beforeAll(async () => {
  table = await startStateTable();
});
afterAll(() => table.stop());

const T = Date.parse('2026-12-01T03:00:00Z');
const LEASE = 60_000;

describe('DeliveryLedger: exactly once per delivery key', () => {
  it('the first claim wins; the others see it busy, then sent once it is marked', async () => {
    const ledger = new DeliveryLedger(table.documents, table.tableName, 'pagerduty');
    const claims = await Promise.all(
      Array.from({ length: 20 }, (_, i) => ledger.claim('episode-1#firing', `sender-${i}`, T, LEASE)),
    );
    const won = claims.flatMap((c, i) => (c.kind === 'claimed' ? [i] : []));
    expect(won).toHaveLength(1);
    expect(claims.filter((c) => c.kind === 'busy')).toHaveLength(19);
    await ledger.markSent('episode-1#firing', `sender-${won[0]}`, T + 1000, 'pagerduty trigger');
    expect(await ledger.claim('episode-1#firing', 'late', T + 2000, LEASE)).toEqual({
      kind: 'sent',
      sentAt: T + 1000,
    });
  });

  it('a claim whose sender died (lease over, never marked) is taken over: sent again rather than lost', async () => {
    const ledger = new DeliveryLedger(table.documents, table.tableName, 'slack');
    expect(await ledger.claim('episode-2#firing', 'crashed', T, LEASE)).toMatchObject({ kind: 'claimed' });
    expect(await ledger.claim('episode-2#firing', 'retry', T + LEASE - 1, LEASE)).toMatchObject({
      kind: 'busy',
    });
    expect(await ledger.claim('episode-2#firing', 'retry', T + LEASE + 1, LEASE)).toMatchObject({
      kind: 'claimed',
    });
    // The crashed sender's mark (had it woken) no longer counts; the taker's does.
    await ledger.markSent('episode-2#firing', 'crashed', T + LEASE + 2, 'late');
    expect(await ledger.claim('episode-2#firing', 'third', T + LEASE + 3, LEASE)).toMatchObject({
      kind: 'busy',
    });
    await ledger.markSent('episode-2#firing', 'retry', T + LEASE + 4, 'ok');
    expect(await ledger.claim('episode-2#firing', 'third', T + LEASE + 5, LEASE)).toMatchObject({
      kind: 'sent',
    });
  });

  it('a released claim (the send failed) can be claimed at once; a resolve is its own delivery', async () => {
    const ledger = new DeliveryLedger(table.documents, table.tableName, 'slack');
    await ledger.claim('episode-3#firing', 'a', T, LEASE);
    await ledger.release('episode-3#firing', 'someone-else', { failed: true });
    expect(await ledger.claim('episode-3#firing', 'b', T + 1, LEASE)).toMatchObject({ kind: 'busy' });
    expect(await ledger.release('episode-3#firing', 'a', { failed: true })).toBe(1);
    expect(await ledger.claim('episode-3#firing', 'b', T + 2, LEASE)).toMatchObject({
      kind: 'claimed',
      failures: 1,
    });
    // Dropped when it goes to the DLQ: a replay starts a fresh count.
    await ledger.forget('episode-3#firing', 'b');
    expect(await ledger.claim('episode-3#firing', 'c', T + 2, LEASE)).toMatchObject({
      kind: 'claimed',
      failures: 0,
    });
    expect(await ledger.claim('episode-3#resolved', 'c', T + 3, LEASE)).toMatchObject({ kind: 'claimed' });
  });

  it('receivers keep separate records of one alert', async () => {
    const a = new DeliveryLedger(table.documents, table.tableName, 'slack-a');
    const b = new DeliveryLedger(table.documents, table.tableName, 'slack-b');
    expect(await a.claim('episode-4#firing', 'x', T, LEASE)).toMatchObject({ kind: 'claimed' });
    expect(await b.claim('episode-4#firing', 'y', T, LEASE)).toMatchObject({ kind: 'claimed' });
  });
});

describe('Pacer: one slot per interval across senders', () => {
  it('of many concurrent takers one gets the slot; the rest learn when the next one comes', async () => {
    const pacer = new Pacer(table.documents, table.tableName, 'slack-paced');
    const takes = await Promise.all(Array.from({ length: 10 }, () => pacer.take(T, 1000)));
    expect(takes.filter((t) => t === true)).toHaveLength(1);
    expect(takes.filter((t) => t === T + 1000)).toHaveLength(9);
    expect(await pacer.take(T + 999, 1000)).toBe(T + 1000);
    expect(await pacer.take(T + 1000, 1000)).toBe(true);
  });

  it("a 429's Retry-After holds every sender back, and never shortens a longer hold", async () => {
    const pacer = new Pacer(table.documents, table.tableName, 'slack-held');
    await pacer.holdUntil(T + 30_000, T);
    await pacer.holdUntil(T + 5_000, T);
    expect(await pacer.take(T + 10_000, 1000)).toBe(T + 30_000);
    expect(await pacer.take(T + 30_000, 1000)).toBe(true);
  });
});
