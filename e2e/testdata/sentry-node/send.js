'use strict';
// send.js reports errors, a message, one large event and structured logs to
// a LogCaster server with the official Sentry SDK for Node.js, used as an
// application would use it. e2e/sentry_node_test.go runs it and checks what
// the server made of it.
//
//   node send.js DSN [TRACE_ID]     (or SENTRY_DSN / TRACE_ID in the environment)
//
// On success the last line of stdout is JSON with the event id of every
// capture, so the test can match them exactly.

const Sentry = require('@sentry/node');

const dsn = process.argv[2] || process.env.SENTRY_DSN;
const traceId = process.argv[3] || process.env.TRACE_ID || '5b8efff798038103d269b633813fc60c';
if (!dsn) {
  console.error('usage: node send.js DSN [TRACE_ID]');
  process.exit(2);
}

Sentry.init({
  dsn,
  release: 'checkout@2.3.1',
  environment: 'e2e',
  serverName: 'node-1',
  enableLogs: true,
  sampleRate: 1.0,
  debug: process.env.SENTRY_DEBUG === '1',
});
// The SDK does not throw on a DSN it cannot use; it logs (with debug on)
// and drops every event. Say so and fail instead.
if (!Sentry.getClient() || !Sentry.getClient().getDsn()) {
  console.error(`the Sentry SDK refused the DSN ${dsn} (its project must be a number)`);
  process.exit(3);
}
Sentry.setTag('tenant', 'acme');
Sentry.setUser({ id: 'u-42' });

// chargeCard fails the same way for every order: its two captures must land
// in one issue although the messages differ by the order number.
function chargeCard(orderId) {
  throw new Error(`card declined for order ${orderId}`);
}

function checkout(orderId) {
  try {
    chargeCard(orderId);
  } catch (err) {
    return Sentry.captureException(err);
  }
  return '';
}

class StockError extends Error {
  constructor(sku) {
    super(`no stock left for ${sku}`);
    this.name = 'StockError';
  }
}

// reserveStock's event carries extra ("Additional Data") of every JSON
// type, set on a scope of its own so the other events have none.
function reserveStock(sku) {
  try {
    throw new StockError(sku);
  } catch (err) {
    return Sentry.withScope((scope) => {
      scope.setExtra('sku', sku);
      scope.setExtras({ attempt: 3, ratio: 0.25, backorder: false, reserved: null, warehouse: { id: 'w-1', zones: ['a', 'b'] } });
      return Sentry.captureException(err);
    });
  }
}

// priceCart sends an event whose JSON is well over the 32 KiB past which
// the SDK's HTTP transport gzips the request body.
function priceCart(lines) {
  try {
    throw new RangeError(`cart of ${lines.length} lines is too large to price`);
  } catch (err) {
    return Sentry.captureException(err, { extra: { cart: lines }, tags: { cart_size: String(lines.length) } });
  }
}

function bigCart() {
  const lines = [];
  for (let i = 0; i < 600; i++) {
    lines.push({ sku: `SKU-${String(i).padStart(5, '0')}`, qty: (i % 7) + 1, note: 'gift wrap, deliver to the back door' });
  }
  return lines;
}

async function main() {
  const ids = {};
  // A request's trace, as a traced HTTP server would continue it from an
  // incoming sentry-trace header: errors and logs below carry its trace id.
  Sentry.continueTrace({ sentryTrace: `${traceId}-a1b2c3d4e5f60718-1`, baggage: undefined }, function handleRequest() {
    Sentry.logger.trace('cart loaded from session');
    Sentry.logger.info('checkout started', { orderId: 1001, amount: 25.5, vip: true });
    ids.charge1 = checkout(1001);
    ids.charge2 = checkout(1002);
    Sentry.logger.warn('retrying payment provider', { attempt: 2 });
    Sentry.logger.error(Sentry.logger.fmt`payment failed for order ${1002}`, { provider: 'acme-pay' });
    ids.stock = reserveStock('SKU-7');
    ids.message = Sentry.captureMessage('payment provider slow: 1234 ms', 'warning');
    ids.big = priceCart(bigCart());
    Sentry.logger.fatal('checkout worker out of memory', { rssMiB: 2048 });
  });
  const flushed = await Sentry.flush(5000);
  if (!flushed) {
    console.error('Sentry.flush timed out');
    process.exit(1);
  }
  console.log(JSON.stringify(ids));
}

main().catch((err) => {
  console.error(err);
  process.exit(1);
});
