/**
 * The kill switch, read from the local SSM as every runbook reads it: `on` engages it; absent or another
 * value acts; a SecureString (ciphertext without decryption) and any failure to read fail closed.
 */
import { PutParameterCommand, SSMClient } from '@aws-sdk/client-ssm';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { readKillSwitch } from '../../../lambdas/shared/kill-switch.ts';
import { LocalEndpoint } from '../../../local/endpoint/server.ts';
import { SsmWorld } from '../../../local/services/ssm.ts';

const operator = {
  accessKeyId: 'AKIAOPERATOR00000000',
  secretAccessKey: 'operator-secret',
  principalArn: 'arn:aws:iam::123456789012:user/operator',
  policies: 'unrestricted' as const,
};
const endpoint = new LocalEndpoint({
  account: '123456789012',
  region: 'eu-west-1',
  services: [
    new SsmWorld({
      account: '123456789012',
      region: 'eu-west-1',
      clock: { now: () => Date.now() } as never,
      emit: () => undefined,
    }),
  ],
  callerFor: (key) => (key === operator.accessKeyId ? operator : undefined),
});
let ssm: SSMClient;
beforeAll(async () => {
  await endpoint.listen();
  ssm = new SSMClient({
    endpoint: endpoint.url,
    region: 'eu-west-1',
    credentials: { accessKeyId: operator.accessKeyId, secretAccessKey: operator.secretAccessKey },
    maxAttempts: 1,
  });
});
afterAll(() => endpoint.close());

const put = (Name: string, Value: string, Type: 'String' | 'SecureString' = 'String') =>
  ssm.send(new PutParameterCommand({ Name, Value, Type, Overwrite: true }));

describe('readKillSwitch', () => {
  it('on engages it; absent or off acts', async () => {
    expect(await readKillSwitch(ssm, '/ks/absent')).toMatchObject({ engaged: false });
    await put('/ks/a', ' ON ');
    expect(await readKillSwitch(ssm, '/ks/a')).toMatchObject({
      engaged: true,
      reason: 'kill switch /ks/a is on',
    });
    await put('/ks/a', 'off');
    expect(await readKillSwitch(ssm, '/ks/a')).toMatchObject({ engaged: false });
  });

  it('a SecureString fails closed, whatever it holds (its value reads as ciphertext without decryption)', async () => {
    await put('/ks/secure', 'on', 'SecureString');
    expect(await readKillSwitch(ssm, '/ks/secure')).toMatchObject({
      engaged: true,
      reason: expect.stringContaining('is a SecureString: make it a String parameter'),
    });
    await put('/ks/secure-off', 'off', 'SecureString');
    expect((await readKillSwitch(ssm, '/ks/secure-off')).engaged).toBe(true);
  });

  it('a read that fails (not ParameterNotFound) fails closed', async () => {
    const broken = new SSMClient({
      endpoint: endpoint.url,
      region: 'eu-west-1',
      credentials: { accessKeyId: 'AKIAUNKNOWN000000000', secretAccessKey: 'x' },
      maxAttempts: 1,
    });
    expect(await readKillSwitch(broken, '/ks/a')).toMatchObject({
      engaged: true,
      reason: expect.stringContaining('could not be read'),
    });
  });
});
