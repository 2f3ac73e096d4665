/**
 * Shapes of IAM identity-policy documents, as CDK synthesizes them (after intrinsic resolution).
 *
 * @module
 */

/** A condition value as written in a policy; numbers are accepted too since JSON allows them. */
export type ConditionValue = string | string[] | boolean;

/** One statement of an identity policy. Exactly one of `Action`/`NotAction` and of `Resource`/`NotResource`. */
export interface PolicyStatement {
  Sid?: string;
  Effect: 'Allow' | 'Deny';
  Action?: string | string[];
  NotAction?: string | string[];
  Resource?: string | string[];
  NotResource?: string | string[];
  /** Operator (e.g. `StringEquals`, `ForAnyValue:StringLike`) → condition key → value(s). */
  Condition?: Record<string, Record<string, ConditionValue>>;
}

/** An identity policy document. `Version` `2012-10-17` enables policy variables such as `${aws:username}`. */
export interface PolicyDocument {
  Version?: string;
  Statement: PolicyStatement | PolicyStatement[];
}

/** The statements of `document` as a list, whether it holds one statement or several. */
export function policyStatements(document: PolicyDocument): PolicyStatement[] {
  return Array.isArray(document.Statement) ? document.Statement : [document.Statement];
}
