// The one path every change takes to the database: a unit of work in a transaction, its events
// appended to the log before it commits, and the log's readers told once it has. No global
// lock: a change names the rooms it writes to, and their rows are locked first, in id order,
// so a room's changes (and its event seqs) follow one another while other rooms' run alongside.
import { CompiledQuery } from 'kysely';
import type { FastifyBaseLogger } from 'fastify';
import { nowIso } from '../../context.js';
import { isPostgres, isStalePlan } from '../../db/dialect.js';
import type { Db, EventRow } from '../../db/schema.js';
import type { Emitted } from './events.types.js';
import { eventLog, type EventValues, type RoomSeqs } from './event-log.js';
import { Batch, UnitOfWork, type AheadStep, type EventHandlers } from './unit-of-work.js';

export type Work<T> = (uow: UnitOfWork) => Promise<T>;

/** A job's part in its transaction's AheadStep; `result` is set while a transaction that ran the step is open. */
interface Ahead {
  step: AheadStep<unknown, unknown>;
  item: unknown;
  result?: { value: unknown };
}

interface Job {
  rooms: number[];
  work: Work<unknown>;
  ahead?: Ahead;
  uow?: UnitOfWork;
  result?: unknown;
  written?: Written[];
  error?: unknown;
  resolve(value: unknown): void;
  reject(err: unknown): void;
}

const SAVEPOINT = CompiledQuery.raw('savepoint job');
const RELEASE = CompiledQuery.raw('release savepoint job');
const ROLLBACK_TO = CompiledQuery.raw('rollback to savepoint job');

/** An event appended by a committed change, with the event as emitted (its readers need not read it back). */
export interface Written {
  row: EventRow;
  event: Emitted;
}

/**
 * PostgreSQL's deadlock and serialization failures, and a prepared statement made stale by a
 * schema change (db/connect.ts): the whole transaction may simply run again.
 */
const RETRYABLE = new Set(['40P01', '40001']);
const ATTEMPTS = 3;
const isRetryable = (err: unknown) => RETRYABLE.has((err as { code?: string } | null)?.code ?? '') || isStalePlan(err);

export class Writer {
  private readonly queue: Job[] = [];
  private readonly concurrency: number;
  private running = 0;
  private scheduled = false;

  constructor(
    private readonly db: Db,
    private readonly handlers: EventHandlers,
    private readonly opts: { concurrency: number; batchMax: number },
    private readonly log: FastifyBaseLogger,
    /** Told of each committed batch's events (the realtime publisher); must not block. */
    private readonly committed: (written: Written[]) => void,
  ) {
    // SQLite has one connection and one writer: more transactions at once would only queue.
    this.concurrency = isPostgres(db) ? opts.concurrency : 1;
  }

  /**
   * Runs `work` in a transaction, with the rows of `rooms` locked from its first statement (the
   * rooms the change reads to decide and writes events to: membership checks inside it see
   * every earlier change of those rooms). Resolves with its result once committed.
   *
   * Group commit: changes that arrive while every lane is busy share the next transaction (at
   * most batchMax); one failing never takes the others with it (see flush).
   */
  run<T>(rooms: number | number[] | null, work: Work<T>): Promise<T> {
    return this.enqueue(rooms, work);
  }

  /**
   * `run`, where `step` runs for `item` first: once for all the changes of the transaction that
   * name it, before any of them (one statement where each would run one), and `work` gets
   * `item`'s result. Changes whose step gave a result run first in their transaction, in the
   * order they came; those it gave none, and the changes without a step, after. Their requests
   * were all still open, so any order of them is one they could have had. A change that runs
   * alone, or in a savepoint (see flush), runs the step for its own item.
   */
  runAhead<I, R, T>(rooms: number, step: AheadStep<I, R>, item: I, work: (uow: UnitOfWork, ahead: R | undefined) => Promise<T>): Promise<T> {
    const ahead: Ahead = { step: step as AheadStep<unknown, unknown>, item };
    const own = async (uow: UnitOfWork) => {
      const result = ahead.result ? (ahead.result.value as R | undefined) : (await step.run(uow.trx, [item]))[0];
      return work(uow, result);
    };
    return this.enqueue(rooms, own, ahead);
  }

  private enqueue<T>(rooms: number | number[] | null, work: Work<T>, ahead?: Ahead): Promise<T> {
    return new Promise<T>((resolve, reject) => {
      const list = rooms === null ? [] : Array.isArray(rooms) ? rooms : [rooms];
      this.queue.push({ rooms: list, work, ahead, resolve: resolve as (v: unknown) => void, reject });
      this.schedule();
    });
  }

  private schedule(): void {
    if (this.scheduled) return;
    this.scheduled = true;
    // The rest of this turn of the event loop may bring more changes to share the transaction.
    setImmediate(() => {
      this.scheduled = false;
      while (this.running < this.concurrency && this.queue.length > 0) {
        const jobs = this.queue.splice(0, this.opts.batchMax);
        this.running++;
        void this.flush(jobs).finally(() => {
          this.running--;
          this.schedule();
        });
      }
    });
  }

