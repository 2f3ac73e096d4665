import * as z from 'zod/mini';
import { InvalidEventError } from '#shared/errors';
import { parseWith } from '#shared/parse';
import { parseAwsTimestamp } from '#shared/time';

const awsTimestamp = z
  .string()
  .check(z.refine((t) => parseAwsTimestamp(t) !== undefined, { message: 'not an ISO-8601 timestamp' }));

const alarmState = z.object({
  value: z.enum(['OK', 'ALARM', 'INSUFFICIENT_DATA']),
  timestamp: awsTimestamp,
  reason: z.optional(z.string()),
});

/** `CloudWatch Alarm State Change`, the fields the runbook uses. */
export const alarmStateChangeSchema = z.object({
  source: z.literal('aws.cloudwatch'),
  'detail-type': z.literal('CloudWatch Alarm State Change'),
  time: awsTimestamp,
  region: z.string(),
  account: z.string(),
  resources: z.array(z.string()).check(z.minLength(1)),
  detail: z.object({
    alarmName: z.string().check(z.minLength(1)),
    state: alarmState,
    previousState: z.optional(alarmState),
    alarmTags: z.optional(z.record(z.string(), z.string())),
  }),
});
export type AlarmStateChange = z.infer<typeof alarmStateChangeSchema>;

/** `ECS Deployment State Change`: carries only the service ARN and the deployment id. */
export const deploymentStateChangeSchema = z.object({
  source: z.literal('aws.ecs'),
  'detail-type': z.literal('ECS Deployment State Change'),
  time: awsTimestamp,
  resources: z
    .array(z.string().check(z.regex(/^arn:aws[a-z-]*:ecs:[^:]+:\d{12}:service\/.+/)))
    .check(z.minLength(1)),
  detail: z.object({
    eventName: z.enum([
      'SERVICE_DEPLOYMENT_IN_PROGRESS',
      'SERVICE_DEPLOYMENT_COMPLETED',
      'SERVICE_DEPLOYMENT_FAILED',
    ]),
    deploymentId: z.string().check(z.minLength(1)),
    updatedAt: z.optional(awsTimestamp),
    reason: z.optional(z.string()),
  }),
});
export type DeploymentStateChange = z.infer<typeof deploymentStateChangeSchema>;

export type RollbackEvent =
  | { readonly type: 'alarm'; readonly event: AlarmStateChange }
  | { readonly type: 'deployment'; readonly event: DeploymentStateChange };

/** Parses an incoming event or throws {@link InvalidEventError} naming what is wrong. */
export function parseRollbackEvent(input: unknown): RollbackEvent {
  const detailType = (input as { 'detail-type'?: unknown } | null)?.['detail-type'];
  if (detailType === 'CloudWatch Alarm State Change') {
    return { type: 'alarm', event: parseEvent(alarmStateChangeSchema, input, detailType) };
  }
  if (detailType === 'ECS Deployment State Change') {
    return { type: 'deployment', event: parseEvent(deploymentStateChangeSchema, input, detailType) };
  }
  throw new InvalidEventError(
    `unsupported event: detail-type ${JSON.stringify(detailType)} (expected "CloudWatch Alarm State Change" or "ECS Deployment State Change")`,
  );
}

function parseEvent<T>(schema: z.ZodMiniType<T>, input: unknown, what: string): T {
  return parseWith(
    schema,
    input,
    (problems) => new InvalidEventError(`malformed ${what} event: ${problems}`),
  );
}
