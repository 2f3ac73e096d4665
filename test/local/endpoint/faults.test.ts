import { describe, expect, it } from 'vitest';
import { FaultInjector, type FaultRule } from '../../../local/endpoint/faults.ts';

describe('FaultInjector', () => {
  describe('barrier', () => {
    it('holds matching requests until the count has arrived, then releases them together', async () => {
      const faults = new FaultInjector();
      faults.add({ service: 'ssm', operation: 'GetParameter', kind: 'barrier', count: 2 });
      const released: string[] = [];
      const arrive = (who: string) => {
        const [rule] = faults.pick('ssm', 'GetParameter') as [FaultRule];
        return faults.meet(rule).then(() => released.push(who));
      };
      const first = arrive('first');
      // Every pending callback runs before a macrotask: the first is still held with nothing else to wait for.
      await new Promise((resolve) => setImmediate(resolve));
      expect(released).toEqual([]);
      await Promise.all([first, arrive('second')]);
      expect(released.sort()).toEqual(['first', 'second']);
      // Spent: a third request passes without a barrier.
      expect(faults.pick('ssm', 'GetParameter')).toEqual([]);
      expect(faults.pick('ssm', 'PutParameter')).toEqual([]);
    });

    it('refuses a barrier without a count', () => {
      expect(() => new FaultInjector().add({ kind: 'barrier' })).toThrow(/needs a count/);
    });
  });

  it('skip lets the first matching requests through, then hits count of them', () => {
    const faults = new FaultInjector();
    faults.add({ service: 'ssm', operation: 'PutParameter', kind: 'server-error', skip: 1, count: 2 });
    const hits = () => faults.pick('ssm', 'PutParameter').length;
    expect(faults.pick('ssm', 'GetParameter')).toEqual([]);
    expect([hits(), hits(), hits(), hits()]).toEqual([0, 1, 1, 0]);
  });
});
