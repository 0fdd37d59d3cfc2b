// The one place the simulator touches the real event loop. The replica shell under simulation is
// asynchronous (promise chains around the log's fsyncs), and only a turn of the event loop tells
// that every promise chain has run as far as it can. A turn carries no time and no order of its
// own: in a simulation process nothing else schedules work that reaches the simulated nodes
// (their clocks, timers and fsync delays are virtual: virtual-time.ts), and promise callbacks
// run in an order fixed by the program. So a seed still replays exactly.

/** Resolves once every promise callback queued so far (and those they queue) has run. */
export function settle(): Promise<void> {
  return new Promise((resolve) => setImmediate(resolve))
}
