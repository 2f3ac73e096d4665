import { Stack } from 'aws-cdk-lib';
import * as events from 'aws-cdk-lib/aws-events';
import type * as iam from 'aws-cdk-lib/aws-iam';
import type { Construct } from 'constructs';

/** The statement id of the bus policy statement Nightshift adds (one per bus and stack). */
export const NIGHTSHIFT_SOURCE_STATEMENT = 'OnlyNightshiftSpeaksAsNightshift';

/**
 * Only Nightshift may speak as Nightshift. The `nightshift` source is not reserved as `aws.*` is, so any
 * principal allowed PutEvents on the bus could page on-call with a forged `Restore Verification Failed`. The
 * bus gets a statement denying PutEvents with `events:source` `nightshift` to every principal but
 * Nightshift's roles. It is one statement beside whatever else the bus policy holds (its own id).
 */
export function restrictNightshiftSource(
  scope: Construct,
  bus: events.IEventBus,
  roles: readonly iam.IRole[],
): events.CfnEventBusPolicy {
  const stack = Stack.of(scope);
  return new events.CfnEventBusPolicy(scope, 'NightshiftSourceOnlyFromNightshift', {
    eventBusName: bus.eventBusName,
    statementId: `${NIGHTSHIFT_SOURCE_STATEMENT}-${stack.stackName}`.slice(0, 64),
    statement: {
      Sid: `${NIGHTSHIFT_SOURCE_STATEMENT}-${stack.stackName}`.slice(0, 64),
      Effect: 'Deny',
      Principal: { AWS: '*' },
      Action: 'events:PutEvents',
      Resource: bus.eventBusArn,
      Condition: {
        StringEquals: { 'events:source': 'nightshift' },
        ArnNotEquals: { 'aws:PrincipalArn': roles.map((r) => r.roleArn) },
      },
    },
  });
}
