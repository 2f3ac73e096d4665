import { GetParameterCommand, PutParameterCommand, SSMClient } from '@aws-sdk/client-ssm';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Caller } from '../../../local/endpoint/authorize.ts';
import { LocalEndpoint } from '../../../local/endpoint/server.ts';
import { SsmWorld } from '../../../local/services/ssm.ts';
import { VirtualClock } from '../../../local/world/clock.ts';

const reader: Caller = {
  accessKeyId: 'AKIAREADER0000000000',
  secretAccessKey: 'reader-secret',
  principalArn: 'arn:aws:sts::123456789012:assumed-role/reader/fn',
  policies: [
    {
      Version: '2012-10-17',
      Statement: [
        {
          Effect: 'Allow',
          Action: 'ssm:GetParameter',
          Resource: 'arn:aws:ssm:eu-west-1:123456789012:parameter/app/*',
        },
      ],
    },
  ],
};
const ssm = new SsmWorld({ clock: new VirtualClock(Date.parse('2026-11-20T00:00:00Z')) });
const endpoint = new LocalEndpoint({
  account: '123456789012',
  region: 'eu-west-1',
  services: [ssm],
  callerFor: (key) => (key === reader.accessKeyId ? reader : undefined),
});
const client = (accessKeyId: string, secretAccessKey: string) =>
  new SSMClient({
    endpoint: endpoint.url,
    region: 'eu-west-1',
    credentials: { accessKeyId, secretAccessKey },
    maxAttempts: 1,
  });

beforeAll(async () => {
  await endpoint.listen();
  ssm.put('/app/url', 'https://example.test');
});
afterAll(() => endpoint.close());

describe('LocalEndpoint', () => {
  describe('authenticates like AWS', () => {
    it("serves a correctly signed request the caller's policy allows", async () => {
      const out = await client(reader.accessKeyId, reader.secretAccessKey).send(
        new GetParameterCommand({ Name: '/app/url' }),
      );
      expect(out.Parameter?.Value).toBe('https://example.test');
    });

    it('refuses a request signed with another secret', async () => {
      await expect(
        client(reader.accessKeyId, 'not-the-secret').send(new GetParameterCommand({ Name: '/app/url' })),
      ).rejects.toMatchObject({
        name: 'SignatureDoesNotMatch',
      });
    });

    it('refuses an unknown access key', async () => {
      await expect(
        client('AKIANOBODY0000000000', 'x').send(new GetParameterCommand({ Name: '/app/url' })),
      ).rejects.toMatchObject({
        name: 'UnrecognizedClientException',
      });
    });
  });

  describe('authorizes like IAM', () => {
    it('answers AccessDeniedException naming the action and resource the policy does not allow', async () => {
      const c = client(reader.accessKeyId, reader.secretAccessKey);
      await expect(
        c.send(new PutParameterCommand({ Name: '/app/url', Value: 'x', Overwrite: true })),
      ).rejects.toMatchObject({
        name: 'AccessDeniedException',
        message: expect.stringContaining(
          'is not authorized to perform: ssm:PutParameter on resource: arn:aws:ssm:eu-west-1:123456789012:parameter/app/url',
        ),
      });
      await expect(c.send(new GetParameterCommand({ Name: '/other' }))).rejects.toMatchObject({
        name: 'AccessDeniedException',
      });
      expect(ssm.parameters.get('/app/url')?.value).toBe('https://example.test');
    });

    it('answers ParameterNotFound for an allowed read of a parameter that does not exist', async () => {
      await expect(
        client(reader.accessKeyId, reader.secretAccessKey).send(
          new GetParameterCommand({ Name: '/app/none' }),
        ),
      ).rejects.toMatchObject({
        name: 'ParameterNotFound',
      });
    });
  });
});
