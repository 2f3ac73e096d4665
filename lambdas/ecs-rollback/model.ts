/**
 * The data the ECS rollback runbook keeps and reasons about. Times are epoch milliseconds.
 */

import type { ClaimKind } from '#shared/service-claim';
import type { ConfigClaimPart } from '../config-rollback/model.ts';

/** A revision that was primary for a service, from ECS deployment events or from Nightshift's own rollbacks. */
export interface RevisionRecord {
  /** ECS deployment id (`ecs-svc/…`), or `nightshift/<episode>` for a rollback Nightshift deployed. */
  readonly deploymentId: string;
  readonly taskDefinitionArn: string;
  /** When the deployment was created, i.e. became the service's primary deployment. */
  readonly primarySince: number;
  /** When ECS reported the deployment COMPLETED; undefined while it has not. */
  readonly completedAt?: number;
  /** `deployment`: seen through ECS events; `bootstrap`: the revision that was primary when Nightshift first
   * saw the service; `rollback`: deployed by Nightshift, inheriting known-good from `inheritsFrom`. */
  readonly origin: 'deployment' | 'bootstrap' | 'rollback';
  /** For `rollback` records: the known-good revision this one was deployed from. */
  readonly inheritsFrom?: string;
  /** RegisterTaskDefinition input, as JSON, to re-register the revision if it is gone or unpinned. */
  readonly taskDefinitionJson?: string;
  /** Image digests ECS resolved for the revision, by container name. */
  readonly imageDigests?: Readonly<Record<string, string>>;
}

/** A period in which one of the service's alarms was in ALARM; `end` undefined while it still is. */
export interface AlarmWindow {
  readonly alarmName: string;
  readonly start: number;
  readonly end?: number;
  /** A composite alarm's window (CloudWatch describes those only when asked for them). */
  readonly composite?: boolean;
}

/** Stages of the act-once claim of a rollback, in order. */
export const claimStages = ['claimed', 'registered', 'updated', 'published'] as const;
export type ClaimStage = (typeof claimStages)[number];

/** Per-service claim: at most one rollback in flight, and the memory of the last one. */
export interface RollbackClaim {
  /** Absent: `task-definition` (claims written before config rollback). See `#shared/service-claim`. */
  readonly kind?: ClaimKind;
  /** For `config`: the parameter written back. */
  readonly config?: ConfigClaimPart;
  /** The claimed rollback was decided against part-way (nothing was deployed); `reason` says why. */
  readonly skipped?: boolean;
  /** Until when no other Nightshift deployment of the service may start (a rotation's redeploy waits). */
  readonly cooldownUntil?: number;
  readonly episodeId: string;
  readonly alarmName: string;
  /** When the alarm that caused the rollback entered ALARM. */
  readonly episodeStart: number;
  readonly stage: ClaimStage;
  /** Whoever holds the claim may work on it until then; after it, a retry may resume it. */
  readonly leaseUntil: number;
  readonly owner: string;
  readonly fromTaskDefinitionArn: string;
  /** The known-good revision chosen. */
  readonly toTaskDefinitionArn: string;
  /** What was actually deployed: `toTaskDefinitionArn` or its re-registered, pinned copy. */
  readonly deployTaskDefinitionArn?: string;
  readonly pin: boolean;
  /** Why the known-good revision is re-registered rather than deployed as it is. */
  readonly pinReason?: string;
  readonly suspendDeploymentAlarms: boolean;
  readonly reason: string;
  /** When UpdateService was called. */
  readonly updatedAt?: number;
  /** When the rollback deployment completed. */
  readonly completedAt?: number;
  /** When the rollback deployment failed (ECS may have returned to the bad revision). */
  readonly failedAt?: number;
  /** Escalation when an alarm fires after the rollback took effect. */
  readonly ineffective?: {
    readonly episodeId: string;
    readonly stage: 'claimed' | 'published';
    readonly leaseUntil: number;
  };
}

/** The part of an ECS service the plan looks at. */
export interface ServiceView {
  readonly name: string;
  readonly arn: string;
  /** `ECS`, `CODE_DEPLOY` or `EXTERNAL`. */
  readonly controller: string;
  readonly deployments: readonly DeploymentView[];
  readonly deploymentAlarms?: {
    readonly alarmNames: readonly string[];
    readonly enable: boolean;
    readonly rollback: boolean;
  };
}

export interface DeploymentView {
  readonly id: string;
  /** `PRIMARY`, `ACTIVE` or `INACTIVE`. */
  readonly status: string;
  readonly taskDefinitionArn: string;
  readonly createdAt: number;
  /** `COMPLETED`, `IN_PROGRESS` or `FAILED`. */
  readonly rolloutState?: string;
}

/** The alarm episode being handled: alarm ARN + the time it entered ALARM. */
export interface AlarmEpisode {
  readonly alarmName: string;
  readonly alarmArn: string;
  readonly start: number;
  readonly id: string;
}

export function episodeId(alarmArn: string, enteredAlarmAt: string): string {
  return `${alarmArn}@${enteredAlarmAt}`;
}
