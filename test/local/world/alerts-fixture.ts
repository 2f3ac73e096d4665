import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { PutParameterCommand, SSMClient } from '@aws-sdk/client-ssm';
import type { NightshiftConfigInput } from '../../../lib/config/schema.ts';
import { LocalCertificateAuthority } from '../../../local/postgres/tls.ts';
import { drainAlerts } from '../../../local/sandbox/alerts-story.ts';
import { exampleAppConfig } from '../../../local/sandbox/example-config.ts';
import { synthesize } from '../../../local/sandbox/synth.ts';
import { AlertSink } from '../../../local/sink/sink.ts';
import { LocalWorld } from '../../../local/world/world.ts';
import { START } from './world-fixture.ts';

export const WEBHOOK_PARAMETER = '/nightshift/alerts/slack-webhook';
export const ROUTING_KEY_PARAMETER = '/nightshift/alerts/pagerduty-routing-key';

/**
 * The example app with alerting to PagerDuty (the sink's Events API) and a Slack webhook; the rollback
 * runbook off, so alarms of `checkout-*` reach only the alert router.
 */
export function alertsConfig(pagerdutyBaseUrl: string): NightshiftConfigInput {
  return {
    ...exampleAppConfig,
    ecsRollback: exampleAppConfig.ecsRollback
      ? { ...exampleAppConfig.ecsRollback, enabled: false }
      : undefined,
    alerts: {
      receivers: {
        pagerduty: {
          kind: 'pagerduty',
          routingKeyParameter: ROUTING_KEY_PARAMETER,
          eventsBaseUrl: pagerdutyBaseUrl,
        },
        slack: { kind: 'slack', webhookUrlParameter: WEBHOOK_PARAMETER },
      },
      alarms: [{ prefix: 'checkout-' }],
    },
  };
}

/** A world running the alerting stack, the sink, and the secrets in their parameters. */
export async function startAlertsWorld() {
  const dir = mkdtempSync(join(tmpdir(), 'nightshift-alerts-'));
  const ca = await LocalCertificateAuthority.create('Nightshift alerts test CA');
  const caFile = join(dir, 'sink-ca.pem');
  writeFileSync(caFile, ca.certificatePem);
  let clock: (() => number) | undefined;
  const sink = await AlertSink.start({ ca, now: () => clock?.() ?? START });
  const { stackName } = synthesize(join(dir, 'cdk.out'), alertsConfig(sink.url));
  const world = await LocalWorld.start({
    cloudAssemblyDir: join(dir, 'cdk.out'),
    account: '123456789012',
    region: 'eu-west-1',
    stackName,
    start: START,
    extraCaBundle: caFile,
  });
  clock = () => world.clock.liveNow();
  const webhookUrl = sink.slack.createWebhook({ channel: '#ops-alerts' });
  const routingKey = sink.pagerduty.createIntegration({ service: 'checkout' });
  const ssm = new SSMClient(world.operatorConfig());
  for (const [name, value] of [
    [WEBHOOK_PARAMETER, webhookUrl],
    [ROUTING_KEY_PARAMETER, routingKey],
  ] as const) {
    await ssm.send(new PutParameterCommand({ Name: name, Value: value, Type: 'SecureString' }));
  }
  return {
    world,
    sink,
    ssm,
    webhookUrl,
    routingKey,
    async close() {
      await world.close();
      await sink.close();
      rmSync(dir, { recursive: true, force: true });
    },
  };
}

/** Advances the world until no alert waits in a receiver's queue (the sandbox story's own drain). */
export async function drain(world: LocalWorld): Promise<void> {
  await drainAlerts(world);
}
