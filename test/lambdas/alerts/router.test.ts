import { CloudWatchClient, DescribeAlarmsCommand } from '@aws-sdk/client-cloudwatch';
import { SendMessageCommand, SQSClient } from '@aws-sdk/client-sqs';
import { GetParameterCommand, ParameterNotFound, SSMClient } from '@aws-sdk/client-ssm';
import { mockClient } from 'aws-sdk-client-mock';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import type { RouterRuntimeConfig } from '../../../lambdas/alerts/config.ts';
import { type DeliveryRequest, type RouterDeps, routeEvent } from '../../../lambdas/alerts/router.ts';
import { DigestStore, EpisodeStore } from '../../../lambdas/alerts/state.ts';
import { InvalidEventError } from '../../../lambdas/shared/errors.ts';
import { startStateTable } from '../../support/dynamo.ts';
import { ACCOUNT, alarmChange, arnOf, episodeOf, REGION, T0 } from './alarm-events.ts';

const sqs = mockClient(SQSClient);
const ssm = mockClient(SSMClient);
const cw = mockClient(CloudWatchClient);
let table: Awaited<ReturnType<typeof startStateTable>>;
beforeAll(async () => {
  table = await startStateTable();
});
afterAll(() => table.stop());
beforeEach(() => {
  sqs.reset();
  ssm.reset();
  cw.reset();
  sqs.on(SendMessageCommand).resolves({ MessageId: 'm' });
  ssm.on(GetParameterCommand).rejects(new ParameterNotFound({ message: 'not found', $metadata: {} }));
});

const config: RouterRuntimeConfig = {
  auditRetentionDays: 400,
  receivers: {
    pagerduty: { kind: 'pagerduty', queueUrl: 'https://sqs/q-pagerduty' },
    slack: { kind: 'slack', queueUrl: 'https://sqs/q-slack' },
  },
  routes: [],
  severity: { tagKey: 'severity', fromName: true, alarms: [], default: 'warning' },
  silences: [],
  silencesParameter: '/nightshift/silences',
  insufficientData: 'ignore',
  services: [{ prefix: 'api-', service: 'api' }],
  ownAlarms: [
    { name: 'Nightshift-RdsSnapshots-NoSuccessfulRun-1A2B3C4D-no-successful-run', severity: 'critical' },
  ],
};

function deps(o: Partial<RouterDeps> = {}): RouterDeps {
  return {
    sqs: new SQSClient({ region: REGION }),
    ssm: new SSMClient({ region: REGION }),
    cloudwatch: new CloudWatchClient({ region: REGION }),
    episodes: new EpisodeStore(table.documents, table.tableName),
    digest: new DigestStore(table.documents, table.tableName),
    clock: () => T0 + 60_000,
    config,
    origin: { account: ACCOUNT, region: REGION },
    bounds: { maxAgeMs: 3 * 3600_000, maxSkewMs: 300_000 },
    ...o,
  };
}

const queued = () =>
  sqs.commandCalls(SendMessageCommand).map((c) => ({
    queue: c.args[0].input.QueueUrl,
    request: JSON.parse(c.args[0].input.MessageBody ?? '{}') as DeliveryRequest,
  }));

