/**
 * How the world's functions reach its queues: queue URLs that name the endpoint, and the record Lambda
 * sends to an SQS on-failure destination.
 *
 * @module
 */
import type { InvocationResult } from '../lambda/runtime.ts';
import type { DeployedFunction } from '../template/deployed-types.ts';

/**
 * A function's environment with the template's queue URLs (`http://sqs.<region>.localhost/…`) pointing at the
 * endpoint: the SDK sends SQS requests to the host of the QueueUrl when no endpoint is configured in code
 * (`AWS_ENDPOINT_URL` does not count), so the URL must name the endpoint.
 */
export function withLocalQueueUrls(
  environment: Record<string, string>,
  region: string,
  endpointUrl: string,
): Record<string, string> {
  const prefix = `http://sqs.${region}.localhost/`;
  return Object.fromEntries(
    Object.entries(environment).map(([name, value]) => [name, value.replaceAll(prefix, `${endpointUrl}/`)]),
  );
}

/**
 * The invocation record Lambda sends to an on-failure destination once an asynchronous invocation's retries
 * are exhausted.
 * https://docs.aws.amazon.com/lambda/latest/dg/invocation-async-retain-records.html
 */
export function onFailureRecord(
  fn: Pick<DeployedFunction, 'arn'>,
  event: unknown,
  last: InvocationResult,
  attempts: number,
  now: number,
) {
  return {
    version: '1.0',
    timestamp: new Date(now).toISOString(),
    requestContext: {
      requestId: last.requestId,
      functionArn: `${fn.arn}:$LATEST`,
      condition: 'RetriesExhausted',
      approximateInvokeCount: attempts,
    },
    requestPayload: event,
    responseContext: { statusCode: 200, executedVersion: '$LATEST', functionError: 'Unhandled' },
    responsePayload: { errorType: last.error?.name, errorMessage: last.error?.message },
  };
}
