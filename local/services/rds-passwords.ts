/**
 * RDS's rules for a master user password (`MasterUserPassword` of CreateDBInstance / ModifyDBInstance): 8 to
 * 128 printable ASCII characters other than `/`, `"`, `@` and space (PostgreSQL's limits on RDS).
 *
 * @module
 */
import { AwsServiceError } from '../endpoint/errors.ts';

const MIN = 8;
const MAX = 128;
const ALLOWED = /^[\x21-\x7e]*$/;
const FORBIDDEN = /[/"@ ]/;

/**
 * The password, when RDS would accept it. Error messages never repeat the password.
 *
 * @throws {@link AwsServiceError} `InvalidParameterValue` with AWS's wording when it breaks the rules.
 */
export function validMasterPassword(password: string): string {
  if (password.length < MIN || password.length > MAX) {
    throw new AwsServiceError(
      'InvalidParameterValue',
      `The parameter MasterUserPassword is not a valid password because it is ${password.length < MIN ? 'shorter' : 'longer'} than ${password.length < MIN ? MIN : MAX} characters.`,
    );
  }
  if (!ALLOWED.test(password) || FORBIDDEN.test(password)) {
    throw new AwsServiceError(
      'InvalidParameterValue',
      `The parameter MasterUserPassword is not a valid password. Only printable ASCII characters besides '/', '@', '"', ' ' may be used.`,
    );
  }
  return password;
}
