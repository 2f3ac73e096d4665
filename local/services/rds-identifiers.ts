/**
 * RDS identifier rules for the resources a caller names at creation (e.g. `DBSnapshotIdentifier`): 1 to N
 * ASCII letters, digits or hyphens, the first a letter, no two consecutive hyphens, not ending with a
 * hyphen. RDS stores identifiers in lowercase and compares them without regard to case.
 *
 * @module
 */
import { AwsServiceError } from '../endpoint/errors.ts';

const SHAPE = /^[A-Za-z](?:[A-Za-z0-9]|-(?!-))*$/;

/**
 * The identifier as RDS stores it (lowercase).
 *
 * @throws {@link AwsServiceError} `InvalidParameterValue` with AWS's wording when it breaks the rules.
 */
export function validIdentifier(parameter: string, value: string, maxLength: number): string {
  if (value.length > maxLength) {
    throw new AwsServiceError(
      'InvalidParameterValue',
      `The parameter ${parameter} is not a valid identifier because it is longer than ${maxLength} characters.`,
    );
  }
  if (!SHAPE.test(value) || value.endsWith('-')) {
    throw new AwsServiceError(
      'InvalidParameterValue',
      `The parameter ${parameter} is not a valid identifier. Identifiers must begin with a letter; must contain only ASCII letters, digits, and hyphens; and must not end with a hyphen or contain two consecutive hyphens.`,
    );
  }
  return value.toLowerCase();
}
