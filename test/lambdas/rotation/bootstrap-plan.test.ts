/**
 * `planLayout` on its own, from a catalog written by hand (no server): the states it refuses to touch, the
 * plan for a fresh single user, the pg_database_owner grantor; how a role setting is written back, and what
 * is never put into a statement.
 */
import { describe, expect, it } from 'vitest';
import type { Catalog, GrantRow } from '../../../lambdas/rotation/bootstrap-catalog.ts';
import { planLayout } from '../../../lambdas/rotation/bootstrap-plan.ts';
import { nameList, roleSettingSql, serverQuoted } from '../../../lambdas/rotation/bootstrap-sql.ts';

describe('planLayout › states it refuses to touch', () => {
  const role = (name: string, o: { login?: boolean; superuser?: boolean } = {}) => ({
    name,
    login: o.login ?? true,
    superuser: o.superuser ?? false,
    inherit: true,
    attributes: [],
  });
  const catalog = (o: Partial<Catalog['server']> = {}, roles = [role('app_blue')]): Catalog => ({
    server: {
      version: 180004,
      database: 'shop',
      databaseOwner: 'admin',
      inRecovery: false,
      admin: 'admin',
      adminSuperuser: true,
      ...o,
    },
    roles,
    ...{ memberships: [], owned: [], grants: [], defaults: [], settings: [], residual: [], adminAccess: [] },
  });
  const target = { users: ['app_blue', 'app_green'] as const, ownerRole: 'app_owner', appUser: 'app_blue' };
  it.each([
    ['a replica', catalog({ inRecovery: true }), /in recovery/],
    [
      'the administrator is one of the users',
      catalog({ admin: 'app_green' }),
      /administrator app_green is one of/,
    ],
    [
      'the app user does not exist',
      catalog({}, []),
      /app_blue, the current credential's user, does not exist/,
    ],
    [
      'a user is a superuser',
      catalog({}, [role('app_blue', { superuser: true })]),
      /app_blue is a superuser/,
    ],
    [
      'the owner role can log in',
      catalog({}, [role('app_blue'), role('app_owner')]),
      /app_owner exists as a LOGIN/,
    ],
  ])('%s', (_, c, message) => {
    expect(() => planLayout(target, c)).toThrow(message);
  });
  it('a fresh single user: the roles first, SET role for both, no temporary memberships for a superuser', () => {
    const sql = planLayout(target, catalog()).changes.map((c) => c.sql);
    expect(sql).toEqual([
      'CREATE ROLE "app_owner" NOLOGIN',
      'CREATE ROLE "app_green" LOGIN',
      'GRANT "app_owner" TO "app_blue" WITH INHERIT TRUE, SET TRUE',
      'GRANT "app_owner" TO "app_green" WITH INHERIT TRUE, SET TRUE',
      'ALTER ROLE "app_blue" SET role = "app_owner"',
      'ALTER ROLE "app_green" SET role = "app_owner"',
    ]);
  });
});

describe('planLayout › an RDS-like administrator and a grant by pg_database_owner', () => {
  it('acts as pg_database_owner through a temporary membership in the database owner, never in pg_database_owner', () => {
    const role = (name: string) => ({ name, login: true, superuser: false, inherit: true, attributes: [] });
    const grant: GrantRow = {
      on: 'schema',
      keyword: 'SCHEMA',
      target: 'public',
      column: null,
      lockObject: 'schema public',
      owner: 'pg_database_owner',
      grantor: 'pg_database_owner',
      grantee: 'app_blue',
      privilege: 'CREATE',
      grantable: false,
    };
    const c: Catalog = {
      server: {
        version: 180004,
        database: 'shop',
        databaseOwner: 'app_blue',
        inRecovery: false,
        admin: 'admin',
        adminSuperuser: false,
      },
      roles: [role('app_blue')],
      ...{ memberships: [], owned: [], defaults: [], settings: [], residual: [] },
      grants: [grant],
      adminAccess: [{ role: 'pg_database_owner', usage: false, set: false }],
    };
    const target = { users: ['app_blue', 'app_green'] as const, ownerRole: 'app_owner', appUser: 'app_blue' };
    const sql = planLayout(target, c).changes.map((x) => x.sql);
    expect(sql.filter((x) => x.includes('pg_database_owner" TO'))).toEqual([]);
    expect(sql).toEqual(
      expect.arrayContaining([
        'GRANT "app_blue" TO "admin" WITH INHERIT TRUE, SET TRUE',
        'SET ROLE "pg_database_owner"',
        'GRANT CREATE ON SCHEMA public TO "app_owner"',
        'REVOKE CREATE ON SCHEMA public FROM "app_blue"',
        'SET ROLE NONE',
        'REVOKE "app_blue" FROM "admin"',
      ]),
    );
    // A name the server would not write is never put into a statement.
    const odd = { ...c, grants: [{ ...grant, target: 'public; DROP TABLE x' }] };
    expect(
      planLayout(target, odd)
        .changes.map((x) => x.sql)
        .join('\n'),
    ).not.toContain('DROP');
    expect(planLayout(target, odd).notes).toEqual(
      expect.arrayContaining([expect.stringMatching(/are not moved \(an unexpected name\): do it by hand/)]),
    );
  });
});

