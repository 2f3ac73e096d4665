import type { AuthorizationNeed } from '../endpoint/authorize.ts';
import { AwsServiceError } from '../endpoint/errors.ts';
import type { JsonService } from '../endpoint/server.ts';
import type { VirtualClock } from '../world/clock.ts';
import { type EmitEvent, envelope } from './envelope.ts';

type StateValue = 'OK' | 'ALARM' | 'INSUFFICIENT_DATA';

interface Alarm {
  name: string;
  arn: string;
  state: StateValue;
  reason: string;
  /** `StateUpdatedTimestamp`: the last change of state or reason. */
  updated: number;
  /** `StateTransitionedTimestamp`: the last change of the state value. */
  transitioned: number;
  tags: Record<string, string>;
  /** `AlarmTagsPropagation`: tags reach the state-change event only when on (off by default). */
  tagPropagation: boolean;
  description?: string;
}

/** One `AlarmHistoryItem`, as DescribeAlarmHistory returns it (HistoryData is JSON text). */
interface HistoryItem {
  AlarmName: string;
  AlarmType: 'MetricAlarm';
  Timestamp: number;
  HistoryItemType: 'ConfigurationUpdate' | 'StateUpdate' | 'Action';
  HistorySummary: string;
  HistoryData: string;
}

const STATES: readonly string[] = ['OK', 'ALARM', 'INSUFFICIENT_DATA'];

/** CloudWatch's timestamp format in alarm events: `2019-10-02T17:04:40.989+0000`. */
function cloudwatchTime(ms: number): string {
  return new Date(ms).toISOString().replace('Z', '+0000');
}

/**
 * CloudWatch alarms, locally (AWS JSON 1.0, `GraniteServiceVersion20100801`): state, tags, tag
 * propagation, `SetAlarmState` emitting the `CloudWatch Alarm State Change` event on every change of state,
 * `DescribeAlarms` with `StateTransitionedTimestamp`, and the alarm history CloudWatch keeps (even after an
 * alarm is deleted) for `DescribeAlarmHistory`. Both describes paginate with `MaxRecords`/`NextToken`.
 * Composite alarms are not modelled; as on AWS, asking for them needs a `*`-scoped permission.
 */
