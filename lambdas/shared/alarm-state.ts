import {
  type AlarmType,
  type CloudWatchClient,
  DescribeAlarmHistoryCommand,
  DescribeAlarmsCommand,
} from '@aws-sdk/client-cloudwatch';
import { InvalidEventError } from './errors.ts';
import { iso } from './time.ts';

/**
 * An alarm's state as CloudWatch holds it, read rather than inferred from the events that happened to
 * arrive: an event can be forged by a direct invoke or a foreign bus, or lost.
 */
export interface ObservedAlarm {
  readonly name: string;
  readonly arn: string;
  readonly type: AlarmType;
  /** `OK`, `ALARM` or `INSUFFICIENT_DATA`. */
  readonly state: string;
  /** When the state value last changed (`StateTransitionedTimestamp`), epoch ms. */
  readonly transitionedAt: number;
}

/** One state change from the alarm's history. */
export interface StateTransition {
  readonly at: number;
  readonly to: string;
}

/**
 * How far apart the event's state timestamp and CloudWatch's record of the same transition may be. Both
 * name one instant; a second covers rounding in either.
 */
export const SAME_TRANSITION_MS = 1_000;

/** AWS returns composite alarms only when asked for them (and only to a `*`-scoped permission). */
function alarmTypes(composite: boolean): AlarmType[] | undefined {
  return composite ? ['CompositeAlarm', 'MetricAlarm'] : undefined;
}

/**
 * The named alarms as CloudWatch holds them, by name; a name CloudWatch does not know (deleted, or never
 * existed) is absent from the map. Follows `NextToken` to the end, at most 100 names per request.
 */
export async function describeAlarms(
  cloudwatch: CloudWatchClient,
  names: readonly string[],
  options: { composite?: boolean } = {},
): Promise<Map<string, ObservedAlarm>> {
  const found = new Map<string, ObservedAlarm>();
  const unique = [...new Set(names)];
  for (let i = 0; i < unique.length; i += 100) {
    let nextToken: string | undefined;
    do {
      const page = await cloudwatch.send(
        new DescribeAlarmsCommand({
          AlarmNames: unique.slice(i, i + 100),
          AlarmTypes: alarmTypes(options.composite ?? false),
          NextToken: nextToken,
        }),
      );
      const alarms = [
        ...(page.MetricAlarms ?? []).map((a) => ({ ...a, type: 'MetricAlarm' as const })),
        ...(page.CompositeAlarms ?? []).map((a) => ({ ...a, type: 'CompositeAlarm' as const })),
      ];
      for (const a of alarms) {
        if (!a.AlarmName) continue;
        found.set(a.AlarmName, {
          name: a.AlarmName,
          arn: a.AlarmArn ?? '',
          type: a.type,
          state: a.StateValue ?? 'INSUFFICIENT_DATA',
          // Older alarms may lack it; the last update is then the best CloudWatch can say.
          transitionedAt: (a.StateTransitionedTimestamp ?? a.StateUpdatedTimestamp)?.getTime() ?? 0,
        });
      }
      nextToken = page.NextToken;
    } while (nextToken);
  }
  return found;
}

/**
 * The alarm's state changes between `from` and `to` (StateUpdate items of its history, which CloudWatch
 * keeps even after the alarm is deleted), following `NextToken` to the end.
 */
export async function stateTransitions(
  cloudwatch: CloudWatchClient,
  name: string,
  from: number,
  to: number,
  options: { composite?: boolean } = {},
): Promise<StateTransition[]> {
  const transitions: StateTransition[] = [];
  let nextToken: string | undefined;
  do {
    const page = await cloudwatch.send(
      new DescribeAlarmHistoryCommand({
        AlarmName: name,
        AlarmTypes: alarmTypes(options.composite ?? false),
        HistoryItemType: 'StateUpdate',
        StartDate: new Date(from),
        EndDate: new Date(to),
        NextToken: nextToken,
      }),
    );
    for (const item of page.AlarmHistoryItems ?? []) {
      const to = newStateOf(item.HistoryData);
      if (item.Timestamp && to) transitions.push({ at: item.Timestamp.getTime(), to });
    }
    nextToken = page.NextToken;
  } while (nextToken);
  return transitions;
}

function newStateOf(historyData: string | undefined): string | undefined {
  try {
    const data = JSON.parse(historyData ?? '') as { newState?: { stateValue?: unknown } };
    return typeof data.newState?.stateValue === 'string' ? data.newState.stateValue : undefined;
  } catch {
    return undefined;
  }
}

/** CloudWatch does not confirm the state change an event claims; nothing was changed. */
export class UnconfirmedAlarmError extends InvalidEventError {
  override readonly name: string = 'UnconfirmedAlarmError';
}

/** The transition an event claims: the alarm entered `state` at `at`. */
export interface ClaimedTransition {
  readonly name: string;
  readonly state: string;
  readonly at: number;
  /** The event is a composite alarm's (its configuration has an `alarmRule`). */
  readonly composite: boolean;
}

/** Whether CloudWatch's record shows the claimed transition: as the current state, or in the history. */
export function transitionConfirmed(
  claimed: ClaimedTransition,
  observed: ObservedAlarm | undefined,
  history: readonly StateTransition[],
): boolean {
  const near = (at: number) => Math.abs(at - claimed.at) <= SAME_TRANSITION_MS;
  if (observed?.state === claimed.state && near(observed.transitionedAt)) return true;
  return history.some((t) => t.to === claimed.state && near(t.at));
}

/**
 * Confirms with CloudWatch that the alarm really entered the claimed state at the claimed time: it is in
 * that state with a matching `StateTransitionedTimestamp`, or, if it has moved on since (or was deleted),
 * its history shows that transition.
 *
 * @returns the alarm as CloudWatch holds it now (undefined when it was deleted since)
 * @throws UnconfirmedAlarmError when CloudWatch shows no such transition: the event is forged or wrong
 */
export async function confirmTransition(
  cloudwatch: CloudWatchClient,
  claimed: ClaimedTransition,
): Promise<ObservedAlarm | undefined> {
  const composite = { composite: claimed.composite };
  const observed = (await describeAlarms(cloudwatch, [claimed.name], composite)).get(claimed.name);
  if (transitionConfirmed(claimed, observed, [])) return observed;
  const history = await stateTransitions(
    cloudwatch,
    claimed.name,
    claimed.at - SAME_TRANSITION_MS,
    claimed.at + SAME_TRANSITION_MS,
    composite,
  );
  if (transitionConfirmed(claimed, observed, history)) return observed;
  const now = observed
    ? `it is ${observed.state} since ${iso(observed.transitionedAt)}`
    : 'CloudWatch has no such alarm';
  throw new UnconfirmedAlarmError(
    `alarm ${claimed.name}: CloudWatch does not confirm it entered ${claimed.state} at ${iso(claimed.at)} (${now}, and its history has no such transition). Nothing was changed`,
  );
}
