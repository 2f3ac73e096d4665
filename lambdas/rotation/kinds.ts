/**
 * What differs between kinds: how the new value is made (`create`), where it is applied (`set`) and how it
 * is proven (`test`). The protocol around them (pending place, lock, finish, labels) is the same for all.
 *
 * - `generated`: a new random value; nothing to set (both sides read the parameter); tested by the optional
 *   HTTPS check and the optional Lambda the user names.
 * - `postgres-single`: the same user with a new password; the role changes its own password; the new one
 *   must log in.
 * - `postgres-alternating`: the other of two users with a new password, set by that user itself; it must
 *   log in and act as the owner role.
 * - `external`: a person puts the value a third party issued in the pending place (Nightshift creates and
 *   sets nothing); tested by the optional HTTPS check and Lambda.
 *
 * @module
 */
import type { LambdaClient } from '@aws-sdk/client-lambda';
import { type GeneratedValueSpec, generateValue } from './generate.ts';
import { checkHttps, type HttpsCheck } from './https-check.ts';
import { checkWithLambda, type LambdaCheck } from './lambda-check.ts';
import type { RotationKind } from './model.ts';
import {
  type PgCredential,
  parseCredential,
  setInactivePassword,
  setOwnPassword,
  testCredential,
} from './postgres.ts';
import { RotationError } from './ssm-protocol.ts';

/** The values a step may read: the plain name's (what consumers read) and `<name>:previous`. */
export interface StoredValues {
  readonly current: () => Promise<string>;
  readonly previous: () => Promise<string | undefined>;
  /** A configured parameter's value (the administrator's credential), undefined when it does not exist. */
  readonly read: (parameter: string) => Promise<string | undefined>;
  /** The pending place's version (a check names it, so what is tested is what is pinned). */
  readonly pendingVersion?: () => Promise<number | undefined>;
  readonly rotationId?: string;
}

/** The `postgres-alternating` layout: two login roles, one NOLOGIN owner role they both act as. */
export interface AlternatingUsers {
  readonly users: readonly [string, string];
  readonly ownerRole: string;
  /** A credential that may alter both roles: used only to recover when both stored ones are lost. */
  readonly adminParameter?: string;
}

/** One configured secret, as the steps need it. */
export interface KindSecret {
  readonly parameter: string;
  readonly policy: { readonly kind: RotationKind };
  /** `generated`: the value's shape; `postgres-*`: the password's. */
  readonly generate?: GeneratedValueSpec;
  readonly alternating?: AlternatingUsers;
  /** `generated`, `external`: the checks the new value must pass before it is finished (HTTPS, then Lambda). */
  readonly test?: { readonly https?: HttpsCheck; readonly lambda?: LambdaCheck };
}

export interface KindSteps {
  create(secret: KindSecret, stored: StoredValues): Promise<string>;
  set?(secret: KindSecret, pending: string, stored: StoredValues): Promise<void>;
  test?(secret: KindSecret, pending: string, stored: StoredValues): Promise<void>;
}

const credentialOf = (json: string, secret: KindSecret, where = secret.parameter) =>
  parseCredential(json, where);
/**
 * The `previous` credential, when it is one for the current credential's server: a version naming another
 * host (or none at all, from before the parameter held a credential) is never a way in.
 */
const previousOf = async (secret: KindSecret, stored: StoredValues, current: PgCredential) => {
  const json = await stored.previous();
  if (json === undefined) return undefined;
  try {
    const previous = credentialOf(json, secret, `${secret.parameter}:previous`);
    const same =
      previous.host === current.host && previous.port === current.port && previous.dbname === current.dbname;
    return same ? previous : undefined;
  } catch {
    return undefined;
  }
};

/**
 * The steps of each kind; the database kinds connect with TLS verified against `caBundle`; a Lambda test
 * invokes through `lambda`.
 */
