/**
 * How IAM sees a DynamoDB request: which actions on which tables it needs, and the partition key values it
 * touches as `dynamodb:LeadingKeys` (fine-grained access control). The local endpoint authorizes DynamoDB
 * requests with these before forwarding them to dynalite.
 *
 * - GetItem, PutItem, UpdateItem, DeleteItem: the `pk` of `Key` (or of `Item`);
 * - Query: the partition key's equality in `KeyConditionExpression` (or legacy `KeyConditions`);
 * - BatchGetItem, BatchWriteItem: every key of every table, one need per table;
 * - TransactWriteItems / TransactGetItems: IAM has no such actions; each item is authorized as its own
 *   PutItem, UpdateItem, DeleteItem, ConditionCheckItem or GetItem (`dynamodb:EnclosingOperation` says which
 *   transaction), with its key;
 * - Scan and PartiQL (ExecuteStatement, BatchExecuteStatement, ExecuteTransaction as
 *   `dynamodb:PartiQLSelect|Insert|Update|Delete`): no key at all, so a `ForAllValues:…` condition on
 *   `dynamodb:LeadingKeys` holds vacuously for them — which is why a policy must never grant them.
 *
 * @module
 */
import type { AuthorizationNeed } from './authorize.ts';
import { AwsServiceError } from './errors.ts';

/** Table name → the name of its partition (HASH) key attribute. */
export type PartitionKeys = ReadonlyMap<string, string>;

type AttributeValue = Record<string, unknown>;
type Keyed = Record<string, AttributeValue>;

const LEADING_KEYS = 'dynamodb:LeadingKeys';

/**
 * The authorization needs of one DynamoDB call.
 *
 * @throws {@link AwsServiceError} `ResourceNotFoundException` when a keyed request names a table whose key
 *   schema is unknown, `ValidationException` when a Query has no equality on the partition key.
 */
export function dynamoNeeds(
  operation: string,
  input: Record<string, unknown>,
  partitionKeys: PartitionKeys,
): AuthorizationNeed[] {
  const needs = new Needs(partitionKeys);
  const table = typeof input.TableName === 'string' ? input.TableName : undefined;
  switch (operation) {
    case 'GetItem':
    case 'UpdateItem':
    case 'DeleteItem':
      needs.add(operation, tableOf(table, operation), [input.Key]);
      break;
    case 'PutItem':
      needs.add(operation, tableOf(table, operation), [input.Item]);
      break;
    case 'Query': {
      const name = tableOf(table, operation);
      // An index query would be authorized on the index and keyed by its own partition key; the local
      // world's tables have no indexes.
      if (input.IndexName !== undefined) {
        throw new AwsServiceError('ValidationException', 'The table does not have the specified index');
      }
      needs.addValues(operation, name, [queryPartitionValue(input, needs.partitionKeyOf(name))]);
      break;
    }
    case 'BatchGetItem':
      for (const [name, request] of Object.entries(records(input.RequestItems))) {
        needs.add(operation, name, list((request as { Keys?: unknown }).Keys));
      }
      break;
    case 'BatchWriteItem':
      for (const [name, requests] of Object.entries(records(input.RequestItems))) {
        const keys = list(requests).map((r) => {
          const { PutRequest, DeleteRequest } = r as {
            PutRequest?: { Item?: unknown };
            DeleteRequest?: { Key?: unknown };
          };
          return PutRequest?.Item ?? DeleteRequest?.Key;
        });
        needs.add(operation, name, keys);
      }
      break;
    case 'TransactWriteItems':
    case 'TransactGetItems':
      for (const item of list(input.TransactItems)) {
        for (const [kind, op] of Object.entries(records(item))) {
          const action = TRANSACT_ACTIONS[kind];
          if (action === undefined)
            throw new AwsServiceError('ValidationException', `unknown transaction item ${kind}`);
          const { TableName, Key, Item } = op as { TableName?: unknown; Key?: unknown; Item?: unknown };
          const name = tableOf(typeof TableName === 'string' ? TableName : undefined, `${operation} ${kind}`);
          needs.add(action, name, [Key ?? Item], { 'dynamodb:EnclosingOperation': operation });
        }
      }
      break;
    case 'ExecuteStatement':
      needs.unkeyed(partiqlAction(input.Statement), partiqlTable(input.Statement));
      break;
    case 'BatchExecuteStatement':
    case 'ExecuteTransaction':
      for (const s of list(input.Statements ?? input.TransactStatements)) {
        const { Statement } = s as { Statement?: unknown };
        needs.unkeyed(partiqlAction(Statement), partiqlTable(Statement));
      }
      break;
    default:
      // Scan, DescribeTable and the other table-level calls: the table (when named), no key.
      needs.unkeyed(`dynamodb:${operation}`, table);
  }
  return needs.list();
}

const TRANSACT_ACTIONS: Record<string, string | undefined> = {
  Put: 'PutItem',
  Update: 'UpdateItem',
  Delete: 'DeleteItem',
  ConditionCheck: 'ConditionCheckItem',
  Get: 'GetItem',
};

/** Collects needs, one per action and table, with the union of their partition key values. */
class Needs {
  private readonly byActionAndTable = new Map<
    string,
    { action: string; table?: string; keys?: Set<string>; context: Record<string, string> }
  >();

  constructor(private readonly partitionKeys: PartitionKeys) {}

