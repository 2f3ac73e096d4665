import type { Alert } from '../../../lambdas/alerts/model.ts';

/** A firing alarm alert of `api`; override what a case is about. */
export function alert(overrides: Partial<Alert> = {}): Alert {
  return {
    key: 'arn:aws:cloudwatch:eu-west-1:123456789012:alarm:api-5xx#2026-12-01T03:00:00.000Z',
    source: 'alarm',
    status: 'firing',
    severity: 'warning',
    severityOrigin: 'default',
    title: 'api-5xx is in ALARM',
    service: 'api',
    alarmName: 'api-5xx',
    resource: 'arn:aws:cloudwatch:eu-west-1:123456789012:alarm:api-5xx',
    reason: 'Threshold Crossed',
    links: [],
    startedAt: Date.parse('2026-12-01T03:00:00Z'),
    at: Date.parse('2026-12-01T03:00:00Z'),
    notes: [],
    ...overrides,
  };
}
