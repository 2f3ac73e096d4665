import { GetParameterCommand, type SSMClient } from '@aws-sdk/client-ssm';
import { awsErrorName } from './errors.ts';

/** Whether runbooks may act, and why. */
export interface KillSwitchState {
  /** True when every runbook must stay plan-only. */
  readonly engaged: boolean;
  readonly reason: string;
}

/**
 * Reads the kill switch. The parameter is never created by the stack, so a deploy cannot reset it.
 * Value `on` engages it; absent or any other value means act; any failure to read it fails closed, and
 * so does a SecureString (read without decryption its value is ciphertext, which would read as "act").
 */
export async function readKillSwitch(ssm: SSMClient, name: string): Promise<KillSwitchState> {
  try {
    const out = await ssm.send(new GetParameterCommand({ Name: name }));
    if (out.Parameter?.Type === 'SecureString') {
      return {
        engaged: true,
        reason: `kill switch ${name} is a SecureString: make it a String parameter (on/off); failing closed, plan only`,
      };
    }
    const value = out.Parameter?.Value?.trim();
    if (value?.toLowerCase() === 'on') return { engaged: true, reason: `kill switch ${name} is on` };
    return { engaged: false, reason: `kill switch ${name} is ${JSON.stringify(value ?? '')}: acting` };
  } catch (error) {
    if (awsErrorName(error) === 'ParameterNotFound') {
      return { engaged: false, reason: `kill switch ${name} is not set: acting` };
    }
    const why = error instanceof Error ? `${error.name}: ${error.message}` : String(error);
    return {
      engaged: true,
      reason: `kill switch ${name} could not be read (${why}): failing closed, plan only`,
    };
  }
}
