/**
 * SNS `Publish` as AWS validates it: the target, the message and its size, the subject, `MessageStructure`
 * `json`, message attributes and the FIFO-only fields — each refused with SNS's error code and wording.
 *
 * How the SDK (v3) serializes Publish's input, captured from its requests (see the SNS tests):
 * `MessageAttributes.entry.<n>.Name`, `MessageAttributes.entry.<n>.Value.DataType`,
 * `….Value.StringValue` / `….Value.BinaryValue` (base64), with 1-based `n`.
 *
 * @module
 */
import { AwsServiceError } from '../endpoint/errors.ts';
import { type QueryParams, queryList, queryString, queryStruct } from '../endpoint/query-protocol.ts';

/** A message attribute as it was published (`binaryValue` base64, as on the wire). */
export interface PublishedAttribute {
  readonly dataType: string;
  readonly stringValue?: string;
  readonly binaryValue?: string;
}

/** A Publish request that passed SNS's checks (the topic's existence aside). */
export interface PublishInput {
  readonly topicArn: string;
  readonly message: string;
  readonly subject?: string;
  readonly messageStructure?: string;
  readonly messageAttributes: Record<string, PublishedAttribute>;
  readonly messageGroupId?: string;
  readonly messageDeduplicationId?: string;
}

/** Largest message SNS takes: 256 KiB of UTF-8, the message and its attributes together. */
export const MAX_MESSAGE_BYTES = 262_144;
const MAX_ATTRIBUTES = 10;
const MAX_SUBJECT = 100;
/** `arn:aws:sns:<region>:<account>:<topic>`; topic names are 1–256 of `[A-Za-z0-9_-]`, `.fifo` for FIFO. */
export const TOPIC_ARN = /^arn:aws[a-z-]*:sns:[a-z0-9-]+:\d{12}:[A-Za-z0-9_-]{1,256}(\.fifo)?$/;
const TOPIC_NAME = /^[A-Za-z0-9_-]{1,256}(\.fifo)?$/;
/** MessageGroupId / MessageDeduplicationId: up to 128 of alphanumerics and punctuation. */
const FIFO_ID = /^[A-Za-z0-9!"#$%&'()*+,\-./:;<=>?@[\\\]^_`{|}~]{1,128}$/;

/** SNS's `InvalidParameter` (400), worded `Invalid parameter: …` as AWS words it. */
export const invalidParameter = (what: string) =>
  new AwsServiceError('InvalidParameter', `Invalid parameter: ${what}`, 400);
/** SNS's `ParameterValueInvalid` (400; the SDK's `InvalidParameterValueException`). */
const invalidValue = (message: string) => new AwsServiceError('ParameterValueInvalid', message, 400);

/** Whether `name` is a valid topic name (standard, or FIFO with the `.fifo` suffix). */
export const validTopicName = (name: string) => TOPIC_NAME.test(name) && name.length <= 256;

/**
 * The topic a Publish names (`TopicArn`, or `TargetArn` naming a topic), checked for shape only.
 *
 * @throws {@link AwsServiceError} `InvalidParameter` when none is given, both are, the ARN is not a topic's,
 *   or the call publishes to a phone number (the local world delivers no SMS).
 */
export function publishTarget(params: QueryParams): string {
  const topicArn = queryString(params, 'TopicArn');
  const targetArn = queryString(params, 'TargetArn');
  const phone = queryString(params, 'PhoneNumber');
  if (phone !== undefined && topicArn === undefined && targetArn === undefined) {
    throw invalidParameter('PhoneNumber Reason: the local world does not deliver SMS');
  }
  const given = [topicArn, targetArn, phone].filter((v) => v !== undefined);
  if (given.length > 1) {
    throw invalidParameter('TopicArn, TargetArn or PhoneNumber Reason: only one of them may be given');
  }
  const arn = topicArn ?? targetArn;
  if (arn === undefined || arn === '') {
    throw invalidParameter('TopicArn or TargetArn Reason: no value for required parameter');
  }
  if (!TOPIC_ARN.test(arn)) {
    // Platform endpoints (`…:endpoint/…`) are TargetArns too; the local world has none.
    throw invalidParameter(topicArn === undefined ? 'TargetArn' : 'TopicArn');
  }
  return arn;
}

/**
 * A Publish request's input, validated as SNS does; `fifo` says whether the topic is a FIFO topic.
 *
 * @throws {@link AwsServiceError} `ValidationError`, `InvalidParameter` or `ParameterValueInvalid` as SNS
 *   answers each rule.
 */
export function publishInput(params: QueryParams, topicArn: string, fifo: boolean): PublishInput {
  const message = queryString(params, 'Message');
  if (message === undefined) {
    throw new AwsServiceError(
      'ValidationError',
      "1 validation error detected: Value null at 'message' failed to satisfy constraint: Member must not be null",
    );
  }
  if (message === '') throw invalidParameter('Empty message');
  const messageAttributes = attributesOf(params);
  if (messageBytes(message, messageAttributes) > MAX_MESSAGE_BYTES) {
    throw invalidParameter('Message too long');
  }
  const subject = queryString(params, 'Subject');
  if (subject !== undefined) checkSubject(subject);
  const messageStructure = queryString(params, 'MessageStructure');
  if (messageStructure !== undefined) checkStructure(messageStructure, message);
  const messageGroupId = queryString(params, 'MessageGroupId');
  const messageDeduplicationId = queryString(params, 'MessageDeduplicationId');
  if (messageGroupId !== undefined && !FIFO_ID.test(messageGroupId)) {
    throw invalidParameter(
      'MessageGroupId Reason: The value must be 1-128 alphanumeric or punctuation characters',
    );
  }
  if (fifo && messageGroupId === undefined) {
    throw invalidParameter('The MessageGroupId parameter is required for FIFO topics');
  }
  if (!fifo && messageDeduplicationId !== undefined) {
    // A standard topic takes MessageGroupId (SQS fair queues, since July 2025), never a deduplication id.
    throw invalidParameter(
      'MessageDeduplicationId Reason: The request includes MessageDeduplicationId parameter that is not valid for this topic type',
    );
  }
  if (messageDeduplicationId !== undefined && !FIFO_ID.test(messageDeduplicationId)) {
    throw invalidParameter(
      'MessageDeduplicationId Reason: The value must be 1-128 alphanumeric or punctuation characters',
    );
  }
  return {
    topicArn,
    message,
    ...(subject === undefined ? {} : { subject }),
    ...(messageStructure === undefined ? {} : { messageStructure }),
    messageAttributes,
    ...(messageGroupId === undefined ? {} : { messageGroupId }),
    ...(messageDeduplicationId === undefined ? {} : { messageDeduplicationId }),
  };
}

/** The size SNS limits: the message's UTF-8 bytes plus each attribute's name, type and value. */
export function messageBytes(message: string, attributes: Record<string, PublishedAttribute>): number {
  let total = Buffer.byteLength(message, 'utf8');
  for (const [name, a] of Object.entries(attributes)) {
    total += Buffer.byteLength(name, 'utf8') + Buffer.byteLength(a.dataType, 'utf8');
    if (a.stringValue !== undefined) total += Buffer.byteLength(a.stringValue, 'utf8');
    if (a.binaryValue !== undefined) total += Buffer.from(a.binaryValue, 'base64').length;
  }
  return total;
}

/** Subjects: 1–100 printable ASCII characters, no line breaks or other control characters. */
function checkSubject(subject: string): void {
  if (subject === '' || subject.length > MAX_SUBJECT || !/^[\x20-\x7e]+$/.test(subject)) {
    throw invalidParameter('Subject');
  }
}

/** `MessageStructure=json`: the message is a JSON object whose `default` key holds a string. */
function checkStructure(structure: string, message: string): void {
  if (structure !== 'json') throw invalidParameter('MessageStructure');
  let body: unknown;
  try {
    body = JSON.parse(message);
  } catch {
    throw invalidParameter('Message Structure - JSON message body failed to parse');
  }
  if (typeof body !== 'object' || body === null || Array.isArray(body)) {
    throw invalidParameter('Message Structure - JSON message body failed to parse');
  }
  if (typeof (body as Record<string, unknown>).default !== 'string') {
    throw invalidParameter('Message Structure - No default entry in JSON message body');
  }
}

const ATTRIBUTE_NAME = /^[A-Za-z0-9_\-.]{1,256}$/;

/** The message attributes, each checked as SNS checks names, data types and values. */
function attributesOf(params: QueryParams): Record<string, PublishedAttribute> {
  const entries = queryList(params, 'MessageAttributes').map(queryStruct);
  if (entries.length > MAX_ATTRIBUTES) {
    throw invalidValue(
      `Number of message attributes [${entries.length}] exceeds the allowed maximum [${MAX_ATTRIBUTES}].`,
    );
  }
  const out: Record<string, PublishedAttribute> = {};
  for (const entry of entries) {
    const name = queryString(entry, 'Name') ?? '';
    const value = queryStruct(entry.Value);
    checkAttributeName(name);
    if (Object.hasOwn(out, name))
      throw invalidValue(`Message attribute name '${name}' is given more than once.`);
    out[name] = attributeValue(name, value);
  }
  return out;
}

function checkAttributeName(name: string): void {
  const lower = name.toLowerCase();
  if (
    !ATTRIBUTE_NAME.test(name) ||
    name.startsWith('.') ||
    name.endsWith('.') ||
    name.includes('..') ||
    lower.startsWith('aws.') ||
    lower.startsWith('amazon.')
  ) {
    throw invalidValue(
      `Invalid message attribute name '${name}': names are up to 256 of A-Z, a-z, 0-9, '_', '-' and '.', ` +
        "without a leading, trailing or doubled '.' and not starting with 'AWS.' or 'Amazon.'.",
    );
  }
}

function attributeValue(name: string, value: QueryParams): PublishedAttribute {
  const dataType = queryString(value, 'DataType') ?? '';
  const stringValue = queryString(value, 'StringValue');
  const binaryValue = queryString(value, 'BinaryValue');
  const [prefix] = dataType.split('.', 1);
  if (prefix !== 'String' && prefix !== 'Number' && prefix !== 'Binary') {
    throw invalidValue(
      `The message attribute '${name}' has an invalid message attribute type, the set of supported type prefixes is Binary, Number, and String.`,
    );
  }
  const carried = prefix === 'Binary' ? binaryValue : stringValue;
  if (carried === undefined || carried === '') {
    throw invalidValue(
      `The message attribute '${name}' must contain non-empty message attribute value for message attribute type '${prefix}'.`,
    );
  }
  if (prefix === 'Number' && !isSnsNumber(carried)) {
    throw invalidValue(`Could not cast message attribute '${name}' value to number.`);
  }
  if (dataType === 'String.Array' && !isStringArray(carried)) {
    throw invalidValue(`The message attribute '${name}' with type 'String.Array' has an invalid value.`);
  }
  return prefix === 'Binary' ? { dataType, binaryValue: carried } : { dataType, stringValue: carried };
}

/** A `Number` attribute's value: a finite decimal number, optionally with an exponent. */
function isSnsNumber(value: string): boolean {
  return /^-?(\d+\.?\d*|\.\d+)(e[+-]?\d+)?$/i.test(value.trim()) && Number.isFinite(Number(value));
}

/** `String.Array`: a JSON array of strings, numbers, booleans and nulls. */
function isStringArray(value: string): boolean {
  try {
    const parsed: unknown = JSON.parse(value);
    return (
      Array.isArray(parsed) &&
      parsed.every((v) => v === null || ['string', 'number', 'boolean'].includes(typeof v))
    );
  } catch {
    return false;
  }
}
