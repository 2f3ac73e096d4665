import type { AuthorizationNeed } from '../endpoint/authorize.ts';
import { AwsServiceError } from '../endpoint/errors.ts';
import type { JsonService } from '../endpoint/server.ts';
import type { VirtualClock } from '../world/clock.ts';
import { type EmitEvent, envelope } from './envelope.ts';

interface Alarm {
  name: string;
  arn: string;
  state: 'OK' | 'ALARM' | 'INSUFFICIENT_DATA';
  reason: string;
  updated: number;
  tags: Record<string, string>;
  /** `AlarmTagsPropagation`: tags reach the state-change event only when on (off by default). */
  tagPropagation: boolean;
  description?: string;
}

/** CloudWatch's timestamp format in alarm events: `2019-10-02T17:04:40.989+0000`. */
function cloudwatchTime(ms: number): string {
  return new Date(ms).toISOString().replace('Z', '+0000');
}

/**
 * CloudWatch alarms, locally: state, tags, tag propagation, and `SetAlarmState` emitting the
 * `CloudWatch Alarm State Change` event on every change of state (AWS JSON 1.0).
 */
export class CloudWatchWorld implements JsonService {
  readonly signingName = 'monitoring';
  readonly targetPrefix = 'GraniteServiceVersion20100801';
  readonly jsonVersion = '1.0' as const;
  readonly alarms = new Map<string, Alarm>();

  constructor(
    private readonly o: { account: string; region: string; clock: VirtualClock; emit: EmitEvent },
  ) {}

  private arnOf(name: string): string {
    return `arn:aws:cloudwatch:${this.o.region}:${this.o.account}:alarm:${name}`;
  }

  /** Creates an alarm as the user's own stack would (new alarms start in INSUFFICIENT_DATA, as on AWS). */
  putAlarm(
    name: string,
    options: { tags?: Record<string, string>; tagPropagation?: boolean; description?: string } = {},
  ): void {
    this.alarms.set(name, {
      name,
      arn: this.arnOf(name),
      state: 'INSUFFICIENT_DATA',
      reason: 'Unchecked: Initial alarm creation',
      updated: this.o.clock.now(),
      tags: options.tags ?? {},
      tagPropagation: options.tagPropagation ?? false,
      description: options.description,
    });
  }

  state(name: string): string | undefined {
    return this.alarms.get(name)?.state;
  }

  authorization(operation: string, input: Record<string, unknown>): AuthorizationNeed[] {
    if (operation === 'SetAlarmState') {
      return [
        {
          action: 'cloudwatch:SetAlarmState',
          resourceType: 'alarm',
          values: { AlarmName: String(input.AlarmName ?? '') },
        },
      ];
    }
    return [{ action: `cloudwatch:${operation}` }];
  }

  async handle(operation: string, input: Record<string, unknown>): Promise<unknown> {
    switch (operation) {
      case 'SetAlarmState':
        this.setState(
          String(input.AlarmName ?? ''),
          String(input.StateValue ?? '') as Alarm['state'],
          String(input.StateReason ?? ''),
        );
        return {};
      case 'DescribeAlarms': {
        const names = (input.AlarmNames as string[] | undefined) ?? [...this.alarms.keys()];
        const prefix = typeof input.AlarmNamePrefix === 'string' ? input.AlarmNamePrefix : '';
        const metricAlarms = names
          .flatMap((n) => {
            const alarm = this.alarms.get(n);
            return alarm?.name.startsWith(prefix) ? [alarm] : [];
          })
          .map((a) => ({
            AlarmName: a.name,
            AlarmArn: a.arn,
            StateValue: a.state,
            StateReason: a.reason,
            StateUpdatedTimestamp: new Date(a.updated),
          }));
        return { MetricAlarms: metricAlarms, CompositeAlarms: [] };
      }
      default:
        throw new AwsServiceError(
          'UnknownOperationException',
          `local CloudWatch does not implement ${operation}`,
        );
    }
  }

  setState(name: string, value: Alarm['state'], reason: string): void {
    const alarm = this.alarms.get(name);
    if (!alarm) throw new AwsServiceError('ResourceNotFound', `Alarm ${name} not found`);
    if (!['OK', 'ALARM', 'INSUFFICIENT_DATA'].includes(value)) {
      throw new AwsServiceError(
        'InvalidParameterValue',
        `1 validation error detected: Value '${value}' at 'stateValue' failed to satisfy constraint`,
      );
    }
    if (alarm.state === value) return;
    const now = this.o.clock.now();
    const previous = { value: alarm.state, reason: alarm.reason, timestamp: cloudwatchTime(alarm.updated) };
    alarm.state = value;
    alarm.reason = reason;
    alarm.updated = now;
    const detail: Record<string, unknown> = {
      alarmName: name,
      state: { value, reason, timestamp: cloudwatchTime(now) },
      previousState: previous,
      configuration: { description: alarm.description ?? '', metrics: [] },
    };
    if (alarm.tagPropagation) {
      detail.alarmTags = alarm.tags;
      detail.alarmTagsStatus = 'SUCCESS';
    }
    this.o.emit(
      envelope(this.o, 'aws.cloudwatch', 'CloudWatch Alarm State Change', now, [alarm.arn], detail),
    );
  }
}
