import { CloudWatchClient } from '@aws-sdk/client-cloudwatch';
import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { ECSClient } from '@aws-sdk/client-ecs';
import { EventBridgeClient } from '@aws-sdk/client-eventbridge';
import { RDSClient } from '@aws-sdk/client-rds';
import { SSMClient } from '@aws-sdk/client-ssm';
import { DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';

/**
 * SDK clients built from the SDK's standard configuration chain, so `AWS_ENDPOINT_URL`, the Region and the
 * credentials in the environment apply. Each is created on first use and kept for the container's life.
 * Handlers call these; domain code receives clients as parameters. Separate exports keep a bundle to the
 * clients its handler uses.
 */
function once<T>(make: () => T): () => T {
  let value: T | undefined;
  return () => {
    value ??= make();
    return value;
  };
}

export const cloudWatchClient = /* @__PURE__ */ once(() => new CloudWatchClient({}));
export const ecsClient = /* @__PURE__ */ once(() => new ECSClient({}));
export const rdsClient = /* @__PURE__ */ once(() => new RDSClient({}));
export const ssmClient = /* @__PURE__ */ once(() => new SSMClient({}));
export const eventBridgeClient = /* @__PURE__ */ once(() => new EventBridgeClient({}));
export const documentClient = /* @__PURE__ */ once(() =>
  DynamoDBDocumentClient.from(new DynamoDBClient({}), { marshallOptions: { removeUndefinedValues: true } }),
);
