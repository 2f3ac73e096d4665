import { describe, expect, it } from 'vitest';
import type { Alert } from '../../../lambdas/alerts/model.ts';
import { DIGEST, defaultRoutes, type Route, routeAlert } from '../../../lambdas/alerts/routing.ts';
import { alert } from './alert-fixture.ts';

const defaults = defaultRoutes({ pagerduty: ['pagerduty'], slack: ['slack'] });

const routes: Route[] = [
  // The billing team's alarms go to their own channel as well, then on.
  { match: { alarmPrefix: ['billing-'] }, receivers: ['slack-billing'], continue: true },
  { match: { service: ['api'], severity: ['critical'] }, receivers: ['pagerduty', 'slack', 'email'] },
  { match: { source: ['nightshift'], severity: ['info'] }, receivers: ['sns-audit', DIGEST] },
  { match: { severity: ['critical'] }, receivers: ['pagerduty', 'slack'] },
  { match: { severity: ['warning'] }, receivers: ['slack'] },
];

describe('routeAlert: routes in order, first match unless continue, else the defaults', () => {
  it.each<[string, Partial<Alert>, string[], number[] | 'default']>([
    [
      "a critical api alarm: api's route, first match stops",
      { severity: 'critical' },
      ['pagerduty', 'slack', 'email'],
      [1],
    ],
    ['a warning of api: the warning route', { severity: 'warning' }, ['slack'], [4]],
    [
      'a billing alarm continues past its own channel',
      { service: 'billing', alarmName: 'billing-queue', severity: 'critical' },
      ['slack-billing', 'pagerduty', 'slack'],
      [0, 3],
    ],
    [
      'a route may send to two receivers and the digest',
      { source: 'nightshift', severity: 'info', alarmName: undefined },
      ['sns-audit', DIGEST],
      [2],
    ],
    [
      'an info alarm matches no route: the defaults keep it for the digest',
      { severity: 'info' },
      [DIGEST],
      'default',
    ],
    [
      'a service matcher never matches an alert without a service',
      { service: undefined, severity: 'critical' },
      ['pagerduty', 'slack'],
      [3],
    ],
    [
      'an alarm-prefix matcher never matches an alert without an alarm',
      { alarmName: undefined, service: 'billing', severity: 'warning' },
      ['slack'],
      [4],
    ],
  ])('%s', (_, overrides, receivers, matched) => {
    expect(routeAlert(alert(overrides), routes, defaults)).toEqual({ receivers, matched });
  });

  it('lists each receiver once, in route order, however many routes name it', () => {
    const both: Route[] = [
      { receivers: ['slack'], continue: true },
      { match: { severity: ['critical'] }, receivers: ['pagerduty', 'slack'] },
    ];
    expect(routeAlert(alert({ severity: 'critical' }), both, defaults).receivers).toEqual([
      'slack',
      'pagerduty',
    ]);
  });

  it('when every matched route says continue, the defaults still page: a side channel never replaces the page', () => {
    const sideChannel: Route[] = [
      { match: { alarmPrefix: ['billing-'] }, receivers: ['email'], continue: true },
    ];
    expect(
      routeAlert(alert({ alarmName: 'billing-queue', severity: 'critical' }), sideChannel, defaults),
    ).toEqual({
      receivers: ['email', 'pagerduty', 'slack'],
      matched: [0],
    });
  });

  it('a route with no matcher catches everything', () => {
    expect(routeAlert(alert({ severity: 'info' }), [{ receivers: ['email'] }], defaults)).toEqual({
      receivers: ['email'],
      matched: [0],
    });
  });

  it('defaults: critical → PagerDuty + Slack, warning → Slack, info → digest', () => {
    expect(
      ['critical', 'warning', 'info'].map(
        (severity) => routeAlert(alert({ severity } as Partial<Alert>), [], defaults).receivers,
      ),
    ).toEqual([['pagerduty', 'slack'], ['slack'], [DIGEST]]);
  });

  it('defaults without PagerDuty page Slack only; without Slack a warning reaches no one', () => {
    const slackOnly = defaultRoutes({ slack: ['slack'] });
    expect(routeAlert(alert({ severity: 'critical' }), [], slackOnly).receivers).toEqual(['slack']);
    expect(
      routeAlert(alert({ severity: 'warning' }), [], defaultRoutes({ pagerduty: ['pd'] })).receivers,
    ).toEqual([]);
  });
});