  partitionKeyOf(table: string): string {
    const key = this.partitionKeys.get(table);
    if (key === undefined) {
      throw new AwsServiceError(
        'ResourceNotFoundException',
        `Requested resource not found: Table: ${table} not found`,
      );
    }
    return key;
  }

  /** A keyed request: the partition key value of each of `keyed` (a Key or an Item). */
  add(operation: string, table: string, keyed: unknown[], context: Record<string, string> = {}): void {
    const attribute = this.partitionKeyOf(table);
    this.addValues(
      operation,
      table,
      keyed.map((k) => {
        const value = isRecord(k) ? attributeString((k as Keyed)[attribute]) : undefined;
        if (value === undefined) {
          throw new AwsServiceError(
            'ValidationException',
            `The provided key element does not match the schema: ${attribute} is missing`,
          );
        }
        return value;
      }),
      context,
    );
  }

  addValues(operation: string, table: string, values: string[], context: Record<string, string> = {}): void {
    const entry = this.entry(`dynamodb:${operation}`, table, context);
    entry.keys ??= new Set();
    for (const v of values) entry.keys.add(v);
  }

  unkeyed(action: string, table: string | undefined): void {
    this.entry(action, table, {});
  }

  private entry(action: string, table: string | undefined, context: Record<string, string>) {
    const id = `${action}\n${table ?? ''}\n${JSON.stringify(context)}`;
    let entry = this.byActionAndTable.get(id);
    if (entry === undefined) {
      entry = { action, table, context };
      this.byActionAndTable.set(id, entry);
    }
    return entry;
  }

  list(): AuthorizationNeed[] {
    return [...this.byActionAndTable.values()].map(({ action, table, keys, context }) => ({
      action,
      ...(table === undefined ? {} : { resourceType: 'table', values: { TableName: table } }),
      context: { ...context, ...(keys === undefined ? {} : { [LEADING_KEYS]: [...keys] }) },
    }));
  }
}

function tableOf(table: string | undefined, operation: string): string {
  if (table === undefined) throw new AwsServiceError('ValidationException', `${operation} needs a TableName`);
  return table;
}

/** The partition key value a Query reads: `<pk> = :v` in KeyConditionExpression, or `KeyConditions` EQ. */
function queryPartitionValue(input: Record<string, unknown>, partitionKey: string): string {
  const names = records(input.ExpressionAttributeNames) as Record<string, string>;
  const values = records(input.ExpressionAttributeValues);
  const resolve = (name: string) => (name.startsWith('#') ? names[name] : name);
  let found: string | undefined;
  if (typeof input.KeyConditionExpression === 'string') {
    // `a = :v` or `:v = a`; `<=`, `>=` and `<>` are not equalities.
    const equality = /([#:]?[A-Za-z0-9_.-]+)\s*(?<![<>!])=(?!=)\s*([#:]?[A-Za-z0-9_.-]+)/g;
    for (const [, left = '', right = ''] of input.KeyConditionExpression.matchAll(equality)) {
      const [name, placeholder] = left.startsWith(':') ? [right, left] : [left, right];
      if (resolve(name) === partitionKey && placeholder.startsWith(':')) {
        found = attributeString(values[placeholder]);
        break;
      }
    }
  } else {
    const condition = records(input.KeyConditions)[partitionKey] as
      | { ComparisonOperator?: unknown; AttributeValueList?: unknown[] }
      | undefined;
    if (condition?.ComparisonOperator === 'EQ') found = attributeString(condition.AttributeValueList?.[0]);
  }
  if (found === undefined) {
    throw new AwsServiceError(
      'ValidationException',
      `Query condition missed key schema element: ${partitionKey}`,
    );
  }
  return found;
}

/** A key attribute's value as IAM compares it: the string of an `S`, `N` or `B` value. */
function attributeString(value: unknown): string | undefined {
  if (!isRecord(value)) return undefined;
  for (const type of ['S', 'N', 'B']) {
    const v = (value as AttributeValue)[type];
    if (typeof v === 'string') return v;
  }
  return undefined;
}

const PARTIQL_ACTIONS: Record<string, string> = {
  SELECT: 'dynamodb:PartiQLSelect',
  INSERT: 'dynamodb:PartiQLInsert',
  UPDATE: 'dynamodb:PartiQLUpdate',
  DELETE: 'dynamodb:PartiQLDelete',
};

function partiqlAction(statement: unknown): string {
  const verb = typeof statement === 'string' ? statement.trim().split(/\s+/)[0]?.toUpperCase() : undefined;
  const action = verb === undefined ? undefined : PARTIQL_ACTIONS[verb];
  if (action === undefined) throw new AwsServiceError('ValidationException', "Statement wasn't well formed");
  return action;
}

/** The table a PartiQL statement names (`FROM "t"`, `INTO "t"`, `UPDATE "t"`). */
function partiqlTable(statement: unknown): string | undefined {
  if (typeof statement !== 'string') return undefined;
  const match = /\b(?:FROM|INTO|UPDATE)\s+"?([A-Za-z0-9_.-]+)"?/i.exec(statement);
  return match?.[1];
}

function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

function records(value: unknown): Record<string, unknown> {
  return isRecord(value) ? value : {};
}

function list(value: unknown): unknown[] {
  return Array.isArray(value) ? value : [];
}
