import { CfnResource, Stack } from 'aws-cdk-lib';
import type * as events from 'aws-cdk-lib/aws-events';
import type { Construct } from 'constructs';

/** The statement id of the bus policy statement Nightshift adds (one per bus and stack). */
export const NIGHTSHIFT_SOURCE_STATEMENT = 'OnlyNightshiftSpeaksAsNightshift';

/**
 * The IAM path of every Nightshift role, in every stack. The bus statement exempts roles by this path, so
 * two Nightshift stacks on one bus (staging and production, two apps) never deny each other: explicit
 * denies add up, and a statement naming only its own stack's roles would lock the other stack out.
 * Creating a role under a path takes `iam:CreateRole`, which only administrators have.
 */
export const NIGHTSHIFT_ROLE_PATH = '/nightshift/';

/**
 * Only Nightshift may speak as Nightshift. The `nightshift` source is not reserved as `aws.*` is, so any
 * principal allowed PutEvents on the bus could page on-call with a forged `Restore Verification Failed`. The
 * bus gets a statement denying PutEvents with `events:source` `nightshift` to every principal but
 * Nightshift's roles (those under {@link NIGHTSHIFT_ROLE_PATH}). It is one statement beside whatever else
 * the bus policy holds (its own id).
 */
export function restrictNightshiftSource(scope: Construct, bus: events.IEventBus): CfnResource {
  const stack = Stack.of(scope);
  const sid = `${NIGHTSHIFT_SOURCE_STATEMENT}-${stack.stackName}`.slice(0, 64);
  // A plain CfnResource: CfnEventBusPolicy's constructor touches its deprecated `principal` and prints a
  // deprecation warning on every synth, whether or not it is used.
  return new CfnResource(scope, 'NightshiftSourceOnlyFromNightshift', {
    type: 'AWS::Events::EventBusPolicy',
    properties: {
      EventBusName: bus.eventBusName,
      StatementId: sid,
      Statement: {
        Sid: sid,
        Effect: 'Deny',
        Principal: { AWS: '*' },
        Action: 'events:PutEvents',
        Resource: bus.eventBusArn,
        Condition: {
          StringEquals: { 'events:source': 'nightshift' },
          ArnNotLike: {
            'aws:PrincipalArn': `arn:${stack.partition}:iam::${stack.account}:role${NIGHTSHIFT_ROLE_PATH}*`,
          },
        },
      },
    },
  });
}
