import { SESv2Client, SendEmailCommand, type SendEmailCommandInput } from '@aws-sdk/client-sesv2';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import type { Caller } from '../../../local/endpoint/authorize.ts';
import { LocalEndpoint } from '../../../local/endpoint/server.ts';
import type { AwsEvent } from '../../../local/services/envelope.ts';
import { SesWorld } from '../../../local/services/ses.ts';

const ACCOUNT = '123456789012';
const REGION = 'eu-west-1';
const IDENTITY_ARN = `arn:aws:ses:${REGION}:${ACCOUNT}:identity/example.com`;

/** May send as alerts@example.com only, through any configuration set. */
const alerts: Caller = {
  accessKeyId: 'AKIAALERTS0000000000',
  secretAccessKey: 'alerts-secret',
  principalArn: `arn:aws:sts::${ACCOUNT}:assumed-role/alerts-fn/session`,
  roleArn: `arn:aws:iam::${ACCOUNT}:role/alerts-fn`,
  policies: [
    {
      Version: '2012-10-17',
      Statement: [
        {
          Effect: 'Allow',
          Action: 'ses:SendEmail',
          Resource: IDENTITY_ARN,
          Condition: { StringEquals: { 'ses:FromAddress': 'alerts@example.com' } },
        },
        {
          Effect: 'Allow',
          Action: 'ses:SendEmail',
          Resource: `arn:aws:ses:${REGION}:${ACCOUNT}:configuration-set/*`,
        },
      ],
    },
  ],
};
/** May send from any identity of the account. */
const mailer: Caller = {
  accessKeyId: 'AKIAMAILER0000000000',
  secretAccessKey: 'mailer-secret',
  principalArn: `arn:aws:sts::${ACCOUNT}:assumed-role/mailer/session`,
  policies: [
    {
      Version: '2012-10-17',
      Statement: [
        { Effect: 'Allow', Action: 'ses:SendEmail', Resource: `arn:aws:ses:${REGION}:${ACCOUNT}:*` },
      ],
    },
  ],
};

let now = Date.parse('2026-12-01T10:00:00Z');
const events: AwsEvent[] = [];
const ses = new SesWorld({
  account: ACCOUNT,
  region: REGION,
  clock: { now: () => now },
  emit: (e) => events.push(e),
});
const endpoint = new LocalEndpoint({
  account: ACCOUNT,
  region: REGION,
  services: [],
  restServices: [ses],
  callerFor: (key) => [alerts, mailer].find((c) => c.accessKeyId === key),
});
const client = (caller: Caller) =>
  new SESv2Client({
    endpoint: endpoint.url,
    region: REGION,
    credentials: { accessKeyId: caller.accessKeyId, secretAccessKey: caller.secretAccessKey },
    maxAttempts: 1,
  });

const email = (over: Partial<SendEmailCommandInput> = {}): SendEmailCommandInput => ({
  FromEmailAddress: 'Nightshift Alerts <alerts@example.com>',
  Destination: { ToAddresses: ['oncall@example.net'] },
  Content: {
    Simple: {
      Subject: { Data: 'Rollback done' },
      Body: { Text: { Data: 'svc rolled back' }, Html: { Data: '<p>svc rolled back</p>' } },
    },
  },
  ...over,
});

beforeAll(async () => {
  await endpoint.listen();
  ses.verifyIdentity('example.com');
  ses.createConfigurationSet('feedback', [
    {
      name: 'to-bus',
      enabled: true,
      matchingEventTypes: ['BOUNCE', 'COMPLAINT'],
      eventBridge: { eventBusArn: `arn:aws:events:${REGION}:${ACCOUNT}:event-bus/default` },
    },
  ]);
});
afterAll(() => endpoint.close());
beforeEach(() => {
  now += 60_000; // a fresh second of sending rate for every test
  events.length = 0;
});

