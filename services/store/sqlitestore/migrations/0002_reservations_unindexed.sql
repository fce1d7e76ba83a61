-- Reservations are few (the requests in flight) and their expiry is looked up only when a
-- request is refused or usage is read: the index cost every request two more pages written
-- (its insert and its delete) for nothing.
DROP INDEX reservations_expires_at;
