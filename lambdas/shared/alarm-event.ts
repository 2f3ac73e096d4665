/**
 * `CloudWatch Alarm State Change` events: the schema every function that reads them shares, each string
 * size-bounded, and the checks on the alarm's ARN the episode id is built on.
 *
 * @module
 */
import * as z from 'zod/mini';
import { InvalidEventError } from './errors.ts';
import { bounded } from './parse.ts';
import { parseAwsTimestamp } from './time.ts';

/** Bound on `reasonData`: a composite alarm lists its triggering alarms there (60 of them fit). */
export const MAX_REASON_DATA = 16_384;

export const awsTimestamp = bounded
  .timestamp()
  .check(z.refine((t) => parseAwsTimestamp(t) !== undefined, { message: 'not an ISO-8601 timestamp' }));

const alarmState = z.object({
  value: z.enum(['OK', 'ALARM', 'INSUFFICIENT_DATA']),
  timestamp: awsTimestamp,
  reason: z.optional(bounded.text()),
  /** Machine-readable reason: datapoints, or a composite's `triggeringAlarms` (CloudWatch allows 4,000 characters for a metric alarm; a composite's list of triggering alarms can be longer). */
  reasonData: z.optional(z.string().check(z.maxLength(MAX_REASON_DATA))),
});

/** CloudWatch allows 50 tags on an alarm; propagation puts them into the event. */
const MAX_ALARM_TAGS = 50;

/** `CloudWatch Alarm State Change`, the fields the runbook uses, each string size-bounded. */
export const alarmStateChangeSchema = z.object({
  source: z.literal('aws.cloudwatch'),
  'detail-type': z.literal('CloudWatch Alarm State Change'),
  time: awsTimestamp,
  region: bounded.id(),
  account: bounded.id(),
  resources: z.array(bounded.arn()).check(z.minLength(1), z.maxLength(10)),
  detail: z.object({
    alarmName: bounded.alarmName(),
    state: alarmState,
    previousState: z.optional(alarmState),
    /** A composite alarm's event carries its rule (up to 10,240 characters, as PutCompositeAlarm allows). */
    configuration: z.optional(
      z.object({
        alarmRule: z.optional(z.string().check(z.maxLength(10240))),
        /** The alarm's description: at most 1,024 characters (PutMetricAlarm's limit). */
        description: z.optional(z.string().check(z.maxLength(1024))),
      }),
    ),
    alarmTags: z.optional(
      z.record(bounded.tagKey(), bounded.tagValue()).check(
        z.refine((tags) => Object.keys(tags).length <= MAX_ALARM_TAGS, {
          message: `more than ${MAX_ALARM_TAGS} tags`,
        }),
      ),
    ),
    /** `SUCCESS` when tag propagation retrieved the tags; other values say why `alarmTags` is missing. */
    alarmTagsStatus: z.optional(z.string().check(z.maxLength(64))),
  }),
});
export type AlarmStateChange = z.infer<typeof alarmStateChangeSchema>;

/** The alarm's ARN is its name's in the event's (checked) account and Region: the episode id is built on it. */
export function assertAlarmArn(event: AlarmStateChange): void {
  const [arn] = event.resources;
  const expected = `:cloudwatch:${event.region}:${event.account}:alarm:${event.detail.alarmName}`;
  if (
    !arn ||
    !/^arn:aws[a-z-]*$/.test(arn.slice(0, arn.length - expected.length)) ||
    !arn.endsWith(expected)
  ) {
    throw new InvalidEventError(
      `malformed CloudWatch Alarm State Change event: resources.0: ${JSON.stringify(arn?.slice(0, 300))} is not the ARN of alarm ${event.detail.alarmName} in ${event.account} ${event.region}`,
    );
  }
}

/** Whether the event is a composite alarm's. */
export function isCompositeAlarmEvent(event: AlarmStateChange): boolean {
  return event.detail.configuration?.alarmRule !== undefined;
}
