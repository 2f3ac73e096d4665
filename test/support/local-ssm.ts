/**
 * The local SSM behind a LocalEndpoint on loopback, with an unrestricted operator: for tests of code that
 * reads parameters (the kill switch, the endpoint's own behaviour). `clock` defaults to real time.
 */
import { SSMClient } from '@aws-sdk/client-ssm';
import { LocalEndpoint } from '../../local/endpoint/server.ts';
import { SsmWorld } from '../../local/services/ssm.ts';

export const OPERATOR = {
  accessKeyId: 'AKIAOPERATOR00000000',
  secretAccessKey: 'operator-secret',
  principalArn: 'arn:aws:iam::123456789012:user/operator',
  policies: 'unrestricted' as const,
};

export function localSsm(o: { now?: () => number } = {}) {
  const ssm = new SsmWorld({
    account: '123456789012',
    region: 'eu-west-1',
    clock: { now: o.now ?? (() => Date.now()) } as never,
    emit: () => undefined,
  });
  const endpoint = new LocalEndpoint({
    account: '123456789012',
    region: 'eu-west-1',
    services: [ssm],
    callerFor: (key) => (key === OPERATOR.accessKeyId ? OPERATOR : undefined),
  });
  return {
    ssm,
    endpoint,
    /** An SSM client as the operator (or with other keys), once the endpoint listens. */
    client: (o: { maxAttempts?: number; accessKeyId?: string } = {}) =>
      new SSMClient({
        endpoint: endpoint.url,
        region: 'eu-west-1',
        credentials: {
          accessKeyId: o.accessKeyId ?? OPERATOR.accessKeyId,
          secretAccessKey: OPERATOR.secretAccessKey,
        },
        maxAttempts: o.maxAttempts ?? 1,
      }),
  };
}
