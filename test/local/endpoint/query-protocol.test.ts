import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import {
  AddTagsToResourceCommand,
  CreateDBInstanceCommand,
  CreateDBSnapshotCommand,
  DeleteDBSnapshotCommand,
  DescribeDBClustersCommand,
  DescribeDBSnapshotsCommand,
  RDSClient,
  RemoveTagsFromResourceCommand,
} from '@aws-sdk/client-rds';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { AwsServiceError } from '../../../local/endpoint/errors.ts';
import {
  asQueryError,
  escapeXml,
  parseQueryRequest,
  QueryRequestError,
  type QueryResult,
  queryErrorXml,
  queryList,
  queryResponseXml,
} from '../../../local/endpoint/query-protocol.ts';

const XMLNS = 'http://rds.amazonaws.com/doc/2014-10-31/';

/** A loopback server that records the SDK's request bodies and answers what the test sets. */
let server: Server;
let bodies: string[] = [];
let answer: { status: number; xml: string } = { status: 200, xml: '' };
const rds = () =>
  new RDSClient({
    endpoint: `http://127.0.0.1:${(server.address() as AddressInfo).port}`,
    region: 'eu-west-1',
    credentials: { accessKeyId: 'AKIACAPTURE000000000', secretAccessKey: 'x' },
    maxAttempts: 1,
  });
const respond = (action: string, output: QueryResult) => {
  answer = { status: 200, xml: queryResponseXml(action, XMLNS, output, 'req-1') };
};

beforeAll(async () => {
  server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      bodies.push(Buffer.concat(chunks).toString('utf8'));
      res.writeHead(answer.status, { 'content-type': 'text/xml' }).end(answer.xml);
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', () => resolve()));
});
afterAll(() => new Promise<void>((resolve) => server.close(() => resolve())));
beforeEach(() => {
  bodies = [];
  answer = { status: 200, xml: '' };
});