describe('roleSettingSql › a role setting written back', () => {
  const setting = (name: string, value: string, database: string | null = null) => ({
    role: 'app_blue',
    database,
    name,
    value,
  });
  it.each([
    // A name list: one literal per name, which the server quotes back as it was stored.
    [
      'search_path',
      'shop, "$user", "My ""S""", public',
      `SET "search_path" = 'shop', '$user', 'My "S"', 'public'`,
    ],
    ['search_path', '""', `SET "search_path" = ''`],
    ['temp_tablespaces', 'fast,  "Slow one"', `SET "temp_tablespaces" = 'fast', 'Slow one'`],
    // Anything else: the whole value, one literal, whatever it holds.
    [
      'default_tablespace',
      '$$, "$$; COMMIT; ALTER ROLE x SUPERUSER; --"',
      `SET "default_tablespace" = '$$, "$$; COMMIT; ALTER ROLE x SUPERUSER; --"'`,
    ],
    ['DateStyle', 'ISO, MDY', `SET "DateStyle" = 'ISO, MDY'`],
    ['application_name', "it's a \\ path", `SET "application_name" = E'it''s a \\\\ path'`],
    ['myapp.Mode', 'x', `SET "myapp"."Mode" = 'x'`],
  ])('%s = %s', (name, value, sql) => {
    expect(roleSettingSql('app_green', setting(name, value))).toBe(`ALTER ROLE "app_green" ${sql}`);
  });
  it('in a database: named as the server quoted it', () => {
    expect(roleSettingSql('g', setting('work_mem', '64MB', '"Shop DB"'))).toBe(
      `ALTER ROLE "g" IN DATABASE "Shop DB" SET "work_mem" = '64MB'`,
    );
  });
  it.each([
    ['a name list that is not only names', 'search_path', '$$, "$$; SELECT 1; --"'],
    ['an unquoted item with a dollar', 'search_path', 'a$b'],
    ['a bare name in upper case (never written so)', 'search_path', 'shop, PUBLIC'],
    ['an unterminated quote', 'search_path', 'shop, "pub'],
    ['a trailing comma', 'search_path', 'shop,'],
    ['an empty list', 'search_path', ''],
    ['a setting name that is no name', 'x; DROP ROLE y; --', 'on'],
  ])('%s: no statement (the plan notes it, to copy by hand)', (_, name, value) => {
    expect(roleSettingSql('g', setting(name, value))).toBeUndefined();
  });
  it('a database name the server would not write: no statement', () => {
    expect(roleSettingSql('g', setting('work_mem', '1MB', "shop'; --"))).toBeUndefined();
  });
  it('nameList and serverQuoted read as the server writes', () => {
    expect(nameList('a, "B, c",d')).toEqual(['a', 'B, c', 'd']);
    expect(nameList('"a""b"')).toEqual(['a"b']);
    expect(nameList('"a"b"')).toBeUndefined();
    for (const ok of ['shop.orders', 'shop."My Table"', 'shop.f(integer, "Weird"[])', 'agg(*)', '"a;b"']) {
      expect(serverQuoted(ok)).toBe(true);
    }
    for (const bad of ['', 'a; b', "a'b", '$$', 'a -- b', '"a"; b', 'a"b', 'a\\b']) {
      expect(serverQuoted(bad)).toBe(false);
    }
  });
});
