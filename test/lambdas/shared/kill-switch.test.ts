/**
 * The kill switch, read from the local SSM as every runbook reads it: `on` engages it; absent or another
 * value acts; a SecureString (ciphertext without decryption) and any failure to read fail closed.
 */
import { PutParameterCommand, type SSMClient } from '@aws-sdk/client-ssm';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { readKillSwitch } from '../../../lambdas/shared/kill-switch.ts';
import { localSsm } from '../../support/local-ssm.ts';

const local = localSsm();
let ssm: SSMClient;
beforeAll(async () => {
  await local.endpoint.listen();
  ssm = local.client();
});
afterAll(() => local.endpoint.close());

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
    const broken = local.client({ accessKeyId: 'AKIAUNKNOWN000000000' });
    expect(await readKillSwitch(broken, '/ks/a')).toMatchObject({
      engaged: true,
      reason: expect.stringContaining('could not be read'),
    });
  });
});