describe('routeEvent: alarm episodes to receivers', () => {
  it('a critical ALARM goes to PagerDuty and Slack with the episode as its key; its OK resolves the same key', async () => {
    const r = await routeEvent(alarmChange('api-5xx-critical'), deps());
    expect(r).toMatchObject({
      outcome: 'routed',
      status: 'firing',
      severity: 'critical',
      receivers: ['pagerduty', 'slack'],
    });
    const key = episodeOf('api-5xx-critical');
    expect(queued().map((q) => [q.queue, q.request.deliveryKey])).toEqual([
      ['https://sqs/q-pagerduty', `${key}#firing`],
      ['https://sqs/q-slack', `${key}#firing`],
    ]);
    sqs.resetHistory();
    const ok = await routeEvent(alarmChange('api-5xx-critical', { value: 'OK', at: T0 + 30_000 }), deps());
    expect(ok).toMatchObject({ outcome: 'routed', status: 'resolved', key });
    expect(queued().map((q) => q.request.deliveryKey)).toEqual([`${key}#resolved`, `${key}#resolved`]);
    expect(
      await new EpisodeStore(table.documents, table.tableName).open(key.split('@')[0] ?? ''),
    ).toBeUndefined();
  });

  it('100 concurrent deliveries of one ALARM make one episode: every queued request has the same delivery key', async () => {
    const event = alarmChange('api-latency-critical');
    await Promise.all(Array.from({ length: 100 }, () => routeEvent(event, deps())));
    const keys = new Set(queued().map((q) => `${q.queue} ${q.request.deliveryKey}`));
    expect([...keys]).toEqual([
      `https://sqs/q-pagerduty ${episodeOf('api-latency-critical')}#firing`,
      `https://sqs/q-slack ${episodeOf('api-latency-critical')}#firing`,
    ]);
  });

  it("Nightshift's own alarm is a `self` alert with its configured severity", async () => {
    const r = await routeEvent(
      alarmChange('Nightshift-RdsSnapshots-NoSuccessfulRun-1A2B3C4D-no-successful-run'),
      deps(),
    );
    expect(r).toMatchObject({ outcome: 'routed', severity: 'critical', receivers: ['pagerduty', 'slack'] });
    expect(queued()[0]?.request.alert).toMatchObject({ source: 'self', severityOrigin: 'config' });
  });

  it('a warning reaches Slack only; an info alarm is kept for the digest, not sent', async () => {
    expect(await routeEvent(alarmChange('api-cpu-warning'), deps())).toMatchObject({
      receivers: ['slack'],
      kept: false,
    });
    expect(await routeEvent(alarmChange('api-cpu-info'), deps())).toMatchObject({
      receivers: [],
      kept: true,
    });
  });

  it('a silence from the parameter mutes a warning (kept for the digest); an unreadable parameter mutes nothing', async () => {
    const silence = {
      comment: 'planned maintenance of api (ops)',
      matchers: { service: ['api'], severity: ['warning'] },
      startsAt: '2026-12-01T02:00:00Z',
      endsAt: '2026-12-01T05:00:00Z',
    };
    ssm.on(GetParameterCommand).resolves({ Parameter: { Value: JSON.stringify([silence]) } });
    expect(await routeEvent(alarmChange('api-disk-warning'), deps())).toMatchObject({
      receivers: [],
      kept: true,
      mutedBy: silence.comment,
    });
    ssm
      .on(GetParameterCommand)
      .rejects(Object.assign(new Error('denied'), { name: 'AccessDeniedException' }));
    const r = await routeEvent(alarmChange('api-mem-warning'), deps());
    expect(r).toMatchObject({ receivers: ['slack'] });
    if (r.outcome === 'routed')
      expect(r.notes.join()).toContain('silences in /nightshift/silences not applied');
  });

  it('a failed enqueue fails the event (retried) and does not close the episode', async () => {
    await routeEvent(alarmChange('api-queue-critical'), deps());
    sqs
      .on(SendMessageCommand)
      .rejects(Object.assign(new Error('throttled'), { name: 'ThrottlingException' }));
    await expect(
      routeEvent(alarmChange('api-queue-critical', { value: 'OK', at: T0 + 1000 }), deps()),
    ).rejects.toThrow('throttled');
    const open = await new EpisodeStore(table.documents, table.tableName).open(
      episodeOf('api-queue-critical').split('@')[0] ?? '',
    );
    expect(open?.key).toBe(episodeOf('api-queue-critical'));
  });
});

