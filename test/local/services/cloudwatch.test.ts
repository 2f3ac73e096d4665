import {
  CloudWatchClient,
  DeleteAlarmsCommand,
  DescribeAlarmHistoryCommand,
  DescribeAlarmsCommand,
  paginateDescribeAlarmHistory,
  paginateDescribeAlarms,
  SetAlarmStateCommand,
} from '@aws-sdk/client-cloudwatch';
import { afterEach, describe, expect, it } from 'vitest';
import type { Caller } from '../../../local/endpoint/authorize.ts';
import { LocalEndpoint } from '../../../local/endpoint/server.ts';
import { CloudWatchWorld } from '../../../local/services/cloudwatch.ts';
import type { AwsEvent } from '../../../local/services/envelope.ts';
import { VirtualClock } from '../../../local/world/clock.ts';

const ACCOUNT = '123456789012';
const REGION = 'eu-west-1';
const START = Date.parse('2026-11-20T00:00:00.000Z');
const MIN = 60_000;
const alarmArn = (name: string) => `arn:aws:cloudwatch:${REGION}:${ACCOUNT}:alarm:${name}`;

const operator: Caller = {
  accessKeyId: 'AKIAOPERATOR00000000',
  secretAccessKey: 'operator-secret',
  principalArn: `arn:aws:iam::${ACCOUNT}:user/operator`,
  policies: 'unrestricted',
};
/** May describe the api-* alarms and their history, nothing else. */
const reader: Caller = {
  accessKeyId: 'AKIAREADER0000000000',
  secretAccessKey: 'reader-secret',
  principalArn: `arn:aws:sts::${ACCOUNT}:assumed-role/reader/fn`,
  policies: [
    {
      Version: '2012-10-17',
      Statement: [
        {
          Effect: 'Allow',
          Action: ['cloudwatch:DescribeAlarms', 'cloudwatch:DescribeAlarmHistory'],
          Resource: alarmArn('api-*'),
        },
      ],
    },
  ],
};
const callers = new Map([operator, reader].map((c) => [c.accessKeyId, c]));

const open: LocalEndpoint[] = [];
async function world() {
  const clock = new VirtualClock(START);
  const events: AwsEvent[] = [];
  const cloudwatch = new CloudWatchWorld({
    account: ACCOUNT,
    region: REGION,
    clock,
    emit: (e) => events.push(e),
  });
  const endpoint = new LocalEndpoint({
    account: ACCOUNT,
    region: REGION,
    services: [cloudwatch],
    callerFor: (key) => callers.get(key),
  });
  open.push(endpoint);
  await endpoint.listen();
  const client = (caller: Caller = operator) =>
    new CloudWatchClient({
      endpoint: endpoint.url,
      region: REGION,
      credentials: { accessKeyId: caller.accessKeyId, secretAccessKey: caller.secretAccessKey },
      maxAttempts: 1,
    });
  return { clock, cloudwatch, events, client, sdk: client() };
}
afterEach(async () => {
  await Promise.all(open.splice(0).map((e) => e.close()));
});

