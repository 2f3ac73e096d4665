import {
  GetParameterCommand,
  GetParametersByPathCommand,
  paginateGetParametersByPath,
  SSMClient,
} from '@aws-sdk/client-ssm';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Caller } from '../../../local/endpoint/authorize.ts';
import { LocalEndpoint } from '../../../local/endpoint/server.ts';
import { SsmWorld } from '../../../local/services/ssm.ts';
import { VirtualClock } from '../../../local/world/clock.ts';

const ARN = 'arn:aws:ssm:eu-west-1:123456789012:parameter';
const caller = (name: string, resource: string): Caller => ({
  accessKeyId: `AKIA${name.toUpperCase().padEnd(16, '0')}`,
  secretAccessKey: `${name}-secret`,
  principalArn: `arn:aws:sts::123456789012:assumed-role/${name}/fn`,
  policies: [
    {
      Version: '2012-10-17',
      Statement: [
        { Effect: 'Allow', Action: ['ssm:GetParametersByPath', 'ssm:GetParameter'], Resource: resource },
      ],
    },
  ],
});
/** May list the path itself (how AWS authorizes GetParametersByPath). */
const lister = caller('lister', `${ARN}/nightshift/restore-verify`);
/** May read the parameters under the path, but not list the path. */
const childReader = caller('childreader', `${ARN}/nightshift/restore-verify/*`);
const callers = [lister, childReader];

const clock = new VirtualClock(Date.parse('2026-11-20T00:00:00Z'));
const ssm = new SsmWorld({ clock });
const endpoint = new LocalEndpoint({
  account: '123456789012',
  region: 'eu-west-1',
  services: [ssm],
  callerFor: (key) => callers.find((c) => c.accessKeyId === key),
});
const client = (c: Caller) =>
  new SSMClient({
    endpoint: endpoint.url,
    region: 'eu-west-1',
    credentials: { accessKeyId: c.accessKeyId, secretAccessKey: c.secretAccessKey },
    maxAttempts: 1,
  });

beforeAll(async () => {
  await endpoint.listen();
  for (let i = 0; i < 23; i++) {
    ssm.put(`/nightshift/restore-verify/copy-${String(i).padStart(2, '0')}`, `secret-${i}`, 'SecureString');
  }
  ssm.put('/nightshift/restore-verify/deeper/one', 'deep', 'String');
  ssm.put('/nightshift/restore-verify-other', 'not under the path', 'String');
});
afterAll(() => endpoint.close());

describe('SsmWorld', () => {
  describe('GetParametersByPath, like AWS', () => {
    it('pages through one level of the hierarchy, at most 10 a page, to the end', async () => {
      const pages = [];
      for await (const page of paginateGetParametersByPath(
        { client: client(lister) },
        { Path: '/nightshift/restore-verify' },
      ))
        pages.push(page.Parameters ?? []);
      expect(pages.map((p) => p.length)).toEqual([10, 10, 3]);
      const names = pages.flat().map((p) => p.Name);
      expect(names).toHaveLength(23);
      expect(names).not.toContain('/nightshift/restore-verify/deeper/one');
      expect(names).not.toContain('/nightshift/restore-verify-other');
      expect(pages[0]?.[0]?.LastModifiedDate).toEqual(new Date('2026-11-20T00:00:00Z'));
    });

    it('goes down every level when recursive', async () => {
      const names: (string | undefined)[] = [];
      for await (const page of paginateGetParametersByPath(
        { client: client(lister) },
        { Path: '/nightshift/restore-verify', Recursive: true },
      ))
        names.push(...(page.Parameters ?? []).map((p) => p.Name));
      expect(names).toHaveLength(24);
      expect(names).toContain('/nightshift/restore-verify/deeper/one');
      expect(names).not.toContain('/nightshift/restore-verify-other');
    });

    it('never returns a SecureString value unless asked to decrypt it', async () => {
      const plain = await client(lister).send(
        new GetParametersByPathCommand({ Path: '/nightshift/restore-verify', MaxResults: 1 }),
      );
      expect(plain.Parameters?.[0]).toMatchObject({
        Name: '/nightshift/restore-verify/copy-00',
        Type: 'SecureString',
      });
      expect(plain.Parameters?.[0]?.Value).not.toContain('secret-0');
      const decrypted = await client(lister).send(
        new GetParametersByPathCommand({
          Path: '/nightshift/restore-verify',
          MaxResults: 1,
          WithDecryption: true,
        }),
      );
      expect(decrypted.Parameters?.[0]?.Value).toBe('secret-0');
      const one = await client(childReader).send(
        new GetParameterCommand({ Name: '/nightshift/restore-verify/copy-01' }),
      );
      expect(one.Parameter?.Value).not.toContain('secret-1');
    });

    it('refuses MaxResults above 10, a path without a leading slash, and a token it did not give', async () => {
      await expect(
        client(lister).send(
          new GetParametersByPathCommand({ Path: '/nightshift/restore-verify', MaxResults: 11 }),
        ),
      ).rejects.toMatchObject({ name: 'ValidationException' });
      await expect(
        client(lister).send(new GetParametersByPathCommand({ Path: 'nightshift/restore-verify' })),
      ).rejects.toMatchObject({ name: 'ValidationException' });
      await expect(
        client(lister).send(
          new GetParametersByPathCommand({ Path: '/nightshift/restore-verify', NextToken: 'forged' }),
        ),
      ).rejects.toMatchObject({ name: 'InvalidNextToken' });
    });

    it('authorizes against the path asked for, not the parameters under it', async () => {
      await expect(
        client(childReader).send(new GetParametersByPathCommand({ Path: '/nightshift/restore-verify' })),
      ).rejects.toMatchObject({ name: 'AccessDeniedException' });
      await expect(
        client(lister).send(new GetParametersByPathCommand({ Path: '/nightshift' })),
      ).rejects.toMatchObject({ name: 'AccessDeniedException' });
    });
  });
});