export function kindSteps(o: {
  readonly caBundle?: string;
  readonly lambda?: () => LambdaClient;
}): Record<RotationKind, KindSteps | undefined> {
  const ca = () => {
    if (o.caBundle === undefined) throw new RotationError('no CA bundle: a database kind needs one');
    return o.caBundle;
  };
  const newPassword = (secret: KindSecret) => generateValue(secret.generate);
  const httpsTest = async (secret: KindSecret, pending: string, stored: StoredValues) => {
    if (secret.test?.https) await checkHttps(secret.test.https, pending, secret.parameter);
    if (secret.test?.lambda) {
      if (!o.lambda) throw new RotationError(`no Lambda client: ${secret.parameter} has a Lambda test`);
      const others = [await stored.current(), await stored.previous()].filter((v) => v !== undefined);
      await checkWithLambda(o.lambda(), secret.test.lambda, {
        parameter: secret.parameter,
        value: pending,
        others,
        ...(stored.rotationId ? { rotationId: stored.rotationId } : {}),
        ...(stored.pendingVersion ? { pendingVersion: stored.pendingVersion } : {}),
      });
    }
  };
  return {
    generated: { create: async (secret) => generateValue(secret.generate), test: httpsTest },
    'postgres-single': {
      async create(secret, stored) {
        const current = credentialOf(await stored.current(), secret);
        return JSON.stringify({ ...current, password: newPassword(secret) });
      },
      async set(secret, pending, stored) {
        const current = credentialOf(await stored.current(), secret);
        await setOwnPassword({
          current,
          ...optional('previous', await previousOf(secret, stored, current)),
          pending: pendingFor(secret, pending, current),
          caBundle: ca(),
        });
      },
      async test(secret, pending, stored) {
        const current = credentialOf(await stored.current(), secret);
        await testCredential(pendingFor(secret, pending, current), ca());
      },
    },
    'postgres-alternating': {
      async create(secret, stored) {
        const current = credentialOf(await stored.current(), secret);
        const other = otherUser(secret, current);
        return JSON.stringify({ ...current, username: other, password: newPassword(secret) });
      },
      async set(secret, pending, stored) {
        const layout = alternatingOf(secret);
        const current = credentialOf(await stored.current(), secret);
        const admin = layout.adminParameter;
        await setInactivePassword({
          current,
          ...optional('previous', await previousOf(secret, stored, current)),
          pending: pendingFor(secret, pending, current),
          caBundle: ca(),
          ...(admin
            ? {
                admin: async () => {
                  const json = await stored.read(admin);
                  if (json === undefined) return undefined;
                  return adminCredential(json, admin, current);
                },
              }
            : {}),
        });
      },
      async test(secret, pending, stored) {
        const current = credentialOf(await stored.current(), secret);
        await testCredential(pendingFor(secret, pending, current), ca(), alternatingOf(secret).ownerRole);
      },
    },
    external: {
      create: (secret) =>
        Promise.reject(
          new RotationError(
            `${secret.parameter} is external: a person puts the new value in ${secret.parameter}.pending; Nightshift never makes one`,
          ),
        ),
      test: httpsTest,
    },
  };
}

/** The other of the two configured users; the current credential must name one of them. */
function otherUser(secret: KindSecret, current: PgCredential): string {
  const [a, b] = alternatingOf(secret).users;
  if (current.username !== a && current.username !== b) {
    throw new RotationError(
      `${secret.parameter} holds a credential of ${current.username}, neither ${a} nor ${b}: run the bootstrap (see the README) or fix the users in config`,
    );
  }
  return current.username === a ? b : a;
}

/**
 * The pending credential, checked before anything logs in with it or changes a password for it (whoever
 * can put `.pending` is not trusted with the database): the current credential's server and database, and
 * the same user (single) or exactly the other configured user (alternating).
 */
function pendingFor(secret: KindSecret, json: string, current: PgCredential): PgCredential {
  const pending = credentialOf(json, secret, `${secret.parameter}.pending`);
  const user = secret.policy.kind === 'postgres-alternating' ? otherUser(secret, current) : current.username;
  const server = (c: PgCredential) => `${c.username}@${c.host}:${c.port}/${c.dbname}`;
  if (
    pending.username !== user ||
    pending.host !== current.host ||
    pending.port !== current.port ||
    pending.dbname !== current.dbname
  ) {
    throw new RotationError(
      `${secret.parameter}.pending names ${server(pending)}; this rotation sets ${server({ ...current, username: user })} only: refused, nothing changed`,
    );
  }
  return pending;
}

function alternatingOf(secret: KindSecret): AlternatingUsers {
  if (!secret.alternating)
    throw new RotationError(`${secret.parameter}: alternating users need users and ownerRole`);
  return secret.alternating;
}

/** The administrator's credential: at least a username and password; the server is the current one's. */
export function adminCredential(json: string, parameter: string, current: PgCredential): PgCredential {
  let value: unknown;
  try {
    value = JSON.parse(json);
  } catch {
    throw new RotationError(`${parameter} does not hold a JSON credential ({ username, password })`);
  }
  const { host, port, dbname } = current;
  // Always the current credential's server: a host in the value is never followed.
  return parseCredential(JSON.stringify({ ...(value as object), host, port, dbname }), parameter);
}

const optional = <K extends string, V>(key: K, value: V | undefined) =>
  (value === undefined ? {} : { [key]: value }) as Partial<Record<K, V>>;
