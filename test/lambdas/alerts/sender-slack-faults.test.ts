import { describe, expect, it } from 'vitest';
import { sendBatch } from '../../../lambdas/alerts/sender.ts';
import { threadParent } from '../../../lambdas/alerts/slack-thread.ts';
import { SlackThreads } from '../../../lambdas/alerts/threads.ts';
import { T0 } from '../../local/sink/sink-fixture.ts';
import { alert } from './alert-fixture.ts';
import {
  channelId,
  clock,
  deps,
  episode,
  headerOf,
  record,
  req,
  send,
  sink,
  table,
} from './slack-api-fixture.ts';

describe('Slack threads under faults', () => {
  it('the thread record write fails (twice) after the first message is posted: recorded in place, never posted again', async () => {
    clock.now = T0 + 3_000_000;
    const d = deps();
    // DynamoDB refuses the first two writes of the thread item (throttled), as it may under load.
    let refusals = 2;
    const documents = new Proxy(table.documents, {
      get(target, prop, receiver) {
        if (prop !== 'send') return Reflect.get(target, prop, receiver);
        return (command: { constructor: { name: string } }) => {
          if (command.constructor.name === 'PutCommand' && refusals-- > 0) {
            return Promise.reject(
              Object.assign(new Error('Throughput exceeds the current capacity'), {
                name: 'ProvisionedThroughputExceededException',
              }),
            );
          }
          return target.send(command as never);
        };
      },
    });
    const fd = { ...d, threads: new SlackThreads(documents, table.tableName, d.config.receiver) };
    const key = episode('40');
    const before = sink.slack.messages(channelId).length;
    const first = await send(fd, req(fd, alert({ key }), key));
    expect(first.outcomes.map((o) => o.outcome)).toEqual(['sent']);
    expect(refusals).toBeLessThan(0);
    const again = await send(fd, req(fd, alert({ key }), key));
    expect(again.outcomes.map((o) => o.outcome)).toEqual(['already-sent']);
    expect(sink.slack.messages(channelId).slice(before)).toHaveLength(1);
    expect((await fd.threads.get(key))?.ts).toBe(sink.slack.messages(channelId).at(-1)?.ts);
  });

  it('the first message was deleted (message_not_found): the resolution is still visible in the channel', async () => {
    clock.now = T0 + 4_000_000;
    const d = deps();
    const key = episode('50');
    // A well-formed ts that names no message (the parent deleted by someone).
    await d.threads?.record(
      key,
      { ts: '1796284800.000777', channel: channelId, parent: alert({ key }) },
      clock.now,
    );
    const before = sink.slack.messages(channelId).length;
    const out = await send(d, req(d, alert({ key, status: 'resolved', title: 'api-5xx resolved' }), key));
    expect(out.outcomes.map((o) => o.outcome)).toEqual(['sent']);
    // It is filed under a thread nobody can see: nothing new in the channel.
    expect(sink.slack.messages(channelId).length).toBeGreaterThan(before);
  });

  it('threadParent is idempotent for a multi-line action (a retried reply does not grow "What Nightshift did")', () => {
    const parent = alert({ key: 'p', action: 'paged' });
    const latest = alert({ key: 'n', title: 'Rollback Performed: api', action: 'rolled back\nto :1' });
    const once = threadParent(parent, latest);
    expect(threadParent(once, latest).action).toBe(once.action);
  });
  it('two replies at once (rollback and resolution): the first message ends resolved', async () => {
    clock.now = T0 + 5_000_000;
    const d = deps();
    const key = episode('55');
    const before = sink.slack.messages(channelId).length;
    await send(d, req(d, alert({ key }), key));
    const rollback = alert({
      key: 'nightshift#rollback#api#9',
      source: 'nightshift',
      title: 'Rollback Performed: api',
      action: 'rolled back',
      episode: key,
    });
    const resolved = alert({ key, status: 'resolved', title: 'api-5xx resolved' });
    clock.now += 1_500;
    const d2 = { ...d, owner: crypto.randomUUID() };
    await Promise.all([
      sendBatch([record(req(d, rollback, key))], d),
      sendBatch([record(req(d2, resolved, key))], d2),
    ]);
    const [parent] = sink.slack.messages(channelId).slice(before);
    expect(headerOf(parent as never)).toBe('Resolved: api-5xx is in ALARM');
    expect(JSON.stringify((parent as { blocks: unknown }).blocks)).toContain('rolled back');
  });
});
