import { RemovalPolicy } from 'aws-cdk-lib';
import * as dynamodb from 'aws-cdk-lib/aws-dynamodb';
import { Construct } from 'constructs';

/** Properties of the {@link StateTable}. */
export interface StateTableProps {
  /** @default RemovalPolicy.RETAIN: the audit log outlives the stack. */
  readonly removalPolicy?: RemovalPolicy;
}

/**
 * The one table Nightshift keeps state in: idempotency claims, known-good revisions, reconciler progress,
 * the audit log. On-demand, point-in-time recovery, TTL on `expiresAt`, deletion protection.
 */
export class StateTable extends Construct {
  readonly table: dynamodb.TableV2;

  constructor(scope: Construct, id: string, props: StateTableProps = {}) {
    super(scope, id);
    this.table = new dynamodb.TableV2(this, 'Table', {
      partitionKey: { name: 'pk', type: dynamodb.AttributeType.STRING },
      sortKey: { name: 'sk', type: dynamodb.AttributeType.STRING },
      billing: dynamodb.Billing.onDemand(),
      pointInTimeRecoverySpecification: { pointInTimeRecoveryEnabled: true },
      timeToLiveAttribute: 'expiresAt',
      deletionProtection: true,
      removalPolicy: props.removalPolicy ?? RemovalPolicy.RETAIN,
    });
  }
}
