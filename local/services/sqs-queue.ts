/**
 * One standard SQS queue, locally: its messages, delays and visibility timeouts on the world's virtual
 * clock, receive counts and its redrive policy (a message received `maxReceiveCount` times moves to the
 * dead-letter queue on the receive that would exceed it, as SQS does), and retention.
 *
 * @module
 */
import { createHash, randomUUID } from 'node:crypto';
import type { DeployedQueue } from '../template/deployed-types.ts';
import type { VirtualClock } from '../world/clock.ts';

/** A message attribute as SendMessage takes it and ReceiveMessage returns it (binary values in base64). */
export interface MessageAttributeValue {
  readonly DataType: string;
  readonly StringValue?: string;
  readonly BinaryValue?: string;
}

/** One message in a queue. */
export interface QueuedMessage {
  readonly messageId: string;
  readonly body: string;
  /** MD5 hex of the body (`MD5OfBody`; the SDK checks it). */
  readonly md5OfBody: string;
  readonly attributes: Record<string, MessageAttributeValue>;
  readonly senderId: string;
  /** Epoch ms it was sent (`SentTimestamp`); kept when a redrive policy moves it. */
  readonly sentAt: number;
  receiveCount: number;
  firstReceiveAt?: number;
  /** Epoch ms from which it may be received (end of its delay or of its visibility timeout). */
  visibleAt: number;
  inFlight: boolean;
  /** The receipt handle of its latest receive. */
  receiptHandle?: string;
  /** The queue a redrive policy moved it from (`DeadLetterQueueSourceArn`). */
  sourceArn?: string;
}

/** What `send` takes: a new message, or one moved here (keeping its id and sent time). */
export interface SendInput {
  readonly body: string;
  /** @default the queue's `DelaySeconds` */
  readonly delaySeconds?: number;
  readonly attributes?: Record<string, MessageAttributeValue>;
  readonly senderId: string;
  readonly messageId?: string;
  readonly sentAt?: number;
  readonly sourceArn?: string;
}

/** Looks a queue up by ARN (the dead-letter target of a redrive policy). */
export type QueueLookup = (arn: string) => LocalQueue | undefined;

/** One standard queue and its messages; see the module comment. */
export class LocalQueue {
  private messages: QueuedMessage[] = [];
  private readonly listeners: (() => void)[] = [];

  constructor(
    readonly definition: DeployedQueue,
    private readonly clock: VirtualClock,
    private readonly lookup: QueueLookup,
  ) {}

  get arn(): string {
    return this.definition.arn;
  }

  /**
   * Calls `listener` whenever messages may have become receivable: a send, the end of a delay or of a
   * visibility timeout (on the virtual clock), a message moved in. It is called from within the queue's own
   * operations, so it must defer its work (e.g. to a microtask) rather than receive at once.
   */
  onAvailable(listener: () => void): void {
    this.listeners.push(listener);
  }

  private notifyAt(at: number): void {
    const notify = () => {
      for (const listener of this.listeners) listener();
    };
    // Listeners are told at once and defer their own work, so a batch sent in one request is polled as one.
    if (at <= this.clock.now()) notify();
    else this.clock.schedule(at, notify);
  }

  send(input: SendInput): QueuedMessage {
    const now = this.clock.now();
    const delay = input.delaySeconds ?? this.definition.delaySeconds;
    const message: QueuedMessage = {
      messageId: input.messageId ?? randomUUID(),
      body: input.body,
      md5OfBody: createHash('md5').update(input.body, 'utf8').digest('hex'),
      attributes: input.attributes ?? {},
      senderId: input.senderId,
      sentAt: input.sentAt ?? now,
      receiveCount: 0,
      visibleAt: now + delay * 1000,
      inFlight: false,
      ...(input.sourceArn === undefined ? {} : { sourceArn: input.sourceArn }),
    };
    this.messages.push(message);
    this.notifyAt(message.visibleAt);
    return message;
  }

