"""Activity, notifications, the event outbox, and the WebSocket layer.

Ordering design: positions assigned by the relay in commit order.

Event rows get their primary key when inserted, before commit, so two concurrent
transactions can commit in the other order of their keys: a client that saw row 105 could
never learn of row 104 committed later. Clients therefore never see primary keys. The id of
an event on the wire (and in `resume`, `events/?since=`, `last_event_id`) is its *position*,
which the relay assigns only to committed rows, under one lock (a PostgreSQL advisory lock;
SQLite runs in one process and uses a process lock), as MAX(position) + 1, 2, … in key
order. A row that commits late gets a position after every one already given, so positions
are in commit order: `position > N` is exactly what a client that saw N has not seen.

The relay publishes under the same lock, in position order, and stops at the first failure
(Redis down) so that nothing is published out of order; unpublished rows are retried by the
relay thread of each process and by `manage.py run_relay`. A relay that finds the lock taken
leaves its rows to the holder, which looks for new rows again after releasing the lock.

Why not a commit-order lock held by writers from the outbox insert to commit: every write
transaction would queue behind every other from its first event to its commit (including a
publish's thousands of notification rows). Here writers never wait on each other; only the
relay, off the request path, is serialised.
"""
