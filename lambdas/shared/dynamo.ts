/** Small helpers every state store shares. */

/** Whether a DynamoDB call failed its condition (a verdict, not an error: another writer got there first). */
export function isConditionFailure(error: unknown): boolean {
  return (error as Error | undefined)?.name === 'ConditionalCheckFailedException';
}

/** The `expiresAt` TTL attribute (epoch seconds) of an item kept `days` days from `nowMs`. */
export function expiresAt(nowMs: number, days: number): number {
  return Math.floor(nowMs / 1000) + days * 86_400;
}