export class CloudWatchWorld implements JsonService {
  readonly signingName = 'monitoring';
  readonly targetPrefix = 'GraniteServiceVersion20100801';
  readonly jsonVersion = '1.0' as const;
  readonly alarms = new Map<string, Alarm>();
  /** Every history item, oldest first; items of deleted alarms stay. */
  readonly history: HistoryItem[] = [];

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
    const now = this.o.clock.now();
    this.alarms.set(name, {
      name,
      arn: this.arnOf(name),
      state: 'INSUFFICIENT_DATA',
      reason: 'Unchecked: Initial alarm creation',
      updated: now,
      transitioned: now,
      tags: options.tags ?? {},
      tagPropagation: options.tagPropagation ?? false,
      description: options.description,
    });
    this.record(name, 'ConfigurationUpdate', `Alarm "${name}" created`, {
      version: '1.0',
      type: 'Create',
      createdAlarm: { alarmName: name, stateValue: 'INSUFFICIENT_DATA' },
    });
  }

  /** Deletes an alarm as its owner would; its history stays, as on AWS. */
  deleteAlarm(name: string): void {
    if (!this.alarms.delete(name)) throw new AwsServiceError('ResourceNotFound', `Alarm ${name} not found`);
    this.record(name, 'ConfigurationUpdate', `Alarm "${name}" deleted`, {
      version: '1.0',
      type: 'Delete',
      deletedAlarm: { alarmName: name },
    });
  }

  state(name: string): string | undefined {
    return this.alarms.get(name)?.state;
  }

  authorization(operation: string, input: Record<string, unknown>): AuthorizationNeed[] {
    const alarm = (name: string): AuthorizationNeed => ({
      action: `cloudwatch:${operation}`,
      resourceType: 'alarm',
      values: { AlarmName: name },
    });
    switch (operation) {
      case 'SetAlarmState':
        return [alarm(String(input.AlarmName ?? ''))];
      case 'DeleteAlarms':
        return strings(input.AlarmNames).map(alarm);
      case 'DescribeAlarms':
      case 'DescribeAlarmHistory': {
        // "To return information about composite alarms, your permission must be scoped to *" (API reference).
        if (strings(input.AlarmTypes).includes('CompositeAlarm')) {
          return [{ action: `cloudwatch:${operation}`, resources: ['*'] }];
        }
        const names = operation === 'DescribeAlarms' ? strings(input.AlarmNames) : strings([input.AlarmName]);
        return names.length > 0 ? names.map(alarm) : [alarm('*')];
      }
      default:
        return [{ action: `cloudwatch:${operation}` }];
    }
  }

  async handle(operation: string, input: Record<string, unknown>): Promise<unknown> {
    switch (operation) {
      case 'SetAlarmState':
        this.setState(
          String(input.AlarmName ?? ''),
          String(input.StateValue ?? '') as StateValue,
          String(input.StateReason ?? ''),
        );
        return {};
      case 'DeleteAlarms': {
        const names = strings(input.AlarmNames);
        const missing = names.filter((n) => !this.alarms.has(n));
        if (missing.length > 0) {
          throw new AwsServiceError('ResourceNotFound', `Alarm(s) ${missing.join(', ')} not found`);
        }
        for (const n of names) this.deleteAlarm(n);
        return {};
      }
      case 'DescribeAlarms':
        return this.describeAlarms(input);
      case 'DescribeAlarmHistory':
        return this.describeAlarmHistory(input);
      default:
        throw new AwsServiceError(
          'UnknownOperationException',
          `local CloudWatch does not implement ${operation}`,
        );
    }
  }

  private describeAlarms(input: Record<string, unknown>) {
    const names = input.AlarmNames === undefined ? undefined : strings(input.AlarmNames);
    const prefix = typeof input.AlarmNamePrefix === 'string' ? input.AlarmNamePrefix : undefined;
    if (names !== undefined && prefix !== undefined) {
      throw new AwsServiceError(
        'InvalidParameterCombination',
        'AlarmNamePrefix and AlarmNames cannot be specified together',
      );
    }
    if (names && names.length > 100) {
      throw new AwsServiceError(
        'ValidationError',
        `1 validation error detected: Value at 'alarmNames' failed to satisfy constraint: Member must have length less than or equal to 100`,
      );
    }
    if (input.StateValue !== undefined && !STATES.includes(String(input.StateValue))) {
      throw new AwsServiceError(
        'ValidationError',
        `Value '${String(input.StateValue)}' at 'stateValue' failed to satisfy constraint`,
      );
    }
    const types = input.AlarmTypes === undefined ? ['MetricAlarm'] : strings(input.AlarmTypes);
    const matching = types.includes('MetricAlarm')
      ? [...this.alarms.values()]
          .filter((a) => (names ? names.includes(a.name) : a.name.startsWith(prefix ?? '')))
          .filter((a) => input.StateValue === undefined || a.state === input.StateValue)
          .sort((a, b) => a.name.localeCompare(b.name))
      : [];
    const { page, nextToken } = paginate(matching, input);
    return {
      MetricAlarms: page.map((a) => ({
        AlarmName: a.name,
        AlarmArn: a.arn,
        AlarmDescription: a.description,
        ActionsEnabled: true,
        StateValue: a.state,
        StateReason: a.reason,
        StateUpdatedTimestamp: new Date(a.updated),
        StateTransitionedTimestamp: new Date(a.transitioned),
      })),
      CompositeAlarms: [],
      ...(nextToken ? { NextToken: nextToken } : {}),
    };
  }

  private describeAlarmHistory(input: Record<string, unknown>) {
    const types = input.AlarmTypes === undefined ? ['MetricAlarm'] : strings(input.AlarmTypes);
    const from = epochMs(input.StartDate, 'StartDate') ?? Number.NEGATIVE_INFINITY;
    const to = epochMs(input.EndDate, 'EndDate') ?? Number.POSITIVE_INFINITY;
    const kind = input.HistoryItemType;
    if (kind !== undefined && !['ConfigurationUpdate', 'StateUpdate', 'Action'].includes(String(kind))) {
      throw new AwsServiceError(
        'ValidationError',
        `Value '${String(kind)}' at 'historyItemType' failed to satisfy constraint`,
      );
    }
    const ascending = input.ScanBy === 'TimestampAscending';
    const matching = this.history
      .filter((h) => types.includes(h.AlarmType))
      .filter((h) => input.AlarmName === undefined || h.AlarmName === input.AlarmName)
      .filter((h) => kind === undefined || h.HistoryItemType === kind)
      .filter((h) => h.Timestamp >= from && h.Timestamp <= to);
    // The history is kept oldest first; newest first is the default (later items first among equal times).
    if (!ascending) matching.reverse();
    const { page, nextToken } = paginate(matching, input);
    return {
      AlarmHistoryItems: page.map((h) => ({ ...h, Timestamp: new Date(h.Timestamp) })),
      ...(nextToken ? { NextToken: nextToken } : {}),
    };
  }

  setState(name: string, value: StateValue, reason: string): void {
    const alarm = this.alarms.get(name);
    if (!alarm) throw new AwsServiceError('ResourceNotFound', `Alarm ${name} not found`);
    if (!STATES.includes(value)) {
      throw new AwsServiceError(
        'InvalidParameterValue',
        `1 validation error detected: Value '${value}' at 'stateValue' failed to satisfy constraint`,
      );
    }
    if (alarm.state === value) return;
    const now = this.o.clock.now();
    const previous = {
      value: alarm.state,
      reason: alarm.reason,
      timestamp: cloudwatchTime(alarm.transitioned),
    };
    alarm.state = value;
    alarm.reason = reason;
    alarm.updated = now;
    alarm.transitioned = now;
    this.record(name, 'StateUpdate', `Alarm updated from ${previous.value} to ${value}`, {
      version: '1.0',
      oldState: { stateValue: previous.value, stateReason: previous.reason },
      newState: { stateValue: value, stateReason: reason },
    });
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

  private record(name: string, type: HistoryItem['HistoryItemType'], summary: string, data: unknown): void {
    this.history.push({
      AlarmName: name,
      AlarmType: 'MetricAlarm',
      Timestamp: this.o.clock.now(),
      HistoryItemType: type,
      HistorySummary: summary,
      HistoryData: JSON.stringify(data),
    });
  }
}