  private async flush(jobs: Job[]): Promise<void> {
    // First without savepoints (two round trips fewer per change); if a change fails, the whole
    // transaction is rolled back and the others run again, each in its own savepoint this time.
    let careful = false;
    let ran: Job[] = [];
    for (let attempt = 1; ; attempt++) {
      try {
        ran = await this.transact(jobs.filter((j) => j.error === undefined), careful);
        break;
      } catch (err) {
        if (err instanceof OneFailed) careful = true;
        else if (attempt >= ATTEMPTS || !isRetryable(err)) {
          for (const job of jobs) job.reject(job.error ?? err);
          return;
        }
      }
    }
    const written = ran.flatMap((job) => (job.error === undefined ? job.written! : []));
    if (written.length > 0) this.committed(written);
    // Each caller hears back once its own after-commit steps are done (a deleted file is gone
    // when the 204 arrives); the lane does not wait for them.
    for (const job of jobs) {
      if (job.error !== undefined) job.reject(job.error);
      else if (job.uow!.afterCommit.length === 0) job.resolve(job.result);
      else void this.afterCommit(job.uow!).then(() => job.resolve(job.result));
    }
  }

  private async afterCommit(uow: UnitOfWork): Promise<void> {
    for (const fn of uow.afterCommit) await fn().catch((err) => this.log.warn({ err }, 'an after-commit step failed'));
  }

  /**
   * One transaction for `jobs`. Without `careful`, a failing change (other than a deadlock,
   * retried whole) is marked and OneFailed thrown; with it, each change runs in a savepoint and
   * one failing rolls back only itself. Gives the jobs in the order they ran.
   */
  private async transact(jobs: Job[], careful: boolean): Promise<Job[]> {
    for (const job of jobs) if (job.ahead) job.ahead.result = undefined;
    const trx = await this.db.startTransaction().execute();
    try {
      const rooms = [...new Set(jobs.flatMap((j) => j.rooms))].sort((a, b) => a - b);
      const seqs = await eventLog.lockRooms(trx, rooms);
      const alone = jobs.length === 1;
      // What the changes do together (UnitOfWork.together) runs once after them; in a savepoint
      // each, or alone, each change does its own at once. So do their steps ahead (runAhead).
      const batch = alone || careful ? null : new Batch();
      if (batch) jobs = await this.stepsAhead(trx, jobs);
      for (const job of jobs) {
        if (alone || !careful) {
          try {
            await this.runJob(trx, job, batch);
          } catch (err) {
            if (alone || isRetryable(err)) throw err;
            job.error = err;
            throw new OneFailed();
          }
          continue;
        }
        await trx.executeQuery(SAVEPOINT);
        try {
          await this.runJob(trx, job, null);
          await trx.executeQuery(RELEASE);
        } catch (err) {
          if (isRetryable(err)) throw err;
          job.error = err;
          await trx.executeQuery(ROLLBACK_TO);
          await trx.executeQuery(RELEASE);
        }
      }
      // A shared step that fails belongs to no one change: the batch runs again, each in a savepoint.
      if (batch) {
        await batch.run(trx).catch((err: unknown) => {
          throw isRetryable(err) ? err : new OneFailed();
        });
      }
      await this.insertEvents(trx, jobs, seqs);
      await eventLog.writeSeqs(trx, seqs);
      await trx.commit().execute();
      return jobs;
    } catch (err) {
      await trx.rollback().execute().catch(() => {});
      throw err;
    }
  }

  /**
   * Runs each AheadStep of `jobs` once for all the jobs naming it, and gives the jobs in the
   * order they are to run: those that got a result first. The step belongs to no one change: if
   * it fails, the batch runs again, each change in a savepoint.
   */
  private async stepsAhead(trx: Db, jobs: Job[]): Promise<Job[]> {
    const bySteps = new Map<AheadStep<unknown, unknown>, Job[]>();
    for (const job of jobs) {
      if (!job.ahead) continue;
      const named = bySteps.get(job.ahead.step);
      if (named) named.push(job);
      else bySteps.set(job.ahead.step, [job]);
    }
    if (bySteps.size === 0) return jobs;
    for (const [step, named] of bySteps) {
      const results = await step.run(trx, named.map((j) => j.ahead!.item)).catch((err: unknown) => {
        throw isRetryable(err) ? err : new OneFailed();
      });
      named.forEach((job, i) => (job.ahead!.result = { value: results[i] }));
    }
    const first = (j: Job) => j.ahead?.result?.value !== undefined;
    return [...jobs.filter(first), ...jobs.filter((j) => !first(j))];
  }

  private async runJob(trx: Db, job: Job, batch: Batch | null): Promise<void> {
    const uow = new UnitOfWork(trx, this.handlers, batch);
    job.uow = uow;
    job.result = await job.work(uow);
  }

  /**
   * The events of the batch's changes that went through, given their seqs in the order the
   * changes ran and inserted by one statement, handed back to each change.
   */
  private async insertEvents(trx: Db, jobs: Job[], seqs: RoomSeqs): Promise<void> {
    const done = jobs.filter((j) => j.error === undefined);
    const kept = eventLog.withoutRepeats(done.map((job) => job.uow!.events));
    const now = nowIso();
    const values: EventValues[] = [];
    for (const events of kept) values.push(...(await eventLog.sequence(trx, events, now, seqs)));
    const rows = await eventLog.insert(trx, values, seqs);
    let at = 0;
    done.forEach((job, j) => {
      job.written = kept[j].map((event, i) => ({ row: rows[at + i], event }));
      at += kept[j].length;
    });
  }
}

/** A change of a batch run without savepoints failed: the batch runs again without it. */
class OneFailed extends Error {}
