import type { AddressInfo } from 'node:net';
import type { INestApplication } from '@nestjs/common';
import { Test } from '@nestjs/testing';
import mysql from 'mysql2/promise';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DataSource } from 'typeorm';
import { AppModule } from '../apps/demo/src/app.module.js';
import { demoConfig } from '../apps/demo/src/demo.config.js';
import { EmailService } from '../apps/demo/src/emails/email.service.js';
import { until } from './support/app.js';
import { createMysqlDatabase, mysqlAvailable, type MysqlTestDatabase } from './support/mysql.js';

const ADMIN = '/admin/scheduled-commands';

describe('demo configuration', () => {
  it('refuses a DEMO_DATABASE_URL of another database, without printing its password', () => {
    expect(() => demoConfig({ DEMO_DATABASE_URL: 'mongodb://u:secret@h/db' })).toThrow(
      /DEMO_DATABASE_URL must start with postgres:\/\/.*mariadb:\/\/, got "mongodb:\/\/\*\*\*@h\/db"/,
    );
    expect(() => demoConfig({ DEMO_DATABASE_URL: 'mongodb://u:secret@h/db' })).not.toThrow(
      /secret/,
    );
    expect(demoConfig({ DEMO_DATABASE_URL: 'mariadb://root@127.0.0.1/x' }).databaseUrl).toBe(
      'mariadb://root@127.0.0.1/x',
    );
  });
});

describe.skipIf(!mysqlAvailable())('demo application on MariaDB (DEMO_DATABASE_URL)', () => {
  const saved = {
    DEMO_DATABASE_URL: process.env.DEMO_DATABASE_URL,
    DEMO_STORY: process.env.DEMO_STORY,
  };
  let db: MysqlTestDatabase;
  let app: INestApplication | undefined;
  let baseUrl: string;

  const request = async (method: string, url: string, body?: unknown) => {
    const response = await fetch(baseUrl + url, {
      method,
      headers: body === undefined ? {} : { 'content-type': 'application/json' },
      body: body === undefined ? undefined : JSON.stringify(body),
    });
    const text = await response.text();
    // The tests look into JSON answers field by field.
    return { status: response.status, body: (text === '' ? undefined : JSON.parse(text)) as any };
  };

  beforeAll(async () => {
    db = await createMysqlDatabase();
    process.env.DEMO_DATABASE_URL = db.url.replace(/^mysql:/, 'mariadb:');
    process.env.DEMO_STORY = 'off';
    const moduleRef = await Test.createTestingModule({ imports: [AppModule] }).compile();
    app = moduleRef.createNestApplication({ logger: false });
    await app.listen(0, '127.0.0.1');
    const { port } = app.getHttpServer().address() as AddressInfo;
    baseUrl = `http://127.0.0.1:${port}`;
  });

  afterAll(async () => {
    await app?.close();
    for (const [key, value] of Object.entries(saved)) {
      if (value === undefined) delete process.env[key];
      else process.env[key] = value;
    }
    await db?.drop();
  });

  it('runs on the MariaDB driver, its tables made by the migrations, with no recurring schedules (501)', async () => {
    expect(app!.get(DataSource).options.type).toBe('mariadb');
    const connection = await mysql.createConnection({ uri: db.url });
    try {
      const [tables] = await connection.query<mysql.RowDataPacket[]>(
        'SELECT table_name AS name FROM information_schema.tables WHERE table_schema = ? ORDER BY 1',
        [db.name],
      );
      expect(tables.map((t) => t.name)).toEqual(
        expect.arrayContaining(['migrations', 'scheduled_commands', 'users']),
      );
    } finally {
      await connection.end();
    }
    // The recurring schedules' endpoints say that this store has none, rather than failing.
    expect(await request('GET', '/admin/recurring')).toMatchObject({
      status: 501,
      body: { statusCode: 501, error: 'RecurringNotSupportedError' },
    });
  });

  it('POST /emails stores the user in MariaDB and the worker sends the welcome email', async () => {
    const scheduled = await request('POST', '/emails', {
      email: 'ada@example.com',
      name: 'Ada Lovelace',
    });
    expect(scheduled.status).toBe(202);
    const { id, userId } = scheduled.body;
    await until(
      async () => (await request('GET', `${ADMIN}/${id}`)).body?.status === 'completed',
      15_000,
    );
    const sent = app!.get(EmailService).sent.filter((e) => e.to === 'ada@example.com');
    expect(sent.map((e) => e.subject)).toEqual(['Welcome, Ada Lovelace!']);

    const connection = await mysql.createConnection({ uri: db.url });
    try {
      const [users] = await connection.query<mysql.RowDataPacket[]>(
        'SELECT id, name FROM users WHERE email = ?',
        ['ada@example.com'],
      );
      expect(users).toEqual([{ id: userId, name: 'Ada Lovelace' }]);
      const [rows] = await connection.query<mysql.RowDataPacket[]>(
        'SELECT status, command_type AS type FROM scheduled_commands WHERE id = ?',
        [id],
      );
      expect(rows).toEqual([{ status: 'completed', type: 'send-welcome-email' }]);
    } finally {
      await connection.end();
    }
    expect((await request('GET', ADMIN)).body).toMatchObject({ pending: 0, completed: 1 });
  });
});
