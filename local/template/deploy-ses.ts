/**
 * SES v2 configuration sets of a template, as a local world deploys them: every `AWS::SES::ConfigurationSet`
 * with the `AWS::SES::ConfigurationSetEventDestination`s that name it (CDK's `ses.ConfigurationSet` and
 * `addEventDestination`), names and ARNs resolved.
 *
 * CloudFormation spells `MatchingEventTypes` in camel case (`bounce`, `renderingFailure`, as CDK writes
 * them); the SES v2 API in upper snake case (`BOUNCE`, `RENDERING_FAILURE`). Both are accepted and the API
 * spelling is kept.
 *
 * - https://docs.aws.amazon.com/AWSCloudFormation/latest/TemplateReference/aws-resource-ses-configurationset.html
 * - https://docs.aws.amazon.com/AWSCloudFormation/latest/UserGuide/aws-properties-ses-configurationseteventdestination-eventbridgedestination.html
 * - https://docs.aws.amazon.com/ses/latest/APIReference-V2/API_EventDestination.html
 *
 * @module
 */
import type { TemplateResource } from './cloud-assembly.ts';
import type { TemplateWorld } from './template-world.ts';
import { isRecord } from './values.ts';

/** One event destination of a configuration set. */
export interface DeployedEventDestination {
  /** The destination's name: its `EventDestination.Name`, else the resource's logical id. */
  name: string;
  enabled: boolean;
  /** SES v2 API spelling, e.g. `BOUNCE`, `COMPLAINT`, `RENDERING_FAILURE`. */
  matchingEventTypes: string[];
  eventBridge?: { eventBusArn: string };
  sns?: { topicArn: string };
}

/** An SES configuration set and its event destinations. */
export interface DeployedConfigurationSet {
  logicalId: string;
  name: string;
  /** `arn:aws:ses:<region>:<account>:configuration-set/<name>` */
  arn: string;
  eventDestinations: DeployedEventDestination[];
}

/** `bounce` / `renderingFailure` / `BOUNCE` → `BOUNCE` / `RENDERING_FAILURE`. */
export function apiEventType(type: string): string {
  return type.includes('_') || type === type.toUpperCase()
    ? type.toUpperCase()
    : type.replace(/([a-z0-9])([A-Z])/g, '$1_$2').toUpperCase();
}

/** The stack's configuration sets with their event destinations, in template order. */
export function deployConfigurationSets(
  resources: readonly (readonly [string, TemplateResource])[],
  world: TemplateWorld,
  where: { account: string; region: string; partition?: string },
): DeployedConfigurationSet[] {
  const sets = resources
    .filter(([, r]) => r.Type === 'AWS::SES::ConfigurationSet')
    .map(([logicalId]): DeployedConfigurationSet => {
      const name = world.identityOf(logicalId).name!;
      return {
        logicalId,
        name,
        arn: `arn:${where.partition ?? 'aws'}:ses:${where.region}:${where.account}:configuration-set/${name}`,
        eventDestinations: [],
      };
    });
  for (const [logicalId, r] of resources) {
    if (r.Type !== 'AWS::SES::ConfigurationSetEventDestination') continue;
    const p = world.resolve(r.Properties ?? {}) as Record<string, unknown>;
    const set = sets.find((s) => s.name === p.ConfigurationSetName);
    if (!set) continue; // a configuration set outside the stack: nothing local sends through it
    const d = isRecord(p.EventDestination) ? p.EventDestination : {};
    const bus = isRecord(d.EventBridgeDestination) ? d.EventBridgeDestination.EventBusArn : undefined;
    const topic = isRecord(d.SnsDestination) ? d.SnsDestination.TopicARN : undefined;
    set.eventDestinations.push({
      name: typeof d.Name === 'string' && d.Name !== '' ? d.Name : logicalId,
      // CloudFormation: Enabled defaults to false when absent.
      enabled: d.Enabled === true || d.Enabled === 'true',
      matchingEventTypes: (Array.isArray(d.MatchingEventTypes) ? d.MatchingEventTypes : []).map((t) =>
        apiEventType(String(t)),
      ),
      ...(typeof bus === 'string' ? { eventBridge: { eventBusArn: bus } } : {}),
      ...(typeof topic === 'string' ? { sns: { topicArn: topic } } : {}),
    });
  }
  return sets;
}
