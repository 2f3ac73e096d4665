import * as z from 'zod/mini';
import type { StackOrigin } from '#shared/env';
import { InvalidEventError } from '#shared/errors';
import { boundedEventTime, type EventTimeBounds, type Redrive } from '#shared/event-time';
import { assertOwnOrigin } from '#shared/origin';
import { bounded, parseWith } from '#shared/parse';

export { type AlarmStateChange, alarmStateChangeSchema, isCompositeAlarmEvent } from '#shared/alarm-event';

import {
  type AlarmStateChange,
  alarmStateChangeSchema,
  assertAlarmArn,
  awsTimestamp,
} from '#shared/alarm-event';

/** `ECS Deployment State Change`: carries only the service ARN and the deployment id. */
export const deploymentStateChangeSchema = z.object({
  source: z.literal('aws.ecs'),
  'detail-type': z.literal('ECS Deployment State Change'),
  time: awsTimestamp,
  region: bounded.id(),
  account: bounded.id(),
  resources: z
    .array(bounded.arn().check(z.regex(/^arn:aws[a-z-]*:ecs:[^:]+:\d{12}:service\/.+/)))
    .check(z.minLength(1), z.maxLength(10)),
  detail: z.object({
    eventName: z.enum([
      'SERVICE_DEPLOYMENT_IN_PROGRESS',
      'SERVICE_DEPLOYMENT_COMPLETED',
      'SERVICE_DEPLOYMENT_FAILED',
    ]),
    deploymentId: bounded.id(),
    updatedAt: z.optional(awsTimestamp),
    reason: z.optional(bounded.text()),
  }),
});
export type DeploymentStateChange = z.infer<typeof deploymentStateChangeSchema>;

/**
 * `Parameter Store Change`: the parameter's name and the operation only (no versions, no caller; the
 * versions come from `GetParameterHistory`). SSM names are at most 2,048 characters with the path.
 */
export const parameterChangeSchema = z.object({
  source: z.literal('aws.ssm'),
  'detail-type': z.literal('Parameter Store Change'),
  time: awsTimestamp,
  region: bounded.id(),
  account: bounded.id(),
  resources: z
    .array(bounded.arn().check(z.regex(/^arn:aws[a-z-]*:ssm:[^:]+:\d{12}:parameter\/.+/)))
    .check(z.maxLength(1)),
  detail: z.object({
    operation: z.enum(['Create', 'Update', 'Delete', 'LabelParameterVersion']),
    name: z.string().check(z.minLength(1), z.maxLength(2048)),
    // `type` and `description` are not read (the history is): unchecked, never refused for them.
  }),
});
export type ParameterChange = z.infer<typeof parameterChangeSchema>;

/**
 * A checked event. Its times are identity only, each within the bounds of a real delivery: `stateAt` is when
 * the alarm entered its state (`detail.state.timestamp`), `updatedAt` when ECS reported the deployment's
 * state (`detail.updatedAt`, else the envelope's `time`). Plans take "now" from the real clock.
 */
export type RollbackEvent =
  | { readonly type: 'alarm'; readonly event: AlarmStateChange; readonly stateAt: number }
  | { readonly type: 'deployment'; readonly event: DeploymentStateChange; readonly updatedAt: number }
  | { readonly type: 'config-change'; readonly event: ParameterChange; readonly changedAt: number };

/** What an event is checked against: the real clock, the delivery bounds, the stack's origin. */
export interface EventContext {
  readonly now: number;
  readonly bounds: EventTimeBounds;
  readonly origin: StackOrigin;
  /** An operator's redrive flag (direct invoke only): lets an older event time through. */
  readonly redrive?: Redrive;
}

/**
 * Parses and checks an incoming event: its shape and the size of every string, its account and Region
 * against the stack's, and its times against the bounds of a real delivery.
 *
 * @throws InvalidEventError naming the field that is wrong (and the value, unless it is oversized)
 * @throws ForeignEventError for an event from another account or Region
 */
export function parseRollbackEvent(input: unknown, context: EventContext): RollbackEvent {
  const detailType = (input as { 'detail-type'?: unknown } | null)?.['detail-type'];
  const time = (field: string, text: string) =>
    boundedEventTime(field, text, context.now, context.bounds, context.redrive);
  if (detailType === 'CloudWatch Alarm State Change') {
    const event = parseEvent(alarmStateChangeSchema, input, detailType);
    assertOwnOrigin(event, context.origin, detailType);
    assertAlarmArn(event);
    time('time', event.time);
    return { type: 'alarm', event, stateAt: time('detail.state.timestamp', event.detail.state.timestamp) };
  }
  if (detailType === 'ECS Deployment State Change') {
    const event = parseEvent(deploymentStateChangeSchema, input, detailType);
    assertOwnOrigin(event, context.origin, detailType);
    const envelopeTime = time('time', event.time);
    const updatedAt =
      event.detail.updatedAt === undefined ? envelopeTime : time('detail.updatedAt', event.detail.updatedAt);
    return { type: 'deployment', event, updatedAt };
  }
  if (detailType === 'Parameter Store Change') {
    const event = parseEvent(parameterChangeSchema, input, detailType);
    assertOwnOrigin(event, context.origin, detailType);
    return { type: 'config-change', event, changedAt: time('time', event.time) };
  }
  throw new InvalidEventError(
    `unsupported event: detail-type ${typeof detailType === 'string' ? JSON.stringify(detailType.slice(0, 100)) : String(detailType)} (expected "CloudWatch Alarm State Change", "ECS Deployment State Change" or "Parameter Store Change")`,
  );
}

function parseEvent<T>(schema: z.ZodMiniType<T>, input: unknown, what: string): T {
  return parseWith(
    schema,
    input,
    (problems) => new InvalidEventError(`malformed ${what} event: ${problems}`),
  );
}