describe('SesWorld SendEmail over the REST JSON protocol', () => {
  it('sends as the identity a policy allows, recording text and HTML', async () => {
    const out = await client(alerts).send(
      new SendEmailCommand(email({ EmailTags: [{ Name: 'run', Value: 'r1' }] })),
    );
    expect(out.MessageId).toMatch(/^0100[0-9a-f]{12}-[0-9a-f-]{36}-000000$/);
    expect(ses.sent.at(-1)).toMatchObject({
      messageId: out.MessageId,
      from: 'Nightshift Alerts <alerts@example.com>',
      to: ['oncall@example.net'],
      subject: 'Rollback done',
      text: 'svc rolled back',
      html: '<p>svc rolled back</p>',
      tags: [{ name: 'run', value: 'r1' }],
      at: now,
    });
    expect(endpoint.count('ses', 'SendEmail', (c) => c.status === 200)).toBeGreaterThan(0);
  });

  it('denies another from address of the same identity (ses:FromAddress), with AWS wording and 403', async () => {
    const error = await client(alerts)
      .send(new SendEmailCommand(email({ FromEmailAddress: 'ceo@example.com' })))
      .catch((e: unknown) => e);
    expect(error).toMatchObject({
      name: 'AccessDeniedException',
      $metadata: { httpStatusCode: 403 },
      message: `User: ${alerts.principalArn} is not authorized to perform: ses:SendEmail on resource: ${IDENTITY_ARN} because no identity-based policy allows the ses:SendEmail action`,
    });
  });

  it('denies another identity', async () => {
    ses.verifyIdentity('other.example');
    await expect(
      client(alerts).send(new SendEmailCommand(email({ FromEmailAddress: 'alerts@other.example' }))),
    ).rejects.toMatchObject({
      name: 'AccessDeniedException',
      message: expect.stringContaining(
        `on resource: arn:aws:ses:${REGION}:${ACCOUNT}:identity/other.example`,
      ),
    });
  });

  it('authorizes against the address identity when the address itself is verified', async () => {
    ses.verifyIdentity('pager@example.org');
    await expect(
      client(alerts).send(new SendEmailCommand(email({ FromEmailAddress: 'pager@example.org' }))),
    ).rejects.toMatchObject({
      message: expect.stringContaining(`identity/pager@example.org because`),
    });
    await expect(
      client(mailer).send(new SendEmailCommand(email({ FromEmailAddress: 'pager@example.org' }))),
    ).resolves.toMatchObject({ MessageId: expect.any(String) });
  });

  it('rejects an unverified From address with MessageRejected', async () => {
    await expect(
      client(mailer).send(new SendEmailCommand(email({ FromEmailAddress: 'ops@unverified.test' }))),
    ).rejects.toMatchObject({
      name: 'MessageRejected',
      $metadata: { httpStatusCode: 400 },
      message:
        'Email address is not verified. The following identities failed the check in region EU-WEST-1: ops@unverified.test',
    });
  });

  it('answers NotFoundException (404) for an unknown configuration set', async () => {
    await expect(
      client(alerts).send(new SendEmailCommand(email({ ConfigurationSetName: 'nope' }))),
    ).rejects.toMatchObject({ name: 'NotFoundException', $metadata: { httpStatusCode: 404 } });
  });

  it('answers BadRequestException for 51 recipients in all', async () => {
    const many = Array.from({ length: 25 }, (_, i) => `r${i}@example.net`);
    await expect(
      client(alerts).send(
        new SendEmailCommand(
          email({ Destination: { ToAddresses: many, CcAddresses: many, BccAddresses: ['x@example.net'] } }),
        ),
      ),
    ).rejects.toMatchObject({ name: 'BadRequestException', message: 'Recipient count exceeds 50.' });
  });

  it('answers BadRequestException for Raw content and for a Simple message without From', async () => {
    await expect(
      client(alerts).send(new SendEmailCommand(email({ Content: { Raw: { Data: new Uint8Array([1]) } } }))),
    ).rejects.toMatchObject({
      name: 'BadRequestException',
      message: expect.stringContaining('Simple content only'),
    });
    await expect(
      client(alerts).send(new SendEmailCommand(email({ FromEmailAddress: undefined }))),
    ).rejects.toMatchObject({
      name: 'BadRequestException',
      message: expect.stringContaining('FromEmailAddress'),
    });
  });

  it('emits "Email Bounced" for the bounce simulator, tagged with the configuration set', async () => {
    const out = await client(alerts).send(
      new SendEmailCommand(
        email({
          Destination: { ToAddresses: ['bounce@simulator.amazonses.com'] },
          ConfigurationSetName: 'feedback',
          EmailTags: [{ Name: 'alarm', Value: 'HighErrors' }],
        }),
      ),
    );
    expect(events).toHaveLength(1); // DELIVERY and SEND are not among the destination's types
    const [event] = events;
    expect(event).toMatchObject({
      version: '0',
      source: 'aws.ses',
      'detail-type': 'Email Bounced',
      account: ACCOUNT,
      region: REGION,
      resources: [`arn:aws:ses:${REGION}:${ACCOUNT}:configuration-set/feedback`],
      detail: {
        eventType: 'Bounce',
        bounce: {
          bounceType: 'Permanent',
          bounceSubType: 'General',
          bouncedRecipients: [
            {
              emailAddress: 'bounce@simulator.amazonses.com',
              action: 'failed',
              status: '5.1.1',
              diagnosticCode: 'smtp; 550 5.1.1 user unknown',
            },
          ],
        },
        mail: {
          messageId: out.MessageId,
          source: 'Nightshift Alerts <alerts@example.com>',
          sourceArn: IDENTITY_ARN,
          sendingAccountId: ACCOUNT,
          destination: ['bounce@simulator.amazonses.com'],
          tags: {
            'ses:configuration-set': ['feedback'],
            'ses:from-domain': ['example.com'],
            'ses:caller-identity': ['alerts-fn'],
            alarm: ['HighErrors'],
          },
        },
      },
    });
    expect(event?.time).toBe(new Date(now + 1000).toISOString().replace('.000Z', 'Z'));
  });

  it('emits "Email Complaint Received" for the complaint simulator', async () => {
    await client(alerts).send(
      new SendEmailCommand(
        email({
          Destination: { ToAddresses: ['complaint@simulator.amazonses.com'] },
          ConfigurationSetName: 'feedback',
        }),
      ),
    );
    expect(events.map((e) => e['detail-type'])).toEqual(['Email Complaint Received']);
    expect(events[0]?.detail).toMatchObject({
      eventType: 'Complaint',
      complaint: {
        complainedRecipients: [{ emailAddress: 'complaint@simulator.amazonses.com' }],
        complaintFeedbackType: 'abuse',
      },
      mail: { tags: { 'ses:configuration-set': ['feedback'] } },
    });
  });

  it('emits nothing without a configuration set, or for a delivered message', async () => {
    await client(alerts).send(
      new SendEmailCommand(email({ Destination: { ToAddresses: ['bounce@simulator.amazonses.com'] } })),
    );
    await client(alerts).send(
      new SendEmailCommand(
        email({
          Destination: { ToAddresses: ['success@simulator.amazonses.com'] },
          ConfigurationSetName: 'feedback',
        }),
      ),
    );
    expect(events).toEqual([]);
  });

  it('delays feedback on a clock with a scheduler', async () => {
    const timers: { at: number; run: () => unknown }[] = [];
    const scheduled: AwsEvent[] = [];
    const world = new SesWorld({
      account: ACCOUNT,
      region: REGION,
      clock: { now: () => now, schedule: (at, run) => timers.push({ at, run }) },
      emit: (e) => scheduled.push(e),
    });
    world.verifyIdentity('example.com');
    world.createConfigurationSet('all', [
      {
        name: 'bus',
        enabled: true,
        matchingEventTypes: ['SEND', 'DELIVERY', 'BOUNCE'],
        eventBridge: { eventBusArn: `arn:aws:events:${REGION}:${ACCOUNT}:event-bus/default` },
      },
    ]);
    await world.handle(
      'SendEmail',
      email({
        Destination: { ToAddresses: ['bounce+t1@simulator.amazonses.com', 'ooto@simulator.amazonses.com'] },
        ConfigurationSetName: 'all',
      }) as unknown as Record<string, unknown>,
      mailer,
    );
    expect(scheduled.map((e) => e['detail-type'])).toEqual(['Email Sent']);
    expect(timers.map((t) => t.at)).toEqual([now + 1000]);
    await timers[0]?.run();
    expect(scheduled.map((e) => e['detail-type'])).toEqual([
      'Email Sent',
      'Email Delivered',
      'Email Bounced',
    ]);
  });

  it('refuses unverified recipients in the sandbox, but not the mailbox simulator', async () => {
    ses.sandbox = true;
    try {
      await expect(client(alerts).send(new SendEmailCommand(email()))).rejects.toMatchObject({
        name: 'MessageRejected',
        message:
          'Email address is not verified. The following identities failed the check in region EU-WEST-1: oncall@example.net',
      });
      await expect(
        client(alerts).send(
          new SendEmailCommand(email({ Destination: { ToAddresses: ['success@simulator.amazonses.com'] } })),
        ),
      ).resolves.toBeDefined();
    } finally {
      ses.sandbox = false;
    }
  });

  it('answers TooManyRequestsException (429) beyond the maximum sending rate', async () => {
    ses.sendingRate = 2;
    try {
      const c = client(alerts);
      await c.send(new SendEmailCommand(email()));
      await c.send(new SendEmailCommand(email()));
      await expect(c.send(new SendEmailCommand(email()))).rejects.toMatchObject({
        name: 'TooManyRequestsException',
        $metadata: { httpStatusCode: 429 },
        message: 'Maximum sending rate exceeded.',
      });
      now += 1000;
      await expect(c.send(new SendEmailCommand(email()))).resolves.toBeDefined();
    } finally {
      ses.sendingRate = 14;
    }
  });

  it('answers SendingPausedException while sending is disabled', async () => {
    ses.sendingEnabled = false;
    try {
      await expect(client(alerts).send(new SendEmailCommand(email()))).rejects.toMatchObject({
        name: 'SendingPausedException',
      });
    } finally {
      ses.sendingEnabled = true;
    }
  });

  it('answers an unknown REST path with 404 UnknownOperationException', async () => {
    const c = client(alerts);
    // Rewrite the path before the request is signed, so it reaches the endpoint correctly signed.
    c.middlewareStack.add(
      (next) => (args) => {
        (args.request as { path: string }).path = '/v2/email/nowhere';
        return next(args);
      },
      { step: 'build' },
    );
    await expect(c.send(new SendEmailCommand(email()))).rejects.toMatchObject({
      name: 'UnknownOperationException',
      $metadata: { httpStatusCode: 404 },
      message: 'Unknown operation POST /v2/email/nowhere',
    });
  });
});
