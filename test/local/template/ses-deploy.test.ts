import { App, Stack } from 'aws-cdk-lib';
import * as events from 'aws-cdk-lib/aws-events';
import * as ses from 'aws-cdk-lib/aws-ses';
import * as sns from 'aws-cdk-lib/aws-sns';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { AwsEvent } from '../../../local/services/envelope.ts';
import { SesWorld } from '../../../local/services/ses.ts';
import { apiEventType } from '../../../local/template/deploy-ses.ts';
import { type DeployedApp, loadDeployedApp } from '../../../local/template/deployed-app.ts';
import { ACCOUNT, env, REGION, removeTempDirs, tempDir } from './handwritten-assembly.ts';

afterAll(removeTempDirs);

describe('loadDeployedApp: SES configuration sets', () => {
  let app: DeployedApp;

  beforeAll(() => {
    const outdir = tempDir();
    const cdkApp = new App({ outdir });
    const stack = new Stack(cdkApp, 'Mail', { env });
    const feedback = new ses.ConfigurationSet(stack, 'Feedback');
    feedback.addEventDestination('ToBus', {
      destination: ses.EventDestination.eventBus(events.EventBus.fromEventBusName(stack, 'Bus', 'default')),
      events: [ses.EmailSendingEvent.BOUNCE, ses.EmailSendingEvent.COMPLAINT],
    });
    const topic = new sns.Topic(stack, 'Topic');
    feedback.addEventDestination('ToTopic', {
      destination: ses.EventDestination.snsTopic(topic),
      enabled: false,
      events: [ses.EmailSendingEvent.RENDERING_FAILURE],
    });
    new ses.ConfigurationSet(stack, 'Named', { configurationSetName: 'named-set' });
    cdkApp.synth();
    app = loadDeployedApp(outdir, env);
  });

  it('deploys each configuration set with its name, ARN and event destinations', () => {
    const topicArn = app.topics[0]?.arn;
    expect(app.configurationSets).toEqual([
      {
        logicalId: expect.stringMatching(/^Feedback/),
        name: expect.stringMatching(/^Mail-Feedback/),
        arn: expect.stringMatching(
          new RegExp(`^arn:aws:ses:${REGION}:${ACCOUNT}:configuration-set/Mail-Feedback`),
        ),
        eventDestinations: [
          {
            name: expect.stringMatching(/^FeedbackToBus/),
            enabled: true,
            matchingEventTypes: ['BOUNCE', 'COMPLAINT'],
            eventBridge: { eventBusArn: `arn:aws:events:${REGION}:${ACCOUNT}:event-bus/default` },
          },
          {
            name: expect.stringMatching(/^FeedbackToTopic/),
            enabled: false,
            matchingEventTypes: ['RENDERING_FAILURE'],
            sns: { topicArn },
          },
        ],
      },
      {
        logicalId: expect.stringMatching(/^Named/),
        name: 'named-set',
        arn: `arn:aws:ses:${REGION}:${ACCOUNT}:configuration-set/named-set`,
        eventDestinations: [],
      },
    ]);
  });

  it('gives SesWorld the deployed sets: a bounce through the deployed set reaches the bus', async () => {
    const emitted: AwsEvent[] = [];
    const world = new SesWorld({
      account: ACCOUNT,
      region: REGION,
      clock: { now: () => Date.parse('2026-12-01T10:00:00Z') },
      emit: (e) => emitted.push(e),
      configurationSets: app.configurationSets,
    });
    world.verifyIdentity('example.com');
    const name = app.configurationSets[0]!.name;
    await world.handle(
      'SendEmail',
      {
        FromEmailAddress: 'alerts@example.com',
        Destination: { ToAddresses: ['bounce@simulator.amazonses.com'] },
        Content: { Simple: { Subject: { Data: 's' }, Body: { Text: { Data: 't' } } } },
        ConfigurationSetName: name,
      },
      {
        accessKeyId: 'a',
        secretAccessKey: 's',
        principalArn: 'arn:aws:iam::123456789012:user/op',
        policies: [],
      },
    );
    expect(emitted.map((e) => [e['detail-type'], e.detail.mail])).toEqual([
      [
        'Email Bounced',
        expect.objectContaining({ tags: expect.objectContaining({ 'ses:configuration-set': [name] }) }),
      ],
    ]);
  });

  it('spells CloudFormation event types as the SES v2 API does', () => {
    expect(['send', 'renderingFailure', 'deliveryDelay', 'BOUNCE'].map(apiEventType)).toEqual([
      'SEND',
      'RENDERING_FAILURE',
      'DELIVERY_DELAY',
      'BOUNCE',
    ]);
  });
});
