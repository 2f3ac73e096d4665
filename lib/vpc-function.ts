import * as iam from 'aws-cdk-lib/aws-iam';
import type * as lambda from 'aws-cdk-lib/aws-lambda';
import type { Construct } from 'constructs';
import type { z } from 'zod';
import type { vpcSchema } from './config/network.ts';
import { acknowledgeNag } from './nag.ts';

/**
 * Runs `fn` inside the application's VPC (subnets and security group from config), with the network-interface
 * permissions Lambda needs. They go on the role's default policy: the function depends on that one, so
 * CloudFormation cannot create the VPC function before it may create its interfaces.
 */
export function placeInVpc(scope: Construct, fn: lambda.Function, vpc: z.output<typeof vpcSchema>): void {
  (fn.node.defaultChild as lambda.CfnFunction).vpcConfig = {
    subnetIds: vpc.subnetIds,
    securityGroupIds: [vpc.securityGroupId],
  };
  fn.addToRolePolicy(
    new iam.PolicyStatement({
      sid: 'VpcNetworkInterfaces',
      actions: [
        'ec2:CreateNetworkInterface',
        'ec2:DescribeNetworkInterfaces',
        'ec2:DescribeSubnets',
        'ec2:DeleteNetworkInterface',
        'ec2:AssignPrivateIpAddresses',
        'ec2:UnassignPrivateIpAddresses',
      ],
      resources: ['*'],
    }),
  );
  acknowledgeNag(
    fn.role?.node.tryFindChild('DefaultPolicy') ?? scope,
    'IAM5',
    "Lambda's VPC network-interface actions support no resource-level permissions",
    'Resource::*',
  );
}
