import type { CloudWatchClient } from '@aws-sdk/client-cloudwatch';
import {
  describeAlarms,
  type ObservedAlarm,
  SAME_TRANSITION_MS,
  type StateTransition,
  stateTransitions,
} from '#shared/alarm-state';
import { iso } from '#shared/time';
import type { AlarmWindow } from './model.ts';
import type { RollbackStore } from './store.ts';

/** An open alarm window that CloudWatch shows has ended, with when and why. */
export interface WindowClose {
  readonly window: AlarmWindow;
  readonly end: number;
  readonly reason: string;
}

/**
 * Which open windows have ended, judged from the alarms as CloudWatch holds them now rather than from the
 * OK events that happened to arrive (one can be lost, an alarm can be deleted while in ALARM). Pure.
 *
 * - alarm gone: the window ends when its history shows it left ALARM, else now, when its absence was seen;
 * - alarm not in ALARM: the window ends when the alarm left ALARM (its last transition), never before it began;
 * - alarm in ALARM since after the window began: it left ALARM and came back, so that window ended by the
 *   time of the new transition (taken as the end, which is conservative: it counts as red until then).
 */
export function closedWindows(
  windows: readonly AlarmWindow[],
  observed: ReadonlyMap<string, ObservedAlarm>,
  now: number,
  /** For alarms that are gone: their history's transitions since the window began. */
  goneHistory: ReadonlyMap<string, readonly StateTransition[]> = new Map(),
): WindowClose[] {
  const closes: WindowClose[] = [];
  for (const window of windows) {
    if (window.end !== undefined) continue;
    const alarm = observed.get(window.alarmName);
    if (!alarm) {
      const exit = (goneHistory.get(window.alarmName) ?? [])
        .filter((t) => t.to !== 'ALARM' && t.at > window.start)
        .sort((a, b) => a.at - b.at)[0];
      closes.push(
        exit
          ? { window, end: exit.at, reason: `the alarm left ALARM at ${iso(exit.at)} and no longer exists` }
          : { window, end: Math.max(now, window.start), reason: 'the alarm no longer exists' },
      );
    } else if (alarm.state !== 'ALARM') {
      closes.push({
        window,
        end: Math.max(alarm.transitionedAt, window.start),
        reason: `the alarm is ${alarm.state} since ${iso(alarm.transitionedAt)}`,
      });
    } else if (alarm.transitionedAt > window.start + SAME_TRANSITION_MS) {
      closes.push({
        window,
        end: alarm.transitionedAt,
        reason: `the alarm entered ALARM again at ${iso(alarm.transitionedAt)}`,
      });
    }
  }
  return closes;
}

/** The windows with the closes applied. */
export function withCloses(windows: readonly AlarmWindow[], closes: readonly WindowClose[]): AlarmWindow[] {
  return windows.map((w) => {
    const close = closes.find((c) => c.window === w);
    return close ? { ...w, end: close.end } : w;
  });
}

/**
 * Observes the alarms of the service's open windows, closes the windows CloudWatch shows ended, and
 * returns the service's windows as they now are. An OK that never arrived, or a deleted alarm, therefore
 * never keeps a revision from earning known-good for longer than until the next invocation looks.
 */
export async function reconcileAlarmWindows(
  cloudwatch: CloudWatchClient,
  store: RollbackStore,
  serviceArn: string,
  windows: readonly AlarmWindow[],
  now: number,
): Promise<{ windows: AlarmWindow[]; closes: WindowClose[] }> {
  const open = windows.filter((w) => w.end === undefined);
  if (open.length === 0) return { windows: [...windows], closes: [] };
  const observed = new Map<string, ObservedAlarm>();
  for (const composite of [false, true]) {
    const names = open.filter((w) => (w.composite ?? false) === composite).map((w) => w.alarmName);
    if (names.length === 0) continue;
    for (const [name, alarm] of await describeAlarms(cloudwatch, names, { composite })) {
      observed.set(name, alarm);
    }
  }
  // A deleted alarm's history (CloudWatch keeps it) may still tell when it left ALARM.
  const goneHistory = new Map<string, StateTransition[]>();
  for (const window of open) {
    if (observed.has(window.alarmName) || goneHistory.has(window.alarmName)) continue;
    const composite = { composite: window.composite ?? false };
    goneHistory.set(
      window.alarmName,
      await stateTransitions(cloudwatch, window.alarmName, window.start, now, composite),
    );
  }
  const closes = closedWindows(open, observed, now, goneHistory);
  await store.closeAlarmWindows(serviceArn, closes);
  return { windows: withCloses(windows, closes), closes };
}
