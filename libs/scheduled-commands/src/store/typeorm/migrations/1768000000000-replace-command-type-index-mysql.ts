import type { MigrationInterface, QueryRunner } from 'typeorm';
import { SCHEDULED_COMMANDS_TABLE } from '../../../scheduled-commands.constants.js';
import { RETIRED_INDEXES, TABLE_INDEXES } from '../scheduled-commands-table.js';
import { mysqlKeyParts, quoteMysql } from './mysql-schema.js';

const TABLE = quoteMysql(SCHEDULED_COMMANDS_TABLE);
const NEW = TABLE_INDEXES.commandType;
const OLD = RETIRED_INDEXES.find((index) => index.droppedBy === 'command-type')!;

/**
 * Replaces the `(status, command_type, id)` index that stood for the command-type index of dead
 * letters with `IDX_scheduled_commands_type` on `(command_type, id)`, on MySQL 8.0.1+ or MariaDB
 * 10.6+: every row's command type, an index no update touches (neither column ever changes). A table
 * made by `CreateScheduledCommandsTableMysql1764000000000` of this release already has it: then this
 * migration changes nothing. Rows are not touched (InnoDB builds the index in place).
 */
export class ReplaceCommandTypeIndexMysql1768000000000 implements MigrationInterface {
  /** Migration name recorded in TypeORM's migrations table. */
  name = 'ReplaceCommandTypeIndexMysql1768000000000';

  async up(queryRunner: QueryRunner): Promise<void> {
    const indexes = await indexNames(queryRunner);
    const changes: string[] = [];
    if (indexes.has(OLD.name)) changes.push(`DROP INDEX ${quoteMysql(OLD.name)}`);
    if (!indexes.has(NEW.name)) changes.push(addIndex(NEW));
    if (changes.length) await queryRunner.query(`ALTER TABLE ${TABLE} ${changes.join(', ')}`);
  }

  async down(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.query(
      `ALTER TABLE ${TABLE} DROP INDEX ${quoteMysql(NEW.name)}, ${addIndex(OLD)}`,
    );
  }
}

/** `ADD INDEX` clause of `index`, with its key parts on these servers. */
const addIndex = (index: typeof NEW | typeof OLD): string =>
  `ADD INDEX ${quoteMysql(index.name)} (${mysqlKeyParts(index).join(', ')})`;

/** The names of the indexes of the table, in the DataSource's database. */
async function indexNames(queryRunner: QueryRunner): Promise<Set<string>> {
  const rows: { name: string }[] = await queryRunner.query(
    `SELECT DISTINCT index_name AS name FROM information_schema.statistics
      WHERE table_schema = DATABASE() AND table_name = ?`,
    [SCHEDULED_COMMANDS_TABLE],
  );
  return new Set(rows.map((row) => row.name));
}
