import { readdirSync, readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { EventBridgeClient, PutEventsCommand } from '@aws-sdk/client-eventbridge';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { AwsEvent } from '../../../local/services/envelope.ts';
import { drain, startAlertsWorld } from './alerts-fixture.ts';

let h: Awaited<ReturnType<typeof startAlertsWorld>>;
beforeAll(async () => {
  h = await startAlertsWorld();
}, 120_000);
afterAll(() => h?.close());

const routerRuns = () => h.world.deliveries.filter((d) => d.function.includes('AlertRoutingRouter'));
const alarmEvent = (name: string, value: string) =>
  [...h.world.routed]
    .reverse()
    .find(
      (e) =>
        e.detail.alarmName === name && (e.detail.state as { value?: string } | undefined)?.value === value,
    ) as AwsEvent;

describe('alerts in the local world', () => {
  it('100 deliveries of one ALARM page once and post once; its OK resolves with the same dedup_key', async () => {
    const { world, sink } = h;
    world.cloudwatch.putAlarm('checkout-5xx-critical', { description: 'checkout 5xx above 5 %' });
    world.cloudwatch.setState('checkout-5xx-critical', 'ALARM', 'Threshold Crossed: 7.2 % 5xx');
    const event = alarmEvent('checkout-5xx-critical', 'ALARM');
    for (let i = 0; i < 99; i++) world.route(event);
    await drain(world);
    expect(routerRuns().filter((d) => d.result.ok)).toHaveLength(100);
    const alerts = sink.pagerduty.alerts('checkout');
    expect(alerts).toHaveLength(1);
    expect(alerts[0]?.log.map((l) => l.action)).toEqual(['trigger']);
    expect(sink.slack.messages('#ops-alerts')).toHaveLength(1);
    expect(sink.slack.messages('#ops-alerts')[0]?.text).toContain(
      '[CRITICAL] checkout-5xx-critical is in ALARM',
    );

    await world.advance(12 * 60_000);
    world.cloudwatch.setState('checkout-5xx-critical', 'OK', 'Threshold Crossed: 0.1 % 5xx');
    await drain(world);
    expect(alerts[0]).toMatchObject({ status: 'resolved' });
    expect(alerts[0]?.log.map((l) => l.action)).toEqual(['trigger', 'resolve']);
    const slack = sink.slack.messages('#ops-alerts');
    expect(slack).toHaveLength(2);
    expect(slack[1]?.text).toMatch(/Resolved: checkout-5xx-critical resolved after 1\d minutes/);
    // Every request the sink answered was accepted: nothing refused, nothing sent twice.
    expect(sink.requests.filter((r) => r.status !== 202 && r.status !== 200)).toEqual([]);
    expect(world.sqsDeliveries.every((d) => d.result.ok)).toBe(true);
  }, 120_000);

  it('a nightshift event put by anyone but Nightshift is refused by the bus policy and pages nobody', async () => {
    const { world, sink } = h;
    const before = { runs: routerRuns().length, pages: sink.pagerduty.alerts('checkout').length };
    const forged = new EventBridgeClient(world.operatorConfig());
    await expect(
      forged.send(
        new PutEventsCommand({
          Entries: [
            {
              Source: 'nightshift',
              DetailType: 'Restore Verification Failed',
              Detail: JSON.stringify({ severity: 'critical', eventKey: 'forged#1', database: 'webhooks-db' }),
            },
          ],
        }),
      ),
    ).rejects.toThrow(/explicit deny in a resource-based policy/);
    await drain(world);
    expect(routerRuns().length).toBe(before.runs);
    expect(sink.pagerduty.alerts('checkout').length).toBe(before.pages);
    // Another source from the same principal is not Nightshift's business.
    await forged.send(
      new PutEventsCommand({ Entries: [{ Source: 'my.app', DetailType: 'Deployed', Detail: '{}' }] }),
    );
  }, 60_000);

  it('a revoked webhook sends the alert to the DLQ with its reason; after the fix a redrive delivers it once', async () => {
    const { world, sink, ssm } = h;
    sink.slack.revokeWebhook(h.webhookUrl);
    world.cloudwatch.putAlarm('checkout-latency-warning');
    world.cloudwatch.setState('checkout-latency-warning', 'ALARM', 'Threshold Crossed: p99 2.1 s');
    await drain(world);
    const dlq = world.app.queues.find((q) => /Receiverslack.*DeadLetters/.test(q.logicalId));
    const waiting = world.sqs.queue(dlq?.arn ?? '')?.peek() ?? [];
    expect(waiting).toHaveLength(1);
    expect(waiting[0]?.attributes.failureReason?.StringValue).toBe('Slack answered 404: no_service');

    const { PutParameterCommand } = await import('@aws-sdk/client-ssm');
    const fresh = sink.slack.createWebhook({ channel: '#ops-alerts' });
    await ssm.send(
      new PutParameterCommand({
        Name: '/nightshift/alerts/slack-webhook',
        Value: fresh,
        Type: 'SecureString',
        Overwrite: true,
      }),
    );
    const { SQSClient, StartMessageMoveTaskCommand } = await import('@aws-sdk/client-sqs');
    const queue = world.app.queues.find(
      (q) => /Receiverslack.*Queue/.test(q.logicalId) && !q.logicalId.includes('DeadLetters'),
    );
    await new SQSClient(world.operatorConfig()).send(
      new StartMessageMoveTaskCommand({ SourceArn: dlq?.arn, DestinationArn: queue?.arn }),
    );
    await drain(world);
    const posted = sink.slack
      .messages('#ops-alerts')
      .filter((m) => m.text.includes('checkout-latency-warning'));
    expect(posted).toHaveLength(1);
    expect(sink.pagerduty.alerts('checkout').filter((a) => a.log[0]?.summary?.includes('latency'))).toEqual(
      [],
    );
  }, 120_000);

  it('webhook URLs and routing keys appear in no log, event, audit entry, template or record', async () => {
    const { world, sink } = h;
    const secrets = [new URL(h.webhookUrl).pathname.split('/').pop() ?? '', h.routingKey];
    const logs = [...world.deliveries, ...world.sqsDeliveries].flatMap((d) => d.result.logs).join('\n');
    const haystacks: Record<string, string> = {
      logs,
      events: JSON.stringify(world.routed),
      sinkRecords: JSON.stringify(sink.requests),
      dlqs: JSON.stringify(world.app.queues.map((q) => world.sqs.queue(q.arn)?.peek())),
    };
    const dir = world.options.cloudAssemblyDir;
    haystacks.template = readdirSync(dir)
      .filter((f) => f.endsWith('.json') && statSync(join(dir, f)).isFile())
      .map((f) => readFileSync(join(dir, f), 'utf8'))
      .join('\n');
    expect(logs.length).toBeGreaterThan(1000);
    for (const [where, text] of Object.entries(haystacks)) {
      for (const secret of secrets) expect(text.includes(secret), `${where} holds a secret`).toBe(false);
    }
  });
});