function strings(value: unknown): string[] {
  return Array.isArray(value) ? value.filter((v): v is string => typeof v === 'string') : [];
}

/** JSON 1.0 sends timestamps as epoch seconds. */
function epochMs(value: unknown, field: string): number | undefined {
  if (value === undefined) return undefined;
  const seconds = Number(value);
  if (!Number.isFinite(seconds)) {
    throw new AwsServiceError('ValidationError', `Value '${String(value)}' at '${field}' is not a timestamp`);
  }
  return seconds * 1000;
}

/** `MaxRecords` 1–100 (default 50) and an opaque `NextToken`, as both describes take them. */
function paginate<T>(items: readonly T[], input: Record<string, unknown>): { page: T[]; nextToken?: string } {
  const max = input.MaxRecords === undefined ? 50 : Number(input.MaxRecords);
  if (!Number.isInteger(max) || max < 1 || max > 100) {
    throw new AwsServiceError(
      'ValidationError',
      `1 validation error detected: Value '${String(input.MaxRecords)}' at 'maxRecords' failed to satisfy constraint: Member must have value between 1 and 100`,
    );
  }
  let start = 0;
  if (input.NextToken !== undefined) {
    const decoded = Number(Buffer.from(String(input.NextToken), 'base64url').toString('utf8'));
    if (!Number.isInteger(decoded) || decoded < 0 || decoded > items.length) {
      throw new AwsServiceError('InvalidNextToken', 'The service returned an error: invalid NextToken');
    }
    start = decoded;
  }
  const end = start + max;
  return {
    page: items.slice(start, end),
    nextToken: end < items.length ? Buffer.from(String(end)).toString('base64url') : undefined,
  };
}