  /** Drops messages past the retention period and ends visibility timeouts that are over. */
  private refresh(): number {
    const now = this.clock.now();
    const retention = this.definition.messageRetentionSeconds * 1000;
    this.messages = this.messages.filter((m) => now - m.sentAt < retention);
    for (const m of this.messages) if (m.inFlight && m.visibleAt <= now) m.inFlight = false;
    return now;
  }

  /**
   * Receives up to `max` receivable messages, oldest first, hiding each for `visibilitySeconds` (default:
   * the queue's). With a redrive policy, a message already received `maxReceiveCount` times moves to the
   * dead-letter queue instead.
   */
  receive(max: number, visibilitySeconds?: number): QueuedMessage[] {
    const now = this.refresh();
    const timeout = visibilitySeconds ?? this.definition.visibilityTimeoutSeconds;
    const redrive = this.definition.redrivePolicy;
    const received: QueuedMessage[] = [];
    for (const m of [...this.messages]) {
      if (received.length >= max) break;
      if (m.inFlight || m.visibleAt > now) continue;
      const dlq = redrive ? this.lookup(redrive.deadLetterTargetArn) : undefined;
      if (redrive && dlq && m.receiveCount >= redrive.maxReceiveCount) {
        this.messages.splice(this.messages.indexOf(m), 1);
        dlq.send({ ...m, delaySeconds: 0, sourceArn: this.arn });
        continue;
      }
      m.receiveCount += 1;
      m.firstReceiveAt ??= now;
      m.inFlight = true;
      m.visibleAt = now + timeout * 1000;
      m.receiptHandle = Buffer.from(
        JSON.stringify({ q: this.arn, m: m.messageId, n: randomUUID() }),
      ).toString('base64');
      received.push(m);
      this.notifyAt(m.visibleAt);
    }
    return received;
  }

  /** Whether `handle` is a receipt handle this queue issued (for any receive, the message gone or not). */
  handleLooksValid(handle: string): boolean {
    return this.messageIdOf(handle) !== undefined;
  }

  private messageIdOf(handle: string): string | undefined {
    try {
      const parsed = JSON.parse(Buffer.from(handle, 'base64').toString('utf8')) as {
        q?: unknown;
        m?: unknown;
      };
      return parsed.q === this.arn && typeof parsed.m === 'string' ? parsed.m : undefined;
    } catch {
      return undefined;
    }
  }

  /**
   * Deletes the message the handle names. `false` for a handle this queue did not issue; deleting a message
   * that is gone already succeeds, as on SQS.
   */
  delete(handle: string): boolean {
    const id = this.messageIdOf(handle);
    if (id === undefined) return false;
    this.messages = this.messages.filter((m) => m.messageId !== id);
    return true;
  }

  /** Changes the visibility timeout of an in-flight message from now on; `false` when it is not in flight. */
  changeVisibility(handle: string, seconds: number): boolean {
    const now = this.refresh();
    const id = this.messageIdOf(handle);
    const message = this.messages.find((m) => m.messageId === id);
    if (!message?.inFlight || message.receiptHandle !== handle) return false;
    message.visibleAt = now + seconds * 1000;
    if (seconds === 0) message.inFlight = false;
    this.notifyAt(message.visibleAt);
    return true;
  }

  purge(): void {
    this.messages = [];
  }

  /** Takes every message out that is neither in flight nor delayed (a message move task's work). */
  drain(): QueuedMessage[] {
    const now = this.refresh();
    const taken = this.messages.filter((m) => !m.inFlight && m.visibleAt <= now);
    this.messages = this.messages.filter((m) => !taken.includes(m));
    return taken;
  }

  /** Every message the queue holds, as sent (tests and the sandbox read a DLQ's reasons here). */
  peek(): readonly QueuedMessage[] {
    this.refresh();
    return this.messages;
  }

  /** `ApproximateNumberOfMessages`, `…NotVisible` and `…Delayed`. */
  counts(): { visible: number; inFlight: number; delayed: number } {
    const now = this.refresh();
    const inFlight = this.messages.filter((m) => m.inFlight).length;
    const delayed = this.messages.filter((m) => !m.inFlight && m.visibleAt > now).length;
    return { visible: this.messages.length - inFlight - delayed, inFlight, delayed };
  }
}
