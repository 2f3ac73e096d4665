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

/**
 * A world running the app `config` makes from the sink's URL, beside the alert sink (HTTPS with a
 * certificate from a CA the functions trust): the sink's clock is the world's live one.
 */
export async function startSinkWorld(config: (sinkUrl: string) => NightshiftConfigInput, label = 'alerts') {
  const dir = mkdtempSync(join(tmpdir(), `nightshift-${label}-`));
  const ca = await LocalCertificateAuthority.create(`Nightshift ${label} test CA`);
  const caFile = join(dir, 'sink-ca.pem');
  writeFileSync(caFile, ca.certificatePem);
  let clock: (() => number) | undefined;
  const sink = await AlertSink.start({ ca, now: () => clock?.() ?? START });
  const cdkOut = join(dir, 'cdk.out');
  const { stackName } = synthesize(cdkOut, config(sink.url));
  const world = await LocalWorld.start({
    cloudAssemblyDir: cdkOut,
    account: '123456789012',
    region: 'eu-west-1',
    stackName,
    start: START,
    extraCaBundle: caFile,
  });
  clock = () => world.clock.liveNow();
  return {
    world,
    sink,
    cdkOut,
    async close() {
      await world.close();
      await sink.close();
      rmSync(dir, { recursive: true, force: true });
    },
  };
}

/** A world running the alerting stack, the sink, and the secrets in their parameters. */
export async function startAlertsWorld() {
  const { world, sink, close } = await startSinkWorld(alertsConfig);
  const webhookUrl = sink.slack.createWebhook({ channel: '#ops-alerts' });
  const routingKey = sink.pagerduty.createIntegration({ service: 'checkout' });
  const ssm = new SSMClient(world.operatorConfig());
  for (const [name, value] of [
    [WEBHOOK_PARAMETER, webhookUrl],
    [ROUTING_KEY_PARAMETER, routingKey],
  ] as const) {
    await ssm.send(new PutParameterCommand({ Name: name, Value: value, Type: 'SecureString' }));
  }
  return { world, sink, ssm, webhookUrl, routingKey, close };
}

/** Advances the world until no alert waits in a receiver's queue (the sandbox story's own drain). */
export async function drain(world: LocalWorld): Promise<void> {
  await drainAlerts(world);
}
