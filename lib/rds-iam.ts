import { Stack } from 'aws-cdk-lib';
import * as iam from 'aws-cdk-lib/aws-iam';
import type { IConstruct } from 'constructs';

/** `arn:<partition>:rds:<region>:<account>:<resource>:<name>`, the form of RDS ARNs (colon-separated). */
export function rdsArn(scope: IConstruct, resource: string, name: string): string {
  const stack = Stack.of(scope);
  return `arn:${stack.partition}:rds:${stack.region}:${stack.account}:${resource}:${name}`;
}

/** Listing the Region's databases and snapshots: read only, and on "*" (targets are found by tag). */
export function describeDatabasesAndSnapshots(): iam.PolicyStatement {
  return new iam.PolicyStatement({
    sid: 'DescribeDatabasesAndSnapshots',
    actions: [
      'rds:DescribeDBInstances',
      'rds:DescribeDBClusters',
      'rds:DescribeDBSnapshots',
      'rds:DescribeDBClusterSnapshots',
    ],
    resources: ['*'],
  });
}
