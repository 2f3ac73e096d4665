import type { AlarmStateChange } from '../../../lambdas/shared/alarm-event.ts';
import tagged from '../../fixtures/events/cloudwatch-alarm-state-change-single-metric-with-alarm-tags.constructed.json' with {
  type: 'json',
};

export const ACCOUNT = '123456789012';
export const REGION = 'eu-west-1';
export const T0 = Date.parse('2026-12-01T03:00:00.000Z');

const ts = (at: number) => new Date(at).toISOString().replace('Z', '+0000');

/**
 * A `CloudWatch Alarm State Change` from AWS's sample (the tag-propagation one, see test/fixtures/events),
 * moved to our account, Region and times.
 */
export function alarmChange(
  name: string,
  o: {
    value?: 'ALARM' | 'OK' | 'INSUFFICIENT_DATA';
    at?: number;
    previous?: { value: 'ALARM' | 'OK' | 'INSUFFICIENT_DATA'; at: number };
    tags?: Record<string, string>;
    tagsStatus?: string;
    description?: string;
    reasonData?: string;
    reason?: string;
  } = {},
): AlarmStateChange & { id: string; version: string } {
  const at = o.at ?? T0;
  const previous = o.previous ?? { value: o.value === 'OK' ? 'ALARM' : 'OK', at: at - 600_000 };
  return {
    ...tagged,
    source: 'aws.cloudwatch',
    'detail-type': 'CloudWatch Alarm State Change',
    account: ACCOUNT,
    region: REGION,
    time: new Date(at).toISOString(),
    resources: [`arn:aws:cloudwatch:${REGION}:${ACCOUNT}:alarm:${name}`],
    detail: {
      alarmName: name,
      configuration: { description: o.description ?? tagged.detail.configuration.description },
      previousState: { ...tagged.detail.previousState, value: previous.value, timestamp: ts(previous.at) },
      state: {
        ...tagged.detail.state,
        value: o.value ?? 'ALARM',
        timestamp: ts(at),
        ...(o.reason === undefined ? {} : { reason: o.reason }),
        ...(o.reasonData === undefined ? {} : { reasonData: o.reasonData }),
      },
      ...(o.tags ? { alarmTags: o.tags, alarmTagsStatus: o.tagsStatus ?? 'SUCCESS' } : {}),
      ...(o.tagsStatus && !o.tags ? { alarmTagsStatus: o.tagsStatus } : {}),
    },
  };
}

export const arnOf = (name: string) => `arn:aws:cloudwatch:${REGION}:${ACCOUNT}:alarm:${name}`;
export const episodeOf = (name: string, at = T0) => `${arnOf(name)}@${ts(at)}`;