describe('routeEvent: other sources and bad input', () => {
  const nightshift = (
    detail: Record<string, unknown>,
    o: { account?: string; detailType?: string } = {},
  ) => ({
    version: '0',
    id: crypto.randomUUID(),
    source: 'nightshift',
    'detail-type': o.detailType ?? 'Restore Verification Failed',
    account: o.account ?? ACCOUNT,
    region: REGION,
    time: new Date(T0).toISOString(),
    resources: [],
    detail,
  });

  it('a nightshift event is routed by its own severity under its eventKey', async () => {
    const r = await routeEvent(
      nightshift({
        severity: 'critical',
        eventKey: 'restore-verify#instance#copy-1#failed',
        database: 'webhooks-db',
        reason: 'row count 0',
      }),
      deps(),
    );
    expect(r).toMatchObject({
      outcome: 'routed',
      key: 'restore-verify#instance#copy-1#failed',
      receivers: ['pagerduty', 'slack'],
    });
    expect(queued()[0]?.request.alert).toMatchObject({
      title: 'Restore Verification Failed: webhooks-db',
      source: 'nightshift',
    });
  });

  it('rotation events: a failure pages and names the parameter (and is an automated change); a due date reaches Slack only', async () => {
    const failed = await routeEvent(
      nightshift(
        {
          severity: 'critical',
          eventKey: 'rotation#/webhooks/db#/webhooks/db@2026-12-01T00:00:00.000Z#failed-RotationError',
          parameter: '/webhooks/db',
          rotationId: '/webhooks/db@2026-12-01T00:00:00.000Z',
          reason: 'RotationError: the HTTPS check answered 401',
        },
        { detailType: 'Rotation Failed' },
      ),
      deps(),
    );
    expect(failed).toMatchObject({ outcome: 'routed', receivers: ['pagerduty', 'slack'] });
    expect(queued()[0]?.request.alert).toMatchObject({
      title: 'Rotation Failed: /webhooks/db',
      automated: true,
      action: expect.stringContaining('the next run resumes it'),
    });
    sqs.resetHistory();
    const due = await routeEvent(
      nightshift(
        {
          severity: 'warning',
          eventKey: 'rotation#/oauth/clio#2027-01-01T00:00:00.000Z#notice-warning',
          parameter: '/oauth/clio',
          reason: '/oauth/clio falls due in 20 day(s)',
        },
        { detailType: 'Rotation Due Soon' },
      ),
      deps(),
    );
    expect(due).toMatchObject({ outcome: 'routed', receivers: ['slack'] });
    expect(queued()[0]?.request.alert.title).toBe('Rotation Due Soon: /oauth/clio');
  });

  it('events from another account, without an eventKey, of an unknown kind, or too old are refused naming the field', async () => {
    await expect(
      routeEvent(nightshift({ severity: 'critical', eventKey: 'k' }, { account: '999999999999' }), deps()),
    ).rejects.toThrow(/account "999999999999" is not this stack's account/);
    await expect(routeEvent(nightshift({ severity: 'critical' }), deps())).rejects.toThrow(
      /detail\.eventKey/,
    );
    await expect(
      routeEvent({ source: 'aws.ec2', 'detail-type': 'EC2 Instance State-change Notification' }, deps()),
    ).rejects.toThrow(InvalidEventError);
    await expect(
      routeEvent(alarmChange('api-old-critical', { at: T0 - 10 * 3600_000 }), deps()),
    ).rejects.toThrow(/detail\.state\.timestamp|time/);
    expect(queued()).toEqual([]);
  });

  it('a failed ECS deployment is a warning for the service', async () => {
    const r = await routeEvent(
      {
        version: '0',
        id: 'x',
        source: 'aws.ecs',
        'detail-type': 'ECS Deployment State Change',
        account: ACCOUNT,
        region: REGION,
        time: new Date(T0).toISOString(),
        resources: [`arn:aws:ecs:${REGION}:${ACCOUNT}:service/prod/api`],
        detail: {
          eventType: 'ERROR',
          eventName: 'SERVICE_DEPLOYMENT_FAILED',
          deploymentId: 'ecs-svc/1',
          reason: 'circuit breaker',
        },
      },
      deps(),
    );
    expect(r).toMatchObject({ outcome: 'routed', severity: 'warning', receivers: ['slack'] });
  });
});

describe('routeEvent: episodes whose OK was lost', () => {
  const tick = (at: number) => ({
    version: '0',
    id: 'tick',
    source: 'aws.events',
    'detail-type': 'Scheduled Event',
    account: ACCOUNT,
    region: REGION,
    time: new Date(at).toISOString(),
    resources: [],
    detail: {},
  });
  const metric = (name: string, state: 'OK' | 'ALARM', at: number) => ({
    AlarmName: name,
    AlarmArn: arnOf(name),
    StateValue: state,
    StateTransitionedTimestamp: new Date(at),
  });

  it('the reconciler resolves episodes CloudWatch shows OK or no longer has, and keeps the ones still in ALARM', async () => {
    for (const name of ['rec-ok-critical', 'rec-gone-critical', 'rec-still-critical'])
      await routeEvent(alarmChange(name), deps());
    sqs.resetHistory();
    cw.on(DescribeAlarmsCommand).resolves({
      MetricAlarms: [metric('rec-ok-critical', 'OK', T0 + 30_000), metric('rec-still-critical', 'ALARM', T0)],
    });
    const r = await routeEvent(tick(T0 + 60_000), deps());
    expect(r).toMatchObject({ outcome: 'reconciled' });
    if (r.outcome !== 'reconciled') return;
    expect([...r.resolved].filter((k) => k.includes('rec-')).sort()).toEqual([
      episodeOf('rec-gone-critical'),
      episodeOf('rec-ok-critical'),
    ]);
    expect(
      queued()
        .map((q) => q.request.deliveryKey)
        .filter((k) => k.includes(':rec-'))
        .sort(),
    ).toEqual(
      [`${episodeOf('rec-gone-critical')}#resolved`, `${episodeOf('rec-ok-critical')}#resolved`]
        .flatMap((k) => [k, k])
        .sort(),
    );
    const episodes = new EpisodeStore(table.documents, table.tableName);
    expect(await episodes.open(arnOf('rec-ok-critical'))).toBeUndefined();
    expect((await episodes.open(arnOf('rec-still-critical')))?.key).toBe(episodeOf('rec-still-critical'));
  });

  it('an ALARM after an OK that never arrived resolves the old episode and opens a new one', async () => {
    await routeEvent(alarmChange('flap-critical'), deps());
    sqs.resetHistory();
    const again = alarmChange('flap-critical', {
      at: T0 + 20 * 60_000,
      previous: { value: 'OK', at: T0 + 10 * 60_000 },
    });
    const r = await routeEvent(again, deps({ clock: () => T0 + 21 * 60_000 }));
    expect(r).toMatchObject({ key: episodeOf('flap-critical', T0 + 20 * 60_000), status: 'firing' });
    expect(queued().map((q) => q.request.deliveryKey)).toEqual([
      `${episodeOf('flap-critical')}#resolved`,
      `${episodeOf('flap-critical')}#resolved`,
      `${episodeOf('flap-critical', T0 + 20 * 60_000)}#firing`,
      `${episodeOf('flap-critical', T0 + 20 * 60_000)}#firing`,
    ]);
    const open = await new EpisodeStore(table.documents, table.tableName).open(arnOf('flap-critical'));
    expect(open?.key).toBe(episodeOf('flap-critical', T0 + 20 * 60_000));
    // And the first episode's ALARM delivered late changes nothing.
    sqs.resetHistory();
    expect(
      await routeEvent(
        {
          ...alarmChange('flap-critical'),
          detail: {
            ...alarmChange('flap-critical').detail,
            previousState: { value: 'OK', timestamp: '2026-12-01T02:50:00.000+0000' },
          },
        },
        deps({ clock: () => T0 + 21 * 60_000 }),
      ),
    ).toMatchObject({ outcome: 'ignored' });
    expect(queued()).toEqual([]);
  });
});

describe('routeEvent: what Nightshift did, on the incident', () => {
  const performed = (episode: string) => ({
    version: '0',
    id: crypto.randomUUID(),
    source: 'nightshift',
    'detail-type': 'Rollback Performed',
    account: ACCOUNT,
    region: REGION,
    time: new Date(T0 + 120_000).toISOString(),
    resources: [],
    detail: {
      severity: 'warning',
      eventKey: `ecs-rollback#svc#${episode}#performed`,
      service: 'api',
      episode,
      reason: 'rolled back to :1',
    },
  });

  it('a rollback for an open episode adds a note to its PagerDuty incident and a change event; Slack gets the alert', async () => {
    await routeEvent(alarmChange('note-5xx-critical'), deps());
    sqs.resetHistory();
    await routeEvent(performed(episodeOf('note-5xx-critical')), deps({ clock: () => T0 + 130_000 }));
    expect(queued().map((q) => [q.request.receiver, q.request.kind, q.request.episode?.key])).toEqual([
      ['slack', 'alert', undefined],
      ['pagerduty', 'episode-note', episodeOf('note-5xx-critical')],
      ['pagerduty', 'change', undefined],
    ]);
    expect(queued()[1]?.request.episode?.severity).toBe('critical');
  });

  it('no note once the episode is over (a trigger would open a new incident); the change event still goes', async () => {
    await routeEvent(alarmChange('note-over-critical'), deps());
    await routeEvent(alarmChange('note-over-critical', { value: 'OK', at: T0 + 60_000 }), deps());
    sqs.resetHistory();
    await routeEvent(performed(episodeOf('note-over-critical')), deps({ clock: () => T0 + 130_000 }));
    expect(queued().map((q) => q.request.kind)).toEqual(['alert', 'change']);
  });
});
