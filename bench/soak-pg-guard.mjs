// An experiment of the chaos soak, not a fix (SOAK_PG_GUARD=1 npm run soak preloads it into every
// server with NODE_OPTIONS): every pg client gets an 'error' listener for its whole life. pg-pool
// removes its own listener while a client is checked out, so a connection that PostgreSQL
// terminates while a transaction holds it between statements emits 'error' with no listener:
// an uncaught exception, and the server exits. With this listener the query in flight still
// fails, and pg-pool drops the broken client when it is released (it is no longer queryable).
import pg from 'pg';

const connect = pg.Client.prototype.connect;
pg.Client.prototype.connect = function (...args) {
  if (!this.soakGuarded) {
    this.soakGuarded = true;
    this.on('error', (err) => {
      process.stdout.write(`${JSON.stringify({ level: 40, time: Date.now(), msg: 'soak guard: error on a checked-out pg client', err: { message: err.message } })}\n`);
    });
  }
  return connect.apply(this, args);
};