describe('query-protocol', () => {
  describe('parses request bodies as the SDK serializes them', () => {
    it('reads Action, Version and Tags.Tag.N.Key/Value (percent-encoded) into a list of structures', async () => {
      respond('CreateDBSnapshot', { result: { DBSnapshot: { DBSnapshotIdentifier: 's1' } } });
      await rds().send(
        new CreateDBSnapshotCommand({
          DBSnapshotIdentifier: 's1',
          DBInstanceIdentifier: 'db',
          Tags: [
            { Key: 'a b+c', Value: '<&>=%' },
            { Key: 'empty', Value: '' },
          ],
        }),
      );
      const [body = ''] = bodies;
      expect(body).toContain('Action=CreateDBSnapshot&Version=2014-10-31');
      expect(body).toContain('Tags.Tag.1.Key=a%20b%2Bc&Tags.Tag.1.Value=%3C%26%3E%3D%25');
      expect(parseQueryRequest(body)).toEqual({
        action: 'CreateDBSnapshot',
        version: '2014-10-31',
        params: {
          DBSnapshotIdentifier: 's1',
          DBInstanceIdentifier: 'db',
          Tags: [
            { Key: 'a b+c', Value: '<&>=%' },
            { Key: 'empty', Value: '' },
          ],
        },
      });
    });

    it('reads Filters.Filter.N.Values.Value.N as lists nested in a list, and scalars as strings', async () => {
      respond('DescribeDBSnapshots', { result: { DBSnapshots: [] } });
      await rds().send(
        new DescribeDBSnapshotsCommand({
          DBInstanceIdentifier: 'db',
          Filters: [
            { Name: 'snapshot-type', Values: ['manual', 'automated'] },
            { Name: 'engine', Values: ['postgres'] },
          ],
          MaxRecords: 20,
          Marker: 'abc=+/',
          IncludeShared: false,
        }),
      );
      const [body = ''] = bodies;
      expect(body).toContain('Filters.Filter.1.Values.Value.2=automated');
      expect(parseQueryRequest(body).params).toEqual({
        DBInstanceIdentifier: 'db',
        Filters: [
          { Name: 'snapshot-type', Values: ['manual', 'automated'] },
          { Name: 'engine', Values: ['postgres'] },
        ],
        MaxRecords: '20',
        Marker: 'abc=+/',
        IncludeShared: 'false',
      });
    });

    it('reads TagKeys.member.N and VpcSecurityGroupIds.VpcSecurityGroupId.N as lists of strings', async () => {
      respond('RemoveTagsFromResource', {});
      await rds().send(
        new RemoveTagsFromResourceCommand({ ResourceName: 'arn:aws:rds:x', TagKeys: ['a', 'b'] }),
      );
      respond('CreateDBInstance', { result: { DBInstance: { DBInstanceIdentifier: 'x' } } });
      await rds().send(
        new CreateDBInstanceCommand({
          DBInstanceIdentifier: 'x',
          DBInstanceClass: 'db.t4g.micro',
          Engine: 'postgres',
          VpcSecurityGroupIds: ['sg-1', 'sg-2'],
        }),
      );
      const [remove = '', create = ''] = bodies;
      expect(remove).toContain('TagKeys.member.1=a&TagKeys.member.2=b');
      expect(parseQueryRequest(remove).params).toEqual({
        ResourceName: 'arn:aws:rds:x',
        TagKeys: ['a', 'b'],
      });
      expect(create).toContain('VpcSecurityGroupIds.VpcSecurityGroupId.2=sg-2');
      expect(parseQueryRequest(create).params.VpcSecurityGroupIds).toEqual(['sg-1', 'sg-2']);
    });

    it('reads an empty list, which the SDK sends as a bare `Name=`, as no items', async () => {
      respond('AddTagsToResource', {});
      await rds().send(new AddTagsToResourceCommand({ ResourceName: 'arn', Tags: [] }));
      const [body = ''] = bodies;
      expect(body).toBe('Action=AddTagsToResource&Version=2014-10-31&ResourceName=arn&Tags=');
      expect(queryList(parseQueryRequest(body).params, 'Tags')).toEqual([]);
    });

    it('orders list items by index, and reads entry.N.key/value as a map', () => {
      const { params } = parseQueryRequest(
        'Action=X&Version=1&L.member.10=ten&L.member.2=two&M.entry.1.key=a&M.entry.1.value=1&M.entry.2.key=b&M.entry.2.value=2&S.Inner.Deep=d&__proto__.x=1',
      );
      expect(params.L).toEqual(['two', 'ten']);
      expect(params.M).toEqual({ a: '1', b: '2' });
      expect(params.S).toEqual({ Inner: { Deep: 'd' } });
      expect(Object.getPrototypeOf(params)).toBe(Object.prototype);
      expect(({} as Record<string, unknown>).x).toBeUndefined();
    });

    it('refuses a body without Action with MissingAction', () => {
      expect(() => parseQueryRequest('Version=2014-10-31')).toThrow(QueryRequestError);
      expect(() => parseQueryRequest('Version=2014-10-31')).toThrow(
        expect.objectContaining({ code: 'MissingAction' }),
      );
    });
  });

  describe('writes results the SDK reads back', () => {
    it('writes lists with RDS member names, ISO-8601 dates, booleans and numbers', async () => {
      const created = new Date('2026-11-20T05:10:11.123Z');
      respond('DescribeDBSnapshots', {
        result: {
          Marker: 'next',
          DBSnapshots: [
            {
              DBSnapshotIdentifier: 'a',
              SnapshotCreateTime: created,
              AllocatedStorage: 20,
              Encrypted: false,
              TagList: [{ Key: 'k', Value: 'v' }],
              ProcessorFeatures: [],
            },
            { DBSnapshotIdentifier: 'b', Encrypted: true, SnapshotCreateTime: undefined },
          ],
        },
        members: { DBSnapshots: 'DBSnapshot', TagList: 'Tag' },
      });
      const out = await rds().send(new DescribeDBSnapshotsCommand({}));
      expect(answer.xml).toContain(
        `<DescribeDBSnapshotsResponse xmlns="${XMLNS}"><DescribeDBSnapshotsResult><Marker>next</Marker><DBSnapshots><DBSnapshot>`,
      );
      expect(answer.xml).toContain('<TagList><Tag><Key>k</Key><Value>v</Value></Tag></TagList>');
      expect(answer.xml).toContain('<SnapshotCreateTime>2026-11-20T05:10:11.123Z</SnapshotCreateTime>');
      expect(answer.xml).toContain('<ResponseMetadata><RequestId>req-1</RequestId></ResponseMetadata>');
      expect(out.Marker).toBe('next');
      expect(out.DBSnapshots).toEqual([
        {
          DBSnapshotIdentifier: 'a',
          SnapshotCreateTime: created,
          AllocatedStorage: 20,
          Encrypted: false,
          TagList: [{ Key: 'k', Value: 'v' }],
          ProcessorFeatures: [],
        },
        { DBSnapshotIdentifier: 'b', Encrypted: true },
      ]);
    });

    it('escapes markup and line breaks so text comes back exactly', async () => {
      const tricky = `<&> "quoted" 'single' ]]> line1\nline2\r\n  `;
      respond('DescribeDBSnapshots', {
        result: { DBSnapshots: [{ DBSnapshotIdentifier: 'a', TagList: [{ Key: 'k&<', Value: tricky }] }] },
        members: { DBSnapshots: 'DBSnapshot', TagList: 'Tag' },
      });
      const out = await rds().send(new DescribeDBSnapshotsCommand({}));
      expect(answer.xml).toContain('<Key>k&amp;&lt;</Key>');
      expect(out.DBSnapshots?.[0]?.TagList).toEqual([{ Key: 'k&<', Value: tricky }]);
      expect(escapeXml('<&>')).toBe('&lt;&amp;&gt;');
    });

    it('writes nested structures and lists of strings with their member names', async () => {
      respond('DescribeDBClusters', {
        result: {
          DBClusters: [
            {
              DBClusterIdentifier: 'c',
              AvailabilityZones: ['eu-west-1a', 'eu-west-1b'],
              DBClusterMembers: [{ DBInstanceIdentifier: 'i1', IsClusterWriter: true }],
            },
          ],
        },
        members: {
          DBClusters: 'DBCluster',
          AvailabilityZones: 'AvailabilityZone',
          DBClusterMembers: 'DBClusterMember',
        },
      });
      const out = await rds().send(new DescribeDBClustersCommand({}));
      expect(out.DBClusters).toEqual([
        {
          DBClusterIdentifier: 'c',
          AvailabilityZones: ['eu-west-1a', 'eu-west-1b'],
          DBClusterMembers: [{ DBInstanceIdentifier: 'i1', IsClusterWriter: true }],
        },
      ]);
    });

    it('leaves the Result element out for actions without output', () => {
      expect(queryResponseXml('AddTagsToResource', XMLNS, {}, 'r')).toBe(
        `<AddTagsToResourceResponse xmlns="${XMLNS}"><ResponseMetadata><RequestId>r</RequestId></ResponseMetadata></AddTagsToResourceResponse>`,
      );
    });
  });

  describe('writes errors the SDK maps to its exceptions', () => {
    it('answers a modeled error with its AWS code and status, e.g. DBSnapshotNotFound with 404', async () => {
      const error = new AwsServiceError('DBSnapshotNotFound', 'DBSnapshot <x&y> not found.', 404);
      answer = { status: 404, xml: queryErrorXml(error, XMLNS, 'req-2') };
      const thrown = await rds()
        .send(new DeleteDBSnapshotCommand({ DBSnapshotIdentifier: 'x' }))
        .catch((e: unknown) => e);
      expect(answer.xml).toBe(
        `<ErrorResponse xmlns="${XMLNS}"><Error><Type>Sender</Type><Code>DBSnapshotNotFound</Code><Message>DBSnapshot &lt;x&amp;y&gt; not found.</Message></Error><RequestId>req-2</RequestId></ErrorResponse>`,
      );
      expect(thrown).toMatchObject({
        name: 'DBSnapshotNotFoundFault',
        Code: 'DBSnapshotNotFound',
        message: 'DBSnapshot <x&y> not found.',
        $metadata: { httpStatusCode: 404 },
      });
    });

    it('spells the endpoint’s errors as Query services do: AccessDenied 403, Throttling 400, InvalidClientTokenId 403', async () => {
      expect(asQueryError(new AwsServiceError('AccessDeniedException', 'no'))).toMatchObject({
        code: 'AccessDenied',
        status: 403,
      });
      expect(asQueryError(new AwsServiceError('UnrecognizedClientException', 'no'))).toMatchObject({
        code: 'InvalidClientTokenId',
        status: 403,
      });
      const throttling = asQueryError(new AwsServiceError('ThrottlingException', 'Rate exceeded'));
      expect(throttling).toMatchObject({ code: 'Throttling', status: 400 });
      answer = { status: 400, xml: queryErrorXml(throttling, XMLNS, 'req-3') };
      await expect(rds().send(new DescribeDBSnapshotsCommand({}))).rejects.toMatchObject({
        name: 'Throttling',
        message: 'Rate exceeded',
        $metadata: { httpStatusCode: 400 },
      });
    });

    it('marks server errors as Receiver', () => {
      expect(queryErrorXml(new AwsServiceError('InternalFailure', 'boom', 500), XMLNS, 'r')).toContain(
        '<Type>Receiver</Type><Code>InternalFailure</Code>',
      );
    });
  });
});
