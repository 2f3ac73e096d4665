import { EventBridgeClient, PutEventsCommand } from '@aws-sdk/client-eventbridge';
import { mockClient } from 'aws-sdk-client-mock';
import { afterEach, describe, expect, it } from 'vitest';
import { EventPublisher, MAX_EVENT_KEY, PublishError } from '#shared/publisher';

const bus = mockClient(EventBridgeClient);
afterEach(() => bus.reset());

function sent(): Record<string, unknown> {
  const input = bus.commandCalls(PutEventsCommand)[0]?.args[0].input;
  return JSON.parse(input?.Entries?.[0]?.Detail ?? '{}');
}

describe('EventPublisher', () => {
  const publisher = new EventPublisher(new EventBridgeClient({ region: 'eu-west-1' }), 'default');

  it('puts severity and the deterministic eventKey in the detail, where no detail field can override them', async () => {
    bus.on(PutEventsCommand).resolves({ FailedEntryCount: 0, Entries: [{ EventId: '1' }] });
    await publisher.publish({
      detailType: 'Rollback Performed',
      severity: 'warning',
      eventKey: 'ecs-rollback#arn:svc#ep#performed',
      detail: { service: 'api', severity: 'info', eventKey: 'forged' },
    });
    expect(sent()).toEqual({
      service: 'api',
      severity: 'warning',
      eventKey: 'ecs-rollback#arn:svc#ep#performed',
    });
  });

  it.each([
    ['empty', ''],
    ['too long', 'k'.repeat(MAX_EVENT_KEY + 1)],
  ])('refuses an %s eventKey, naming the event, and publishes nothing', async (_, eventKey) => {
    await expect(
      publisher.publish({ detailType: 'Snapshot Skipped', severity: 'critical', eventKey, detail: {} }),
    ).rejects.toThrow(PublishError);
    await expect(
      publisher.publish({ detailType: 'Snapshot Skipped', severity: 'critical', eventKey, detail: {} }),
    ).rejects.toThrow(/eventKey of the Snapshot Skipped event must be 1-1024 characters/);
    expect(bus.commandCalls(PutEventsCommand)).toHaveLength(0);
  });

  it('turns a rejected entry into an error, not a silent loss', async () => {
    bus.on(PutEventsCommand).resolves({
      FailedEntryCount: 1,
      Entries: [{ ErrorCode: 'InternalFailure', ErrorMessage: 'try again' }],
    });
    await expect(
      publisher.publish({ detailType: 'Restore Verified', severity: 'info', eventKey: 'k', detail: {} }),
    ).rejects.toThrow('EventBridge rejected the Restore Verified event: InternalFailure try again');
  });
});