describe('CloudWatchWorld', () => {
  describe('DescribeAlarms', () => {
    it('tells when the state last changed (StateTransitionedTimestamp), not only when it was updated', async () => {
      const { clock, cloudwatch, sdk } = await world();
      cloudwatch.putAlarm('api-5xx');
      await clock.advance(5 * MIN);
      await sdk.send(
        new SetAlarmStateCommand({ AlarmName: 'api-5xx', StateValue: 'ALARM', StateReason: 'r' }),
      );
      await clock.advance(MIN);
      const out = await sdk.send(new DescribeAlarmsCommand({ AlarmNames: ['api-5xx', 'api-gone'] }));
      expect(out.MetricAlarms).toHaveLength(1);
      expect(out.MetricAlarms?.[0]).toMatchObject({
        AlarmName: 'api-5xx',
        AlarmArn: alarmArn('api-5xx'),
        StateValue: 'ALARM',
        StateTransitionedTimestamp: new Date(START + 5 * MIN),
      });
      expect(out.CompositeAlarms).toEqual([]);
    });

    it('returns 120 alarms in pages of at most MaxRecords, each exactly once', async () => {
      const { cloudwatch, sdk } = await world();
      for (let n = 0; n < 120; n++) cloudwatch.putAlarm(`api-${String(n).padStart(3, '0')}`);
      const pages: number[] = [];
      const names: string[] = [];
      for await (const page of paginateDescribeAlarms(
        { client: sdk, pageSize: 50 },
        { AlarmNamePrefix: 'api-' },
      )) {
        pages.push(page.MetricAlarms?.length ?? 0);
        names.push(...(page.MetricAlarms ?? []).map((a) => a.AlarmName ?? ''));
      }
      expect(pages).toEqual([50, 50, 20]);
      expect(new Set(names).size).toBe(120);
    });

    it('refuses AlarmNames with AlarmNamePrefix, and a MaxRecords over 100', async () => {
      const { sdk } = await world();
      await expect(
        sdk.send(new DescribeAlarmsCommand({ AlarmNames: ['a'], AlarmNamePrefix: 'a' })),
      ).rejects.toMatchObject({ name: 'InvalidParameterCombinationException' });
      await expect(sdk.send(new DescribeAlarmsCommand({ MaxRecords: 101 }))).rejects.toThrow(/maxRecords/);
    });
  });

  describe('DescribeAlarmHistory', () => {
    it('records every state change with its old and new state, newest first, kept after the alarm is deleted', async () => {
      const { clock, cloudwatch, sdk } = await world();
      cloudwatch.putAlarm('api-5xx');
      for (const [minute, state] of [
        [1, 'ALARM'],
        [2, 'OK'],
        [3, 'ALARM'],
      ] as const) {
        await clock.advance(MIN);
        await sdk.send(
          new SetAlarmStateCommand({ AlarmName: 'api-5xx', StateValue: state, StateReason: `m${minute}` }),
        );
      }
      await sdk.send(new DeleteAlarmsCommand({ AlarmNames: ['api-5xx'] }));
      const items = [];
      for await (const page of paginateDescribeAlarmHistory(
        { client: sdk, pageSize: 2 },
        { AlarmName: 'api-5xx', HistoryItemType: 'StateUpdate' },
      )) {
        items.push(...(page.AlarmHistoryItems ?? []));
      }
      expect(items.map((i) => [i.Timestamp?.getTime(), i.HistorySummary])).toEqual([
        [START + 3 * MIN, 'Alarm updated from OK to ALARM'],
        [START + 2 * MIN, 'Alarm updated from ALARM to OK'],
        [START + MIN, 'Alarm updated from INSUFFICIENT_DATA to ALARM'],
      ]);
      expect(JSON.parse(items[1]?.HistoryData ?? '{}')).toMatchObject({
        oldState: { stateValue: 'ALARM', stateReason: 'm1' },
        newState: { stateValue: 'OK', stateReason: 'm2' },
      });
      const all = await sdk.send(new DescribeAlarmHistoryCommand({ AlarmName: 'api-5xx' }));
      expect(all.AlarmHistoryItems?.[0]?.HistorySummary).toBe('Alarm "api-5xx" deleted');
    });

    it('filters by StartDate and EndDate', async () => {
      const { clock, cloudwatch, sdk } = await world();
      cloudwatch.putAlarm('api-5xx');
      await clock.advance(MIN);
      cloudwatch.setState('api-5xx', 'ALARM', 'r');
      await clock.advance(MIN);
      cloudwatch.setState('api-5xx', 'OK', 'r');
      const out = await sdk.send(
        new DescribeAlarmHistoryCommand({
          AlarmName: 'api-5xx',
          HistoryItemType: 'StateUpdate',
          StartDate: new Date(START + MIN - 1000),
          EndDate: new Date(START + MIN + 1000),
        }),
      );
      expect(out.AlarmHistoryItems?.map((i) => i.HistorySummary)).toEqual([
        'Alarm updated from INSUFFICIENT_DATA to ALARM',
      ]);
    });
  });

  describe('IAM', () => {
    it('allows describing by alarm ARN, and composite alarms only with a "*"-scoped permission', async () => {
      const { cloudwatch, client } = await world();
      cloudwatch.putAlarm('api-5xx');
      cloudwatch.putAlarm('billing-5xx');
      const sdk = client(reader);
      await expect(sdk.send(new DescribeAlarmsCommand({ AlarmNames: ['api-5xx'] }))).resolves.toBeDefined();
      await expect(sdk.send(new DescribeAlarmsCommand({ AlarmNames: ['billing-5xx'] }))).rejects.toThrow(
        /not authorized to perform: cloudwatch:DescribeAlarms on resource: .*alarm:billing-5xx/,
      );
      await expect(
        sdk.send(
          new DescribeAlarmsCommand({
            AlarmNames: ['api-5xx'],
            AlarmTypes: ['CompositeAlarm', 'MetricAlarm'],
          }),
        ),
      ).rejects.toThrow(/not authorized to perform: cloudwatch:DescribeAlarms on resource: \*/);
      await expect(
        sdk.send(new DescribeAlarmHistoryCommand({ AlarmName: 'api-5xx', HistoryItemType: 'StateUpdate' })),
      ).resolves.toBeDefined();
    });
  });
});
